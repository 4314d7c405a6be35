// DynamoDB adapter for the notify use case: reads the message or reply a ticket event carries. Strongly consistent
// reads, because the stream can hand us a ticket change before an eventually consistent read would see its message,
// and because a queued event must see a redaction the moment it is written.
import { GetItemCommand, type DynamoDBClient } from './sdk/client-dynamodb';
import { marshall, unmarshall } from './sdk/util-dynamodb';
import type { Message, Reply } from '../tickets/model';
import type { TicketEventReader } from '../helpdesk/notify';
import { itemToMessage, itemToReply, keys, openingMessageOf, parseTicketId, type Item } from './items';

/** The event context reader on one DynamoDB table; undefined when the item does not exist. */
export function dynamoEventReader(db: DynamoDBClient, tableName: string): TicketEventReader {
  async function get(key: { pk: string; sk: string }): Promise<Item | undefined> {
    const result = await db.send(new GetItemCommand({ TableName: tableName, Key: marshall(key), ConsistentRead: true }));
    return result.Item ? unmarshall(result.Item) : undefined;
  }
  return {
    async getMessage(xId: string): Promise<Message | undefined> {
      const item = await get(keys.message(xId));
      // The same key holds a tombstone when a delete arrived before its post: there is no message to show.
      return item && item.type !== 'tombstone' ? itemToMessage(item) : undefined;
    },
    async getReply(replyId: string): Promise<Reply | undefined> {
      const item = await get(keys.reply(replyId));
      return item ? itemToReply(item) : undefined;
    },
    async currentMessage(xId: string, ticketId: string): Promise<Message | undefined> {
      const item = await get(keys.message(xId));
      // A tombstone: X said the post was deleted. Whatever copy a ticket still holds must not be sent.
      if (item) return item.type === 'tombstone' ? undefined : itemToMessage(item);
      // No item at all: a customer's first ticket is written before its message (ingest.ts, isFirstContact), and a
      // worker that died in between leaves the message to its redelivery. Until then the ticket's copy is the message;
      // the ticket's next write (a redaction included) drops that copy.
      const key = parseTicketId(ticketId);
      const ticket = key ? await get(keys.ticket(key)) : undefined;
      const opening = ticket ? openingMessageOf(ticket) : undefined;
      return opening?.xId === xId ? opening : undefined;
    },
  };
}
