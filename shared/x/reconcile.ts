// Use case: what X's webhook did not deliver → the inbound queue. X Activity API webhooks carry explicit @mentions and
// direct replies to the account only (x-api/activity/introduction.mdx), so a customer's follow-up under their own post
// never arrives by webhook; X also drops deliveries it could not hand over. Each run reads (CONTRACT §3 rule 10):
// - the account's mentions timeline, `GET /2/users/:id/mentions`, since the newest id it saw (x-api/users/get-mentions.mdx:
//   `since_id`, `pagination_token`, `max_results` 5–100; answers newest first with `meta.newest_id` and `next_token`);
// - the conversations of unsolved tickets active within recent search's 7 days, `GET /2/tweets/search/recent` with
//   `conversation_id:A OR conversation_id:B …` (x-api/fundamentals/conversation-id.mdx), as many as fit the 512
//   characters a self-serve query may hold (x-api/posts/search/integrate/build-a-query.mdx), oldest-checked first.
// Every post found is normalised by the webhook's own X Activity API reader (xaa-format.ts, fed an envelope per post),
// checked against the table by X id (those not stored are what the webhook missed: a health signal) and queued like a
// webhook item; ingest's dedupe makes an overlap with the webhook free.
// Safe to retry and to kill: one run per brand holds a lease (a conditional write that expires); a cursor moves only
// after its page's items are queued, and a paginated read in progress is kept with its `next_token`, so a run that
// dies resumes at the page it did not finish (re-queueing at most that page, never re-reading earlier ones). X's 429
// stops the run and its reset is kept: no run reads before it. Past the day's read budget the run stops and says so.
// Then, with the budget left, the brand's listening queries (shared/x/listen.ts), each with its own cursor.
import { randomUUID } from 'node:crypto';
import { reconcileHealth, type ChannelHealthStore } from '../channel/channel-health';
import { PermanentError, RetryableError } from '../errors';
import { toSqsBody, type Queue } from '../aws/sqs-queue';
import type { TicketStore } from '../tickets/ticket-store';
import type { InboundEvent } from './inbound-event';
import { listen, type ListenCursor } from './listen';
import { readPostsAsEvents, webhookEventTypeOf } from './read-posts';
import type { XPostsPage, XTimelineReads } from './reconcile-x-client';
import { withinLimits } from './webhook-intake';
import type { XReads } from './x-reads';

/** X's limit on a recent search query for self-serve access (build-a-query.mdx, "Query limitations"). */
export const X_SEARCH_QUERY_MAX_CHARS = 512;
/** Recent search looks back 7 days (x-api/posts/search/introduction.mdx); older conversations cannot be searched. */
export const RECENT_SEARCH_WINDOW_MS = 7 * 24 * 60 * 60_000;
/** X's `max_results` bounds: mentions 5–100, recent search 10–100. */
const MENTIONS_MIN_RESULTS = 5;
const SEARCH_MIN_RESULTS = 10;
const MAX_RESULTS = 100;
/** A first run (no cursor yet) looks back this far, not through the whole 800-post timeline X keeps. */
const FIRST_RUN_LOOKBACK_MS = 24 * 60 * 60_000;
/** X ids are snowflakes: milliseconds since this epoch, shifted left 22 bits. */
const SNOWFLAKE_EPOCH_MS = 1288834974657n;
/**
 * A mention younger than this when read may still be on its way by webhook: it is queued, but not held against the
 * webhook. X delivers within seconds (x-api/activity/introduction.mdx); a minute leaves room for our own queue.
 */
export const WEBHOOK_GRACE_MS = 60_000;

/** A paginated read in progress: the page to read next, and the newest id its first page announced. */
export type PendingRead = { nextToken: string; newestId?: string };

/** What the reconciler remembers between runs (one item per brand in the tickets table). */
export type ReconcileState = {
  mentions: { sinceId?: string; pending?: PendingRead };
  /** Conversations of unsolved tickets, by conversation id: the newest post seen in each, and when it was checked. */
  conversations: Record<string, { sinceId: string; checkedAt?: string }>;
  /** A conversation search in progress: its batch of conversation ids, the since_id it was asked with, its next page. */
  search?: PendingRead & { conversationIds: string[]; sinceId?: string };
  /** X's rate-limit reset (epoch ms) after a 429: no run reads before it. */
  notBefore?: number;
  /** Consecutive runs whose mentions timeline held mentions the webhook should have delivered and had not. */
  webhookMissRuns?: number;
  /** Each listening query's cursor, by query (shared/x/listen.ts). */
  listening?: Record<string, ListenCursor>;
};

