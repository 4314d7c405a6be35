// X's webhook formats → inbound events (contract §3), one test per rule and per payload trap, driven by the
// real-shaped fixtures in test/fixtures/x/ and the factories in test/support/x-payloads.ts.
import { readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { inboundEventSchema, type InboundDm, type InboundEvent, type InboundPost, type NormalisedBody } from '../../shared/x/inbound-event';
import { normaliseWebhookBody } from '../../shared/x/normalise';
import { codePointIndices, codePointLength, sliceCodePoints, storedText, toWellFormed, unescapeXText } from '../../shared/x/text';
import { aaaDelete, aaaDm, aaaMention, aaaReply, BOT, CUSTOMER, xaaDelete, xaaDm, xaaMention, xaaReply } from '../support/x-payloads';

const FIXTURES = fileURLToPath(new URL('../fixtures/x/', import.meta.url));
const RECEIVED_AT = '2026-11-16T14:05:10.250Z';
const ctx = { botUserId: BOT.id, botUsername: BOT.username, receivedAt: RECEIVED_AT };

function raw(name: string): string {
  return readFileSync(FIXTURES + name, 'utf8');
}

function fixture(name: string): unknown {
  return JSON.parse(raw(name)) as unknown;
}

function normalise(body: unknown): NormalisedBody {
  return normaliseWebhookBody(body, ctx);
}

function only(name: string): InboundEvent {
  const { events, ignored } = normalise(fixture(name));
  expect(ignored).toEqual({});
  expect(events).toHaveLength(1);
  return inboundEventSchema.parse(events[0]);
}

function firstPost(body: unknown): InboundPost {
  const event = normalise(body).events[0];
  if (event?.kind !== 'post') throw new Error('expected a post');
  return event;
}

function onlyPost(name: string): InboundPost {
  const event = only(name);
  if (event.kind !== 'post') throw new Error(`expected a post, got ${event.kind}`);
  return event;
}

function onlyDm(name: string): InboundDm {
  const event = only(name);
  if (event.kind !== 'dm') throw new Error(`expected a DM, got ${event.kind}`);
  return event;
}

/** Deep copy of a fixture with one change applied, for the variants that do not deserve a file of their own. */
function variant<T = Record<string, unknown>>(name: string, change: (body: T) => void): T {
  const body = fixture(name) as T;
  change(body);
  return body;
}

type AaaTweetBody = { tweet_create_events: Record<string, unknown>[] } & Record<string, unknown>;
type XaaBody = { data: { payload: Record<string, unknown>; includes?: Record<string, unknown> } & Record<string, unknown> };

describe('Account Activity API: tweet_create_events', () => {
  it('turns a mention into a post: ids, author, ISO time, format, via, receivedAt', () => {
    const post = onlyPost('aaa-tweet-create-mention.json');
    expect(post).toMatchObject({
      kind: 'post',
      format: 'aaa',
      xId: '1990000000000000001',
      author: { xUserId: CUSTOMER.id, username: 'jane_doe_dev', name: 'Jane Doe 🚀' },
      createdAt: '2026-11-16T14:05:09.000Z',
      mentionsBot: true,
      via: 'tweet_create_events',
      receivedAt: RECEIVED_AT,
    });
    expect(post.inReplyToXId).toBeUndefined();
  });

  it('takes ids from id_str, never from the numeric id JSON.parse has already rounded (trap)', () => {
    const item = (fixture('aaa-tweet-create-mention.json') as AaaTweetBody).tweet_create_events[0]!;
    // The trap is real in the fixture: the parsed number is not the post's id.
    expect(String(item.id)).not.toBe(item.id_str);
    expect(onlyPost('aaa-tweet-create-mention.json').xId).toBe(item.id_str);
  });

  it('counts a post that has only the lossy numeric id as malformed rather than guessing', () => {
    const body = variant<AaaTweetBody>('aaa-tweet-create-mention.json', (b) => {
      delete b.tweet_create_events[0]!.id_str;
    });
    expect(normalise(body)).toEqual({ events: [], ignored: { malformed: 1 } });
  });

  it('unescapes the HTML entities X puts in v1.1 text (trap)', () => {
    expect(onlyPost('aaa-tweet-create-mention.json').text).toBe(
      "Hi 👋 @AcmeSupport my order #A-1234 hasn't arrived & the tracking link is dead https://tracking.example.com/A-1234",
    );
  });

  it('unescapes in one pass, so what the customer typed as "&lt;" stays "&lt;" (trap)', () => {
    expect(onlyPost('aaa-tweet-html-entities.json').text).toBe(
      '@AcmeSupport price shows <€10 & > €5?? the page literally says &lt;b&gt; lol',
    );
  });

  it('takes the whole text from extended_tweet.full_text when truncated (trap)', () => {
    const post = onlyPost('aaa-tweet-truncated-extended.json');
    expect(post.text).toMatch(/^Third time asking & still no answer\./);
    expect(post.text).toMatch(/I just want a delivery date or a refund\.$/);
    expect(post.text).not.toContain('…');
    expect(codePointLength(post.text)).toBeGreaterThan(280);
  });

  it('finds the bot mention that only the extended text holds', () => {
    const body = fixture('aaa-tweet-truncated-extended.json') as AaaTweetBody;
    expect(body.tweet_create_events[0]!.text).not.toContain('@AcmeSupport');
    expect(onlyPost('aaa-tweet-truncated-extended.json').mentionsBot).toBe(true);
  });

  it('counts offsets in code points: the emoji before the mention is one, not two UTF-16 units (trap)', () => {
    const item = (fixture('aaa-tweet-create-mention.json') as AaaTweetBody).tweet_create_events[0] as {
      text: string;
      display_text_range: [number, number];
      entities: { user_mentions: { indices: [number, number] }[]; urls: { indices: [number, number] }[] };
    };
    const [start, end] = item.entities.user_mentions[0]!.indices;
    expect(sliceCodePoints(item.text, start, end)).toBe('@AcmeSupport');
    expect(item.text.slice(start, end)).not.toBe('@AcmeSupport');
    const [urlStart, urlEnd] = item.entities.urls[0]!.indices;
    expect(sliceCodePoints(item.text, urlStart, urlEnd)).toBe('https://t.co/Xy7AbCdE12');
    // display_text_range counts the still-escaped text, in code points.
    expect(item.display_text_range[1]).toBe(codePointLength(item.text));
  });

  it("does not count the bot's handle in X's auto-added reply prefix as a mention (trap)", () => {
    const post = onlyPost('aaa-reply-auto-mention.json');
    expect(post.mentionsBot).toBe(false);
    expect(post.inReplyToXId).toBe('1990000000000000030');
    expect(post.inReplyToUserId).toBe('2244994945');
    // The prefix stays in the stored text: it says who the thread was with.
    expect(post.text).toBe('@AcmeSupport @XDevelopers thanks both, all sorted now & the parcel arrived 📦');
  });

  it('counts a mention the author typed, in any letter case, after the reply prefix', () => {
    const post = onlyPost('aaa-reply-typed-mention.json');
    expect(post.mentionsBot).toBe(true);
    expect(post.text).toBe('@XDevelopers no luck 😞 maybe @acmesupport can help?');
  });

  it('recognises the bot by id when its handle has changed since the config was written', () => {
    const result = normaliseWebhookBody(fixture('aaa-tweet-create-mention.json'), { ...ctx, botUsername: 'AcmeHelp' });
    expect((result.events[0] as InboundPost).mentionsBot).toBe(true);
  });

  it('does not take an e-mail address or a longer handle for a mention', () => {
    for (const text of ['write to help@AcmeSupport.example', 'ask @AcmeSupport_EU instead', 'nothing to see']) {
      const post = normalise(aaaMention({ text })).events[0] as InboundPost;
      expect(post.mentionsBot, text).toBe(false);
    }
  });

  it('falls back to skipping the leading @handles of a reply when X sent no display_text_range', () => {
    const prefixOnly = variant<AaaTweetBody>('aaa-reply-auto-mention.json', (b) => {
      delete b.tweet_create_events[0]!.display_text_range;
    });
    expect((normalise(prefixOnly).events[0] as InboundPost).mentionsBot).toBe(false);
    const typed = variant<AaaTweetBody>('aaa-reply-typed-mention.json', (b) => {
      delete b.tweet_create_events[0]!.display_text_range;
    });
    expect((normalise(typed).events[0] as InboundPost).mentionsBot).toBe(true);
  });

  it('ignores retweets (never a ticket)', () => {
    expect(normalise(fixture('aaa-retweet.json'))).toEqual({ events: [], ignored: { retweet: 1 } });
  });

  it('keeps a quote tweet as a post and names the quoted post', () => {
    const post = onlyPost('aaa-quote-tweet.json');
    expect(post.quoted?.xId).toBe('1989999999999999001');
    expect(post.mentionsBot).toBe(false);
    // The permalink X appends to a quote is a link like any other: expanded, and the quoted post is in `quoted`.
    expect(post.text).toBe('this "sale" excluded everything I wanted >:( https://twitter.com/AcmeSupport/status/1989999999999999001');
  });

  it.each([
    ['a boolean', 'aaa-blocked-boolean.json'],
    ['the string "true"', 'aaa-blocked-string.json'],
  ])('ignores mentions flagged user_has_blocked as %s (trap)', (_label, name) => {
    expect(normalise(fixture(name))).toEqual({ events: [], ignored: { blocked: 1 } });
  });

  it('does not mistake user_has_blocked "false" (a non-empty string) for true', () => {
    expect(normalise(fixture('aaa-tweet-create-mention.json')).events).toHaveLength(1);
  });

  it('produces one event per item of a multi-event body, in X order', () => {
    const { events, ignored } = normalise(fixture('aaa-multi-events.json'));
    expect(events.map((event) => event.xId)).toEqual(['1990000000000000051', '1990000000000000053']);
    expect(ignored).toEqual({ retweet: 1 });
    expect((events as InboundPost[]).map((event) => event.createdAt)).toEqual(['2026-11-16T15:00:00.000Z', '2026-11-16T15:00:02.000Z']);
  });

  it("still normalises the bot's own posts (the ingest worker matches them to its replies)", () => {
    const post = onlyPost('aaa-bot-own-tweet.json');
    expect(post.author).toMatchObject({ xUserId: BOT.id, username: 'AcmeSupport', name: 'Acme Support' });
    expect(post.inReplyToXId).toBe('1990000000000000001');
  });

  it('ignores bodies for another subscribed account', () => {
    expect(normalise(fixture('aaa-other-account.json'))).toEqual({ events: [], ignored: { other_account: 1 } });
    const multi = variant<AaaTweetBody>('aaa-multi-events.json', (b) => {
      b.for_user_id = '2244994945';
    });
    expect(normalise(multi)).toEqual({ events: [], ignored: { other_account: 3 } });
  });

  it('converts created_at with any UTC offset to ISO 8601', () => {
    const body = variant<AaaTweetBody>('aaa-tweet-create-mention.json', (b) => {
      b.tweet_create_events[0]!.created_at = 'Mon Nov 16 16:05:09 +0200 2026';
    });
    expect(firstPost(body).createdAt).toBe('2026-11-16T14:05:09.000Z');
  });

  it('falls back to timestamp_ms, then to receivedAt, when created_at is unusable', () => {
    const noCreatedAt = variant<AaaTweetBody>('aaa-tweet-create-mention.json', (b) => {
      b.tweet_create_events[0]!.created_at = 'Feb 30 yesterday';
    });
    expect(firstPost(noCreatedAt).createdAt).toBe('2026-11-16T14:05:09.123Z');
    const noTime = variant<AaaTweetBody>('aaa-tweet-create-mention.json', (b) => {
      delete b.tweet_create_events[0]!.created_at;
      delete b.tweet_create_events[0]!.timestamp_ms;
    });
    expect(firstPost(noTime).createdAt).toBe(RECEIVED_AT);
  });

  it('counts unreadable items as malformed and still normalises the rest of the body', () => {
    const body = variant<AaaTweetBody>('aaa-multi-events.json', (b) => {
      b.tweet_create_events.splice(1, 0, { id_str: 'not-a-number', text: 'x', user: { id_str: '1' } }, 'garbage' as never);
    });
    const { events, ignored } = normalise(body);
    expect(events.map((event) => event.xId)).toEqual(['1990000000000000051', '1990000000000000053']);
    expect(ignored).toEqual({ malformed: 2, retweet: 1 });
    expect(normalise({ for_user_id: BOT.id, tweet_create_events: { not: 'an array' } })).toEqual({
      events: [],
      ignored: { malformed: 1 },
    });
  });
});

describe('Account Activity API: DMs, deletes and the events that are never tickets', () => {
  it('turns direct_message_events into a DM, with the sender from the users map', () => {
    const dm = onlyDm('aaa-dm-message-create.json');
    expect(dm).toEqual({
      kind: 'dm',
      format: 'aaa',
      xId: '1990000000000000200',
      sender: {
        xUserId: CUSTOMER.id,
        username: 'jane_doe_dev',
        name: 'Jane Doe 🚀',
        // v1.1 user objects: profile_image_url_https, followers_count, protected.
        profile: {
          profileImageUrl: 'https://pbs.twimg.com/profile_images/1500000000000000000/abcdEFGH_normal.jpg',
          followersCount: 312,
          protected: false,
        },
      },
      recipientXUserId: BOT.id,
      text: 'Order #A-1234 & my email is jane@example.com. Thanks!',
      links: [],
      media: [],
      createdAt: '2026-11-16T14:30:02.555Z',
      via: 'direct_message_events',
      receivedAt: RECEIVED_AT,
    });
  });

  it("still normalises the bot's own DMs, with the customer as recipient", () => {
    const dm = onlyDm('aaa-dm-sent-by-bot.json');
    expect(dm.sender).toMatchObject({ xUserId: BOT.id, username: 'AcmeSupport', name: 'Acme Support' });
    expect(dm.recipientXUserId).toBe(CUSTOMER.id);
  });

  it('turns a delete notice into a delete event (status.id is a string there)', () => {
    expect(only('aaa-tweet-delete.json')).toEqual({
      kind: 'delete',
      format: 'aaa',
      xId: '1990000000000000001',
      authorXUserId: CUSTOMER.id,
      deletedAt: '2026-11-16T15:00:00.000Z',
      via: 'tweet_delete_events',
      receivedAt: RECEIVED_AT,
    });
  });

  it.each([
    ['aaa-favorite.json', { like: 1 }],
    ['aaa-follow.json', { follow: 1 }],
    ['aaa-typing.json', { typing: 1 }],
    ['aaa-read.json', { read: 1 }],
    ['aaa-block.json', { unsupported: 1 }],
  ])('acknowledges %s without an event, counted as %o', (name, ignored) => {
    expect(normalise(fixture(name))).toEqual({ events: [], ignored });
  });

  it('queues a user_event revoke of the bot account (no for_user_id: the source says whose) as a revoke', () => {
    expect(normalise(fixture('aaa-user-event-revoke.json'))).toEqual({
      events: [{ kind: 'revoke', format: 'aaa', xId: BOT.id, revokedAt: '2026-11-16T14:20:00.000Z', via: 'user_event', receivedAt: RECEIVED_AT }],
      ignored: {},
    });
  });

  it("counts another account's user_event revoke as other_account, and a revoke without its source as malformed", () => {
    const other = { user_event: { revoke: { date_time: '2026-11-16T14:20:00+00:00', target: { app_id: '1' }, source: { user_id: '4242' } } } };
    expect(normalise(other)).toEqual({ events: [], ignored: { other_account: 1 } });
    expect(normalise({ user_event: { revoke: { date_time: '2026-11-16T14:20:00+00:00' } } })).toEqual({ events: [], ignored: { malformed: 1 } });
  });
});

describe('X Activity API', () => {
  it('turns post.mention.create into a post, with the author from includes.users', () => {
    const post = onlyPost('xaa-post-mention-create.json');
    expect(post).toEqual({
      kind: 'post',
      format: 'xaa',
      xId: '1990000000000000001',
      author: { xUserId: CUSTOMER.id, username: 'jane_doe_dev', name: 'Jane Doe 🚀', profile: { verifiedType: 'none', protected: false } },
      text: "Hi 👋 @AcmeSupport my order #A-1234 hasn't arrived and the tracking link is dead https://tracking.example.com/A-1234",
      links: [
        { url: 'https://t.co/Xy7AbCdE12', expandedUrl: 'https://tracking.example.com/A-1234', displayUrl: 'tracking.example.com/A-1234' },
      ],
      media: [],
      createdAt: '2026-11-16T14:05:09.000Z',
      conversationId: '1990000000000000001',
      lang: 'en',
      mentionsBot: true,
      via: 'post.mention.create',
      receivedAt: RECEIVED_AT,
    });
  });

  it('turns post.reply.create into a reply: replied_to id, unescaped text, auto prefix is no mention', () => {
    const post = onlyPost('xaa-post-reply-create.json');
    expect(post).toMatchObject({
      xId: '1990000000000000301',
      inReplyToXId: '1990000000000000007',
      inReplyToUserId: BOT.id,
      conversationId: '1990000000000000007',
      text: '@AcmeSupport still nothing & no email from you either <sigh>',
      mentionsBot: false,
      via: 'post.reply.create',
    });
  });

  it('turns post.quote.create into a post naming the quoted post (includes.users as {data})', () => {
    const post = onlyPost('xaa-post-quote-create.json');
    expect(post.quoted?.xId).toBe('1989999999999999001');
    expect(post.author.username).toBe('jane_doe_dev');
    expect(post.mentionsBot).toBe(false);
    expect(post.via).toBe('post.quote.create');
  });

  it('takes the whole text of a long post from note_tweet.text', () => {
    const body = fixture('xaa-post-long-note-tweet.json') as XaaBody;
    const post = onlyPost('xaa-post-long-note-tweet.json');
    expect((body.data.payload.text as string).endsWith('…')).toBe(true);
    expect(post.text).toBe(unescapeXText((body.data.payload.note_tweet as { text: string }).text));
    expect(post.text).toMatch(/or a refund\.$/);
    expect(post.mentionsBot).toBe(true);
  });

  it("still normalises the bot's own post (post.create), so its echo can be matched to the reply", () => {
    const post = onlyPost('xaa-bot-own-post.json');
    expect(post.author.xUserId).toBe(BOT.id);
    expect(post.inReplyToXId).toBe('1990000000000000001');
    expect(post.via).toBe('post.create');
  });

  it('turns dm.received into a DM, with the sender from the users map of {data}', () => {
    expect(onlyDm('xaa-dm-received.json')).toEqual({
      kind: 'dm',
      format: 'xaa',
      xId: '1990000000000000100',
      sender: { xUserId: CUSTOMER.id, username: 'jane_doe_dev', name: 'Jane Doe 🚀', profile: { protected: false } },
      recipientXUserId: BOT.id,
      text: 'Order #A-1234, email jane@example.com. Thanks!',
      links: [],
      media: [],
      createdAt: '2026-11-16T14:30:02.555Z',
      via: 'dm.received',
      receivedAt: RECEIVED_AT,
    });
  });

  it("turns dm.sent (the bot's own DM) into a DM from the bot", () => {
    const dm = onlyDm('xaa-dm-sent.json');
    expect(dm.sender.xUserId).toBe(BOT.id);
    expect(dm.recipientXUserId).toBe(CUSTOMER.id);
    expect(dm.via).toBe('dm.sent');
  });

  it('turns post.delete into a delete event, timed by receipt (X sends no time)', () => {
    expect(only('xaa-post-delete.json')).toEqual({
      kind: 'delete',
      format: 'xaa',
      xId: '1990000000000000007',
      authorXUserId: BOT.id,
      deletedAt: RECEIVED_AT,
      via: 'post.delete',
      receivedAt: RECEIVED_AT,
    });
  });

  it.each([
    ['xaa-post-repost-create.json', { retweet: 1 }],
    ['xaa-like-create.json', { like: 1 }],
    ['xaa-follow-follow.json', { follow: 1 }],
    ['xaa-dm-indicate-typing.json', { typing: 1 }],
    ['xaa-profile-update-bio.json', { unsupported: 1 }],
    ['xaa-other-account.json', { other_account: 1 }],
  ])('acknowledges %s without an event, counted as %o', (name, ignored) => {
    expect(normalise(fixture(name))).toEqual({ events: [], ignored });
  });

  it('ignores a post whose referenced_tweets says it is a repost, whatever the event type', () => {
    const body = variant<XaaBody>('xaa-post-mention-create.json', (b) => {
      b.data.payload.referenced_tweets = [{ type: 'retweeted', id: '1989999999999999001' }];
    });
    expect(normalise(body)).toEqual({ events: [], ignored: { retweet: 1 } });
  });

  it('unescapes v2 text too (X escapes & < > there as well)', () => {
    const body = variant<XaaBody>('xaa-post-mention-create.json', (b) => {
      b.data.payload.text = '@AcmeSupport A &amp; B &lt;3';
    });
    expect((normalise(body).events[0] as InboundPost).text).toBe('@AcmeSupport A & B <3');
  });

  it('keeps a post whose author X did not expand, unnamed (ingest looks them up) rather than losing it', () => {
    const body = variant<XaaBody>('xaa-post-mention-create.json', (b) => {
      delete b.data.includes;
    });
    const post = inboundEventSchema.parse(normalise(body).events[0]) as InboundPost;
    expect(post.author).toEqual({ xUserId: CUSTOMER.id });
  });

  it('accepts `data` as an array of envelopes, and a top-level array of bodies, in order', () => {
    const mention = (fixture('xaa-post-mention-create.json') as XaaBody).data;
    const reply = (fixture('xaa-post-reply-create.json') as XaaBody).data;
    const fromDataArray = normalise({ data: [mention, reply] });
    expect(fromDataArray.events.map((event) => event.xId)).toEqual(['1990000000000000001', '1990000000000000301']);
    const fromTopArray = normalise([fixture('xaa-dm-received.json'), fixture('aaa-tweet-delete.json')]);
    expect(fromTopArray.events.map((event) => event.kind)).toEqual(['dm', 'delete']);
  });

  it('counts event types named like Object.prototype members as unsupported, not as whatever they resolve to', () => {
    for (const eventType of ['constructor', 'toString', '__proto__', 'hasOwnProperty']) {
      expect(normalise({ data: { event_type: eventType, filter: { user_id: BOT.id }, payload: {} } })).toEqual({
        events: [],
        ignored: { unsupported: 1 },
      });
    }
    expect(normalise({ for_user_id: BOT.id, constructor_events: [{}, {}] })).toEqual({ events: [], ignored: { unsupported: 2 } });
  });

  it('counts an envelope without event_type, or a post without an id, as malformed', () => {
    expect(normalise({ data: { payload: {} } })).toEqual({ events: [], ignored: { malformed: 1 } });
    const noId = variant<XaaBody>('xaa-post-mention-create.json', (b) => {
      // What JSON.parse makes of an unquoted id: a rounded number.
      b.data.payload.id = Number('1990000000000000001');
    });
    expect(normalise(noId)).toEqual({ events: [], ignored: { malformed: 1 } });
  });
});

describe('bodies that are neither format', () => {
  it.each([
    ['an empty object', {}],
    ['null', null],
    ['a string', 'tweet_create_events'],
    ['a number', 42],
    ['an empty array', []],
    ['an API response', { data: { id: '1990000000000000007', text: 'hi' } }],
  ])('acknowledges %s as unsupported', (_label, body) => {
    expect(normalise(body)).toEqual({ events: [], ignored: { unsupported: 1 } });
  });
});

describe('a replay job ending', () => {
  it('is no item: its job id and X\'s words are handed on for the log, and it is counted as a replay status', () => {
    expect(normalise(fixture('replay-job-status.json'))).toEqual({
      events: [],
      ignored: { replay_status: 1 },
      replayJobs: [{ jobId: '1146654567674912770', state: 'Complete', description: 'Job completed successfully', webhookId: '1146654567674912769' }],
    });
  });

  it('without a job id or state is malformed, not a notice', () => {
    expect(normalise({ replay_job_status: { job_state: 'Complete' } })).toEqual({ events: [], ignored: { malformed: 1 } });
  });
});

describe('both formats agree', () => {
  it('gives the same post for the same X post delivered by XAA and AAA (deduplication relies on it)', () => {
    const options = { id: '1990000000000000777', text: 'hi @AcmeSupport, A & B <3 👋', createdAt: '2026-11-16T10:00:00.000Z' };
    const aaaBody = aaaMention(options) as AaaTweetBody;
    // The factory writes v1.1's own date format, which the normaliser must read (not fall back to timestamp_ms).
    expect(aaaBody.tweet_create_events[0]!.created_at).toBe('Mon Nov 16 10:00:00 +0000 2026');
    delete aaaBody.tweet_create_events[0]!.timestamp_ms;
    const [fromAaa] = normalise(aaaBody).events;
    const [fromXaa] = normalise(xaaMention(options)).events;
    const strip = ({ format: _format, via: _via, conversationId: _conversationId, ...rest }: InboundPost) => rest;
    expect(strip(fromAaa as InboundPost)).toEqual(strip(fromXaa as InboundPost));
    expect((fromAaa as InboundPost).text).toBe('hi @AcmeSupport, A & B <3 👋');
  });

  it('gives the same reply, DM and delete from the factories of both formats', () => {
    const reply = { id: '1990000000000000778', inReplyTo: { id: '1990000000000000007' }, text: 'thanks!' };
    const [aaaReplyEvent] = normalise(aaaReply(reply)).events as InboundPost[];
    const [xaaReplyEvent] = normalise(xaaReply(reply)).events as InboundPost[];
    expect(aaaReplyEvent).toMatchObject({ inReplyToXId: '1990000000000000007', mentionsBot: false, text: '@AcmeSupport thanks!' });
    expect(xaaReplyEvent).toMatchObject({ inReplyToXId: '1990000000000000007', mentionsBot: false, text: '@AcmeSupport thanks!' });

    const dm = { id: '1990000000000000779', text: 'a <b> & c' };
    expect(normalise(aaaDm(dm)).events[0]).toMatchObject({ kind: 'dm', text: 'a <b> & c', sender: { username: 'jane_doe_dev' } });
    expect(normalise(xaaDm(dm)).events[0]).toMatchObject({ kind: 'dm', text: 'a <b> & c', sender: { username: 'jane_doe_dev' } });
    expect(normalise(xaaDm({ sender: BOT })).events[0]).toMatchObject({ via: 'dm.sent', recipientXUserId: CUSTOMER.id });

    const deletion = { id: '1990000000000000780', deletedAt: '2026-11-16T12:00:00.000Z' };
    expect(normalise(aaaDelete(deletion)).events[0]).toMatchObject({ kind: 'delete', xId: deletion.id, deletedAt: deletion.deletedAt });
    expect(normalise(xaaDelete(deletion)).events[0]).toMatchObject({ kind: 'delete', xId: deletion.id });
  });
});

describe('text helpers', () => {
  it('unescapes named, decimal and hex entities, and leaves unknown or impossible ones as written', () => {
    expect(unescapeXText('&amp; &lt; &gt; &quot; &apos; &#39; &#x1F44B; &#128075;')).toBe(`& < > " ' ' 👋 👋`);
    expect(unescapeXText('&nbsp; &#0; &#xD800; &#x110000; &amp &')).toBe('&nbsp; &#0; &#xD800; &#x110000; &amp &');
    expect(unescapeXText('&amp;lt; &amp;amp;')).toBe('&lt; &amp;');
  });

  it('slices and measures by code point', () => {
    expect(codePointLength('a👋b')).toBe(3);
    expect(sliceCodePoints('a👋b', 1, 2)).toBe('👋');
    expect(sliceCodePoints('a👋b', 2)).toBe('b');
    expect(sliceCodePoints('a👋b', -5, 99)).toBe('a👋b');
    expect(sliceCodePoints('a👋b', 2, 1)).toBe('');
  });

  it('converts many code point offsets to UTF-16 indices in one pass, past emoji and to the end', () => {
    const text = 'a👋🏽b🐦‍🔥c';
    // a, 👋, 🏽, b, 🐦, ZWJ, 🔥, c: 8 code points, 12 UTF-16 units.
    expect([...codePointIndices(text, [8, 0, 4, 3, 1, 99]).entries()].sort(([a], [b]) => a - b)).toEqual([
      [0, 0],
      [1, 1],
      [3, 5],
      [4, 6],
      [8, 12],
      [99, 12],
    ]);
  });

  it('repairs lone surrogates, which no UTF-8 store can hold', () => {
    expect(toWellFormed('a\uD800b\uDC00c👋')).toBe('a\uFFFDb\uFFFDc👋');
    expect(storedText('\uD83D &amp;')).toBe('\uFFFD &');
  });
});

// ---------------------------------------------------------------------------------------------------------------
// Properties: whatever arrives, the webhook must be able to acknowledge it.

const fixtureNames = readdirSync(FIXTURES).filter((name) => /^(aaa|xaa)-.*\.json$/.test(name));

const REASONS = ['retweet', 'blocked', 'like', 'follow', 'typing', 'read', 'other_account', 'unsupported', 'malformed'];

function checkInvariants(result: NormalisedBody): void {
  for (const event of result.events) inboundEventSchema.parse(event);
  for (const reason of Object.keys(result.ignored)) expect(REASONS).toContain(reason);
  const ignoredCount = Object.values(result.ignored).reduce((sum, n) => sum + (n ?? 0), 0);
  for (const n of Object.values(result.ignored)) expect(Number.isInteger(n) && (n ?? 0) > 0).toBe(true);
  // Every body leaves a trace: an event or a counted reason.
  expect(result.events.length + ignoredCount).toBeGreaterThan(0);
}

/** Every [container, key] in a JSON value, so a mutation can target any node of a real fixture. */
function slots(value: unknown, out: [Record<string, unknown> | unknown[], string | number][] = []) {
  if (Array.isArray(value)) {
    value.forEach((child, index) => {
      out.push([value, index]);
      slots(child, out);
    });
  } else if (typeof value === 'object' && value !== null) {
    for (const [key, child] of Object.entries(value)) {
      out.push([value as Record<string, unknown>, key]);
      slots(child, out);
    }
  }
  return out;
}

const mutation = fc.record({
  at: fc.nat(),
  op: fc.constantFrom('set', 'delete', 'stringify'),
  value: fc.oneof(
    fc.jsonValue({ maxDepth: 3, stringUnit: 'binary' }),
    fc.constantFrom('true', 'false', '', '1990000000000000001', Number('1990000000000000001'), -1, [], {}, null),
  ),
});

describe('never throws', () => {
  it('for any JSON value, including lone surrogates (property)', () => {
    fc.assert(
      fc.property(fc.jsonValue({ stringUnit: 'binary' }), (body) => {
        checkInvariants(normalise(body));
      }),
      { numRuns: 500 },
    );
  });

  it('for any envelope-shaped value (property)', () => {
    const anything = fc.jsonValue({ maxDepth: 3, stringUnit: 'binary' });
    const envelope = fc.oneof(
      fc.record({ data: fc.record({ event_type: fc.oneof(fc.constantFrom('post.mention.create', 'post.reply.create', 'post.create', 'dm.received', 'dm.sent', 'post.delete', 'like.create', 'constructor'), fc.string()), filter: fc.constant({ user_id: BOT.id }), payload: anything, includes: anything }) }),
      fc.record({ for_user_id: fc.constant(BOT.id), tweet_create_events: fc.array(anything), direct_message_events: fc.array(anything), users: anything }),
    );
    fc.assert(
      fc.property(envelope, (body) => {
        checkInvariants(normalise(body));
      }),
      { numRuns: 500 },
    );
  });

  it('for real fixtures with random parts replaced, deleted or stringified (property)', () => {
    fc.assert(
      fc.property(fc.constantFrom(...fixtureNames), fc.array(mutation, { minLength: 1, maxLength: 6 }), (name, mutations) => {
        const body = fixture(name);
        for (const { at, op, value } of mutations) {
          const targets = slots(body);
          if (targets.length === 0) break;
          const [container, key] = targets[at % targets.length]!;
          const record = container as Record<string | number, unknown>;
          if (op === 'delete' && !Array.isArray(container)) delete record[key];
          else if (op === 'stringify') record[key] = JSON.stringify(record[key]) ?? 'undefined';
          // A copy: fast-check hands out the same constant objects again, and sharing them would make cycles.
          else record[key] = structuredClone(value);
        }
        checkInvariants(normalise(body));
      }),
      { numRuns: 1000 },
    );
  });

  it('for deep nesting and huge strings, quickly', () => {
    let deep: unknown = 'bottom';
    for (let i = 0; i < 50_000; i += 1) deep = { data: deep, payload: [deep] };
    checkInvariants(normalise(deep));
    checkInvariants(normalise({ data: { event_type: 'post.mention.create', payload: deep } }));

    const huge = `${'@x '.repeat(500_000)}${'👋&amp;'.repeat(200_000)}\uD800`;
    const body = aaaReply({ inReplyTo: { id: '1990000000000000007' } }) as AaaTweetBody;
    body.tweet_create_events[0]!.text = huge;
    // Without a display range the leading @handles are scanned for: that must stay linear too.
    delete body.tweet_create_events[0]!.display_text_range;
    // No clock here (timing belongs to npm run bench): a quadratic scan of these 1.6 million characters would not end
    // within the test's timeout, so linear time is what lets this test finish at all.
    const [post] = normalise(body).events as InboundPost[];
    expect(post?.text.endsWith('👋&\uFFFD')).toBe(true);
  });

  it('returns the text the customer typed through any factory round trip (property)', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', maxLength: 300 }), (text) => {
        const [aaaPost] = normalise(aaaMention({ text })).events as InboundPost[];
        const [xaaPost] = normalise(xaaMention({ text })).events as InboundPost[];
        const [dm] = normalise(xaaDm({ text })).events as InboundDm[];
        expect(aaaPost?.text).toBe(text);
        expect(xaaPost?.text).toBe(text);
        expect(dm?.text).toBe(text);
      }),
      { numRuns: 300 },
    );
  });
});
