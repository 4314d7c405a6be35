// Use case: a queue batch of inbound items → items the ticket rules can take, every author named.
// X's body often names nobody (XAA's `includes: {}` on replies and quotes, a DM `users` map without the sender), so the
// people it left unnamed are collected across the whole batch and named from, in order: the bot's own config, the
// user cache in the table (a day's TTL: a busy customer costs one read a day, not one per post), then one budgeted
// `GET /2/users?ids=` per 100 (shared/x/x-reads.ts). A quote without its post's text takes it from the stored message
// under that X id, else from a budgeted `GET /2/tweets?ids=`, whose authors are cached too.
// Outcomes per item: named; a placeholder marked `notFound` when X says the account does not exist; a placeholder
// marked `unresolved` when the day's read budget is spent or the bridge has no X credentials (a customer is never
// kept waiting for a name); and NOT complete when X failed or refused the look-up: the caller gives that item back to
// the queue (RetryableError), so it is ticketed named on a later delivery, never with a blank name. A quoted post that
// cannot be looked up never holds its item: the quote keeps just its X id.
// Safe to retry: everything here is a read or an idempotent cache write; a retry reads the cache the first try filled.
import { RetryableError } from '../errors';
import { logger } from '../logger';
import type { StoredXItem } from '../tickets/ticket-store';
import type { CompleteEvent, InboundEvent, InboundQuoted, InboundUser, NamedUser, XProfile } from './inbound-event';
import type { XReads, XUserRecord } from './x-reads';

/** How long a looked-up person is trusted: X bills a user read per UTC day at most once a day anyway. */
export const USER_CACHE_HOURS = 24;

/** A person as the cache keeps them: named, or `notFound` when X said the account does not exist. */
export type CachedXUser = { xUserId: string; username: string; name: string; profile?: XProfile; notFound?: true };

/** The user cache port (DynamoDB: shared/aws/dynamo-x-cache.ts). `getUsers` returns only entries not yet expired. */
export type XUserCache = {
  getUsers(ids: string[]): Promise<Map<string, CachedXUser>>;
  putUsers(users: CachedXUser[], expiresAt: Date): Promise<void>;
};

export type CompleteDeps = {
  /** The budgeted X reads; undefined when the bridge has no X credentials (local mode): nothing is read. */
  reads?: XReads;
  cache: XUserCache;
  /** The stored items under X ids (the ticket store's batch read): a quoted post the bridge has costs no read. */
  storedItems: (xIds: string[]) => Promise<Map<string, StoredXItem>>;
  /** The bot account, named from config: its own posts never cost a look-up. */
  bot: { xUserId: string; username: string };
  now: () => Date;
};

/** One item's completion: the complete item, or why it must go back to the queue. */
export type Completion = { ok: true; item: CompleteEvent } | { ok: false; error: RetryableError };

/** What completing a batch took, for metrics and logs. */
export type CompletionStats = {
  /** People named by the cache, with no read. */
  cacheHits: number;
  /** People X named by a users look-up now. */
  lookedUp: number;
  /** People X says do not exist. */
  notFound: number;
  /** People left `unresolved`: no budget or no credentials. */
  unresolved: number;
  /** People whose look-up X failed or refused (their items go back to the queue). */
  failed: number;
  /** Quoted posts completed from a stored message / from a posts look-up. */
  quotesFromStore: number;
  quotesLookedUp: number;
};

/**
 * Completes a batch. Resolves with one Completion per item, in the items' order; never rejects for X's or the
 * cache's sake (a cache that cannot be read is treated as empty, one that cannot be written as a lost saving).
 * Rejects only when the read counter cannot be reached, in which case nothing was read: the caller gives the whole
 * batch back.
 */
