// DynamoDB adapter for the ticket store. Race-freedom comes from conditions, not locks:
// - a message is written only if its X id is new (attribute_not_exists), so redeliveries never double it;
// - a ticket is written only if it is still at the sequence the writer read, so concurrent changes retry;
// - a customer's next ticket has a key both racing workers compute, so only one creation wins.
// A ticket's change (its opening included) and its message go in one transaction: the ticket write is the helpdesk
// event (via the table stream), so an event exists exactly when its message does. A customer's first ticket is the
// exception, for cost (see ingest.ts, isFirstContact): two single-item puts (half a transaction's capacity), the
// ticket first, carrying a copy of its opening message for its event and the opening X id, by which a redelivery
// after a crash between the two puts stores just the message.
// Edited posts (rule 9): the message lives under the chain's first X id, which every version names, so racing
// versions compete for one key and rule 1's condition keeps them to one message. Each later version's X id holds an
// alias naming that key, written in the same transaction as the message state that first lists the version, so the
// message and its aliases never disagree; an alias may be rewritten by a retry but never lands on a tombstone (a
// delete that came first makes the write fail, and the next round redacts). An edit's write is conditional on the
// version the message showed when read (`contentXId`) and on its not being redacted: a retry of the same version, or
// a race with another version or a delete, finds that changed and reads again; an older version never overwrites a
// newer one's text, whichever worker writes last.
import type { AttributeValue, ReturnValuesOnConditionCheckFailure, TransactWriteItem } from '@aws-sdk/client-dynamodb';
import {
  BatchGetItemCommand,
  ConditionalCheckFailedException,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
  TransactionCanceledException,
  TransactWriteItemsCommand,
  type DynamoDBClient,
} from './sdk/client-dynamodb';
import { marshall, unmarshall } from './sdk/util-dynamodb';
import { TABLE } from './resources';
import {
  aliasToItem,
  itemToMessage,
  itemToReply,
  itemToTicket,
  keys,
  messageToItem,
  openingTicketToItem,
  replyToItem,
  ticketToItem,
  type Item,
} from './items';
import type { Channel, Message, Reply, Ticket, TicketStatus } from '../tickets/model';
import { ticketStatusSchema } from '../tickets/model';
import { redactedMessage } from '../tickets/rules';
import { parseTicketId } from '../tickets/ticket-id';
import type { StoredReply, StoredXItem, TicketStore } from '../tickets/ticket-store';
import { ValidationError } from '../errors';
import type * as Sdk from '@aws-sdk/client-dynamodb';
import { requireSdk } from './sdk/load';
import { itemToChannel } from './items';
import { CHANNEL_STATUS_RANK, type ChannelHealth, type ChannelHealthStore, type ChannelStatus } from '../channel/channel-health';

const TOMBSTONE_DAYS = 30;
const STATUSES = ticketStatusSchema.options;

const toAttributes = (item: Item) => marshall(item, { removeUndefinedValues: true, convertClassInstanceToMap: false });

