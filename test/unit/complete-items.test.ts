// Completing a queue batch: every author named from the body, the cache or one batched look-up; a person X says
// does not exist gets a placeholder; a failed look-up sends the item back to the queue (never a blank name); a spent
// budget tickets the item `unresolved`; a quote gets its post's text from the store or a look-up.
import { describe, expect, it } from 'vitest';
import { RetryableError } from '../../shared/errors';
import type { Message } from '../../shared/tickets/model';
import type { StoredXItem } from '../../shared/tickets/ticket-store';
import { completeBatch, type CompleteDeps } from '../../shared/x/complete-items';
import type { CompletePost, InboundDm, InboundEvent, InboundPost, InboundQuoted, InboundUser } from '../../shared/x/inbound-event';
import { xReads, type ReadMetrics, type XLookups, type XUserRecord } from '../../shared/x/x-reads';
import { memoryReadCounter, memoryUserCache } from '../support/memory-x-cache';

const BOT = { xUserId: '1602999888777666555', username: 'AcmeSupport' };
const silent: ReadMetrics = { made: () => {}, refused: () => {}, costUsd: () => {} };
let nextId = 5000;

function post(author: InboundUser, extra: Partial<InboundPost> = {}): InboundPost {
  const xId = String(nextId++);
  return {
    kind: 'post',
    format: 'xaa',
    xId,
    author,
    text: 'my order is late',
    links: [],
    media: [],
    createdAt: '2026-11-16T10:00:00.000Z',
    mentionsBot: false,
    via: 'post.reply.create',
    receivedAt: '2026-11-16T10:00:01.000Z',
    ...extra,
  };
}

function dm(sender: InboundUser): InboundDm {
  return {
    kind: 'dm',
    format: 'xaa',
    xId: String(nextId++),
    sender,
    recipientXUserId: BOT.xUserId,
    text: 'hello',
    links: [],
    media: [],
    createdAt: '2026-11-16T10:00:00.000Z',
    via: 'dm.received',
    receivedAt: '2026-11-16T10:00:01.000Z',
  };
}

const profileOf = (id: string) => ({ profileImageUrl: `https://pbs.twimg.com/profile_images/${id}/a_normal.jpg`, verifiedType: 'none', followersCount: 12, protected: false });
const xUser = (id: string): XUserRecord => ({ xUserId: id, username: `user${id}`, name: `User ${id}`, profile: profileOf(id) });

/** A fake X that knows `users` and `posts`, records each look-up, and fails while `failing` is set. */
function fakeX(options: { users?: string[]; posts?: { xId: string; text: string; authorId: string }[] } = {}) {
  const state = { failing: undefined as Error | undefined, requests: [] as { kind: string; ids: string[] }[] };
  const knownUsers = new Set(options.users ?? []);
  const x: XLookups = {
    async users(ids) {
      state.requests.push({ kind: 'users', ids });
      if (state.failing) throw state.failing;
      return { users: ids.filter((id) => knownUsers.has(id)).map(xUser), notFound: ids.filter((id) => !knownUsers.has(id)) };
    },
    async posts(ids) {
      state.requests.push({ kind: 'posts', ids });
      if (state.failing) throw state.failing;
      const found = (options.posts ?? []).filter((p) => ids.includes(p.xId));
      return {
        posts: found,
        users: [...new Set(found.map((p) => p.authorId))].filter((id) => knownUsers.has(id)).map(xUser),
        notFound: ids.filter((id) => !found.some((p) => p.xId === id)),
      };
    },
  };
  return { x, state };
}

function setup(options: { users?: string[]; posts?: { xId: string; text: string; authorId: string }[]; budget?: number; stored?: Map<string, StoredXItem>; noCredentials?: boolean } = {}) {
  const clock = { now: new Date('2026-11-16T10:00:00.000Z') };
  const now = () => clock.now;
  const { x, state } = fakeX(options);
  const counter = memoryReadCounter();
  const cache = memoryUserCache(now);
  const deps: CompleteDeps = {
    ...(options.noCredentials ? {} : { reads: xReads({ x, counter, budgetPerDay: options.budget ?? 2000, now, metrics: silent }) }),
    cache,
    storedItems: async (xIds) => new Map([...(options.stored ?? new Map<string, StoredXItem>())].filter(([id]) => xIds.includes(id))),
    bot: BOT,
    now,
  };
  const complete = async (items: InboundEvent[]) => completeBatch(items, deps);
  return { deps, state, counter, cache, clock, complete };
}