/** The reconciler's own items: its lease and its state. */
export type ReconcileStore = {
  /** Takes the brand's lease for `ttlMs` if it is free or expired (one conditional write); false when another run holds it. */
  acquireLease(owner: string, now: Date, ttlMs: number): Promise<boolean>;
  /** Frees the lease if `owner` still holds it. */
  releaseLease(owner: string): Promise<void>;
  loadState(): Promise<ReconcileState>;
  saveState(state: ReconcileState): Promise<void>;
};

export type ReconcileDeps = {
  brand: string;
  bot: { xUserId: string; username: string };
  x: XTimelineReads;
  reads: XReads;
  store: ReconcileStore;
  tickets: Pick<TicketStore, 'getXItems' | 'listTickets' | 'getTicketView'>;
  inboundQueue: Queue;
  now: () => Date;
  /** How long a run may hold the lease: the function's timeout, so a run that died frees it by then. */
  leaseMs: number;
  /** The channel's health, told what the run learned (X's refusals, a webhook that misses mentions); optional in tests. */
  channel?: ChannelHealthStore;
  /** The brand's listening queries (X_LISTEN_QUERIES), run after the reconciler's own reads; none = no listening. */
  listenQueries?: string[];
};

export type ReconcileOutcome = 'done' | 'busy' | 'waiting' | 'budget' | 'rate_limited' | 'failed';

export type ReconcileReport = {
  outcome: ReconcileOutcome;
  /** Posts X returned. */
  found: number;
  /** Of those, posts the table did not hold yet (the webhook had not delivered them): all queued. */
  missed: number;
  /**
   * Of those, mentions X's webhook does deliver (an explicit @mention, a direct reply or a quote of the account's
   * post) older than WEBHOOK_GRACE_MS: deliveries the webhook missed, a health signal. A follow-up under the
   * customer's own post is not one: X never delivers it.
   */
  webhookMissed: number;
  /** Posts the listening queries found that the table did not hold yet: queued, to become tickets. */
  listened?: number;
  /** Requests made to X. */
  requests: number;
  /** Reads X bills (posts and users returned) and their estimated cost. */
  reads: number;
  costMicroUsd: number;
  /** Why the run stopped early, for the log. */
  reason?: string;
  /** X's reset when rate-limited (epoch ms). */
  notBefore?: number;
  /** X's refusal code when X refused a read for good (shared/x/x-client.ts: `unauthorized`, `credits_depleted`, …). */
  refusal?: string;
};

/**
 * One reconciliation run for the brand. Never throws for X's sake (the outcome says what stopped it); throws when the
 * table or the queue cannot be reached, leaving the cursors where the last queued page put them.
 */
export async function reconcile(deps: ReconcileDeps): Promise<ReconcileReport> {
  const report: ReconcileReport = { outcome: 'done', found: 0, missed: 0, webhookMissed: 0, requests: 0, reads: 0, costMicroUsd: 0 };
  const owner = randomUUID();
  const startedAt = deps.now().toISOString();
  if (!(await deps.store.acquireLease(owner, deps.now(), deps.leaseMs))) return { ...report, outcome: 'busy' };
  try {
    const state = await deps.store.loadState();
    if (state.notBefore !== undefined && state.notBefore > deps.now().getTime()) {
      return { ...report, outcome: 'waiting', notBefore: state.notBefore };
    }
    delete state.notBefore;
    const run: Run = { deps, state, report, pagesRead: 0, webhookSeen: 0, mentionsDone: false };
    if ((await readMentions(run)) && (await readConversations(run))) await listenAll(run);
    if (deps.channel) {
      await reconcileHealth(
        { store: deps.channel, now: deps.now },
        {
          startedAt,
          readOk: run.pagesRead > 0,
          ...(report.refusal === undefined ? {} : { refusal: report.refusal }),
          webhookMissRuns: state.webhookMissRuns ?? 0,
          webhookKeptUp: run.mentionsDone && run.webhookSeen > 0 && report.webhookMissed === 0,
        },
      );
    }
    return report;
  } finally {
    await deps.store.releaseLease(owner);
  }
}

type Run = {
  deps: ReconcileDeps;
  state: ReconcileState;
  report: ReconcileReport;
  /** Pages X answered in this run. */
  pagesRead: number;
  /** Mentions read that X's webhook delivers, stored or not. */
  webhookSeen: number;
  /** The mentions timeline was read to its end. */
  mentionsDone: boolean;
};

