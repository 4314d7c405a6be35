// Secondary adapter: what the bridge remembers of its X reads, in the tickets table (shared/aws/resources.ts TABLE).
// - User cache: `pk = XUSER#<x user id>`, `sk = XUSER`, one item per person X named (or said does not exist), with
//   the table's TTL attribute (`expiresAt`, epoch seconds) a day ahead. DynamoDB deletes expired items only within
//   days, so a read also ignores an item whose `expiresAt` has passed. A put simply overwrites: two workers caching
//   the same person write the same answer, and the later one wins harmlessly.
// - Read counter: `pk = XREADS#<brand>#<yyyy-mm-dd>` (UTC), `sk = XREADS`, one item per brand and day. A reservation
//   is one UpdateItem that adds to `reads` only if the sum stays within the budget (condition on the current value),
//   so concurrent workers can never reserve past it together; a refused reservation learns the current value from
//   the failed condition (ReturnValuesOnConditionCheckFailure) and reserves what is left with one more conditional
//   update. Settling adds the unused reads back and the billed reads, refusals and estimated cost by ADD: a retried
//   settle counts twice, which only errs on the side of the budget.
// Neither key starts with CUST#, so the table stream's filter never hands these items to notify.
import type * as Sdk from '@aws-sdk/client-dynamodb';
import { BatchGetItemCommand, ConditionalCheckFailedException, PutItemCommand, type DynamoDBClient } from './sdk/client-dynamodb';
import { requireSdk } from './sdk/load';
import { marshall, unmarshall } from './sdk/util-dynamodb';
import { TABLE } from './resources';
import type { CachedXUser, XUserCache } from '../x/complete-items';
import { xProfileSchema } from '../x/inbound-event';
import type { ReadCounter, ReadDay } from '../x/x-reads';

const { UpdateItemCommand } = requireSdk<typeof Sdk>('@aws-sdk/client-dynamodb');

/** How long a day's read counter is kept: past a billing month, so a month's reads can still be summed. */
const COUNTER_KEEP_DAYS = 40;
/** BatchGetItem takes at most 100 keys. */
const BATCH_GET_MAX = 100;
/** Rounds of a reservation that keeps losing to concurrent ones before it settles for none. */
const RESERVE_ROUNDS = 4;

/** The cache and counter items' keys. */
export const xCacheKeys = {
  user: (xUserId: string) => ({ pk: `XUSER#${xUserId}`, sk: 'XUSER' }),
  readDay: (brand: string, day: string) => ({ pk: `XREADS#${brand}#${day}`, sk: 'XREADS' }),
};