export async function completeBatch(
  items: InboundEvent[],
  deps: CompleteDeps,
): Promise<{ completions: Completion[]; stats: CompletionStats }> {
  const stats: CompletionStats = {
    cacheHits: 0,
    lookedUp: 0,
    notFound: 0,
    unresolved: 0,
    failed: 0,
    quotesFromStore: 0,
    quotesLookedUp: 0,
  };
  const named = new Map<string, CachedXUser>([
    [deps.bot.xUserId, { xUserId: deps.bot.xUserId, username: deps.bot.username, name: deps.bot.username }],
  ]);
  const toCache = new Map<string, CachedXUser>();

  const quotes = await completeQuotes(items, deps, stats, named, toCache);

  // Everyone X's bodies (and the quote look-ups) left unnamed, once each across the batch.
  const wanted = new Set<string>();
  for (const item of items) {
    if (item.kind === 'post') {
      if (!isNamed(item.author)) wanted.add(item.author.xUserId);
      const quotedAuthor = quotes.get(item.xId)?.author;
      if (quotedAuthor && !isNamed(quotedAuthor)) wanted.add(quotedAuthor.xUserId);
    } else if (item.kind === 'dm' && !isNamed(item.sender)) {
      wanted.add(item.sender.xUserId);
    }
  }
  for (const id of named.keys()) wanted.delete(id);

  const failed = new Map<string, Error>();
  if (wanted.size > 0) {
    const cached = await deps.cache.getUsers([...wanted]).catch((error: unknown) => {
      logger.warn('user cache could not be read; looking the users up instead', { error: error as Error });
      return new Map<string, CachedXUser>();
    });
    for (const [id, user] of cached) named.set(id, user);
    stats.cacheHits = cached.size;
    const misses = [...wanted].filter((id) => !cached.has(id));
    if (misses.length > 0 && deps.reads) {
      const outcome = await deps.reads.users(misses);
      for (const user of outcome.found.values()) {
        const entry = fromRecord(user);
        named.set(user.xUserId, entry);
        toCache.set(user.xUserId, entry);
      }
      for (const id of outcome.notFound) {
        const entry = notFoundUser(id);
        named.set(id, entry);
        toCache.set(id, entry);
      }
      for (const id of outcome.failed) failed.set(id, outcome.error ?? new Error('X users look-up failed'));
      stats.lookedUp = outcome.found.size;
      stats.notFound = outcome.notFound.length;
      stats.failed = outcome.failed.length;
      stats.unresolved = outcome.refused.length;
      if (outcome.failed.length > 0) {
        logger.warn('X users look-up failed; their items go back to the queue', {
          ids: outcome.failed.length,
          error: outcome.error,
        });
      }
    } else {
      stats.unresolved = misses.length;
    }
  }

  if (toCache.size > 0) {
    const expiresAt = new Date(deps.now().getTime() + USER_CACHE_HOURS * 3_600_000);
    await deps.cache.putUsers([...toCache.values()], expiresAt).catch((error: unknown) => {
      logger.warn('looked-up users could not be cached; the next item of theirs reads them again', { error: error as Error });
    });
  }

  const person = (user: InboundUser): NamedUser | Error => {
    if (isNamed(user)) return namedFromBody(user);
    const known = named.get(user.xUserId);
    if (known) return toNamedUser(known);
    return failed.get(user.xUserId) ?? namedFromBody(user);
  };

  const completions = items.map((item): Completion => {
    switch (item.kind) {
      case 'post': {
        const author = person(item.author);
        if (author instanceof Error) return notComplete(item, author);
        const quoted = quotes.get(item.xId);
        return {
          ok: true,
          item: {
            ...item,
            author,
            ...(item.quoted && quoted ? { quoted: quotedWithNames(quoted, named) } : {}),
          },
        };
      }
      case 'dm': {
        const sender = person(item.sender);
        if (sender instanceof Error) return notComplete(item, sender);
        return { ok: true, item: { ...item, sender } };
      }
      case 'delete':
      case 'revoke':
        return { ok: true, item };
    }
  });
  return { completions, stats };
}

/**
 * The quotes of the batch's posts with what the bridge could learn of the quoted post, by the quoting post's X id.
 * Quotes the body already completed are passed through; a quote that could not be completed keeps what it had.
 */