const authorOf = (c: { ok: boolean; item?: unknown }) => (c.ok ? ((c as { item: CompletePost }).item.author) : undefined);

describe('completing a batch: named authors', () => {
  it('names everyone the body left unnamed with one users look-up for the whole batch, with their profiles', async () => {
    const { complete, state } = setup({ users: ['11', '12'] });
    const items = [post({ xUserId: '11' }), post({ xUserId: '12' }), post({ xUserId: '11' }), dm({ xUserId: '12' })];
    const { completions, stats } = await complete(items);
    expect(state.requests).toEqual([{ kind: 'users', ids: ['11', '12'] }]);
    expect(completions.every((c) => c.ok)).toBe(true);
    expect(authorOf(completions[0]!)).toEqual({ xUserId: '11', username: 'user11', name: 'User 11', profile: profileOf('11') });
    expect(completions[3]).toMatchObject({ ok: true, item: { sender: { xUserId: '12', username: 'user12', name: 'User 12' } } });
    expect(stats).toMatchObject({ lookedUp: 2, cacheHits: 0 });
  });

  it('a cached person costs no read: the second item of a customer, in a later batch the same day', async () => {
    const { complete, state, counter } = setup({ users: ['21'] });
    await complete([post({ xUserId: '21' })]);
    const { completions, stats } = await complete([post({ xUserId: '21' })]);
    expect(state.requests).toHaveLength(1);
    expect(stats).toMatchObject({ cacheHits: 1, lookedUp: 0 });
    expect(authorOf(completions[0]!)).toMatchObject({ username: 'user21', name: 'User 21' });
    expect((await counter.day('2026-11-16')).userReads).toBe(1);
  });

  it('the cache holds a day: after 24 hours the person is read again', async () => {
    const { complete, state, clock } = setup({ users: ['22'] });
    await complete([post({ xUserId: '22' })]);
    clock.now = new Date(clock.now.getTime() + 23 * 3_600_000);
    await complete([post({ xUserId: '22' })]);
    expect(state.requests).toHaveLength(1);
    clock.now = new Date(clock.now.getTime() + 2 * 3_600_000);
    await complete([post({ xUserId: '22' })]);
    expect(state.requests).toHaveLength(2);
  });

  it('names from the body and the bot from config cost no read', async () => {
    const { complete, state } = setup();
    const { completions } = await complete([
      post({ xUserId: '31', username: 'named_in_body', name: 'Named' }),
      post({ xUserId: BOT.xUserId }),
    ]);
    expect(state.requests).toEqual([]);
    expect(authorOf(completions[0]!)).toEqual({ xUserId: '31', username: 'named_in_body', name: 'Named' });
    expect(authorOf(completions[1]!)).toMatchObject({ xUserId: BOT.xUserId, username: BOT.username });
  });

  it('a person X says does not exist gets a clear placeholder marked notFound, cached so it is not read again', async () => {
    const { complete, state } = setup({ users: [] });
    const { completions, stats } = await complete([post({ xUserId: '41' })]);
    const author = authorOf(completions[0]!);
    expect(author).toMatchObject({ xUserId: '41', notFound: true });
    expect(author?.name).toContain('41');
    expect(author?.name).not.toBe('');
    expect(stats.notFound).toBe(1);
    await complete([post({ xUserId: '41' })]);
    expect(state.requests).toHaveLength(1);
  });

  it('a look-up X fails or refuses leaves the item incomplete (to retry), never named blank; the others go on', async () => {
    for (const failure of [new RetryableError('X answered 503'), new RetryableError('X rate limit', Date.now() + 60_000)]) {
      const { complete, state } = setup({ users: ['51'] });
      state.failing = failure;
      const named = post({ xUserId: '52', username: 'fine', name: 'Fine' });
      const { completions } = await complete([post({ xUserId: '51' }), named, dm({ xUserId: '51' })]);
      expect(completions[0]).toMatchObject({ ok: false });
      expect(completions[0]!.ok ? undefined : completions[0]!.error).toBeInstanceOf(RetryableError);
      expect(completions[2]).toMatchObject({ ok: false });
      expect(completions[1]).toMatchObject({ ok: true, item: { author: { username: 'fine' } } });
      // Once X answers, the same item is named.
      state.failing = undefined;
      const retry = await complete([post({ xUserId: '51' })]);
      expect(authorOf(retry.completions[0]!)).toMatchObject({ username: 'user51', name: 'User 51' });
      expect(authorOf(retry.completions[0]!)?.unresolved).toBeUndefined();
    }
  });

  it('past the day’s budget the item is ticketed at once, its author unresolved and shown by X id', async () => {
    const { complete, state } = setup({ users: ['61'], budget: 0 });
    const { completions, stats } = await complete([post({ xUserId: '61' })]);
    expect(state.requests).toEqual([]);
    expect(authorOf(completions[0]!)).toEqual({ xUserId: '61', username: '', name: 'X user 61', unresolved: true });
    expect(stats.unresolved).toBe(1);
  });

  it('without X credentials nothing is read and the author is unresolved', async () => {
    const { complete } = setup({ users: ['62'], noCredentials: true });
    const { completions } = await complete([post({ xUserId: '62' })]);
    expect(authorOf(completions[0]!)).toMatchObject({ unresolved: true, name: 'X user 62' });
  });
});

