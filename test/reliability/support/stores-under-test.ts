// The two ticket stores the property suite runs on, the in-memory store and the DynamoDB adapter on DynamoDB Local,
// and one snapshot of what either holds, so the very same assertions judge both. A snapshot is read the way the
// bridge's own readers see the data: for DynamoDB, a consistent scan of the table and the table's stream, which is the
// bridge's real outbox (notify reads it); for the in-memory store, its maps and its log of ticket writes, which is
// what it keeps in the stream's place.
import { randomUUID } from 'node:crypto';
import { DeleteTableCommand, ScanCommand, type AttributeValue } from '@aws-sdk/client-dynamodb';
import {
  DescribeStreamCommand,
  DynamoDBStreamsClient,
  GetRecordsCommand,
  GetShardIteratorCommand,
  type _Record as StreamRecord,
  type Shard,
} from '@aws-sdk/client-dynamodb-streams';
import { DeleteQueueCommand, SQSClient } from '@aws-sdk/client-sqs';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { DynamoDBClient } from '../../../shared/aws/sdk/client-dynamodb';
import { dynamoTicketStore } from '../../../shared/aws/dynamo-ticket-store';
import { isTicketItem, itemToMessage, itemToReply, itemToTicket, type Item } from '../../../shared/aws/items';
import { sdkClientOptions } from '../../../shared/aws/sdk-client-options';
import type { Reply, Ticket } from '../../../shared/tickets/model';
import type { StoredXItem, TicketStore } from '../../../shared/tickets/ticket-store';
import { ensureResources, LOCAL_AWS, type LocalResources } from '../../../infra/local/services';
import { memoryTicketStore } from '../../support/memory-ticket-store';

/** What a store holds, in the domain's words, whichever store it is. */
export type StoreSnapshot = {
  tickets: Ticket[];
  /** What is stored under each X id: a message or a tombstone. */
  xItems: Map<string, StoredXItem>;
  /** An edited post's later versions' X ids, each to the X id its message is stored under. */
  aliases: Map<string, string>;
  replies: Map<string, Reply>;
  /** Every ticket state ever written, each ticket's in the order written: the outbox the helpdesk's events come from. */
  changes: Ticket[];
};

/** One property run's store: empty when opened, read back by `snapshot`, gone after `close`. */
export type StoreRun = {
  store: TicketStore;
  snapshot(): Promise<StoreSnapshot>;
  close(): Promise<void>;
};

export type StoreHome = {
  kind: 'memory' | 'dynamodb';
  /** For test names. */
  label: string;
  /** A fresh, empty store: nothing a previous run wrote can be seen by, or blamed on, this one. */
  open(): Promise<StoreRun>;
  /** Releases what the home holds across runs (clients, queues). */
  dispose(): Promise<void>;
};

/** The in-memory store (test/support/memory-ticket-store.ts): a new one per run. */
export function memoryHome(): StoreHome {
  return {
    kind: 'memory',
    label: 'the in-memory store',
    async open() {
      const store = memoryTicketStore();
      return {
        store,
        async snapshot() {
          return structuredClone({
            tickets: [...store.tickets.values()],
            xItems: new Map(store.xItems),
            aliases: new Map(store.aliases),
            replies: new Map([...store.replies].map(([id, stored]) => [id, stored.reply])),
            changes: store.changes,
          });
        },
        async close() {},
      };
    },
    async dispose() {},
  };
}

/**
 * The DynamoDB adapter on DynamoDB Local: a table of its own per run, built by the local runner's `ensureResources`
 * (the shape the stack deploys, stream included) and deleted after the run. The store gets a client configured as the
 * functions' own (their retry budget included); the snapshot reads through a separate one.
 */
export function dynamoHome(endpoints: () => { dynamodb: string; sqs: string }): StoreHome {
  const prefix = `props-${randomUUID().slice(0, 8)}`;
  let clients: { admin: DynamoDBClient; functions: DynamoDBClient; sqs: SQSClient; streams: DynamoDBStreamsClient } | undefined;
  let queueUrls: string[] = [];
  let tables = 0;
  const connect = () => {
    if (clients) return clients;
    const { dynamodb, sqs } = endpoints();
    clients = {
      admin: new DynamoDBClient({ endpoint: dynamodb, ...LOCAL_AWS }),
      functions: new DynamoDBClient(sdkClientOptions(dynamodb)),
      sqs: new SQSClient({ endpoint: sqs, ...LOCAL_AWS }),
      streams: new DynamoDBStreamsClient({ endpoint: dynamodb, ...LOCAL_AWS }),
    };
    return clients;
  };
  return {
    kind: 'dynamodb',
    label: 'DynamoDB Local',
    async open() {
      const c = connect();
      // ensureResources also brings the brand's queues: every run reuses the same ones (same prefix), removed in dispose.
      const resources = await ensureResources({ dynamodb: c.admin, sqs: c.sqs }, { tableName: `${prefix}-${++tables}`, queuePrefix: prefix });
      queueUrls = Object.values(resources.queues).flatMap((q) => [q.url, q.dlq.url]);
      let closed: Promise<void> | undefined;
      return {
        store: dynamoTicketStore(c.functions, resources.tableName),
        snapshot: () => dynamoSnapshot(c.admin, c.streams, resources),
        close: () => (closed ??= c.admin.send(new DeleteTableCommand({ TableName: resources.tableName })).then(() => undefined)),
      };
    },
    async dispose() {
      if (!clients) return;
      const c = clients;
      clients = undefined;
      await Promise.all(queueUrls.map((QueueUrl) => c.sqs.send(new DeleteQueueCommand({ QueueUrl }))));
      for (const client of Object.values(c)) client.destroy();
    },
  };
}

