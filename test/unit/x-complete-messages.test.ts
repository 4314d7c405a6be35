// Complete messages (contract §3 rule 8, §4's message shape): authors named or left for ingest to look up, t.co links
// expanded and listed, media listed with their link dropped from the text, quotes and edit history, in both formats
// and in DMs. Bodies come from the factories in test/support/x-payloads.ts, built to X's documented schemas.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { inboundEventSchema, type InboundDm, type InboundPost } from '../../shared/x/inbound-event';
import { normaliseWebhookBody } from '../../shared/x/normalise';
import { typeFromMediaKey } from '../../shared/x/x-media';
import {
  aaaDm,
  aaaMention,
  aaaQuote,
  BOT,
  CUSTOMER,
  dmMediaUrl,
  expectedMediaUrl,
  mediaOf,
  xaaDm,
  xaaMention,
  xaaQuote,
  type MediaSpec,
  type PostOptions,
  type XUserRef,
} from '../support/x-payloads';

const ctx = { botUserId: BOT.id, botUsername: BOT.username, receivedAt: '2026-11-16T14:05:10.250Z' };
const OTHER: XUserRef = { id: '2244994945', username: 'XDevelopers', name: 'X Developers' };

function post(body: unknown): InboundPost {
  const { events, ignored } = normaliseWebhookBody(body, ctx);
  expect(ignored).toEqual({});
  expect(events).toHaveLength(1);
  const event = inboundEventSchema.parse(events[0]);
  if (event.kind !== 'post') throw new Error(`expected a post, got ${event.kind}`);
  return event;
}

function dm(body: unknown): InboundDm {
  const event = inboundEventSchema.parse(normaliseWebhookBody(body, ctx).events[0]);
  if (event.kind !== 'dm') throw new Error(`expected a DM, got ${event.kind}`);
  return event;
}

const FORMATS = [
  ['xaa', (options: PostOptions) => xaaMention(options)],
  ['aaa', (options: PostOptions) => aaaMention(options)],
] as const;

type AaaBody = { tweet_create_events: Record<string, unknown>[] };
type XaaBody = { data: { payload: Record<string, unknown>; includes?: Record<string, unknown> } };

/** The v1.1 media ids of a factory-made AAA body, in order. */
function v1MediaIds(body: Record<string, unknown>): string[] {
  const tweet = (body as AaaBody).tweet_create_events[0] as { extended_entities?: { media: { id_str: string }[] }; extended_tweet?: { extended_entities?: { media: { id_str: string }[] } } };
  return (tweet.extended_entities ?? tweet.extended_tweet?.extended_entities)?.media.map((m) => m.id_str) ?? [];
}

describe('authors', () => {
  it.each([
    ['empty (`{}`, as in X\'s samples for replies and quotes)', 'empty'],
    ['missing', 'missing'],
  ] as const)('leaves the author unnamed when includes is %s: ingest looks them up', (_label, includes) => {
    expect(post(xaaMention({ includes })).author).toEqual({ xUserId: CUSTOMER.id });
  });

  it('names the bot from config even without a user object', () => {
    const body = xaaMention({ author: BOT, includes: 'empty', text: 'we are on it' });
    expect(post(body).author).toEqual({ xUserId: BOT.id, username: BOT.username, name: BOT.username });
  });

  it.each(FORMATS)('%s: gives the same profile from v2 and v1.1 user objects', (_format, build) => {
    expect(post(build({})).author).toEqual({
      xUserId: CUSTOMER.id,
      username: CUSTOMER.username,
      name: CUSTOMER.name,
      profile: {
        profileImageUrl: `https://pbs.twimg.com/profile_images/${CUSTOMER.id}/avatar_normal.jpg`,
        verifiedType: 'none',
        followersCount: 312,
        protected: false,
      },
    });
  });

  it('leaves a DM sender unnamed when the users map does not have them, in both formats', () => {
    expect(dm(xaaDm({ namesSender: false })).sender).toEqual({ xUserId: CUSTOMER.id });
    expect(dm(aaaDm({ namesSender: false })).sender).toEqual({ xUserId: CUSTOMER.id });
  });
});

