// Use case: the brand's listening queries → posts that did not mention the account → the inbound queue, where ingest
// opens a ticket for each like a mention (one per X post however it is found: a post that also mentions the account,
// or that the webhook delivers later, is the same message). Run by the reconciler (shared/x/reconcile.ts), after its
// own reads, on its schedule and under its lease. Each query is one recent search, `GET /2/tweets/search/recent`
// (x-api/posts/search/introduction.mdx: the last 7 days, `since_id`, `start_time`, `next_token`), read through the
// reconciler's budgeted pages (shared/x/x-reads.ts `page`): X bills every post and user a page returns
// (x-api/getting-started/pricing.mdx), so the day's X_READ_BUDGET_PER_DAY caps listening with everything else.
// - Each query keeps its own cursor: the newest id it saw (`since_id`, exclusive), or, before it saw any, the time it
//   started listening from; a paginated read in progress keeps its `next_token`, so a run that dies resumes there.
// - The query sent excludes retweets and the account's own posts (listen-query.ts); a retweet or own post X returns
//   anyway is not queued (the normaliser drops retweets, and own posts are filtered here). The brand's rules
//   (shared/rules/brand-rules.ts) drop the rest of the noise at ingest, where they apply to every item.
// - The fields and expansions asked for are the reconciler's (reconcile-x-client.ts): author, thread, entities,
//   media, long text, edits, language and the quoted post, so a listened post arrives as complete as a mention.
import type { InboundEvent } from './inbound-event';
import { listeningSearchQuery } from './listen-query';
import { readPostsAsEvents } from './read-posts';
import type { XPostsPage, XTimelineReads } from './reconcile-x-client';

/** A listening query's cursor (kept in the reconciler's state, by query). */
export type ListenCursor = {
  /** The newest post id this query has seen: the next search asks for posts after it. */
  sinceId?: string;
  /** Before the query saw any post: the time it listens from (ISO). */
  startTime?: string;
  /** A paginated search in progress, with what it was asked with, so a resumed page is the same search's. */
  pending?: { nextToken: string; newestId?: string; sinceId?: string; startTime?: string };
};

/** A new query listens from this long before its first run, not from the start of recent search's 7 days. */
export const FIRST_LISTEN_LOOKBACK_MS = 60 * 60_000;
/** Recent search looks back 7 days (x-api/posts/search/introduction.mdx); X refuses a since_id or start_time older. */
const RECENT_SEARCH_WINDOW_MS = 7 * 24 * 60 * 60_000;
/** X ids are snowflakes: milliseconds since this epoch, shifted left 22 bits. */
const SNOWFLAKE_EPOCH_MS = 1288834974657n;

export type Listening = {
  queries: string[];
  bot: { xUserId: string; username: string };
  x: Pick<XTimelineReads, 'searchRecent'>;
  now: () => Date;
  /** The cursors by query (the reconciler's state): updated in place, saved through `save`. */
  cursors: Record<string, ListenCursor>;
  /**
   * Reads one page through the day's budget (`maxResults` is what the budget allows). Undefined when the run must
   * stop (budget spent, X's 429 or refusal): the caller has recorded why and saved the state.
   */
  read(request: (maxResults: number) => Promise<XPostsPage>): Promise<XPostsPage | undefined>;
  /** Queues the items (those the table does not hold yet); `found` is how many posts X returned. */
  queue(found: number, items: InboundEvent[]): Promise<void>;
  save(): Promise<void>;
};

/** Runs every query once (each to the end of its pages). False when a read stopped the run. */
export async function listen(l: Listening): Promise<boolean> {
  // A query the brand no longer lists is forgotten; one it adds starts from now.
  for (const query of Object.keys(l.cursors)) if (!l.queries.includes(query)) delete l.cursors[query];
  for (const query of l.queries) if (!(await listenTo(l, query))) return false;
  return true;
}

async function listenTo(l: Listening, query: string): Promise<boolean> {
  const now = l.now().getTime();
  const cursor = l.cursors[query] ?? {};
  const windowStart = now - RECENT_SEARCH_WINDOW_MS + 60_000;
  let pending = cursor.pending;
  // A resumed search asks what it asked before; a new one asks after the newest post seen, if X still searches that
  // far back, else from the time the query listens from (never before recent search's window).
  const sinceId = pending ? pending.sinceId : cursor.sinceId !== undefined && idTime(cursor.sinceId) > windowStart + 60 * 60_000 ? cursor.sinceId : undefined;
  const startTime = pending
    ? pending.startTime
    : sinceId !== undefined
      ? undefined
      : // A cursor too old for X's window: from the window's start (what is stored already is found by its X id).
        new Date(cursor.sinceId !== undefined ? windowStart : Math.max(windowStart, cursor.startTime !== undefined ? Date.parse(cursor.startTime) : now - FIRST_LISTEN_LOOKBACK_MS)).toISOString();
  const search = listeningSearchQuery(query, l.bot.username);
  for (;;) {
    const token = pending?.nextToken;
    const page = await l.read((maxResults) =>
      l.x.searchRecent({
        query: search,
        maxResults,
        ...(sinceId === undefined ? {} : { sinceId }),
        ...(startTime === undefined ? {} : { startTime }),
        ...(token === undefined ? {} : { nextToken: token }),
      }),
    );
    if (!page) return false;
    const posts = Array.isArray(page.data) ? page.data : [];
    await l.queue(posts.length, listenedItems(page, query, l.bot, l.now().toISOString()));
    // The page's items are queued: only now may the cursor pass them.
    const newestId = pending?.newestId ?? page.meta?.newest_id;
    if (page.meta?.next_token) {
      pending = {
        nextToken: page.meta.next_token,
        ...(newestId === undefined ? {} : { newestId }),
        ...(sinceId === undefined ? {} : { sinceId }),
        ...(startTime === undefined ? {} : { startTime }),
      };
      l.cursors[query] = { ...cursor, pending };
      await l.save();
      continue;
    }
    const next = newestId ?? sinceId ?? cursor.sinceId;
    l.cursors[query] = next !== undefined ? { sinceId: next } : startTime !== undefined ? { startTime } : {};
    await l.save();
    return true;
  }
}

/**
 * A page's posts as inbound items, each marked with the query that found it: the account's own posts left out, each
 * normalised by the X Activity API reader (one envelope per post, with the page's `includes`), which drops retweets.
 * The envelope's type is the one X's webhook would have used, since a quote of the account's post summons it.
 */
export function listenedItems(page: XPostsPage, query: string, bot: { xUserId: string; username: string }, receivedAt: string): InboundEvent[] {
  const includes = page.includes ?? {};
  const posts = (Array.isArray(page.data) ? page.data : []).filter((p) => (p as { author_id?: unknown } | null)?.author_id !== bot.xUserId);
  if (posts.length === 0) return [];
  const events = readPostsAsEvents(posts, includes, bot, receivedAt, 'post.create');
  return events.map((event) => (event.kind === 'post' ? { ...event, listeningQuery: query } : event));
}

/** When an X id was made (epoch ms). */
function idTime(id: string): number {
  return Number((BigInt(id) >> 22n) + SNOWFLAKE_EPOCH_MS);
}