/** The ticket store on one DynamoDB table. */
export function dynamoTicketStore(db: DynamoDBClient, tableName: string): TicketStore {
  const ticketPut = (ticket: Ticket, expectedSequence?: number): TransactWriteItem => ({
    Put: {
      TableName: tableName,
      Item: toAttributes(ticketToItem(ticket)),
      ...(expectedSequence === undefined
        ? { ConditionExpression: 'attribute_not_exists(pk)' }
        : {
            ConditionExpression: 'attribute_exists(pk) AND #sequence = :expected',
            ExpressionAttributeNames: { '#sequence': 'sequence' },
            ExpressionAttributeValues: marshall({ ':expected': expectedSequence }),
          }),
    },
  });
  const messagePut = (message: Message): TransactWriteItem => ({
    Put: {
      TableName: tableName,
      Item: toAttributes(messageToItem(message)),
      ConditionExpression: 'attribute_not_exists(pk)',
    },
  });
  /** A message's next state, if it still shows the version `contentXId` and is not redacted. */
  const messageReplace = (message: Message, contentXId: string): TransactWriteItem => ({
    Put: {
      TableName: tableName,
      Item: toAttributes(messageToItem(message)),
      // Items written before edits were kept have no contentXId: theirs is their own X id.
      ConditionExpression:
        '#type = :message AND redacted = :false AND (contentXId = :content OR (attribute_not_exists(contentXId) AND xId = :content))',
      ExpressionAttributeNames: { '#type': 'type' },
      ExpressionAttributeValues: marshall({ ':message': 'message', ':false': false, ':content': contentXId }),
    },
  });
  /** An alias of `message` under a later version's X id: over nothing, or over itself (a retry), never a tombstone. */
  const aliasPut = (versionXId: string, message: Message): TransactWriteItem => ({
    Put: {
      TableName: tableName,
      Item: toAttributes(aliasToItem(versionXId, message)),
      ConditionExpression: 'attribute_not_exists(pk) OR #type = :alias',
      ExpressionAttributeNames: { '#type': 'type' },
      ExpressionAttributeValues: marshall({ ':alias': 'alias' }),
    },
  });
  const withAliases = (message: Message, aliases: string[] = []) => [messagePut(message), ...aliases.map((id) => aliasPut(id, message))];
  const messageExists = (aliases: string[] = []) => ['message_exists' as const, ...aliases.map(() => 'message_exists' as const)];

  /**
   * Runs a transaction and names the first item whose condition failed: index 0 is always the ticket.
   * A TransactionConflict (another transaction on the same item) reads as "the ticket changed": decide again.
   */
  async function transact<T extends string>(
    items: TransactWriteItem[],
    onFailed: T[],
  ): Promise<'ok' | 'ticket_changed' | T> {
    try {
      await db.send(new TransactWriteItemsCommand({ TransactItems: items, ReturnConsumedCapacity: 'TOTAL' }));
      return 'ok';
    } catch (error) {
      if (!(error instanceof TransactionCanceledException)) throw error;
      const reasons = error.CancellationReasons ?? [];
      // The message's own condition wins: a redelivered message is a duplicate whatever the ticket did meanwhile.
      for (let i = reasons.length - 1; i >= 0; i--) {
        if (reasons[i]?.Code === 'ConditionalCheckFailed') return onFailed[i] ?? 'ticket_changed';
      }
      if (reasons.some((r) => r.Code === 'TransactionConflict')) return 'ticket_changed';
      throw error;
    }
  }

  /**
   * One conditional put: `ok`, or `onFailed` when its condition did not hold (`onFailed` may look at the item that
   * made it fail, which DynamoDB returns with the refusal at no extra cost).
   */
  async function conditionalPut<T extends string>(
    write: TransactWriteItem,
    onFailed: T | ((existing: Item | undefined) => T),
  ): Promise<'ok' | T> {
    const returnExisting: ReturnValuesOnConditionCheckFailure | undefined = typeof onFailed === 'function' ? 'ALL_OLD' : undefined;
    try {
      await db.send(
        new PutItemCommand({ ...write.Put!, ReturnConsumedCapacity: 'TOTAL', ReturnValuesOnConditionCheckFailure: returnExisting }),
      );
      return 'ok';
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      return typeof onFailed === 'function' ? onFailed(error.Item ? unmarshall(error.Item) : undefined) : onFailed;
    }
  }

  async function getItem(key: { pk: string; sk: string }): Promise<Item | undefined> {
    const result = await db.send(
      new GetItemCommand({ TableName: tableName, Key: marshall(key), ConsistentRead: true, ReturnConsumedCapacity: 'TOTAL' }),
    );
    return result.Item ? unmarshall(result.Item) : undefined;
  }

  /**
   * The items under `itemKeys` that exist, read 100 keys a request. DynamoDB may leave keys unprocessed when busy:
   * they are asked again a few times, and what is still left is read one by one, so no key is silently dropped.
   */
  async function batchGet(itemKeys: { pk: string; sk: string }[], consistent: boolean): Promise<Item[]> {
    const found: Item[] = [];
    for (let i = 0; i < itemKeys.length; i += 100) {
      let pending = itemKeys.slice(i, i + 100).map((k) => marshall(k));
      for (let attempt = 0; pending.length > 0 && attempt < 3; attempt++) {
        const result = await db.send(
          new BatchGetItemCommand({
            RequestItems: { [tableName]: { Keys: pending, ConsistentRead: consistent } },
            ReturnConsumedCapacity: 'TOTAL',
          }),
        );
        found.push(...(result.Responses?.[tableName] ?? []).map((raw) => unmarshall(raw)));
        pending = result.UnprocessedKeys?.[tableName]?.Keys ?? [];
      }
      for (const key of pending) {
        const item = await getItem(unmarshall(key) as { pk: string; sk: string });
        if (item) found.push(item);
      }
    }
    return found;
  }

  async function getTicket(ticketId: string): Promise<Ticket | undefined> {
    const key = parseTicketId(ticketId);
    if (!key) return undefined;
    const item = await getItem(keys.ticket(key));
    return item ? itemToTicket(item) : undefined;
  }

  const replyPut = (stored: StoredReply, expected?: { status: string; attempts: number }): TransactWriteItem => ({
    Put: {
      TableName: tableName,
      Item: toAttributes(
        replyToItem(stored.reply, {
          target: stored.target,
          requestFingerprint: stored.requestFingerprint,
          postingSince: stored.postingSince,
          notBefore: stored.notBefore,
          attempts: stored.attempts,
          attachments: stored.attachments,
          mediaIds: stored.mediaIds,
          mediaProcessing: stored.mediaProcessing,
        }),
      ),
      ...(expected
        ? {
            ConditionExpression: '#status = :status AND attempts = :attempts',
            ExpressionAttributeNames: { '#status': 'status' },
            ExpressionAttributeValues: marshall({ ':status': expected.status, ':attempts': expected.attempts }),
          }
        : { ConditionExpression: 'attribute_not_exists(pk)' }),
    },
  });

  return {
    getTicket,

    createReply(stored) {
      return conditionalPut(replyPut(stored), 'reply_exists');
    },

    async getReply(replyId) {
      const item = await getItem(keys.reply(replyId));
      if (!item) return undefined;
      return {
        reply: itemToReply(item),
        target: item.target as StoredReply['target'],
        requestFingerprint: String(item.requestFingerprint ?? ''),
        ...(typeof item.postingSince === 'string' ? { postingSince: item.postingSince } : {}),
        ...(typeof item.notBefore === 'number' ? { notBefore: item.notBefore } : {}),
        attempts: Number(item.attempts ?? 0),
        ...(Array.isArray(item.attachments) ? { attachments: item.attachments as NonNullable<StoredReply['attachments']> } : {}),
        ...(Array.isArray(item.mediaIds) ? { mediaIds: (item.mediaIds as unknown[]).map(String) } : {}),
        ...(item.mediaProcessing === true ? { mediaProcessing: true } : {}),
      };
    },

    updateReply(stored, expected) {
      return conditionalPut(replyPut(stored, expected), 'reply_changed');
    },

    async settleReply(stored, expected, ticket, expectedSequence, outbound) {
      const items = [ticketPut(ticket, expectedSequence), replyPut(stored, expected)];
      if (outbound) items.push(messagePut(outbound));
      return transact(items, ['ticket_changed', 'reply_changed', 'message_exists']);
    },

    async getXItem(xId): Promise<StoredXItem | undefined> {
      const item = await getItem(keys.message(xId));
      // A later version of an edited post: its message is under the key the alias names (written with it).
      const found = item?.type === 'alias' ? await getItem(keys.message(String(item.messageXId))) : item;
      return found ? toXItem(found) : undefined;
    },

    async getXItems(xIds) {
      const asked = [...new Set(xIds)];
      const items = new Map((await batchGet(asked.map((xId) => keys.message(xId)), true)).map((item) => [String(item.xId), item]));
      const targets = [...new Set([...items.values()].flatMap((i) => (i.type === 'alias' ? [String(i.messageXId)] : [])))];
      const missing = targets.filter((xId) => !items.has(xId));
      const messages = new Map(items);
      for (const item of missing.length ? await batchGet(missing.map((xId) => keys.message(xId)), true) : []) messages.set(String(item.xId), item);
      const found = new Map<string, StoredXItem>();
      for (const xId of asked) {
        const item = items.get(xId);
        const target = item?.type === 'alias' ? messages.get(String(item.messageXId)) : item;
        if (target) found.set(xId, toXItem(target));
      }
      return found;
    },

    async customerTickets(customerXUserId: string, channel: Channel, limit: number) {
      const prefix = keys.ticketPrefix(customerXUserId, channel);
      const result = await db.send(
        new QueryCommand({
          TableName: tableName,
          KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
          ExpressionAttributeValues: marshall({ ':pk': prefix.pk, ':prefix': prefix.skPrefix }),
          ScanIndexForward: false,
          Limit: limit,
          ConsistentRead: true,
          ReturnConsumedCapacity: 'TOTAL',
        }),
      );
      return (result.Items ?? []).map((raw) => itemToTicket(unmarshall(raw)));
    },

    createTicket(ticket, message, aliases) {
      return transact([ticketPut(ticket), ...withAliases(message, aliases)], ['ticket_exists', ...messageExists(aliases)]);
    },

    openTicket(ticket, opening) {
      const put = ticketPut(ticket);
      return conditionalPut({ Put: { ...put.Put!, Item: toAttributes(openingTicketToItem(ticket, opening)) } }, (existing) =>
        existing?.openingXId === opening.xId ? 'already_open' : 'ticket_exists',
      );
    },

    putMessage(message) {
      return conditionalPut(messagePut(message), 'message_exists');
    },

    addMessage(ticket, expectedSequence, message, aliases) {
      return transact([ticketPut(ticket, expectedSequence), ...withAliases(message, aliases)], ['ticket_changed', ...messageExists(aliases)]);
    },

    editMessage({ message, expectedContentXId, aliases, ticket, expectedSequence }) {
      const write = expectedContentXId === undefined ? messagePut(message) : messageReplace(message, expectedContentXId);
      const items = [write, ...aliases.map((id) => aliasPut(id, message))];
      // Index 0 is the ticket when there is one (see transact): an edit no one needs to hear of writes none.
      if (ticket) return transact([ticketPut(ticket, expectedSequence), ...items], ['ticket_changed', ...messageExists(aliases)]);
      if (items.length === 1) return conditionalPut(write, 'message_exists');
      return transact(items, messageExists(aliases));
    },

    redactMessage(ticket, expectedSequence, xId, at, unstored) {
      const redacted = (m: Message): Item => ({ ...messageToItem(redactedMessage(m)), redactedAt: at });
      const message: TransactWriteItem = unstored
        ? {
            Put: {
              TableName: tableName,
              Item: toAttributes(redacted(unstored)),
              // In place of a tombstone too: the delete that left it crossed the opening of the message's ticket.
              ConditionExpression: 'attribute_not_exists(pk) OR #type = :tombstone',
              ExpressionAttributeNames: { '#type': 'type' },
              ExpressionAttributeValues: marshall({ ':tombstone': 'tombstone' }),
            },
          }
        : {
            Update: {
              TableName: tableName,
              Key: marshall(keys.message(xId)),
              // Compliance: what the author wrote goes (see rules.ts redactedMessage); ids and timestamps stay so the
              // thread still makes sense.
              UpdateExpression: 'SET #text = :empty, redacted = :true, redactedAt = :at REMOVE links, attachments, quoted',
              ConditionExpression: '#type = :message AND redacted = :false',
              ExpressionAttributeNames: { '#text': 'text', '#type': 'type' },
              ExpressionAttributeValues: marshall({ ':empty': '', ':true': true, ':false': false, ':at': at, ':message': 'message' }),
            },
          };
      return transact([ticketPut(ticket, expectedSequence), message], ['ticket_changed', 'message_exists']);
    },

    putTombstone(xId, authorXUserId, at, droppedBy) {
      return conditionalPut(
        {
          Put: {
            TableName: tableName,
            Item: toAttributes({
              ...keys.message(xId),
              type: 'tombstone',
              xId,
              authorXUserId,
              deletedAt: at,
              ...(droppedBy === undefined ? {} : { droppedBy }),
              // X redelivers for minutes and replays for a day; a month covers both with room to spare.
              [TABLE.ttlAttribute]: Math.floor(Date.parse(at) / 1000) + TOMBSTONE_DAYS * 24 * 3600,
            }),
            ConditionExpression: 'attribute_not_exists(pk)',
          },
        },
        'message_exists',
      );
    },

    updateTicket(ticket, expectedSequence) {
      return conditionalPut(ticketPut(ticket, expectedSequence), 'ticket_changed');
    },

    async listTickets({ status, limit, cursor }) {
      const before = cursor === undefined ? undefined : decodeCursor(cursor);
      const statuses: readonly TicketStatus[] = status ? [status] : STATUSES;
      // One query per status partition of the byStatus index, merged newest first. The cursor is the last sort
      // key returned, which orders tickets across all partitions, so a page never repeats or skips a ticket.
      const pages = await Promise.all(
        statuses.map((s) =>
          db.send(
            new QueryCommand({
              TableName: tableName,
              IndexName: TABLE.byStatusIndex.name,
              KeyConditionExpression: before ? 'gsi1pk = :pk AND gsi1sk < :before' : 'gsi1pk = :pk',
              ExpressionAttributeValues: marshall({ ':pk': `STATUS#${s}`, ...(before ? { ':before': before } : {}) }),
              ScanIndexForward: false,
              Limit: limit + 1,
              ReturnConsumedCapacity: 'TOTAL',
            }),
          ),
        ),
      );
      const entries = pages
        .flatMap((p) => (p.Items ?? []).map((raw) => unmarshall(raw)))
        .sort((a, b) => String(b.gsi1sk).localeCompare(String(a.gsi1sk)));
      const page = entries.slice(0, limit);
      // Each partition was asked for one more than a page, so more exist exactly when the merge overflows.
      const more = entries.length > limit;
      const byId = page.length
        ? new Map(
            (await batchGet(page.map((e) => ({ pk: String(e.pk), sk: String(e.sk) })), false)).map((item) => {
              const ticket = itemToTicket(item);
              return [ticket.id, ticket] as const;
            }),
          )
        : new Map<string, Ticket>();
      const tickets = page
        .map((e) => byId.get(String(e.gsi1sk).split('#').pop() ?? ''))
        .filter((t): t is Ticket => t !== undefined);
      const last = page[page.length - 1];
      return { tickets, ...(more && last ? { nextCursor: encodeCursor(String(last.gsi1sk)) } : {}) };
    },

    async getTicketView(ticketId) {
      const ticket = await getTicket(ticketId);
      if (!ticket) return undefined;
      const messages: Message[] = [];
      const replies: Reply[] = [];
      let startKey: Record<string, AttributeValue> | undefined;
      do {
        const result = await db.send(
          new QueryCommand({
            TableName: tableName,
            IndexName: TABLE.byTicketIndex.name,
            KeyConditionExpression: 'gsi2pk = :pk',
            ExpressionAttributeValues: marshall({ ':pk': `TICKET#${ticketId}` }),
            ExclusiveStartKey: startKey,
            ReturnConsumedCapacity: 'TOTAL',
          }),
        );
        for (const raw of result.Items ?? []) {
          const item = unmarshall(raw);
          if (item.type === 'message') messages.push(itemToMessage(item));
          else if (item.type === 'reply') replies.push(itemToReply(item));
        }
        startKey = result.LastEvaluatedKey;
      } while (startKey);
      return { ticket, messages, replies };
    },
  };
}

