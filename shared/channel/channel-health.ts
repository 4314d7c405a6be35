// Use case: the health of the brand's X channel, as one item in the tickets table whose stream record is the outbox
// of `channel.health_changed` (contract §4), the way a ticket's item is the outbox of its events.
// In: a condition found (the account revoked the app, the day's read budget is spent) or cleared. Out: the channel's
// next state, written only when it changes what the helpdesk should know, with its sequence bumped in the same write.
// Safe to retry: the write is conditional on the state it changes (a status the channel already has, or a condition
// already cleared, refuses the write), so a redelivered revoke or a second refused read changes nothing and sends
// nothing. No AWS import: the store is a port (DynamoDB: shared/aws/dynamo-ticket-store.ts, dynamoChannelHealthStore).
import * as z from 'zod/mini';
import { lazySchema } from '../lazy-schema';
import { count, logger } from '../logger';
import { METRIC_NAMES } from '../metric-names';
import type { RefusalWatch } from '../x/x-reads';

export const channelStatusSchema = lazySchema(() => z.enum(['ok', 'degraded', 'down']));
export type ChannelStatus = z.infer<typeof channelStatusSchema>;

/** Why the channel is not ok, as stable codes; `recovered` when it is ok again. */
export const channelReasonSchema = lazySchema(() => z.enum([
  'app_revoked',
  'credentials_refused',
  'credits_depleted',
  'usage_capped',
  'read_budget_spent',
  'webhook_missing_items',
  'xchat_unreadable',
  'recovered',
]));
export type ChannelReason = z.infer<typeof channelReasonSchema>;

/** The channel's state as stored; `sequence` grows with every change (the event's id and order derive from it). */
export const channelHealthSchema = lazySchema(() => z.object({
  brand: z.string(),
  status: channelStatusSchema,
  reason: channelReasonSchema,
  detail: z.string(),
  sequence: z.number().check(z.int(), z.positive()),
  lastChange: z.object({ at: z.string(), previousStatus: z.optional(channelStatusSchema) }),
}));
export type ChannelHealth = z.infer<typeof channelHealthSchema>;

/** A condition found: what the channel should become. */
export type ChannelCondition = { status: Exclude<ChannelStatus, 'ok'>; reason: Exclude<ChannelReason, 'recovered'>; detail: string };

/**
 * A condition that cleared: the channel goes back to ok if `reason` is still what it reports, and (when given) the
 * condition was found before `foundBefore` (an ISO time): a condition of today is not cleared by today's news.
 */
export type ChannelClearing = { reason: Exclude<ChannelReason, 'recovered'>; foundBefore?: string };

/**
 * Where the channel's state lives. Each write is one conditional write that bumps `sequence`; `unchanged` when its
 * condition refused it (nothing is written, so no event is sent).
 */
export type ChannelHealthStore = {
  getChannel(): Promise<ChannelHealth | undefined>;
  /** Sets the condition, unless the channel is already at that status or a worse one. */
  raise(condition: ChannelCondition, at: string): Promise<'changed' | 'unchanged'>;
  /** Back to ok with `detail`, only as `ChannelClearing` says. */
  clear(clearing: ChannelClearing, detail: string, at: string): Promise<'changed' | 'unchanged'>;
};

/** How bad a status is: a condition never replaces a worse one (a spent budget does not hide a revoked app). */
export const CHANNEL_STATUS_RANK: Record<ChannelStatus, number> = { ok: 0, degraded: 1, down: 2 };

export const APP_REVOKED: ChannelCondition = {
  status: 'down',
  reason: 'app_revoked',
  detail:
    'The brand account withdrew the app\'s access on X: no mentions or DMs arrive and no reply can be posted. ' +
    'Re-authorise the app with the brand account, then subscribe the webhook again (ops `subscribe`).',
};

export const READ_BUDGET_SPENT: ChannelCondition = {
  status: 'degraded',
  reason: 'read_budget_spent',
  detail:
    'Today\'s X read budget (X_READ_BUDGET_PER_DAY) is spent: new customers show as unresolved until the next UTC ' +
    'day, and the bridge reads nothing more from X until then. Raise the budget if this happens often.',
};

export const CREDENTIALS_REFUSED: ChannelCondition = {
  status: 'down',
  reason: 'credentials_refused',
  detail:
    'X refuses the brand account\'s access token (401): nothing is read and no reply can be posted. Authorise the app ' +
    'with the brand account again and put the new token in the brand\'s secret.',
};

export const CREDITS_DEPLETED: ChannelCondition = {
  status: 'down',
  reason: 'credits_depleted',
  detail:
    'X refuses reads and posts because the app\'s pay-per-use credits are spent (402): nothing is read and no reply ' +
    'can be posted. Add credits in the X developer console; the channel recovers at the next successful read.',
};

export const USAGE_CAPPED: ChannelCondition = {
  status: 'down',
  reason: 'usage_capped',
  detail:
    'X refuses reads because the app reached its monthly usage cap: nothing more is read until the cap resets or is ' +
    'raised in the X developer console.',
};

