// Every sample body on X's event-payloads page (x-api/activity/event-payloads.mdx in xdevplatform/docs), copied into
// test/fixtures/x/xaa-doc-<event_type>.json and re-addressed to the bot of the tests (see the fixtures' README), gives
// the outcome contract §3 says: a post, DM or delete to queue, or an acknowledged item counted with its reason. No
// documented sample is ever 'malformed'.
import { readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { inboundEventSchema, type InboundDm, type InboundPost, type NormalisedBody } from '../../shared/x/inbound-event';
import { normaliseWebhookBody } from '../../shared/x/normalise';
import { BOT } from '../support/x-payloads';

const FIXTURES = fileURLToPath(new URL('../fixtures/x/', import.meta.url));
const ctx = { botUserId: BOT.id, botUsername: BOT.username, receivedAt: '2026-08-12T18:00:01.000Z' };
const OTHER_USER = '2222222222222222222';

function sample(eventType: string): unknown {
  return JSON.parse(readFileSync(`${FIXTURES}xaa-doc-${eventType}.json`, 'utf8')) as unknown;
}

function normalise(eventType: string): NormalisedBody {
  return normaliseWebhookBody(sample(eventType), ctx);
}

function onlyEvent<K extends 'post' | 'dm'>(eventType: string, kind: K): K extends 'post' ? InboundPost : InboundDm {
  const { events, ignored } = normalise(eventType);
  expect(ignored).toEqual({});
  expect(events).toHaveLength(1);
  const event = inboundEventSchema.parse(events[0]);
  expect(event.kind).toBe(kind);
  return event as K extends 'post' ? InboundPost : InboundDm;
}

// What each documented event type becomes. Types the page documents without a sample are at the end.
const IGNORED: Record<string, string> = {
  'post.repost.create': 'retweet',
  'like.create': 'like',
  'follow.follow': 'follow',
  'follow.unfollow': 'follow',
  'profile.update.bio': 'unsupported',
  'profile.update.profile_picture': 'unsupported',
  'profile.update.banner_picture': 'unsupported',
  'profile.update.screenname': 'unsupported',
  'profile.update.geo': 'unsupported',
  'profile.update.url': 'unsupported',
  'news.new': 'unsupported',
  'spaces.start': 'unsupported',
  'spaces.end': 'unsupported',
  'broadcast.start': 'unsupported',
  'broadcast.end': 'unsupported',
  'broadcast.chat': 'unsupported',
};
const QUEUED: Record<string, 'post' | 'dm' | 'delete' | 'revoke'> = {
  // The account withdrew the app's access: no ticket, but the channel goes down (ingest).
  'oauth.revoke': 'revoke',
  'post.create': 'post',
  'post.delete': 'delete',
  'post.mention.create': 'post',
  'post.reply.create': 'post',
  'post.quote.create': 'post',
  'dm.sent': 'dm',
  'dm.received': 'dm',
  // XChat is end-to-end encrypted: queued as a DM still encrypted, which ingest opens (shared/x/xchat-inbound.ts).
  'chat.received': 'dm',
  'chat.sent': 'dm',
};

const samples = readdirSync(FIXTURES)
  .filter((name) => name.startsWith('xaa-doc-') && name.endsWith('.json'))
  .map((name) => name.slice('xaa-doc-'.length, -'.json'.length));

describe("X's documented sample bodies", () => {
  it('are all here, one per event type the page has a sample for', () => {
    expect(samples.sort()).toEqual(Object.keys({ ...IGNORED, ...QUEUED }).sort());
  });

  it.each(samples)('%s gives the contract outcome, never malformed', (eventType) => {
    const { events, ignored } = normalise(eventType);
    expect(ignored.malformed).toBeUndefined();
    if (QUEUED[eventType]) {
      expect(ignored).toEqual({});
      expect(events.map((event) => event.kind)).toEqual([QUEUED[eventType]]);
      for (const event of events) inboundEventSchema.parse(event);
    } else {
      expect(events).toEqual([]);
      expect(ignored).toEqual({ [IGNORED[eventType] ?? 'missing']: 1 });
    }
  });

  // Documented on the page without a sample body: an envelope of the documented shape.
  it.each([
    ['profile.update.handle', { before: 'ExampleUser', after: 'ExampleUser2' }, 'unsupported'],
    ['profile.update.verified_badge', { before: 'none', after: 'blue' }, 'unsupported'],
    ['profile.update.affiliate_badge', { before: '', after: 'X' }, 'unsupported'],
    ['chat.conversation_join', { conversation_id: `${OTHER_USER}:${BOT.id}` }, 'unsupported'],
    ['dm.read', {}, 'read'],
    ['dm.indicate_typing', {}, 'typing'],
    ['mute.mute', { source: { data: { id: BOT.id } }, target: { data: { id: OTHER_USER } } }, 'unsupported'],
    ['mute.unmute', { source: { data: { id: BOT.id } }, target: { data: { id: OTHER_USER } } }, 'unsupported'],
    ['block.block', { source: { data: { id: BOT.id } }, target: { data: { id: OTHER_USER } } }, 'unsupported'],
    ['block.unblock', { source: { data: { id: BOT.id } }, target: { data: { id: OTHER_USER } } }, 'unsupported'],
  ])('%s (documented without a sample) is acknowledged as %s', (eventType, payload, reason) => {
    const body = { data: { event_uuid: '1', filter: { user_id: BOT.id }, event_type: eventType, payload } };
    expect(normaliseWebhookBody(body, ctx)).toEqual({ events: [], ignored: { [reason]: 1 } });
  });
});

describe('what the documented samples say, field by field', () => {
  it('oauth.revoke: the account that revoked (from the payload, the filter being empty) and when', () => {
    const { events, ignored } = normalise('oauth.revoke');
    expect(ignored).toEqual({});
    expect(events).toEqual([
      { kind: 'revoke', format: 'xaa', xId: BOT.id, revokedAt: '2026-07-23T21:44:05.000Z', via: 'oauth.revoke', receivedAt: ctx.receivedAt },
    ]);
  });

  it("oauth.revoke by another account the app serves is not the bot's channel: counted other_account", () => {
    const body = JSON.parse(readFileSync(`${FIXTURES}xaa-doc-oauth.revoke.json`, 'utf8')) as { data: { payload: { user_id: string } } };
    body.data.payload.user_id = '4242';
    expect(normaliseWebhookBody(body, ctx)).toEqual({ events: [], ignored: { other_account: 1 } });
  });

  it('post.mention.create: the author named from includes.users (a plain array), with the profile agents see', () => {
    const post = onlyEvent('post.mention.create', 'post');
    expect(post).toMatchObject({
      xId: '2080765813578191303',
      text: 'hey @ExampleUser',
      mentionsBot: true,
      links: [],
      media: [],
      author: {
        xUserId: OTHER_USER,
        username: 'OtherUser',
        name: 'OtherUser',
        profile: {
          profileImageUrl: 'https://pbs.twimg.com/profile_images/0000000000000000001/example_normal.jpg',
          verifiedType: 'none',
          followersCount: 97,
          protected: false,
        },
      },
    });
    expect(post.editHistory).toBeUndefined();
  });

  it('post.reply.create: includes {} leaves the author unnamed for ingest to look up, never ""', () => {
    const post = onlyEvent('post.reply.create', 'post');
    expect(post.author).toEqual({ xUserId: OTHER_USER });
    expect(post).toMatchObject({ inReplyToXId: '2080761390344937796', inReplyToUserId: BOT.id, mentionsBot: false });
    expect(post.text).toBe('@ExampleUser Great post — thanks for sharing!');
  });

  it('post.quote.create: the quoted post by id (no includes), the quote permalink expanded and listed', () => {
    const post = onlyEvent('post.quote.create', 'post');
    expect(post.quoted).toEqual({ xId: '2080761390344937796' });
    expect(post.author).toEqual({ xUserId: OTHER_USER });
    // X's sample ends the url entity past the end of its text: the link is found by its t.co url instead.
    expect(post.text).toBe('Adding some context to this. https://twitter.com/ExampleUser/status/2080761390344937796');
    expect(post.links).toEqual([
      {
        url: 'https://t.co/xxxxxxxx',
        expandedUrl: 'https://twitter.com/ExampleUser/status/2080761390344937796',
        displayUrl: 'x.com/ExampleUser/st…',
      },
    ]);
  });

  it("post.create: the bot's own post, named from includes.users", () => {
    const post = onlyEvent('post.create', 'post');
    expect(post.author).toMatchObject({ xUserId: BOT.id, username: 'ExampleUser', name: 'Example User', profile: { verifiedType: 'blue', followersCount: 5502 } });
  });

  it('post.delete: a delete of the post, whatever the {data}-wrapped includes.users say', () => {
    expect(normalise('post.delete').events).toMatchObject([{ kind: 'delete', xId: '2080761269309813134', authorXUserId: BOT.id }]);
  });

  it('dm.received and dm.sent: sender and recipient from the users map of {data}', () => {
    const received = onlyEvent('dm.received', 'dm');
    expect(received).toMatchObject({ text: 'hello!', recipientXUserId: BOT.id, sender: { xUserId: OTHER_USER, username: 'OtherUser' } });
    expect(received.sender.profile).toEqual({
      profileImageUrl: 'https://pbs.twimg.com/profile_images/0000000000000000001/example_normal.jpg',
      verifiedType: 'none',
      followersCount: 97,
      protected: false,
    });
    const sent = onlyEvent('dm.sent', 'dm');
    expect(sent).toMatchObject({ text: 'Thanks for the update!', recipientXUserId: '2244994945', sender: { xUserId: BOT.id, username: 'ExampleUser' } });
  });
});