/** Reads one page through the budget; false (with the report's outcome set, and state saved) when the run must stop. */
async function readPage(run: Run, minResults: number, request: (maxResults: number) => Promise<XPostsPage>): Promise<XPostsPage | undefined> {
  const outcome = await run.deps.reads.page({
    kind: 'post',
    maxResults: MAX_RESULTS,
    minResults,
    request: async (maxResults) => {
      run.report.requests += 1;
      const answer = await request(maxResults);
      return { answer, made: billedReads(answer) };
    },
  });
  if (outcome.kind === 'read') {
    run.pagesRead += 1;
    run.report.reads += outcome.made.post + outcome.made.user;
    run.report.costMicroUsd += outcome.costMicroUsd;
    return outcome.answer;
  }
  if (outcome.kind === 'refused') {
    run.report.outcome = 'budget';
    run.report.reason = 'the day’s X read budget is spent';
  } else if (outcome.error instanceof RetryableError && outcome.error.notBefore !== undefined) {
    run.report.outcome = 'rate_limited';
    run.report.reason = outcome.error.message;
    run.report.notBefore = outcome.error.notBefore;
    run.state.notBefore = outcome.error.notBefore;
  } else {
    run.report.outcome = 'failed';
    run.report.reason = outcome.error.message;
    if (outcome.error instanceof PermanentError) run.report.refusal = outcome.error.code;
  }
  await run.deps.store.saveState(run.state);
  return undefined;
}

/** X bills each post returned, in `data` and in `includes.tweets`, and each user in `includes.users`. */
function billedReads(page: XPostsPage): { post: number; user: number } {
  const list = (value: unknown) => (Array.isArray(value) ? value.length : 0);
  return { post: list(page.data) + list(page.includes?.tweets), user: list(page.includes?.users) };
}

async function readMentions(run: Run): Promise<boolean> {
  const { deps, state } = run;
  for (;;) {
    const { sinceId, pending } = state.mentions;
    const startTime = sinceId === undefined && pending === undefined ? new Date(deps.now().getTime() - FIRST_RUN_LOOKBACK_MS).toISOString() : undefined;
    const page = await readPage(run, MENTIONS_MIN_RESULTS, (maxResults) =>
      deps.x.mentions({
        userId: deps.bot.xUserId,
        maxResults,
        ...(sinceId === undefined ? {} : { sinceId }),
        ...(startTime === undefined ? {} : { startTime }),
        ...(pending ? { paginationToken: pending.nextToken } : {}),
      }),
    );
    if (!page) return false;
    await queueMissing(run, page, 'mentions');
    // The page's items are queued: only now may the cursor pass them.
    const newestId = pending?.newestId ?? page.meta?.newest_id;
    if (page.meta?.next_token) {
      state.mentions = { ...(sinceId === undefined ? {} : { sinceId }), pending: { nextToken: page.meta.next_token, ...(newestId ? { newestId } : {}) } };
    } else {
      const next = newestId ?? sinceId;
      state.mentions = next === undefined ? {} : { sinceId: next };
      // The timeline is read to its end: a run that missed mentions extends the streak, one that saw them all
      // delivered ends it, one that saw none says nothing.
      const streak = state.webhookMissRuns ?? 0;
      state.webhookMissRuns = run.report.webhookMissed > 0 ? streak + 1 : run.webhookSeen > 0 ? 0 : streak;
      run.mentionsDone = true;
    }
    await deps.store.saveState(state);
    if (!page.meta?.next_token) return true;
  }
}

async function readConversations(run: Run): Promise<boolean> {
  const { deps, state } = run;
  const active = await activeConversations(deps);
  // Conversations whose tickets were solved or went quiet are forgotten; new ones start after their first post.
  const known = state.conversations;
  state.conversations = Object.fromEntries(active.map((id) => [id, known[id] ?? { sinceId: id }]));
  const pending = state.search;
  const batches: string[][] = [];
  if (pending) batches.push(pending.conversationIds);
  const inPending = new Set(pending?.conversationIds ?? []);
  const queue = active.filter((id) => !inPending.has(id)).sort((a, b) => checkedOrder(state, a, b));
  batches.push(...packConversationQueries(queue));
  for (const batch of batches) {
    const live = batch.filter((id) => state.conversations[id] !== undefined || pending?.conversationIds === batch);
    if (live.length === 0) continue;
    if (!(await searchBatch(run, live))) return false;
  }
  return true;
}

