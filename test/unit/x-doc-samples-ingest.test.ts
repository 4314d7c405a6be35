// Every sample body on X's event-payloads page (x-api/activity/event-payloads.mdx in xdevplatform/docs, copied into
// test/fixtures/x/xaa-doc-<event_type>.json) taken the whole way an inbound item goes in the ingest worker
// (functions/ingest/handler.ts): normalised, XChat opened or marked encrypted, completed (authors named from the body,
// the user cache or one look-up), then applied to the tickets. Each comes out as contract §3 says: a customer's
// mention, reply or quote opens a ticket whose customer and message are NAMED, even when X's body carries
// `includes: {}` (rule 8: looked up); the bot's own posts and DMs never become tickets (rule 5); a delete leaves a
// tombstone (rule 7); a DM opens a DM ticket with a named sender (rule 4); every other event type makes no ticket and
// never throws. The fixtures are read from the folder, so a sample added there is covered here too.
import { readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { Message, Ticket } from '../../shared/tickets/model';
import { ingestItem, type IngestDeps, type IngestOutcome } from '../../shared/tickets/ingest';
import { completeBatch, type CompleteDeps } from '../../shared/x/complete-items';
import type { InboundEvent } from '../../shared/x/inbound-event';
import { normaliseWebhookBody } from '../../shared/x/normalise';
import { xchatIntake } from '../../shared/x/xchat-inbound';
import { xReads, type ReadMetrics, type XLookups, type XUserRecord } from '../../shared/x/x-reads';
import { memoryReadCounter, memoryUserCache } from '../support/memory-x-cache';
import { memoryChannelHealthStore, memoryTicketStore } from '../support/memory-ticket-store';
import { BOT } from '../support/x-payloads';

const FIXTURES = fileURLToPath(new URL('../fixtures/x/', import.meta.url));
// The samples are re-addressed to the bot of the tests (the fixtures' README), as in x-doc-samples.test.ts.
const ctx = { botUserId: BOT.id, botUsername: BOT.username, receivedAt: '2026-08-12T18:00:01.000Z' };
/** The customer of X's samples: named in some bodies (`includes.users`, the DM `users` map), in others only by id. */
const OTHER_USER: XUserRecord = {
  xUserId: '2222222222222222222',
  username: 'OtherUser',
  name: 'OtherUser',
  profile: { profileImageUrl: 'https://pbs.twimg.com/profile_images/0000000000000000001/example_normal.jpg', verifiedType: 'none', followersCount: 97, protected: false },
};
const silent: ReadMetrics = { made: () => {}, refused: () => {}, costUsd: () => {} };

const samples = readdirSync(FIXTURES)
  .filter((name) => name.startsWith('xaa-doc-') && name.endsWith('.json'))
  .map((name) => name.slice('xaa-doc-'.length, -'.json'.length))
  .sort();

/** What contract §3 says each sample becomes. Any event type not listed here must make no ticket. */
const CUSTOMER_POSTS = ['post.mention.create', 'post.reply.create', 'post.quote.create'];
const CUSTOMER_DMS = ['dm.received', 'chat.received'];
const BOT_OWN = ['post.create', 'dm.sent', 'chat.sent'];

/** One sample through normalise → XChat intake → complete → ingest, on a fresh store and a fake X that knows OtherUser. */
async function runSample(eventType: string) {
  const now = () => new Date(ctx.receivedAt);
  const store = memoryTicketStore();
  const channel = memoryChannelHealthStore('acme');
  const lookups: { users: string[][]; posts: string[][] } = { users: [], posts: [] };
  const x: XLookups = {
    async users(ids) {
      lookups.users.push(ids);
      return { users: ids.filter((id) => id === OTHER_USER.xUserId).map(() => OTHER_USER), notFound: ids.filter((id) => id !== OTHER_USER.xUserId) };
    },
    async posts(ids) {
      lookups.posts.push(ids);
      return { posts: [], users: [], notFound: ids };
    },
  };
  const completeDeps: CompleteDeps = {
    reads: xReads({ x, counter: memoryReadCounter(), budgetPerDay: 2000, now, metrics: silent }),
    cache: memoryUserCache(now),
    storedItems: (xIds) => store.getXItems(xIds),
    bot: { xUserId: BOT.id, username: BOT.username },
    now,
  };
  const ingestDeps: IngestDeps = {
    store,
    channel,
    brand: 'acme',
    botUserId: BOT.id,
    botUsername: BOT.username,
    windows: { mentionMergeHours: 24, reopenHours: 168 },
    now,
  };
  const body = JSON.parse(readFileSync(`${FIXTURES}xaa-doc-${eventType}.json`, 'utf8')) as unknown;
  const { events, ignored } = normaliseWebhookBody(body, ctx);
  // XChat is not set up for this brand: its messages are ticketed as plainly encrypted (shared/x/xchat-inbound.ts).
  const openXChat = xchatIntake({ opener: undefined, channel, now, metrics: { opened: () => {}, unreadable: () => {} } });
  const opened: InboundEvent[] = [];
  for (const event of events) opened.push(await openXChat(event, false));
  const { completions } = await completeBatch(opened, completeDeps);
  const outcomes: IngestOutcome[] = [];
  for (const completion of completions) {
    expect(completion.ok).toBe(true);
    if (completion.ok) outcomes.push(await ingestItem(completion.item, ingestDeps));
  }
  const tickets = [...store.tickets.values()];
  const messages = [...store.xItems.values()].flatMap((item) => (item.kind === 'message' ? [item.message] : []));
  return { events, ignored, outcomes, store, channel, tickets, messages, lookups };
}

function expectNamed(person: { xUserId: string; username?: string; name?: string }) {
  expect(person).toMatchObject({ xUserId: OTHER_USER.xUserId, username: 'OtherUser', name: 'OtherUser' });
}

function onlyTicketAndMessage(tickets: Ticket[], messages: Message[]) {
  expect(tickets).toHaveLength(1);
  expect(messages).toHaveLength(1);
  return { ticket: tickets[0]!, message: messages[0]! };
}

describe("X's documented samples, from webhook body to tickets", () => {
  it('every sample the parser test knows is here', () => {
    expect(samples).toEqual(expect.arrayContaining([...CUSTOMER_POSTS, ...CUSTOMER_DMS, ...BOT_OWN, 'post.delete', 'oauth.revoke']));
  });

  it.each(samples)('%s gives the ticket outcome of contract §3', async (eventType) => {
    const { events, outcomes, store, channel, tickets, messages, lookups } = await runSample(eventType);

    if (CUSTOMER_POSTS.includes(eventType) || CUSTOMER_DMS.includes(eventType)) {
      // Rules 3, 4 and 8: a new ticket (a mention ticket for a post, a DM ticket for a DM), its customer and the
      // message's author named, from the body or the look-up.
      expect(outcomes).toMatchObject([{ outcome: 'created' }]);
      const { ticket, message } = onlyTicketAndMessage(tickets, messages);
      expect(ticket).toMatchObject({ channel: CUSTOMER_DMS.includes(eventType) ? 'dm' : 'mention', status: 'open' });
      expectNamed(ticket.customer);
      expectNamed(message.author);
      expect(message.author).not.toHaveProperty('unresolved');
      expect(message.direction).toBe('inbound');
    } else if (BOT_OWN.includes(eventType)) {
      // Rule 5: the bot's own post or DM is never a ticket, and costs no look-up.
      expect(events).toHaveLength(1);
      expect(outcomes).toMatchObject([{ outcome: 'ignored', reason: 'self' }]);
      expect(tickets).toEqual([]);
      expect(lookups.users).toEqual([]);
    } else if (eventType === 'post.delete') {
      // Rule 7: nothing stored under the id yet, so a tombstone keeps it from ever being stored later.
      expect(outcomes).toEqual([{ outcome: 'tombstoned', xId: '2080761269309813134' }]);
      expect(store.xItems.get('2080761269309813134')).toMatchObject({ kind: 'tombstone' });
      expect(tickets).toEqual([]);
    } else if (eventType === 'oauth.revoke') {
      // No ticket: the channel goes down (CONTRACT §3's "never a ticket", and the channel health of ingest).
      expect(outcomes).toMatchObject([{ outcome: 'revoked', channel: 'changed' }]);
      expect(tickets).toEqual([]);
      expect(channel.changes).toHaveLength(1);
    } else {
      // Likes, follows, reposts, profile updates, news, Spaces, broadcasts: acknowledged, no ticket, no message.
      expect(events).toEqual([]);
      expect(outcomes).toEqual([]);
      expect(tickets).toEqual([]);
      expect(store.xItems.size).toBe(0);
    }
  });

  it.each(['post.reply.create', 'post.quote.create'])('%s: X sent `includes: {}`, so the author is named by one users look-up', async (eventType) => {
    const { events, lookups, messages } = await runSample(eventType);
    expect(events[0]).toMatchObject({ kind: 'post', author: { xUserId: OTHER_USER.xUserId } });
    expect((events[0] as { author: { username?: string } }).author.username).toBeUndefined();
    expect(lookups.users).toEqual([[OTHER_USER.xUserId]]);
    expect(messages[0]?.author).toMatchObject({ xUserId: OTHER_USER.xUserId, username: 'OtherUser', name: 'OtherUser' });
  });

  it('post.delete after the post it deletes was ticketed redacts that message (kept: ids and times)', async () => {
    // The deleted post's id in X's sample, given to a mention first, so the delete finds it stored.
    const deletedXId = '2080761269309813134';
    const mention = JSON.parse(readFileSync(`${FIXTURES}xaa-doc-post.mention.create.json`, 'utf8')) as {
      data: { payload: Record<string, unknown> & { id: string; author_id: string } };
    };
    const del = JSON.parse(readFileSync(`${FIXTURES}xaa-doc-post.delete.json`, 'utf8')) as { data: { payload: { author_id: string } } };
    mention.data.payload.id = deletedXId;
    mention.data.payload.edit_history_tweet_ids = [deletedXId];
    del.data.payload.author_id = mention.data.payload.author_id;
    const { store } = await runSample('post.mention.create');
    const deps: IngestDeps = {
      store,
      brand: 'acme',
      botUserId: BOT.id,
      botUsername: BOT.username,
      windows: { mentionMergeHours: 24, reopenHours: 168 },
      now: () => new Date(ctx.receivedAt),
    };
    const [post] = normaliseWebhookBody(mention, ctx).events;
    const [deletion] = normaliseWebhookBody(del, ctx).events;
    const completeDeps: CompleteDeps = {
      cache: memoryUserCache(deps.now),
      storedItems: (xIds) => store.getXItems(xIds),
      bot: { xUserId: BOT.id, username: BOT.username },
      now: deps.now,
    };
    const { completions } = await completeBatch([post!, deletion!], completeDeps);
    const [postItem, deleteItem] = completions.map((c) => (c.ok ? c.item : undefined));
    expect(await ingestItem(postItem!, deps)).toMatchObject({ outcome: 'added' });
    expect(await ingestItem(deleteItem!, deps)).toMatchObject({ outcome: 'redacted', xId: deletedXId });
    expect(store.xItems.get(deletedXId)).toMatchObject({ kind: 'message', message: { xId: deletedXId, redacted: true, text: '' } });
  });
});