function toXItem(item: Item): StoredXItem {
  if (item.type !== 'tombstone') return { kind: 'message', message: itemToMessage(item) };
  return { kind: 'tombstone', xId: String(item.xId), ...(typeof item.droppedBy === 'string' ? { droppedBy: item.droppedBy } : {}) };
}

function encodeCursor(sortKey: string): string {
  return Buffer.from(JSON.stringify({ before: sortKey })).toString('base64url');
}

function decodeCursor(cursor: string): string {
  try {
    const parsed: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (parsed && typeof parsed === 'object' && typeof (parsed as { before?: unknown }).before === 'string') {
      return (parsed as { before: string }).before;
    }
  } catch {
    // fall through to the validation error
  }
  throw new ValidationError('cursor is not one this API returned', 'cursor');
}

const { UpdateItemCommand } = requireSdk<typeof Sdk>('@aws-sdk/client-dynamodb');

/**
 * The channel health store on the same table (one item, `CHANNEL#<brand>`). Each change is one conditional update
 * that bumps `sequence` and names the status it replaces (`previousStatus`, read by the update itself), so no read
 * comes before it and no race can write one change twice:
 * - raising a condition holds only while the stored status is milder (`rank`): the same status again is refused,
 *   so a redelivered revoke is no second event;
 * - clearing holds only while the stored reason is the one cleared (and it was found before `foundBefore`).
 */