/** The brand's listening queries, through the same budgeted pages; their posts are queued as the table lacks them. */
async function listenAll(run: Run): Promise<void> {
  const { deps, state, report } = run;
  if (!deps.listenQueries?.length) {
    // Listening turned off: its cursors go, so turning it on again starts from then, not from days ago.
    if (state.listening) {
      delete state.listening;
      await deps.store.saveState(state);
    }
    return;
  }
  state.listening ??= {};
  report.listened ??= 0;
  await listen({
    queries: deps.listenQueries,
    bot: deps.bot,
    x: deps.x,
    now: deps.now,
    cursors: state.listening,
    read: (request) => readPage(run, SEARCH_MIN_RESULTS, request),
    queue: async (found, items) => {
      report.found += found;
      const stored = await deps.tickets.getXItems(items.map((e) => e.xId));
      const fresh = items.filter((e) => !stored.has(e.xId));
      report.listened = (report.listened ?? 0) + fresh.length;
      if (fresh.length > 0) await deps.inboundQueue.sendAll(fresh.map((event, i) => ({ id: String(i), body: toSqsBody(withinLimits(event)) })));
    },
    save: () => deps.store.saveState(state),
  });
}

/** Never-checked conversations first, then the longest unchecked; ties by id, for a stable order. */
function checkedOrder(state: ReconcileState, a: string, b: string): number {
  const at = state.conversations[a]?.checkedAt ?? '';
  const bt = state.conversations[b]?.checkedAt ?? '';
  return at === bt ? (a < b ? -1 : 1) : at < bt ? -1 : 1;
}

async function searchBatch(run: Run, conversationIds: string[]): Promise<boolean> {
  const { deps, state } = run;
  const query = conversationQuery(conversationIds);
  const resumed = state.search && state.search.conversationIds.join(',') === conversationIds.join(',') ? state.search : undefined;
  const sinceId = resumed ? resumed.sinceId : searchableSinceId(conversationIds.map((id) => state.conversations[id]?.sinceId ?? id), deps.now());
  const startTime = sinceId === undefined ? new Date(deps.now().getTime() - RECENT_SEARCH_WINDOW_MS + 60_000).toISOString() : undefined;
  let pending: PendingRead | undefined = resumed;
  for (;;) {
    const token = pending?.nextToken;
    const page = await readPage(run, SEARCH_MIN_RESULTS, (maxResults) =>
      deps.x.searchRecent({
        query,
        maxResults,
        ...(sinceId === undefined ? {} : { sinceId }),
        ...(startTime === undefined ? {} : { startTime }),
        ...(token === undefined ? {} : { nextToken: token }),
      }),
    );
    if (!page) return false;
    await queueMissing(run, page, 'conversations');
    const newestId = pending?.newestId ?? page.meta?.newest_id;
    if (page.meta?.next_token) {
      pending = { nextToken: page.meta.next_token, ...(newestId ? { newestId } : {}) };
      state.search = { conversationIds, ...(sinceId === undefined ? {} : { sinceId }), ...pending };
      await deps.store.saveState(state);
      continue;
    }
    const checkedAt = deps.now().toISOString();
    for (const id of conversationIds) {
      // A conversation whose ticket was solved while its search was in progress stays forgotten.
      if (state.conversations[id] === undefined) continue;
      const previous = state.conversations[id]?.sinceId ?? id;
      state.conversations[id] = { sinceId: newestId !== undefined && compareIds(newestId, previous) > 0 ? newestId : previous, checkedAt };
    }
    delete state.search;
    await deps.store.saveState(state);
    return true;
  }
}

/** `conversation_id:A OR conversation_id:B …` for a batch. */
export function conversationQuery(conversationIds: string[]): string {
  return conversationIds.map((id) => `conversation_id:${id}`).join(' OR ');
}

/** Splits conversation ids, in order, into the fewest queries of at most X_SEARCH_QUERY_MAX_CHARS characters each. */
export function packConversationQueries(conversationIds: string[], maxChars = X_SEARCH_QUERY_MAX_CHARS): string[][] {
  const batches: string[][] = [];
  let current: string[] = [];
  for (const id of conversationIds) {
    if (current.length > 0 && conversationQuery([...current, id]).length > maxChars) {
      batches.push(current);
      current = [];
    }
    current.push(id);
  }
  if (current.length > 0) batches.push(current);
  return batches;
}

/**
 * The batch's since_id: the oldest of its conversations' (a post newer than every one's cursor is new to all of them,
 * and one older than some is stored already, which the X-id check finds). Undefined when that id is older than recent
 * search's window, which X refuses as a since_id: the window's start is asked for instead.
 */
export function searchableSinceId(sinceIds: string[], now: Date): string | undefined {
  const oldest = sinceIds.reduce((a, b) => (compareIds(a, b) <= 0 ? a : b));
  const madeAt = Number((BigInt(oldest) >> 22n) + SNOWFLAKE_EPOCH_MS);
  return madeAt > now.getTime() - RECENT_SEARCH_WINDOW_MS + 60 * 60_000 ? oldest : undefined;
}