/** The table as the store's reads would see it (a consistent scan), and every ticket write the stream carried. */
async function dynamoSnapshot(db: DynamoDBClient, streams: DynamoDBStreamsClient, resources: LocalResources): Promise<StoreSnapshot> {
  const snapshot: StoreSnapshot = { tickets: [], xItems: new Map(), aliases: new Map(), replies: new Map(), changes: [] };
  let start: Record<string, AttributeValue> | undefined;
  do {
    const page = await db.send(new ScanCommand({ TableName: resources.tableName, ConsistentRead: true, ExclusiveStartKey: start }));
    for (const raw of page.Items ?? []) {
      const item = unmarshall(raw);
      if (isTicketItem(item)) snapshot.tickets.push(itemToTicket(item));
      else if (item.type === 'message') snapshot.xItems.set(String(item.xId), { kind: 'message', message: itemToMessage(item) });
      else if (item.type === 'tombstone') snapshot.xItems.set(String(item.xId), { kind: 'tombstone', xId: String(item.xId) });
      else if (item.type === 'alias') snapshot.aliases.set(String(item.xId), String(item.messageXId));
      else if (item.type === 'reply') snapshot.replies.set(String(item.id), itemToReply(item));
      // Anything else is an item no code path should write: fail loudly rather than leave it out of every check.
      else throw new Error(`unexpected item in the table: ${JSON.stringify(item)}`);
    }
    start = page.LastEvaluatedKey;
  } while (start);
  for (const record of await streamRecords(streams, resources.streamArn)) {
    const image = record.dynamodb?.NewImage;
    // Only a removal has no new image, and the bridge removes nothing (tombstones expire after 30 days, not in a run).
    if (!image) throw new Error(`unexpected ${record.eventName} in the stream: ${JSON.stringify(record.dynamodb?.Keys)}`);
    const item = unmarshall(image as Record<string, AttributeValue>) as Item;
    if (isTicketItem(item)) snapshot.changes.push(itemToTicket(item));
  }
  return snapshot;
}

/**
 * Every record of the stream from its start, a shard's parent before the shard (so one key's records stay in the
 * order written). DynamoDB Local writes a record with its item, so a read right after the writes finds them all; a
 * record missing would show as a ticket whose sequences do not reach its stored one (outboxProblems), never as a pass.
 */
async function streamRecords(streams: DynamoDBStreamsClient, streamArn: string): Promise<StreamRecord[]> {
  const shards: Shard[] = [];
  let startShard: string | undefined;
  do {
    const described = await streams.send(new DescribeStreamCommand({ StreamArn: streamArn, ExclusiveStartShardId: startShard }));
    shards.push(...(described.StreamDescription?.Shards ?? []));
    startShard = described.StreamDescription?.LastEvaluatedShardId;
  } while (startShard);
  const ids = new Set(shards.map((s) => s.ShardId));
  const ordered: Shard[] = [];
  const placed = new Set<string | undefined>();
  while (ordered.length < shards.length) {
    const next = shards.filter((s) => !placed.has(s.ShardId) && (!s.ParentShardId || !ids.has(s.ParentShardId) || placed.has(s.ParentShardId)));
    if (next.length === 0) throw new Error('stream shards form a cycle');
    for (const shard of next) {
      ordered.push(shard);
      placed.add(shard.ShardId);
    }
  }
  const records: StreamRecord[] = [];
  for (const shard of ordered) {
    let iterator = (
      await streams.send(new GetShardIteratorCommand({ StreamArn: streamArn, ShardId: shard.ShardId, ShardIteratorType: 'TRIM_HORIZON' }))
    ).ShardIterator;
    while (iterator) {
      const page = await streams.send(new GetRecordsCommand({ ShardIterator: iterator, Limit: 1000 }));
      const got = page.Records ?? [];
      records.push(...got);
      // An open shard always hands back a next iterator: an empty page means it is read to its end.
      if (got.length === 0) break;
      iterator = page.NextShardIterator;
    }
  }
  return records;
}