export const WEBHOOK_MISSING_ITEMS: ChannelCondition = {
  status: 'degraded',
  reason: 'webhook_missing_items',
  detail:
    'X\'s webhook did not deliver mentions it should have, in consecutive reconciliation runs: they were read from X ' +
    'and ticketed late (up to X_RECONCILE_INTERVAL_SECONDS). Check the webhook with `npm run x -- status` and ' +
    '`npm run x -- revalidate`.',
};

export const XCHAT_UNREADABLE: ChannelCondition = {
  status: 'degraded',
  reason: 'xchat_unreadable',
  detail:
    'XChat messages arrive that the bridge cannot decrypt: their tickets show that an encrypted message came, without ' +
    'its text. Set XChat up for the brand (`npm run x -- chat-setup`) or check it (`npm run x -- chat-status`).',
};

const RECOVERED_DETAIL: Record<ChannelClearing['reason'], string> = {
  app_revoked: 'The app has access to the brand account again.',
  credentials_refused: 'X accepts the brand account\'s access token again.',
  credits_depleted: 'X accepts the app\'s reads again: its credits were topped up.',
  usage_capped: 'X accepts the app\'s reads again: its usage cap was reset or raised.',
  read_budget_spent: 'A new UTC day began: the X read budget is available again.',
  webhook_missing_items: 'X\'s webhook delivers mentions again: the last reconciliation found none it had missed.',
  xchat_unreadable: 'The bridge decrypts XChat messages again.',
};

/** What an X refusal (shared/x/x-client.ts codes) says about the channel, if anything. */
const REFUSAL_CONDITIONS: Partial<Record<string, ChannelCondition>> = {
  unauthorized: CREDENTIALS_REFUSED,
  credits_depleted: CREDITS_DEPLETED,
  usage_capped: USAGE_CAPPED,
};

/** Conditions a successful read as the brand account disproves: it reached X with the account's token. */
const CLEARED_BY_A_READ: ReadonlySet<ChannelClearing['reason']> = new Set([
  'app_revoked',
  'credentials_refused',
  'credits_depleted',
  'usage_capped',
] as const);

/** A refusal already told the channel is not told again for this long by the same instance (a write saved per item). */
const REFUSAL_TOLD_MS = 5 * 60_000;

/**
 * Watches X's refusals of reads for the read module (x-reads.ts `refusals`): a refusal that says something about the
 * channel (REFUSAL_CONDITIONS) raises its condition, and a read X answers afterwards (begun after it was raised)
 * clears it. The store's conditions keep each change one event; this instance asks at most once per code in
 * REFUSAL_TOLD_MS, and clears only what it saw refused (an instance that saw nothing costs no read; the reconciler's
 * runs clear the rest). Never throws.
 */
export function refusalWatch(deps: ChannelDeps): RefusalWatch {
  const told = new Map<string, number>();
  return {
    async refused(code) {
      const condition = REFUSAL_CONDITIONS[code];
      const now = deps.now().getTime();
      if (!condition || now - (told.get(code) ?? -Infinity) < REFUSAL_TOLD_MS) return;
      try {
        const outcome = await deps.store.raise(condition, new Date(now).toISOString());
        told.set(code, now);
        if (outcome === 'changed') {
          count(condition.status === 'down' ? METRIC_NAMES.ChannelDown : METRIC_NAMES.ChannelDegraded);
          logger.error(`X refused a read: the channel is ${condition.status}`, { reason: condition.reason });
        }
      } catch (error) {
        logger.warn('could not record X\'s refusal in the channel health', { code, error: error as Error });
      }
    },
    async answered(startedAt) {
      if (told.size === 0) return;
      const codes = [...told.keys()];
      told.clear();
      for (const code of codes) {
        const reason = REFUSAL_CONDITIONS[code]?.reason;
        if (!reason) continue;
        try {
          const outcome = await deps.store.clear({ reason, foundBefore: startedAt }, RECOVERED_DETAIL[reason], deps.now().toISOString());
          if (outcome === 'changed') logger.info('X answers reads again: the channel is ok', { reason });
        } catch (error) {
          logger.warn('could not record in the channel health that X answers again', { reason, error: error as Error });
        }
      }
    },
  };
}

/** Consecutive reconciliation runs that found mentions the webhook had missed before the channel is degraded. */
export const WEBHOOK_MISS_RUNS = 2;

/** What one reconciliation run says about the channel (shared/x/reconcile.ts). */
export type ReconcileNews = {
  /** When the run began: a condition raised after it is not cleared by it. */
  startedAt: string;
  /** It read from X with the account's token and X answered. */
  readOk: boolean;
  /** X's refusal code when X refused a read for good (x-client.ts), else undefined. */
  refusal?: string;
  /** Consecutive runs (this one included) that found mentions the webhook should have delivered and did not. */
  webhookMissRuns: number;
  /** This run read the mentions timeline to its end and found none the webhook had missed. */
  webhookKeptUp: boolean;
};

/**
 * Tells the channel what a reconciliation run learned: a refusal raises its condition; a successful read clears a
 * condition it disproves; mentions the webhook missed in WEBHOOK_MISS_RUNS runs in a row degrade the channel, and a
 * run that found none clears it. One read of the channel's item, and a write only when something changes. Never
 * throws: the run's outcome does not depend on it.
 */