describe('completing a batch: quotes', () => {
  const quoting = (quoted: InboundQuoted) => post({ xUserId: '71', username: 'quoter', name: 'Q' }, { quoted, via: 'post.quote.create' });

  it('a quote without text takes the stored message under that X id, costing no read', async () => {
    const message = {
      id: 'msg-900',
      ticketId: 'mn-1-1',
      xId: '900',
      direction: 'outbound',
      channel: 'mention',
      text: 'Our new opening hours are 8 to 8.',
      author: { xUserId: BOT.xUserId, username: BOT.username, name: 'Acme Support' },
      createdAt: '2026-11-16T09:00:00.000Z',
      redacted: false,
    } as Message;
    const { complete, state } = setup({ stored: new Map([['900', { kind: 'message', message }]]) });
    const { completions, stats } = await complete([quoting({ xId: '900' })]);
    expect(state.requests).toEqual([]);
    expect(completions[0]).toMatchObject({ ok: true, item: { quoted: { xId: '900', text: 'Our new opening hours are 8 to 8.', author: { xUserId: BOT.xUserId, username: BOT.username } } } });
    expect(stats.quotesFromStore).toBe(1);
  });

  it('otherwise one posts look-up gives its text and author, whose name is cached', async () => {
    const { complete, state } = setup({ users: ['81'], posts: [{ xId: '901', text: 'the quoted post', authorId: '81' }] });
    const { completions } = await complete([quoting({ xId: '901' })]);
    expect(state.requests).toEqual([{ kind: 'posts', ids: ['901'] }]);
    expect(completions[0]).toMatchObject({ ok: true, item: { quoted: { xId: '901', text: 'the quoted post', author: { xUserId: '81', username: 'user81', name: 'User 81' } } } });
    // Its author named by the posts look-up is cached: an item of theirs costs no users read.
    await complete([post({ xUserId: '81' })]);
    expect(state.requests).toHaveLength(1);
  });

  it('a quote whose author the body left unnamed gets the name by the users look-up', async () => {
    const { complete, state } = setup({ users: ['82'] });
    const { completions } = await complete([quoting({ xId: '902', text: 'quoted text', author: { xUserId: '82' } })]);
    expect(state.requests).toEqual([{ kind: 'users', ids: ['82'] }]);
    expect(completions[0]).toMatchObject({ item: { quoted: { xId: '902', text: 'quoted text', author: { username: 'user82' } } } });
  });

  it('a quoted post that cannot be read never holds its item: the quote keeps just its X id', async () => {
    const { complete, state } = setup({ posts: [{ xId: '903', text: 'x', authorId: '83' }] });
    state.failing = new RetryableError('X answered 503');
    const { completions } = await complete([quoting({ xId: '903' })]);
    expect(completions[0]).toMatchObject({ ok: true, item: { quoted: { xId: '903' } } });
    expect((completions[0] as { item: CompletePost }).item.quoted).toEqual({ xId: '903' });
  });

  it('a quoted post past the budget or deleted keeps just its X id, and a deleted one is not read', async () => {
    const budgetless = setup({ budget: 0, posts: [{ xId: '904', text: 'x', authorId: '83' }] });
    const spent = await budgetless.complete([quoting({ xId: '904' })]);
    expect((spent.completions[0] as { item: CompletePost }).item.quoted).toEqual({ xId: '904' });
    const deleted = setup({ stored: new Map([['905', { kind: 'tombstone', xId: '905' }]]) });
    const gone = await deleted.complete([quoting({ xId: '905' })]);
    expect(deleted.state.requests).toEqual([]);
    expect((gone.completions[0] as { item: CompletePost }).item.quoted).toEqual({ xId: '905' });
  });
});
