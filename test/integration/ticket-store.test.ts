// The DynamoDB ticket store's conditions on DynamoDB Local, where the in-memory store of the unit tests only mimics
// them: a new ticket's two puts, what a refused put reports, a delete crossing the opening of a ticket, and an edited
// post's message with its aliases.
import { GetItemCommand, type ConsumedCapacity } from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dynamoTicketStore } from '../../shared/aws/dynamo-ticket-store';
import { keys } from '../../shared/aws/items';
import { ingestItem, type IngestDeps } from '../../shared/tickets/ingest';
import { messageFromItem, newTicket, ticketWithStatus } from '../../shared/tickets/rules';
import type { DynamoDBClient } from '../../shared/aws/sdk/client-dynamodb';
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

describe('an edited post: one message under its first version, an alias under each later one', () => {
  /** A mention and `n` edits of it, each listing every version so far, oldest first. */
  function chain(n: number): InboundPost[] {
    const first = mention();
    const versions = [first];
    for (let k = 1; k <= n; k++) {
      const xId = `${first.xId}${k}`;
      versions.push({ ...first, xId, editHistory: [...versions.map((v) => v.xId), xId], text: `${first.text} (edit ${k})` });
    }
    return versions;
  }

  it("in order: the first version's item holds the newest text, each later id an alias; every id reads the message", async () => {
    const [v0, v1, v2] = chain(2);
    expect(await ingestItem(v0!, deps)).toMatchObject({ outcome: 'created', sequence: 1 });
    expect(await ingestItem(v1!, deps)).toMatchObject({ outcome: 'edited', sequence: 2 });
    expect(await ingestItem(v2!, deps)).toMatchObject({ outcome: 'edited', sequence: 3 });
    expect(await rawItem(keys.message(v0!.xId))).toMatchObject({
      type: 'message',
      xId: v0!.xId,
      text: v2!.text,
      contentXId: v2!.xId,
      editHistory: [v0!.xId, v1!.xId, v2!.xId],
    });
    for (const v of [v1!, v2!]) expect(await rawItem(keys.message(v.xId))).toMatchObject({ type: 'alias', messageXId: v0!.xId });
    for (const v of [v0!, v1!, v2!]) expect(await store.getXItem(v.xId)).toMatchObject({ kind: 'message', message: { xId: v0!.xId, text: v2!.text } });
    const batch = await store.getXItems([v1!.xId, v2!.xId, `${v0!.xId}9`]);
    expect([...batch.keys()].sort()).toEqual([v1!.xId, v2!.xId].sort());
    expect(batch.get(v1!.xId)).toMatchObject({ kind: 'message', message: { xId: v0!.xId } });
    // Every redelivery, in any order, changes nothing more.
    for (const v of [v2!, v0!, v1!]) expect(await ingestItem(v, deps)).toMatchObject({ outcome: 'duplicate' });
    expect(await store.getTicket(`mn-${v0!.author.xUserId}-1`)).toMatchObject({ sequence: 3 });
    const view = await store.getTicketView(`mn-${v0!.author.xUserId}-1`);
    expect(view!.messages.map((m) => m.xId)).toEqual([v0!.xId]);
  });

  it('racing versions and copies end in one message with the newest text', async () => {
    const versions = chain(3);
    await Promise.all([...versions, ...versions, ...[...versions].reverse()].map((v) => ingestItem(v, deps)));
    const newest = versions.at(-1)!;
    const view = await store.getTicketView(`mn-${newest.author.xUserId}-1`);
    expect(view!.messages).toEqual([expect.objectContaining({ xId: versions[0]!.xId, text: newest.text, editHistory: newest.editHistory })]);
    expect(view!.ticket.sequence).toBeLessThanOrEqual(4);
  });

  it('a delete of a later version redacts the message and leaves no text, links or attachments in the table', async () => {
    const [v0, v1] = chain(1);
    await ingestItem({ ...v0!, links: [{ url: 'https://t.co/a', expandedUrl: 'https://acme.example/x', displayUrl: 'acme.example/x' }] }, deps);
    await ingestItem(
      { ...v1!, media: [{ mediaKey: '3_9', type: 'photo', url: 'https://pbs.twimg.com/media/e.jpg', requiresAuth: false }] },
      deps,
    );
    expect(await rawItem(keys.message(v0!.xId))).toMatchObject({ attachments: [{ id: 'att-3_9' }] });
    expect(await ingestItem(deleteOf(v1!), deps)).toMatchObject({ outcome: 'redacted', sequence: 3 });
    const stored = await rawItem(keys.message(v0!.xId));
    expect(stored).toMatchObject({ type: 'message', text: '', redacted: true, editHistory: [v0!.xId, v1!.xId] });
    for (const gone of ['links', 'attachments', 'quoted']) expect(stored).not.toHaveProperty(gone);
    expect(await ingestItem(v1!, deps)).toMatchObject({ outcome: 'ignored', reason: 'deleted' });
  });

  it('an alias never lands on a tombstone, and an edit written against a version no longer shown is refused', async () => {
    const [v0, v1, v2] = chain(2);
    await ingestItem(v0!, deps);
    const stored = (await store.getXItem(v0!.xId))!;
    if (stored.kind !== 'message') throw new Error('not stored');
    expect(await store.putTombstone(v1!.xId, v0!.author.xUserId, new Date().toISOString())).toBe('ok');
    const edited = { ...stored.message, text: 'x', editHistory: [v0!.xId, v1!.xId] };
    expect(await store.editMessage({ message: edited, expectedContentXId: v0!.xId, aliases: [v1!.xId] })).toBe('message_exists');
    expect(await rawItem(keys.message(v1!.xId))).toMatchObject({ type: 'tombstone' });
    expect(await rawItem(keys.message(v0!.xId))).toMatchObject({ text: v0!.text });
    const newer = { ...stored.message, text: 'y', editHistory: [v0!.xId, v2!.xId] };
    expect(await store.editMessage({ message: newer, expectedContentXId: v0!.xId, aliases: [v2!.xId] })).toBe('ok');
    expect(await store.editMessage({ message: { ...newer, text: 'z' }, expectedContentXId: v0!.xId, aliases: [v2!.xId] })).toBe('message_exists');
    expect(await rawItem(keys.message(v0!.xId))).toMatchObject({ text: 'y', contentXId: v2!.xId });
    // The delete that came first for v1 still reaches the chain: v1's delivery names it and redacts.
    expect(await ingestItem(v1!, deps)).toMatchObject({ outcome: 'redacted' });
  });

  it('an edit costs one transaction: the ticket, the message and one alias per new version', async () => {
    const capacity: { command: string; units: number }[] = [];
    const client = bridge.clients.dynamodb;
    const counting = new Proxy(client, {
      get(target, property, receiver) {
        if (property !== 'send') return Reflect.get(target, property, receiver) as unknown;
        return async (command: Parameters<DynamoDBClient['send']>[0]) => {
          const result = (await target.send(command)) as { ConsumedCapacity?: ConsumedCapacity | ConsumedCapacity[] };
          const consumed = result.ConsumedCapacity;
          const units = (Array.isArray(consumed) ? consumed : consumed ? [consumed] : []).reduce((sum, c) => sum + (c.CapacityUnits ?? 0), 0);
          capacity.push({ command: command.constructor.name, units });
          return result;
        };
      },
    }) as DynamoDBClient;
    const measured = { ...deps, store: dynamoTicketStore(counting, bridge.resources.tableName) };
    const [v0, v1] = chain(1);
    await ingestItem(v0!, measured);
    capacity.length = 0;
    expect(await ingestItem(v1!, measured)).toMatchObject({ outcome: 'edited' });
    const writes = capacity.filter((c) => /Put|Transact|Update/.test(c.command));
    const write = writes.reduce((sum, c) => sum + c.units, 0);
    const read = capacity.filter((c) => !writes.includes(c)).reduce((sum, c) => sum + c.units, 0);
    expect(writes.map((c) => c.command)).toEqual(['TransactWriteItemsCommand']);
    // A transaction writes each item at 2 WCU per KB: ticket, message and alias, each under 1 KB here.
    expect(write).toBe(6);
    // Reads: every version's id in one consistent batch (the absent ones are free), then the ticket.
    expect(read).toBe(2);
  });
});