function compareIds(a: string, b: string): number {
  const x = BigInt(a);
  const y = BigInt(b);
  return x === y ? 0 : x < y ? -1 : 1;
}

/**
 * The conversation ids of unsolved (open or pending) tickets updated within recent search's window: a message's
 * `conversationId`, or, for one stored before it was kept, its own id when it starts a thread (it replies to nothing).
 */
async function activeConversations(deps: ReconcileDeps): Promise<string[]> {
  const since = new Date(deps.now().getTime() - RECENT_SEARCH_WINDOW_MS).toISOString();
  const ids = new Set<string>();
  for (const status of ['open', 'pending'] as const) {
    let cursor: string | undefined;
    do {
      const page = await deps.tickets.listTickets({ status, limit: 100, ...(cursor ? { cursor } : {}) });
      for (const ticket of page.tickets) {
        if (ticket.channel !== 'mention' || ticket.updatedAt < since) continue;
        const view = await deps.tickets.getTicketView(ticket.id);
        for (const message of view?.messages ?? []) {
          const conversationId = message.conversationId ?? (message.inReplyToXId === undefined ? message.xId : undefined);
          if (conversationId) ids.add(conversationId);
        }
      }
      cursor = page.nextCursor;
    } while (cursor);
  }
  return [...ids];
}

/** Normalises a page's posts as the webhook would have delivered them (read-posts.ts), and queues those the table does not hold yet. */
async function queueMissing(run: Run, page: XPostsPage, source: 'mentions' | 'conversations'): Promise<void> {
  const { deps, report } = run;
  const posts = Array.isArray(page.data) ? page.data : [];
  if (posts.length === 0) return;
  const includes = page.includes ?? {};
  const events = readPostsAsEvents(posts, includes, deps.bot, deps.now().toISOString(), 'post.mention.create');
  report.found += posts.length;
  const stored = await deps.tickets.getXItems(events.map((e) => e.xId));
  const missed: InboundEvent[] = events.filter((e) => !stored.has(e.xId));
  report.missed += missed.length;
  if (source === 'mentions') {
    const due = deps.now().getTime() - WEBHOOK_GRACE_MS;
    const delivered = posts.filter((post) => webhookDelivers(post, deps.bot, includes));
    run.webhookSeen += delivered.length;
    report.webhookMissed += delivered.filter((post) => {
      const { id, created_at: createdAt } = post as { id?: unknown; created_at?: unknown };
      return typeof id === 'string' && !stored.has(id) && typeof createdAt === 'string' && Date.parse(createdAt) <= due;
    }).length;
  }
  if (missed.length > 0) {
    await deps.inboundQueue.sendAll(missed.map((event, i) => ({ id: String(i), body: toSqsBody(withinLimits(event)) })));
  }
}

/**
 * Whether X's webhook delivers this post to the account: an explicit @mention (one in the text the author wrote,
 * past the reply's leading handles, which `display_text_range` leaves out: x-api/fundamentals/data-dictionary.mdx),
 * a direct reply to the account, or a quote of its post (x-api/activity/introduction.mdx: `post.mention.create`
 * fires for explicit mentions only, `post.reply.create` for direct replies). The rest of the mentions timeline (the
 * implicit mentions a reply in a thread carries) never arrives by webhook, so its absence says nothing.
 */
export function webhookDelivers(payload: unknown, bot: { xUserId: string; username: string }, includes: Record<string, unknown> = {}): boolean {
  const post = typeof payload === 'object' && payload !== null ? (payload as Record<string, unknown>) : {};
  if (webhookEventTypeOf(post, includes, bot.xUserId, 'post.mention.create') !== 'post.mention.create') return true;
  const range = Array.isArray(post.display_text_range) ? (post.display_text_range as unknown[]) : [];
  const textStart = typeof range[0] === 'number' ? range[0] : 0;
  const entities = typeof post.entities === 'object' && post.entities !== null ? (post.entities as Record<string, unknown>) : {};
  const mentions = Array.isArray(entities.mentions) ? (entities.mentions as { id?: unknown; username?: unknown; start?: unknown }[]) : [];
  const botName = bot.username.toLowerCase();
  return mentions.some(
    (m) =>
      (m.id === bot.xUserId || (typeof m.username === 'string' && m.username.toLowerCase() === botName)) &&
      typeof m.start === 'number' &&
      m.start >= textStart,
  );
}