/** The user cache and the read counter on one table. */
export function dynamoXCache(
  db: DynamoDBClient,
  tableName: string,
  options: { brand: string; now?: () => Date },
): { users: XUserCache; reads: ReadCounter } {
  const now = options.now ?? (() => new Date());
  const epochSeconds = (at: Date) => Math.floor(at.getTime() / 1000);

  const users: XUserCache = {
    async getUsers(ids) {
      const found = new Map<string, CachedXUser>();
      const unique = [...new Set(ids)];
      const nowSeconds = epochSeconds(now());
      for (let i = 0; i < unique.length; i += BATCH_GET_MAX) {
        let keys = unique.slice(i, i + BATCH_GET_MAX).map((id) => marshall(xCacheKeys.user(id)));
        // BatchGetItem may leave keys unprocessed under load: ask again for those until none are left.
        for (let attempt = 0; keys.length > 0; attempt++) {
          if (attempt > 0) await new Promise((r) => setTimeout(r, Math.min(50 * 2 ** attempt, 1000)));
          const result = await db.send(
            new BatchGetItemCommand({ RequestItems: { [tableName]: { Keys: keys, ConsistentRead: false } } }),
          );
          for (const raw of result.Responses?.[tableName] ?? []) {
            const user = toCachedUser(unmarshall(raw), nowSeconds);
            if (user) found.set(user.xUserId, user);
          }
          keys = result.UnprocessedKeys?.[tableName]?.Keys ?? [];
          if (attempt >= 5 && keys.length > 0) throw new Error('DynamoDB left user cache keys unprocessed');
        }
      }
      return found;
    },
    async putUsers(list, expiresAt) {
      const ttl = epochSeconds(expiresAt);
      await Promise.all(
        list.map((user) =>
          db.send(
            new PutItemCommand({
              TableName: tableName,
              Item: marshall(
                {
                  ...xCacheKeys.user(user.xUserId),
                  type: 'x_user',
                  xUserId: user.xUserId,
                  username: user.username,
                  name: user.name,
                  ...(user.profile ? { profile: user.profile } : {}),
                  ...(user.notFound ? { notFound: true } : {}),
                  cachedAt: now().toISOString(),
                  [TABLE.ttlAttribute]: ttl,
                },
                { removeUndefinedValues: true },
              ),
            }),
          ),
        ),
      );
    },
  };

  const dayKey = (day: string) => marshall(xCacheKeys.readDay(options.brand, day));
  const dayExpiry = (day: string) => epochSeconds(new Date(Date.parse(`${day}T00:00:00Z`) + COUNTER_KEEP_DAYS * 86_400_000));

  /** Adds `n` to the day's reads if they stay within `budget`; the current reads when they would not. */
  async function tryReserve(day: string, n: number, budget: number): Promise<{ ok: true } | { ok: false; current: number }> {
    try {
      await db.send(
        new UpdateItemCommand({
          TableName: tableName,
          Key: dayKey(day),
          UpdateExpression: 'ADD #reads :n SET #ttl = if_not_exists(#ttl, :ttl), #type = :type, #day = :day',
          ConditionExpression: 'attribute_not_exists(#reads) OR #reads <= :most',
          ExpressionAttributeNames: { '#reads': 'reads', '#ttl': TABLE.ttlAttribute, '#type': 'type', '#day': 'day' },
          ExpressionAttributeValues: marshall({ ':n': n, ':most': budget - n, ':ttl': dayExpiry(day), ':type': 'x_read_day', ':day': day }),
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
      return { ok: true };
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      const old = error.Item ? unmarshall(error.Item) : {};
      return { ok: false, current: typeof old.reads === 'number' ? old.reads : budget };
    }
  }

  const reads: ReadCounter = {
    async reserve({ day, wanted, budget }) {
      let n = Math.min(wanted, budget);
      for (let round = 0; round < RESERVE_ROUNDS && n > 0; round++) {
        const result = await tryReserve(day, n, budget);
        if (result.ok) return n;
        n = Math.min(n, budget - result.current);
      }
      return 0;
    },
    async settle({ day, unused, made, refused, costMicroUsd }) {
      const adds: Record<string, number> = {
        reads: -unused,
        userReads: made.user ?? 0,
        postReads: made.post ?? 0,
        refused,
        costMicroUsd,
      };
      const nonZero = Object.entries(adds).filter(([, v]) => v !== 0);
      if (nonZero.length === 0) return;
      await db.send(
        new UpdateItemCommand({
          TableName: tableName,
          Key: dayKey(day),
          UpdateExpression:
            `ADD ${nonZero.map(([k]) => `#${k} :${k}`).join(', ')} ` +
            'SET #ttl = if_not_exists(#ttl, :ttl), #type = :type, #day = :day' +
            // The first refusal of the day is kept: when the budget ran out, for ops and a channel-health report.
            (refused > 0 ? ', #exhaustedAt = if_not_exists(#exhaustedAt, :at)' : ''),
          ExpressionAttributeNames: {
            ...Object.fromEntries(nonZero.map(([k]) => [`#${k}`, k])),
            '#ttl': TABLE.ttlAttribute,
            '#type': 'type',
            '#day': 'day',
            ...(refused > 0 ? { '#exhaustedAt': 'exhaustedAt' } : {}),
          },
          ExpressionAttributeValues: marshall({
            ...Object.fromEntries(nonZero.map(([k, v]) => [`:${k}`, v])),
            ':ttl': dayExpiry(day),
            ':type': 'x_read_day',
            ':day': day,
            ...(refused > 0 ? { ':at': now().toISOString() } : {}),
          }),
        }),
      );
    },
    async day(day) {
      const result = await db.send(
        new BatchGetItemCommand({ RequestItems: { [tableName]: { Keys: [dayKey(day)], ConsistentRead: true } } }),
      );
      const raw = result.Responses?.[tableName]?.[0];
      const item = raw ? unmarshall(raw) : {};
      const n = (v: unknown) => (typeof v === 'number' ? v : 0);
      const record: ReadDay = {
        day,
        reads: n(item.reads),
        userReads: n(item.userReads),
        postReads: n(item.postReads),
        refused: n(item.refused),
        costMicroUsd: n(item.costMicroUsd),
      };
      return record;
    },
  };

  return { users, reads };
}

function toCachedUser(item: Record<string, unknown>, nowSeconds: number): CachedXUser | undefined {
  const expires = item[TABLE.ttlAttribute];
  if (typeof expires !== 'number' || expires <= nowSeconds) return undefined;
  if (typeof item.xUserId !== 'string' || typeof item.username !== 'string' || typeof item.name !== 'string') return undefined;
  const profile = xProfileSchema.safeParse(item.profile);
  return {
    xUserId: item.xUserId,
    username: item.username,
    name: item.name,
    ...(item.profile !== undefined && profile.success ? { profile: profile.data } : {}),
    ...(item.notFound === true ? { notFound: true as const } : {}),
  };
}
