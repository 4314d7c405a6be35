// The channel's health (contract §4, `channel.health_changed`): one change is one event, the same status is never
// announced twice, a condition that clears brings the channel back to ok with an event, and the event travels the
// ticket events' road (stream → delivery → retry queue) with an id derived from the data.
import { marshall } from '@aws-sdk/util-dynamodb';
import type { DynamoDBRecord } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { ticketChanges } from '../../functions/notify/handler';
import { channelToItem } from '../../shared/aws/items';
import {
  APP_REVOKED,
  appRevoked,
  READ_BUDGET_SPENT,
  readBudgetWatch,
  reconcileHealth,
  WEBHOOK_MISS_RUNS,
  type ChannelHealth,
} from '../../shared/channel/channel-health';
import { channelHealthEventSchema, toChannelEvent, type HelpdeskEvent } from '../../shared/helpdesk/events';
import { notifyTicketChanges, retryTicketEvents, type NotifyDeps } from '../../shared/helpdesk/notify';
import type { OutgoingMessage } from '../../shared/aws/sqs-queue';
import type { DeliveryResult } from '../../shared/helpdesk/delivery';
import { ingestItem, type IngestDeps } from '../../shared/tickets/ingest';
import { xReads } from '../../shared/x/x-reads';
import { memoryChannelHealthStore, memoryTicketStore } from '../support/memory-ticket-store';
import { memoryReadCounter } from '../support/memory-x-cache';

const BRAND = 'acme';
const at = (iso: string) => () => new Date(iso);

describe('channel state transitions', () => {
  it('the same status twice is one change (one event); a milder condition never hides a worse one', async () => {
    const store = memoryChannelHealthStore(BRAND);
    expect(await store.raise(APP_REVOKED, '2026-12-01T10:00:00.000Z')).toBe('changed');
    expect(await store.raise(APP_REVOKED, '2026-12-01T10:00:05.000Z')).toBe('unchanged');
    expect(await store.raise(READ_BUDGET_SPENT, '2026-12-01T10:00:06.000Z')).toBe('unchanged');
    expect(store.changes).toEqual([
      {
        brand: BRAND,
        status: 'down',
        reason: 'app_revoked',
        detail: APP_REVOKED.detail,
        sequence: 1,
        lastChange: { at: '2026-12-01T10:00:00.000Z', previousStatus: 'ok' },
      },
    ]);
  });

  it('back to ok is a change with its own event; clearing a condition the channel does not report changes nothing', async () => {
    const store = memoryChannelHealthStore(BRAND);
    await store.raise(READ_BUDGET_SPENT, '2026-12-01T22:00:00.000Z');
    expect(await store.clear({ reason: 'app_revoked' }, 'x', '2026-12-02T00:00:01.000Z')).toBe('unchanged');
    expect(await store.clear({ reason: 'read_budget_spent' }, 'budget back', '2026-12-02T00:00:01.000Z')).toBe('changed');
    expect(await store.clear({ reason: 'read_budget_spent' }, 'budget back', '2026-12-02T00:00:02.000Z')).toBe('unchanged');
    expect(store.changes.map((c) => [c.status, c.reason, c.sequence, c.lastChange.previousStatus])).toEqual([
      ['degraded', 'read_budget_spent', 1, 'ok'],
      ['ok', 'recovered', 2, 'degraded'],
    ]);
  });

  it('a revoke redelivered any number of times sets the channel down once', async () => {
    const channel = memoryChannelHealthStore(BRAND);
    const deps: IngestDeps = {
      store: memoryTicketStore(),
      brand: BRAND,
      botUserId: '1602999888777666555',
      botUsername: 'AcmeSupport',
      windows: { mentionMergeHours: 24, reopenHours: 168 },
      now: at('2026-12-01T10:00:00.000Z'),
      channel,
    };
    const revoke = {
      kind: 'revoke' as const,
      format: 'xaa' as const,
      xId: '1602999888777666555',
      revokedAt: '2026-12-01T09:59:58.000Z',
      via: 'oauth.revoke',
      receivedAt: '2026-12-01T09:59:59.000Z',
    };
    expect(await ingestItem(revoke, deps)).toEqual({ outcome: 'revoked', xId: revoke.xId, channel: 'changed' });
    expect(await ingestItem(revoke, deps)).toEqual({ outcome: 'revoked', xId: revoke.xId, channel: 'unchanged' });
    expect(channel.changes.map((c) => c.status)).toEqual(['down']);
    expect(await appRevoked({ store: channel, now: at('2026-12-01T11:00:00.000Z') })).toBe('unchanged');
  });
});