async function completeQuotes(
  items: InboundEvent[],
  deps: CompleteDeps,
  stats: CompletionStats,
  named: Map<string, CachedXUser>,
  toCache: Map<string, CachedXUser>,
): Promise<Map<string, InboundQuoted>> {
  const quotes = new Map<string, InboundQuoted>();
  for (const item of items) if (item.kind === 'post' && item.quoted) quotes.set(item.xId, item.quoted);
  const incomplete = () => [...new Set([...quotes.values()].filter((q) => q.text === undefined).map((q) => q.xId))];
  const fill = (quotedXId: string, found: { text?: string; author?: InboundUser }) => {
    for (const [xId, quote] of quotes) {
      if (quote.xId !== quotedXId) continue;
      quotes.set(xId, {
        ...quote,
        ...(found.text !== undefined ? { text: found.text } : {}),
        ...(found.author && (!quote.author || !isNamed(quote.author)) ? { author: found.author } : {}),
      });
    }
  };

  const fromStore = incomplete();
  if (fromStore.length === 0) return quotes;
  const stored = await deps.storedItems(fromStore).catch((error: unknown) => {
    logger.warn('stored messages could not be read for quoted posts', { error: error as Error });
    return new Map<string, StoredXItem>();
  });
  const settled = new Set<string>();
  for (const xId of fromStore) {
    const found = stored.get(xId);
    if (!found) continue;
    // A deleted post (a redacted message or a tombstone) is not shown again, and not read again either.
    settled.add(xId);
    if (found.kind !== 'message' || found.message.redacted) continue;
    const { author } = found.message;
    fill(xId, {
      text: found.message.text,
      author: { xUserId: author.xUserId, ...(author.username ? { username: author.username, name: author.name ?? author.username } : {}) },
    });
    stats.quotesFromStore += 1;
  }

  const toRead = fromStore.filter((xId) => !settled.has(xId));
  if (toRead.length === 0 || !deps.reads) return quotes;
  const outcome = await deps.reads.posts(toRead);
  for (const user of outcome.authors) {
    const entry = fromRecord(user);
    named.set(user.xUserId, entry);
    toCache.set(user.xUserId, entry);
  }
  for (const post of outcome.found.values()) {
    fill(post.xId, { text: post.text, ...(post.authorId ? { author: { xUserId: post.authorId } } : {}) });
    stats.quotesLookedUp += 1;
  }
  if (outcome.failed.length > 0) {
    logger.warn('quoted posts could not be looked up; their quotes keep just the X id', {
      posts: outcome.failed.length,
      error: outcome.error,
    });
  }
  return quotes;
}

function quotedWithNames(quote: InboundQuoted, named: Map<string, CachedXUser>): InboundQuoted {
  const author = quote.author;
  if (!author || isNamed(author)) return quote;
  const known = named.get(author.xUserId);
  if (!known || known.notFound) return quote;
  return { ...quote, author: { xUserId: known.xUserId, username: known.username, name: known.name, ...(known.profile ? { profile: known.profile } : {}) } };
}

function notComplete(item: { xId: string }, cause: Error): Completion {
  const reason = cause.message || 'X users look-up failed';
  return {
    ok: false,
    error: new RetryableError(`the author of X item ${item.xId} could not be looked up: ${reason}`, (cause as RetryableError).notBefore),
  };
}

function isNamed(user: InboundUser): boolean {
  return user.username !== undefined && user.username !== '';
}

function fromRecord(user: XUserRecord): CachedXUser {
  const hasProfile = Object.keys(user.profile).length > 0;
  return { xUserId: user.xUserId, username: user.username, name: user.name || user.username, ...(hasProfile ? { profile: user.profile } : {}) };
}

/** The placeholder for an account X says does not exist (deleted or suspended): for good, with a metric. */
export function notFoundUser(xUserId: string): CachedXUser {
  return { xUserId, username: '', name: `X account ${xUserId} (not found on X)`, notFound: true };
}

function toNamedUser(user: CachedXUser): NamedUser {
  return {
    xUserId: user.xUserId,
    username: user.username,
    name: user.name,
    ...(user.profile ? { profile: user.profile } : {}),
    ...(user.notFound ? { notFound: true } : {}),
  };
}

/**
 * The person as the body named them; without a user object, a placeholder naming their X id, marked `unresolved`
 * so a later look-up can complete it. Never a blank name.
 */
export function namedFromBody(user: InboundUser): NamedUser {
  if (user.username !== undefined && user.username !== '') {
    return {
      xUserId: user.xUserId,
      username: user.username,
      name: user.name !== undefined && user.name !== '' ? user.name : user.username,
      ...(user.profile ? { profile: user.profile } : {}),
    };
  }
  return { xUserId: user.xUserId, username: '', name: `X user ${user.xUserId}`, unresolved: true };
}

/** The item with every author as the body named them (see namedFromBody): no cache, no read. */
export function completeFromBody(item: InboundEvent): CompleteEvent {
  switch (item.kind) {
    case 'post':
      return { ...item, author: namedFromBody(item.author) };
    case 'dm':
      return { ...item, sender: namedFromBody(item.sender) };
    case 'delete':
    case 'revoke':
      return item;
  }
}