export function dynamoChannelHealthStore(db: DynamoDBClient, tableName: string, brand: string): ChannelHealthStore {
  const key = marshall(keys.channel(brand));
  async function update(
    next: { status: ChannelStatus; reason: ChannelHealth['reason']; detail: string; at: string },
    condition: string,
    values: Record<string, unknown>,
  ): Promise<'changed' | 'unchanged'> {
    try {
      await db.send(
        new UpdateItemCommand({
          TableName: tableName,
          Key: key,
          UpdateExpression:
            'SET #type = :type, #brand = :brand, #previousStatus = if_not_exists(#status, :ok), #status = :status, ' +
            '#rank = :rank, #reason = :reason, #detail = :detail, #changedAt = :at, ' +
            '#sequence = if_not_exists(#sequence, :zero) + :one',
          ConditionExpression: condition,
          ExpressionAttributeNames: {
            '#type': 'type',
            '#brand': 'brand',
            '#previousStatus': 'previousStatus',
            '#status': 'status',
            '#rank': 'rank',
            '#reason': 'reason',
            '#detail': 'detail',
            '#changedAt': 'changedAt',
            '#sequence': 'sequence',
          },
          ExpressionAttributeValues: marshall({
            ':type': 'channel',
            ':brand': brand,
            ':ok': 'ok',
            ':status': next.status,
            ':rank': CHANNEL_STATUS_RANK[next.status],
            ':reason': next.reason,
            ':detail': next.detail,
            ':at': next.at,
            ':zero': 0,
            ':one': 1,
            ...values,
          }),
          ReturnConsumedCapacity: 'TOTAL',
        }),
      );
      return 'changed';
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return 'unchanged';
      throw error;
    }
  }
  return {
    async getChannel() {
      const result = await db.send(new GetItemCommand({ TableName: tableName, Key: key, ConsistentRead: true }));
      return result.Item ? itemToChannel(unmarshall(result.Item)) : undefined;
    },
    raise(condition, at) {
      return update({ ...condition, at }, 'attribute_not_exists(#rank) OR #rank < :rank', {});
    },
    clear(clearing, detail, at) {
      const before = clearing.foundBefore === undefined ? '' : ' AND #changedAt < :before';
      return update(
        { status: 'ok', reason: 'recovered', detail, at },
        `#reason = :cleared AND #rank > :zero${before}`,
        { ':cleared': clearing.reason, ...(clearing.foundBefore === undefined ? {} : { ':before': clearing.foundBefore }) },
      );
    },
  };
}