describe('the read budget and the channel', () => {
  it('a refused reservation degrades the channel once a day; the first granted one of a new day brings it back', async () => {
    const channel = memoryChannelHealthStore(BRAND);
    let now = new Date('2026-12-01T20:00:00.000Z');
    const reads = xReads({
      x: {
        users: async (ids) => ({ users: ids.map((id) => ({ xUserId: id, username: `u${id}`, name: `U ${id}`, profile: {} })), notFound: [] }),
        posts: async () => ({ posts: [], users: [], notFound: [] }),
      },
      counter: memoryReadCounter(),
      budgetPerDay: 2,
      now: () => now,
      metrics: { made: () => undefined, refused: () => undefined, costUsd: () => undefined },
      budget: readBudgetWatch({ store: channel, now: () => now }),
    });
    expect((await reads.users(['1', '2'])).found.size).toBe(2);
    expect(channel.changes).toEqual([]);
    expect((await reads.users(['3'])).refused).toEqual(['3']);
    expect((await reads.users(['4'])).refused).toEqual(['4']);
    expect(channel.changes.map((c) => [c.status, c.reason])).toEqual([['degraded', 'read_budget_spent']]);

    now = new Date('2026-12-02T00:05:00.000Z');
    expect((await reads.users(['5'])).found.size).toBe(1);
    await reads.users(['6']);
    expect(channel.changes.map((c) => [c.status, c.reason, c.sequence])).toEqual([
      ['degraded', 'read_budget_spent', 1],
      ['ok', 'recovered', 2],
    ]);
  });

  it("reads given back the day the budget was spent do not clear it: only a new UTC day's reservation does", async () => {
    const channel = memoryChannelHealthStore(BRAND);
    let now = new Date('2026-12-01T20:00:00.000Z');
    const watch = readBudgetWatch({ store: channel, now: () => now });
    await watch.spent('2026-12-01');
    now = new Date('2026-12-01T21:00:00.000Z');
    await watch.available('2026-12-01');
    expect((await channel.getChannel())?.status).toBe('degraded');
    now = new Date('2026-12-02T00:00:01.000Z');
    await watch.available('2026-12-02');
    expect((await channel.getChannel())?.status).toBe('ok');
    expect(channel.changes).toHaveLength(2);
  });

  it('a failure to record the channel never fails the read', async () => {
    const broken = {
      getChannel: async () => undefined,
      raise: async () => Promise.reject(new Error('table down')),
      clear: async () => Promise.reject(new Error('table down')),
    };
    const reads = xReads({
      x: { users: async () => ({ users: [], notFound: ['1'] }), posts: async () => ({ posts: [], users: [], notFound: [] }) },
      counter: memoryReadCounter(),
      budgetPerDay: 0,
      now: at('2026-12-01T20:00:00.000Z'),
      metrics: { made: () => undefined, refused: () => undefined, costUsd: () => undefined },
      budget: readBudgetWatch({ store: broken, now: at('2026-12-01T20:00:00.000Z') }),
    });
    expect((await reads.users(['1'])).refused).toEqual(['1']);
  });
});

const DOWN: ChannelHealth = {
  brand: BRAND,
  status: 'down',
  reason: 'app_revoked',
  detail: APP_REVOKED.detail,
  sequence: 3,
  lastChange: { at: '2026-12-01T10:00:00.000Z', previousStatus: 'ok' },
};

describe('channel.health_changed', () => {
  it('matches its published schema, with no ticket and an id derived from the sequence', () => {
    const event = toChannelEvent(DOWN);
    expect(event.webhookId).toBe('evt_channel_3');
    expect(channelHealthEventSchema.parse(event.body)).toEqual(event.body);
    expect(event.body).toEqual({
      type: 'channel.health_changed',
      timestamp: '2026-12-01T10:00:00.000Z',
      data: { channel: { brand: BRAND, status: 'down', reason: 'app_revoked', detail: APP_REVOKED.detail, previousStatus: 'ok', sequence: 3 } },
    });
    expect(event.body.data).not.toHaveProperty('ticket');
  });

  it('the stream record of the channel item becomes the event; a write that did not move the sequence none', async () => {
    const record = (sequence: number, previous?: number): DynamoDBRecord => ({
      eventName: 'MODIFY',
      eventSource: 'aws:dynamodb',
      dynamodb: {
        SequenceNumber: String(100 + sequence),
        NewImage: marshall(channelToItem({ ...DOWN, sequence })) as never,
        ...(previous === undefined ? {} : { OldImage: marshall(channelToItem({ ...DOWN, sequence: previous })) as never }),
      },
    });
    const changes = ticketChanges([record(3, 2), record(3, 3)]);
    expect(changes).toEqual([
      { recordId: '103', channel: { ...DOWN, sequence: 3 }, previousSequence: 2 },
      { recordId: '103', channel: { ...DOWN, sequence: 3 }, previousSequence: 3 },
    ]);
    const { deps, delivered } = notifyFakes(() => ({ ok: true, status: 204 }));
    expect(await notifyTicketChanges(changes, deps)).toEqual({ failedRecordIds: [] });
    expect(delivered.map((e) => e.webhookId)).toEqual(['evt_channel_3']);
  });

  it('a failed delivery goes to the retry queue and is sent again with the same id and bytes', async () => {
    let fail = true;
    const { deps, attempts, sent } = notifyFakes(() => (fail ? { ok: false, reason: 'HTTP 503', status: 503 } : { ok: true, status: 204 }));
    expect(await notifyTicketChanges([{ recordId: '1', channel: DOWN, previousSequence: 2 }], deps)).toEqual({ failedRecordIds: [] });
    expect(sent).toHaveLength(1);
    fail = false;
    const result = await retryTicketEvents([{ messageId: 'm1', receiptHandle: 'r1', receiveCount: 1, body: sent[0]!.body }], deps);
    expect(result).toEqual({ failedMessageIds: [] });
    expect(attempts.map((e) => e.webhookId)).toEqual(['evt_channel_3', 'evt_channel_3']);
    expect(JSON.stringify(attempts[1]!.body)).toBe(JSON.stringify(attempts[0]!.body));
  });
});