export async function reconcileHealth(deps: ChannelDeps, news: ReconcileNews): Promise<void> {
  const at = () => deps.now().toISOString();
  try {
    const raise = async (condition: ChannelCondition) => {
      if ((await deps.store.raise(condition, at())) !== 'changed') return;
      count(condition.status === 'down' ? METRIC_NAMES.ChannelDown : METRIC_NAMES.ChannelDegraded);
      logger.error(`the channel is ${condition.status}: ${condition.reason}`, { reason: condition.reason });
    };
    const refused = news.refusal === undefined ? undefined : REFUSAL_CONDITIONS[news.refusal];
    if (refused) return await raise(refused);
    if (news.webhookMissRuns >= WEBHOOK_MISS_RUNS) await raise(WEBHOOK_MISSING_ITEMS);
    if (!news.readOk && !news.webhookKeptUp) return;
    const current = await deps.store.getChannel();
    if (!current || current.status === 'ok' || current.reason === 'recovered') return;
    const reason = current.reason;
    const clears = (news.readOk && CLEARED_BY_A_READ.has(reason)) || (news.webhookKeptUp && reason === 'webhook_missing_items');
    if (!clears) return;
    if ((await deps.store.clear({ reason, foundBefore: news.startedAt }, RECOVERED_DETAIL[reason], at())) === 'changed') {
      logger.info('the channel is ok again', { reason });
    }
  } catch (error) {
    logger.warn('could not record the reconciliation run in the channel health', { error: error as Error });
  }
}

/**
 * The channel's next state for a condition found, or undefined when the write would change nothing the helpdesk
 * should hear (the same status again, or a milder one over a worse one). The rule the store's condition enforces.
 */
export function raisedChannel(current: ChannelHealth | undefined, condition: ChannelCondition, brand: string, at: string): ChannelHealth | undefined {
  const previous = current?.status ?? 'ok';
  if (CHANNEL_STATUS_RANK[condition.status] <= CHANNEL_STATUS_RANK[previous]) return undefined;
  return {
    brand,
    status: condition.status,
    reason: condition.reason,
    detail: condition.detail,
    sequence: (current?.sequence ?? 0) + 1,
    lastChange: { at, previousStatus: previous },
  };
}

/** The channel's next state for a condition cleared, or undefined when the channel does not report that condition. */
export function clearedChannel(current: ChannelHealth | undefined, clearing: ChannelClearing, detail: string, at: string): ChannelHealth | undefined {
  if (!current || current.status === 'ok' || current.reason !== clearing.reason) return undefined;
  if (clearing.foundBefore !== undefined && !(current.lastChange.at < clearing.foundBefore)) return undefined;
  return {
    brand: current.brand,
    status: 'ok',
    reason: 'recovered',
    detail,
    sequence: current.sequence + 1,
    lastChange: { at, previousStatus: current.status },
  };
}

export type ChannelDeps = { store: ChannelHealthStore; now: () => Date };

/** Records that the account revoked the app: the channel is `down`. Idempotent: a redelivery changes nothing. */
export async function appRevoked(deps: ChannelDeps): Promise<'changed' | 'unchanged'> {
  const outcome = await deps.store.raise(APP_REVOKED, deps.now().toISOString());
  if (outcome === 'changed') {
    count(METRIC_NAMES.ChannelDown);
    logger.error('the brand account revoked the app: the channel is down', { reason: APP_REVOKED.reason });
  }
  return outcome;
}

/**
 * Watches the day's read budget for the read module (shared/x/x-reads.ts): `spent` raises `read_budget_spent`,
 * `available` (a reservation X's budget allowed) clears it when it was found on an earlier UTC day. Each state is
 * written at most once per day per instance (the store's condition makes the rest free of events anyway), and a
 * failure to record it never fails the read: it is logged and tried again at the next news.
 */
export function readBudgetWatch(deps: ChannelDeps): { spent(day: string): Promise<void>; available(day: string): Promise<void> } {
  const told = new Map<'spent' | 'available', string>();
  const once = async (state: 'spent' | 'available', day: string, write: () => Promise<'changed' | 'unchanged'>) => {
    if (told.get(state) === day) return;
    try {
      const outcome = await write();
      told.set(state, day);
      if (outcome === 'changed') {
        if (state === 'spent') count(METRIC_NAMES.ChannelDegraded);
        logger.warn(state === 'spent' ? 'read budget spent: the channel is degraded' : 'read budget available again: the channel is ok', { day });
      }
    } catch (error) {
      logger.warn('could not record the read budget in the channel health', { day, state, error: error as Error });
    }
  };
  return {
    spent: (day) => once('spent', day, () => deps.store.raise(READ_BUDGET_SPENT, deps.now().toISOString())),
    available: (day) =>
      once('available', day, () =>
        deps.store.clear(
          { reason: 'read_budget_spent', foundBefore: `${day}T00:00:00.000Z` },
          RECOVERED_DETAIL.read_budget_spent,
          deps.now().toISOString(),
        ),
      ),
  };
}
