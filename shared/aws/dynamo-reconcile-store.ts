// DynamoDB adapter for the reconciler's own items in the tickets table, under `RECONCILE#<brand>`:
// - the lease (sk LEASE): taken with one conditional put that succeeds only when no lease exists or the one there has
//   expired, so two runs of a brand never read at once; freed by a delete conditional on its owner, so a run that
//   overran its lease never frees the next run's;
// - the state (sk STATE): the cursors and X's rate-limit reset. Only the lease holder writes it, so a plain put is safe.
// The key does not start with CUST#, so the table stream's filter never hands these items to notify.
import type * as Sdk from '@aws-sdk/client-dynamodb';
import { ConditionalCheckFailedException, GetItemCommand, PutItemCommand, type DynamoDBClient } from './sdk/client-dynamodb';
import { requireSdk } from './sdk/load';
import { marshall, unmarshall } from './sdk/util-dynamodb';
import type { ReconcileState, ReconcileStore } from '../x/reconcile';

const { DeleteItemCommand } = requireSdk<typeof Sdk>('@aws-sdk/client-dynamodb');

/** The reconciler's item keys for a brand. */
export const reconcileKeys = {
  lease: (brand: string) => ({ pk: `RECONCILE#${brand}`, sk: 'LEASE' }),
  state: (brand: string) => ({ pk: `RECONCILE#${brand}`, sk: 'STATE' }),
};

/** The reconciler's lease and state for `brand` on the tickets table. */
export function dynamoReconcileStore(db: DynamoDBClient, tableName: string, brand: string): ReconcileStore {
  return {
    async acquireLease(owner, now, ttlMs) {
      try {
        await db.send(
          new PutItemCommand({
            TableName: tableName,
            Item: marshall({ ...reconcileKeys.lease(brand), type: 'reconcile-lease', owner, expiresAt: now.getTime() + ttlMs }),
            ConditionExpression: 'attribute_not_exists(pk) OR expiresAt < :now',
            ExpressionAttributeValues: marshall({ ':now': now.getTime() }),
          }),
        );
        return true;
      } catch (error) {
        if (error instanceof ConditionalCheckFailedException) return false;
        throw error;
      }
    },
    async releaseLease(owner) {
      try {
        await db.send(
          new DeleteItemCommand({
            TableName: tableName,
            Key: marshall(reconcileKeys.lease(brand)),
            ConditionExpression: '#owner = :owner',
            ExpressionAttributeNames: { '#owner': 'owner' },
            ExpressionAttributeValues: marshall({ ':owner': owner }),
          }),
        );
      } catch (error) {
        if (!(error instanceof ConditionalCheckFailedException)) throw error;
      }
    },
    async loadState() {
      const answer = await db.send(new GetItemCommand({ TableName: tableName, Key: marshall(reconcileKeys.state(brand)), ConsistentRead: true }));
      const item = answer.Item ? unmarshall(answer.Item) : undefined;
      const state = item?.state as ReconcileState | undefined;
      return state ?? { mentions: {}, conversations: {} };
    },
    async saveState(state) {
      await db.send(
        new PutItemCommand({
          TableName: tableName,
          Item: marshall({ ...reconcileKeys.state(brand), type: 'reconcile-state', state }, { removeUndefinedValues: true }),
        }),
      );
    },
  };
}