function notifyFakes(script: (event: HelpdeskEvent) => DeliveryResult) {
  const attempts: HelpdeskEvent[] = [];
  const delivered: HelpdeskEvent[] = [];
  const sent: Omit<OutgoingMessage, 'id'>[] = [];
  const deps: NotifyDeps = {
    reader: {
      getMessage: async () => undefined,
      getReply: async () => undefined,
      currentMessage: async () => undefined,
    },
    retryQueue: {
      async send(m) {
        sent.push(m);
      },
      async delay() {},
    },
    async deliver(event) {
      attempts.push(event);
      const result = script(event);
      if (result.ok) delivered.push(event);
      return result;
    },
    now: () => new Date('2026-12-01T10:00:01.000Z'),
    retryDelaySeconds: () => 1,
  };
  return { deps, attempts, delivered, sent };
}

describe('what a reconciliation run tells the channel', () => {
  const news = { startedAt: '2026-12-01T10:00:00.000Z', readOk: false, webhookMissRuns: 0, webhookKeptUp: false };

  it('a read X answered clears a revoke found before the run began, never one found while it ran', async () => {
    const store = memoryChannelHealthStore(BRAND);
    await store.raise(APP_REVOKED, '2026-12-01T10:00:01.000Z');
    // The revoke arrived while the run's read was on its way: the read does not prove access.
    await reconcileHealth({ store, now: at('2026-12-01T10:00:02.000Z') }, { ...news, readOk: true });
    expect((await store.getChannel())?.status).toBe('down');
    // The next run began after it: its read does.
    await reconcileHealth({ store, now: at('2026-12-01T10:05:02.000Z') }, { ...news, startedAt: '2026-12-01T10:05:00.000Z', readOk: true });
    expect(await store.getChannel()).toMatchObject({ status: 'ok', reason: 'recovered', sequence: 2 });
  });

  it('a refusal names its condition; a read does not clear a missing webhook, nor a run that saw no mention', async () => {
    const store = memoryChannelHealthStore(BRAND);
    await reconcileHealth({ store, now: at('2026-12-01T10:00:01.000Z') }, { ...news, refusal: 'unauthorized' });
    expect(await store.getChannel()).toMatchObject({ status: 'down', reason: 'credentials_refused' });
    await reconcileHealth({ store, now: at('2026-12-01T10:05:01.000Z') }, { ...news, startedAt: '2026-12-01T10:05:00.000Z', readOk: true });
    await reconcileHealth({ store, now: at('2026-12-01T10:10:01.000Z') }, { ...news, startedAt: '2026-12-01T10:10:00.000Z', readOk: true, webhookMissRuns: WEBHOOK_MISS_RUNS - 1 });
    expect((await store.getChannel())?.status).toBe('ok');
    await reconcileHealth({ store, now: at('2026-12-01T10:15:01.000Z') }, { ...news, startedAt: '2026-12-01T10:15:00.000Z', readOk: true, webhookMissRuns: WEBHOOK_MISS_RUNS });
    expect(await store.getChannel()).toMatchObject({ status: 'degraded', reason: 'webhook_missing_items' });
    await reconcileHealth({ store, now: at('2026-12-01T10:20:01.000Z') }, { ...news, startedAt: '2026-12-01T10:20:00.000Z', readOk: true });
    expect((await store.getChannel())?.reason).toBe('webhook_missing_items');
    await reconcileHealth({ store, now: at('2026-12-01T10:25:01.000Z') }, { ...news, startedAt: '2026-12-01T10:25:00.000Z', readOk: true, webhookKeptUp: true });
    expect(await store.getChannel()).toMatchObject({ status: 'ok', reason: 'recovered' });
  });

  it('a store that fails is logged, never thrown into the run', async () => {
    const store = memoryChannelHealthStore(BRAND);
    const broken = { ...store, raise: () => Promise.reject(new Error('table unreachable')) };
    await expect(reconcileHealth({ store: broken, now: at('2026-12-01T10:00:00.000Z') }, { ...news, refusal: 'credits_depleted' })).resolves.toBeUndefined();
  });
});