describe('links', () => {
  // Emoji before the links shift UTF-16 indices but not X's code point offsets; `&` before the second link is
  // `&amp;` on the wire, five code points, which X's offsets count.
  const text = '👋🏽 @AcmeSupport see https://shop.example/orders/A-1234?x=1&y=2 & 🚀🐦‍🔥 https://status.example.com then?';
  const links = ['https://shop.example/orders/A-1234?x=1&y=2', 'https://status.example.com'];

  it.each(FORMATS)('%s: replaces each t.co link by the URL typed, offsets in code points after emoji', (_format, build) => {
    const body = build({ text, links });
    // The trap is in the body: the second link starts further in UTF-16 units than in X's code points.
    const wire = JSON.stringify(body);
    expect(wire).toContain('&amp; 🚀🐦‍🔥 https://t.co/');
    const result = post(body);
    expect(result.text).toBe(text);
    expect(result.links.map((link) => link.expandedUrl)).toEqual(links);
    expect(result.links.map((link) => link.url)).toEqual([expect.stringMatching(/^https:\/\/t\.co\//), expect.stringMatching(/^https:\/\/t\.co\//)]);
    expect(result.links[0]?.displayUrl).toBe('shop.example/orders/A-123…');
    expect(result.links[1]?.displayUrl).toBe('status.example.com');
  });

  it('finds a link whose offsets are off by its t.co url, as X\'s own post.quote.create sample needs', () => {
    const body = xaaMention({ text: 'see https://a.example/x', links: ['https://a.example/x'] }) as XaaBody;
    const entity = (body.data.payload.entities as { urls: { start: number; end: number }[] }).urls[0]!;
    entity.start += 2;
    entity.end += 40;
    expect(post(body).text).toBe('see https://a.example/x');
  });

  it('keeps the same link typed twice as two expansions and one listed link', () => {
    const typed = 'https://a.example/x and again https://a.example/x';
    const result = post(xaaMention({ text: typed, links: ['https://a.example/x', 'https://a.example/x'] }));
    expect(result.text).toBe(typed);
    expect(result.links).toHaveLength(2);
  });

  it.each(FORMATS)('%s: expands the links of a long post (note_tweet / extended_tweet) at their offsets', (format, build) => {
    const typed = `@AcmeSupport ${'🚚 where is my parcel? '.repeat(14)}tracking: https://track.example/A-1234 and the shop https://shop.example/help 👀`;
    const body = build({ text: typed, links: ['https://track.example/A-1234', 'https://shop.example/help'] });
    const wire = JSON.stringify(body);
    expect(wire).toContain(format === 'xaa' ? 'note_tweet' : 'extended_tweet');
    const result = post(body);
    expect(result.text).toBe(typed);
    expect(result.links.map((link) => link.expandedUrl)).toEqual(['https://track.example/A-1234', 'https://shop.example/help']);
    expect(result.mentionsBot).toBe(true);
  });

  it('returns what was typed for any text around the links, in both formats (property)', () => {
    const piece = fc.string({ unit: 'grapheme', maxLength: 40 }).map((s) => s.replace(/https?:/g, ''));
    fc.assert(
      fc.property(piece, piece, piece, (a, b, c) => {
        const links = ['https://a.example/1', 'https://b.example/2?q=1&r=<2>'];
        const typed = `${a} ${links[0]}${b} ${links[1]} ${c}`;
        for (const [, build] of FORMATS) {
          const result = post(build({ text: typed, links }));
          expect(result.text).toBe(typed);
          expect(result.links.map((link) => link.expandedUrl)).toEqual(links);
        }
      }),
      { numRuns: 150 },
    );
  });
});

describe('media', () => {
  const TYPES: MediaSpec['type'][] = ['photo', 'video', 'animated_gif'];

  it.each(TYPES)('xaa: a %s from attachments.media_keys + includes.media, its link dropped from the text', (type) => {
    const body = xaaMention({ text: '@AcmeSupport look', media: [{ type, altText: 'the broken box' }] });
    const [built] = mediaOf(body);
    const result = post(body);
    expect(result.text).toBe('@AcmeSupport look');
    expect(result.links).toEqual([]);
    expect(result.media).toEqual([
      {
        mediaKey: built!.key,
        type,
        url: expectedMediaUrl({ type, idStr: built!.idStr }),
        ...(type === 'photo' ? {} : { previewUrl: `https://pbs.twimg.com/ext_tw_video_thumb/${built!.idStr}.jpg`, contentType: 'video/mp4' }),
        altText: 'the broken box',
        width: 1280,
        height: 720,
        ...(type === 'video' ? { durationMs: 34_875 } : {}),
        requiresAuth: false,
      },
    ]);
  });

  it.each(TYPES)('aaa: a %s from extended_entities.media, its link dropped from the text', (type) => {
    const body = aaaMention({ text: '@AcmeSupport look', media: [{ type, altText: 'the broken box' }] });
    const [idStr] = v1MediaIds(body);
    const result = post(body);
    expect(result.text).toBe('@AcmeSupport look');
    expect(result.links).toEqual([]);
    expect(result.media).toEqual([
      {
        mediaKey: idStr,
        type,
        url: expectedMediaUrl({ type, idStr: idStr! }),
        ...(type === 'photo' ? {} : { previewUrl: `https://pbs.twimg.com/ext_tw_video_thumb/${idStr}.jpg`, contentType: 'video/mp4' }),
        altText: 'the broken box',
        width: 1280,
        height: 720,
        ...(type === 'video' ? { durationMs: 34_875 } : {}),
        requiresAuth: false,
      },
    ]);
  });

  it.each(FORMATS)('%s: four photos share one link, removed once; a typed link beside them is expanded', (_format, build) => {
    const media: MediaSpec[] = [{ type: 'photo' }, { type: 'photo' }, { type: 'photo' }, { type: 'photo' }];
    const result = post(build({ text: '@AcmeSupport receipt: https://shop.example/r/1 🧾', links: ['https://shop.example/r/1'], media }));
    expect(result.text).toBe('@AcmeSupport receipt: https://shop.example/r/1 🧾');
    expect(result.media.map((m) => m.type)).toEqual(['photo', 'photo', 'photo', 'photo']);
    expect(result.links.map((link) => link.expandedUrl)).toEqual(['https://shop.example/r/1']);
  });

  it('keeps a media key includes.media does not describe, typed by its key', () => {
    const body = xaaMention({ media: [{ type: 'video', described: false }, { type: 'photo' }] });
    const [video] = mediaOf(body);
    const result = post(body);
    expect(result.media[0]).toEqual({ mediaKey: video!.key, type: 'video', requiresAuth: false });
    expect(result.media[1]?.type).toBe('photo');
  });

  it('reads the kind of media from the key as X forms keys', () => {
    expect(['3_1', '7_1', '13_1', '16_1', '99_1', 'x_1', '3_'].map(typeFromMediaKey)).toEqual([
      'photo',
      'video',
      'video',
      'animated_gif',
      undefined,
      undefined,
      undefined,
    ]);
  });

  it('gives a post of media only an empty text', () => {
    expect(post(xaaMention({ text: '', media: [{ type: 'photo' }] })).text).toBe('');
    expect(post(aaaMention({ text: '', media: [{ type: 'animated_gif' }] })).text).toBe('');
  });
});

describe('DMs', () => {
  it.each([
    ['xaa', xaaDm],
    ['aaa', aaaDm],
  ] as const)('%s: a DM with a photo and a link: media behind OAuth, its link dropped, the typed link expanded', (_format, build) => {
    const body = build({ text: 'here is my order 📦 https://shop.example/o/77?a=1&b=2', links: ['https://shop.example/o/77?a=1&b=2'], media: { type: 'photo', altText: 'label' } });
    const event = (body as { data?: { payload: { direct_message_events: unknown[] } }; direct_message_events?: unknown[] });
    const raw = JSON.stringify(event);
    const dmId = /"type":"message_create","id":"(\d+)"/.exec(raw)?.[1] ?? '';
    const mediaId = /"id_str":"(\d+)"/.exec(raw)?.[1] ?? '';
    const result = dm(body);
    expect(result.text).toBe('here is my order 📦 https://shop.example/o/77?a=1&b=2');
    expect(result.links.map((link) => link.expandedUrl)).toEqual(['https://shop.example/o/77?a=1&b=2']);
    expect(result.media).toEqual([
      { mediaKey: mediaId, type: 'photo', url: dmMediaUrl(dmId, mediaId), altText: 'label', width: 1280, height: 720, requiresAuth: true },
    ]);
  });

  it('a DM of a video alone: the best mp4, no text', () => {
    const result = dm(xaaDm({ text: '', media: { type: 'video' } }));
    expect(result.text).toBe('');
    expect(result.media[0]).toMatchObject({ type: 'video', contentType: 'video/mp4', requiresAuth: true, url: expect.stringMatching(/high\.mp4$/) });
  });
});

describe('quotes', () => {
  const quotedPost = {
    id: '1989999999999999001',
    author: OTHER,
    text: 'Spring sale 🌸 details: https://shop.example/sale & more',
    links: ['https://shop.example/sale'],
  };

  it.each([
    ['xaa', xaaQuote],
    ['aaa', aaaQuote],
  ] as const)('%s: carries the quoted post, its links expanded and its author named, when X included it', (_format, build) => {
    const result = post(build({ quoted: { post: quotedPost } }));
    expect(result.quoted).toEqual({
      xId: quotedPost.id,
      text: quotedPost.text,
      author: { xUserId: OTHER.id, username: OTHER.username, name: OTHER.name, profile: expect.objectContaining({ followersCount: 312 }) },
    });
  });

  it.each([
    ['xaa', xaaQuote],
    ['aaa', aaaQuote],
  ] as const)('%s: carries only the quoted id when X did not include the quoted post', (_format, build) => {
    expect(post(build({ quoted: { post: quotedPost, included: false } })).quoted).toEqual({ xId: quotedPost.id });
  });

  it('names the quoted author from config when the quote is of the bot and includes has no user for it', () => {
    const body = xaaQuote({ quoted: { post: { id: '1989999999999999002', author: BOT, text: 'We ship worldwide' } } }) as XaaBody;
    body.data.includes!.users = [];
    expect(post(body).quoted?.author).toEqual({ xUserId: BOT.id, username: BOT.username, name: BOT.username });
  });

  it('carries a long quoted post whole (note_tweet / extended_tweet)', () => {
    const long = { id: '1989999999999999003', author: OTHER, text: `${'All orders ship within two days. '.repeat(12)}End.` };
    expect(post(xaaQuote({ quoted: { post: long } })).quoted?.text).toBe(long.text);
    expect(post(aaaQuote({ quoted: { post: long } })).quoted?.text).toBe(long.text);
  });
});

describe('edits', () => {
  it.each(FORMATS)('%s: lists the versions oldest first, this one last, when the post is an edit', (_format, build) => {
    const result = post(build({ id: '1990000000000000903', editOf: ['1990000000000000901', '1990000000000000902'] }));
    expect(result.editHistory).toEqual(['1990000000000000901', '1990000000000000902', '1990000000000000903']);
  });

  it.each(FORMATS)('%s: has no editHistory for a post never edited (X lists only its own id)', (_format, build) => {
    expect(post(build({})).editHistory).toBeUndefined();
  });

  it('reads v1.1 edit_history from initial_tweet_id alone, and ignores ids that are not X ids', () => {
    const body = aaaMention({ id: '1990000000000000905' }) as AaaBody;
    body.tweet_create_events[0]!.edit_history = { initial_tweet_id: '1990000000000000904' };
    expect(post(body).editHistory).toEqual(['1990000000000000904', '1990000000000000905']);
    const xaa = xaaMention({ id: '1990000000000000906' }) as XaaBody;
    // A numeric id is what JSON.parse makes of an unquoted one: already rounded, so not an id.
    xaa.data.payload.edit_history_tweet_ids = [Number('1990000000000000900'), 'x', '1990000000000000906'];
    expect(post(xaa).editHistory).toBeUndefined();
  });
});

describe('both formats agree on a complete message', () => {
  it('gives the same text, links, authors, quote and edit history for the same post', () => {
    const options: PostOptions = {
      id: '1990000000000000950',
      text: '@AcmeSupport 👋 https://shop.example/o/1 broke',
      links: ['https://shop.example/o/1'],
      editOf: ['1990000000000000949'],
      quoted: { post: { id: '1989999999999999009', author: OTHER, text: 'Orders: https://shop.example', links: ['https://shop.example'] } },
    };
    const strip = ({ format: _f, via: _v, conversationId: _c, links, ...rest }: InboundPost) => ({
      ...rest,
      links: links.map(({ url: _url, ...link }) => link),
    });
    expect(strip(post(aaaMention(options)))).toEqual(strip(post(xaaMention(options))));
  });
});
