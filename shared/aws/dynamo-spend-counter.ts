// The spend counter (shared/replies/spend.ts) on the brand's table: one item per calendar month and one per UTC day,
// each a micro-dollar total. The month's item is added to under a condition (never past the cap), then the day's.
import { ConditionalCheckFailedException, GetItemCommand, UpdateItemCommand, type DynamoDBClient } from './sdk/client-dynamodb';
import { marshall, unmarshall } from './sdk/util-dynamodb';
import type { SpendCounter } from '../replies/spend';
import { TABLE } from './resources';

/** Day items are kept 400 days, month items about three years: enough for any bill X sends. */
const DAY_KEEP_SECONDS = 400 * 86_400;
const MONTH_KEEP_SECONDS = 3 * 366 * 86_400;

export const spendKeys = {
  month: (brand: string, month: string) => ({ pk: `XSPEND#${brand}#${month}`, sk: 'XSPEND' }),
  day: (brand: string, day: string) => ({ pk: `XSPEND#${brand}#${day}`, sk: 'XSPEND' }),
};

export function dynamoSpendCounter(db: DynamoDBClient, tableName: string, brand: string, now: () => Date = () => new Date()): SpendCounter {
  const total = async (key: Record<string, string>) => {
    const result = await db.send(new GetItemCommand({ TableName: tableName, Key: marshall(key), ConsistentRead: true }));
    const item = result.Item ? unmarshall(result.Item) : {};
    return typeof item.microUsd === 'number' ? item.microUsd : 0;
  };
  const add = (key: Record<string, string>, type: string, microUsd: number, keepSeconds: number, most?: number) =>
    db.send(
      new UpdateItemCommand({
        TableName: tableName,
        Key: marshall(key),
        UpdateExpression: 'ADD #micro :n SET #ttl = if_not_exists(#ttl, :ttl), #type = :type',
        ...(most === undefined ? {} : { ConditionExpression: 'attribute_not_exists(#micro) OR #micro <= :most' }),
        ExpressionAttributeNames: { '#micro': 'microUsd', '#ttl': TABLE.ttlAttribute, '#type': 'type' },
        ReturnValues: 'UPDATED_NEW',
        ExpressionAttributeValues: marshall({
          ':n': microUsd,
          ':ttl': Math.floor(now().getTime() / 1000) + keepSeconds,
          ':type': type,
          ...(most === undefined ? {} : { ':most': most }),
        }),
      }),
    );
  return {
    month: (month) => total(spendKeys.month(brand, month)),
    day: (day) => total(spendKeys.day(brand, day)),
    async reserve({ month, day, microUsd, capMicroUsd }) {
      let monthTotal: number;
      try {
        const result = await add(spendKeys.month(brand, month), 'x_spend_month', microUsd, MONTH_KEEP_SECONDS, capMicroUsd === undefined ? undefined : capMicroUsd - microUsd);
        const updated = result.Attributes ? unmarshall(result.Attributes) : {};
        monthTotal = typeof updated.microUsd === 'number' ? updated.microUsd : microUsd;
      } catch (error) {
        if (error instanceof ConditionalCheckFailedException) return undefined;
        throw error;
      }
      await add(spendKeys.day(brand, day), 'x_spend_day', microUsd, DAY_KEEP_SECONDS);
      return monthTotal;
    },
  };
}
