// The DynamoDB ticket store's conditions on DynamoDB Local, where the in-memory store of the unit tests only mimics
// them: a new ticket's two puts, what a refused put reports, and a delete crossing the opening of a ticket.
import { GetItemCommand } from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dynamoTicketStore } from '../../shared/aws/dynamo-ticket-store';
import { keys } from '../../shared/aws/items';
import { ingestItem, type IngestDeps } from '../../shared/tickets/ingest';
import { messageFromItem, newTicket, ticketWithStatus } from '../../shared/tickets/rules';
import type { TicketStore } from '../../shared/tickets/ticket-store';
import type { InboundDelete, CompletePost as InboundPost } from '../../shared/x/inbound-event';
import { startTestBridge, type TestBridge } from '../support/test-bridge';

const BOT = { xUserId: '1602999888777666555', username: 'AcmeSupport' };
let bridge: TestBridge;
let store: TicketStore;
let deps: IngestDeps;

beforeAll(async () => {
  bridge = await startTestBridge({
    handlers: {},
    log: (message, error) => {
      if (!/is not wired locally/.test(message)) console.error(message, error ?? '');
    },
  });
  store = dynamoTicketStore(bridge.clients.dynamodb, bridge.resources.tableName);
  deps = {
    store,
    brand: 'acme',
    botUserId: BOT.xUserId,
    botUsername: BOT.username,
    windows: { mentionMergeHours: 24, reopenHours: 168 },
    now: () => new Date(),
  };
});

afterAll(async () => {
  await bridge?.stop();
});

let next = 7_100_000_000;
function mention(): InboundPost {
  const author = String(next++);
  const at = new Date().toISOString();
  return {
    kind: 'post',
    format: 'xaa',
    xId: `19${author}01`,
    author: { xUserId: author, username: `c${author}`, name: 'Customer' },
    text: '@AcmeSupport where is my parcel?',
    createdAt: at,
    mentionsBot: true,
    via: 'post.mention.create',
    receivedAt: at,
    links: [],
    media: [],
  };
}
function deleteOf(post: InboundPost): InboundDelete {
  const at = new Date().toISOString();
  return { kind: 'delete', format: 'xaa', xId: post.xId, authorXUserId: post.author.xUserId, deletedAt: at, via: 'post.delete', receivedAt: at };
}

async function rawItem(key: { pk: string; sk: string }): Promise<Record<string, unknown> | undefined> {
  const result = await bridge.clients.dynamodb.send(
    new GetItemCommand({ TableName: bridge.resources.tableName, Key: marshall(key), ConsistentRead: true }),
  );
  return result.Item ? unmarshall(result.Item) : undefined;
}

describe('a new ticket: the ticket, then its message', () => {
  it('reports who opened a taken ticket, and stores a message once', async () => {
    const post = mention();
    const id = `mn-${post.author.xUserId}-1`;
    const message = messageFromItem(post, id, BOT.xUserId);
    const ticket = newTicket({ id, brand: 'acme', channel: 'mention', customer: post.author, message, now: post.createdAt });
    expect(await store.openTicket(ticket, message)).toBe('ok');
    expect(await store.openTicket(ticket, message)).toBe('already_open');
    const other = { ...message, xId: `${post.xId}9`, id: `msg-${post.xId}9` };
    expect(await store.openTicket({ ...ticket, openingXId: other.xId }, other)).toBe('ticket_exists');
    expect(await store.putMessage(message)).toBe('ok');
    expect(await store.putMessage(message)).toBe('message_exists');
  });

  it('the first write carries the opening message for its event; the next write of the ticket drops it', async () => {
    const post = mention();
    expect(await ingestItem(post, deps)).toMatchObject({ outcome: 'created', sequence: 1 });
    const key = keys.ticket({ customerXUserId: post.author.xUserId, channel: 'mention', generation: 1 });
    expect(await rawItem(key)).toMatchObject({ openingXId: post.xId, opening: { xId: post.xId, text: post.text } });
    const ticket = (await store.getTicket(`mn-${post.author.xUserId}-1`))!;
    expect(await store.updateTicket(ticketWithStatus(ticket, 'pending', new Date().toISOString())!, 1)).toBe('ok');
    const after = await rawItem(key);
    expect(after).toMatchObject({ openingXId: post.xId, sequence: 2 });
    expect(after).not.toHaveProperty('opening');
  });

  it('a delete crossing the opening of the ticket replaces its tombstone with the redacted message', async () => {
    const post = mention();
    // The delete finds no ticket yet and leaves a tombstone; then the post opens its ticket and cannot store its text.
    const crossing: TicketStore = {
      ...store,
      openTicket: async (ticket, opening) => {
        expect(await ingestItem(deleteOf(post), deps)).toMatchObject({ outcome: 'tombstoned' });
        return store.openTicket(ticket, opening);
      },
    };
    expect(await ingestItem(post, { ...deps, store: crossing })).toMatchObject({ outcome: 'redacted', sequence: 2 });
    const stored = await rawItem(keys.message(post.xId));
    expect(stored).toMatchObject({ type: 'message', text: '', redacted: true, ticketId: `mn-${post.author.xUserId}-1` });
    expect(stored).not.toHaveProperty('expiresAt');
    expect(await ingestItem(post, deps)).toMatchObject({ outcome: 'duplicate' });
    expect(await ingestItem(deleteOf(post), deps)).toMatchObject({ outcome: 'duplicate' });
  });

  it('an unstored redaction never overwrites a stored message', async () => {
    const post = mention();
    await ingestItem(post, deps);
    const ticket = (await store.getTicket(`mn-${post.author.xUserId}-1`))!;
    const message = messageFromItem(post, ticket.id, BOT.xUserId);
    const redaction = { ...ticket, sequence: 2, lastChange: { type: 'ticket.message_redacted' as const, at: ticket.createdAt, messageXId: post.xId } };
    expect(await store.redactMessage(redaction, 1, post.xId, ticket.createdAt, message)).toBe('message_exists');
    expect(await rawItem(keys.message(post.xId))).toMatchObject({ text: post.text, redacted: false });
    // The row is still an ordinary message, so the real delete redacts it in place.
    expect(await ingestItem(deleteOf(post), deps)).toMatchObject({ outcome: 'redacted', sequence: 2 });
  });
});
