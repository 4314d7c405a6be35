// Property-based tests of the promise "nothing a customer wrote is lost or doubled, nothing an agent wrote is posted
// twice", on the real normaliser, ingest use case and reply use cases over the in-memory store (same conditional
// semantics as DynamoDB). fast-check generates histories (test/reliability/support/ticket-scenarios.ts) and the ways X
// can deliver them: copies, both webhook formats, any interleaving, concurrent workers, crashes at any store call.
//
// What is promised, precisely:
// - Causal delivery (each reply, brand post and delete after the first delivery of what it refers to; any number of
//   copies; any format; any interleaving otherwise): the same tickets, messages, replies and per-ticket change counts
//   as one in-order pass. The order a reply and its parent arrive in is not free: a reply whose parent is unknown is
//   a new mention by the contract's rule 3, so that is the one order the bridge depends on.
// - Any order at all: never a doubled message or ticket, every customer item stored once (or redacted / tombstoned
//   when deleted), every agent reply posted once and recorded once, and one change (one event) per sequence number.
import * as fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { postReply } from '../../shared/replies/post-reply';
import { requestReply } from '../../shared/replies/request-reply';
import type { TicketStore } from '../../shared/tickets/ticket-store';
import type { InboundEvent } from '../../shared/x/inbound-event';
import { normaliseWebhookBody } from '../../shared/x/normalise';
import type { MemoryTicketStore } from '../support/memory-ticket-store';
import { aaaDelete, aaaDm, aaaMention, BOT, xaaDelete, xaaDm, xaaMention, xaaReply, type XUserRef } from '../support/x-payloads';
import {
  createHarness,
  CUSTOMERS,
  deliveryArb,
  historyArb,
  lateDuplicates,
  observable,
  outboxProblems,
  referenceSchedule,
  replyOf,
  schedule,
  type AgentReply,
  type Format,
  type Harness,
  type History,
  type Step,
} from './support/ticket-scenarios';

// Seeded from the environment when set, so a CI failure can be replayed: FC_SEED=<seed printed in the failure>.
// FC_RUNS_SCALE=10 runs every property ten times as often, for a deeper search than CI's.
const seed = process.env.FC_SEED ? Number(process.env.FC_SEED) : undefined;
const scale = Number(process.env.FC_RUNS_SCALE ?? 1) || 1;
const runs = (n: number) => ({ numRuns: Math.ceil(n * scale), ...(seed !== undefined ? { seed } : {}) });

const ctx = { botUserId: BOT.id, botUsername: BOT.username, receivedAt: '2026-11-16T14:05:09.000Z' };

async function play(harness: Harness, steps: Step[]): Promise<void> {
  for (const step of steps) await harness.play(step);
}

async function reference(history: History, mentionMergeHours = 24) {
  const harness = createHarness(history, { mentionMergeHours });
  await play(harness, referenceSchedule(history));
  return harness;
}

/** What must hold whatever the delivery order (see the header). */
function anyOrderProblems(history: History, store: MemoryTicketStore, x: Harness['x']): string[] {
  const problems = outboxProblems(store);
  for (const item of history.items) {
    if (item.kind === 'delete') continue;
    const stored = store.xItems.get(item.xId);
    if (item.by === 'customer') {
      if (item.deletedBy) {
        const gone = stored?.kind === 'tombstone' || (stored?.kind === 'message' && stored.message.redacted && stored.message.text === '');
        if (!gone) problems.push(`deleted ${item.kind} ${item.xId} is still readable: ${JSON.stringify(stored)}`);
      } else if (stored?.kind !== 'message' || stored.message.redacted || stored.message.direction !== 'inbound') {
        problems.push(`customer ${item.kind} ${item.xId} is not stored as an inbound message: ${JSON.stringify(stored)}`);
      }
    } else if (stored && (stored.kind !== 'message' || stored.message.direction !== 'outbound')) {
      problems.push(`brand ${item.kind} ${item.xId} is stored as ${JSON.stringify(stored)}`);
    }
  }
  for (const agent of history.agentReplies) {
    const reply = replyOf(store, agent);
    if (!reply) continue; // the helpdesk could not reply: checked by the causal property, which always can
    if (reply.reply.status !== 'posted' || reply.reply.xId !== agent.xId) problems.push(`${agent.key} ended ${reply.reply.status} ${reply.reply.xId}`);
    const onX = x.posts.filter((p) => p.text === agent.text).length;
    if (onX !== 1) problems.push(`${agent.key} was posted on X ${onX} times`);
    const recorded = [...store.xItems.values()].filter((i) => i.kind === 'message' && i.message.replyId === reply.reply.id);
    if (recorded.length !== 1 || store.xItems.get(agent.xId)?.kind !== 'message') {
      problems.push(`${agent.key} is recorded as ${recorded.length} outbound message(s)`);
    }
  }
  // With a 24 h merge window and a 20 h history, a customer has at most one ticket per channel (until an agent solves
  // one: then a new mention rightly opens the next): any more is a double.
  for (const customer of history.statusChanges.length > 0 ? [] : CUSTOMERS) {
    for (const channel of ['mention', 'dm'] as const) {
      const own = [...store.tickets.values()].filter((t) => t.customer.xUserId === customer.id && t.channel === channel);
      if (own.length > 1) problems.push(`${customer.username} has ${own.length} ${channel} tickets: ${own.map((t) => t.id)}`);
    }
  }
  // One change per message joined and per redaction: the events the helpdesk gets match what is stored.
  for (const ticket of store.tickets.values()) {
    const messages = [...store.xItems.values()].flatMap((i) => (i.kind === 'message' && i.message.ticketId === ticket.id ? [i.message] : []));
    const changes = store.changes.filter((c) => c.id === ticket.id).map((c) => c.lastChange.type);
    const joined = changes.filter((t) => MESSAGE_CHANGES.has(t)).length;
    const redactions = changes.filter((t) => t === 'ticket.message_redacted').length;
    if (joined !== messages.length) problems.push(`${ticket.id}: ${messages.length} messages but ${joined} message changes`);
    if (redactions !== messages.filter((m) => m.redacted).length) problems.push(`${ticket.id}: redactions and redacted messages differ`);
  }
  return problems;
}

/** The changes that each add one message to a ticket. */
const MESSAGE_CHANGES = new Set(['ticket.created', 'ticket.message_added', 'ticket.reopened', 'ticket.reply_posted']);

const explain = (harness: Harness) => `\nschedule:\n  ${harness.trace.join('\n  ')}`;

describe('normaliser: one post, two formats', () => {
  const handle = fc.stringMatching(/^[A-Za-z0-9_]{1,15}$/);
  const user: fc.Arbitrary<XUserRef> = fc.record({
    id: fc.bigInt({ min: 1n, max: 99_999_999_999_999_999n }).map(String),
    username: handle,
    name: fc.string({ unit: 'binary', maxLength: 20 }),
  });
  const whenever = fc.integer({ min: Date.parse('2007-01-01'), max: Date.parse('2030-01-01') }).map((ms) => new Date(Math.floor(ms / 1000) * 1000));
  const text = fc.oneof(
    fc.string({ unit: 'binary', maxLength: 60 }),
    fc.string({ unit: fc.constantFrom('&', '<', '>', '@AcmeSupport', '@acmesupport ', ' ', 'x', '🚀', '\uDC00', '&amp;'), maxLength: 12 }),
  );
  const xid = fc.bigInt({ min: 1n, max: 9_999_999_999_999_999_999n }).map(String);
  /** Everything the two formats must agree on: the normalised event minus where and when it was received. */
  const comparable = (event: InboundEvent | undefined) => {
    if (!event) return undefined;
    // conversationId exists only in v2 posts (XAA): v1.1 objects (AAA) carry none; nothing decides on it.
    const { format: _f, via: _v, receivedAt: _r, ...rest } = event as InboundEvent & { conversationId?: string };
    delete (rest as { conversationId?: string }).conversationId;
    return rest;
  };

  it('the same post as an X Activity API event and as an Account Activity API event normalises to the same item', () => {
    fc.assert(
      fc.property(
        fc.record({
          id: xid,
          author: fc.oneof(user, fc.constant(BOT)),
          text,
          createdAt: whenever,
          inReplyTo: fc.option(fc.record({ id: xid, user: fc.oneof(user, fc.constant(BOT)) }), { nil: undefined }),
          quotedId: fc.option(xid, { nil: undefined }),
        }),
        (options) => {
          const clean = Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)) as typeof options;
          const xaa = normaliseWebhookBody(clean.inReplyTo ? xaaReply({ ...clean, inReplyTo: clean.inReplyTo }) : xaaMention(clean), ctx);
          const aaa = normaliseWebhookBody(aaaMention(clean), ctx);
          expect(xaa.events).toHaveLength(1);
          expect(comparable(aaa.events[0])).toEqual(comparable(xaa.events[0]));
        },
      ),
      runs(300),
    );
  });

  it('the same DM, and the same delete, normalise to the same item in both formats', () => {
    fc.assert(
      fc.property(user, text, whenever, xid, fc.boolean(), (customer, dmText, createdAt, id, fromBot) => {
        const dm = fromBot ? { id, sender: BOT, recipient: customer, text: dmText, createdAt } : { id, sender: customer, recipient: BOT, text: dmText, createdAt };
        const [fromXaa] = normaliseWebhookBody(xaaDm(dm), ctx).events;
        const [fromAaa] = normaliseWebhookBody(aaaDm(dm), ctx).events;
        expect(fromXaa).toBeDefined();
        expect(comparable(fromAaa)).toEqual(comparable(fromXaa));

        const [xaaDeleted] = normaliseWebhookBody(xaaDelete({ id, authorId: customer.id }), ctx).events;
        const [aaaDeleted] = normaliseWebhookBody(aaaDelete({ id, authorId: customer.id, deletedAt: createdAt }), ctx).events;
        // post.delete carries no time of its own, so deletedAt is the receive time there: compare the rest.
        const { deletedAt: _a, ...xaaRest } = comparable(xaaDeleted) as Record<string, unknown>;
        const { deletedAt: _b, ...aaaRest } = comparable(aaaDeleted) as Record<string, unknown>;
        expect(aaaRest).toEqual(xaaRest);
      }),
      runs(200),
    );
  });

  it('never throws, and accounts for every body, whatever JSON a signed delivery carries', () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 6 }), (body) => {
        const result = normaliseWebhookBody(body, ctx);
        const accounted = result.events.length + Object.values(result.ignored).reduce((sum, n) => sum + (n ?? 0), 0);
        expect(accounted).toBeGreaterThan(0);
      }),
      runs(500),
    );
  });
});

describe('ticket rules under redelivery and reordering', () => {
  it('causal delivery with duplicates, both formats and any interleaving gives the tickets of one in-order pass', async () => {
    await fc.assert(
      fc.asyncProperty(
        historyArb().chain((history) => fc.tuple(fc.constant(history), deliveryArb(history))),
        async ([history, delivery]) => {
          const expected = await reference(history);
          const harness = createHarness(history);
          await play(harness, schedule(history, delivery, true));
          expect(observable(harness.store), explain(harness)).toEqual(observable(expected.store));
          expect(outboxProblems(harness.store)).toEqual([]);
        },
      ),
      runs(300),
    );
  });

  it('with a merge window of 0 (every mention its own ticket) the same holds up to how tickets are numbered', async () => {
    await fc.assert(
      fc.asyncProperty(
        historyArb().chain((history) => fc.tuple(fc.constant(history), deliveryArb(history))),
        async ([history, delivery]) => {
          const expected = await reference(history, 0);
          const harness = createHarness(history, { mentionMergeHours: 0 });
          await play(harness, schedule(history, delivery, true));
          expect(observable(harness.store, { renameTickets: true }), explain(harness)).toEqual(
            observable(expected.store, { renameTickets: true }),
          );
          expect(outboxProblems(harness.store)).toEqual([]);
        },
      ),
      runs(100),
    );
  });

  it('in any order at all: nothing lost, nothing doubled, every agent reply posted and recorded once', async () => {
    await fc.assert(
      fc.asyncProperty(
        historyArb(18, { statusChanges: true }).chain((history) => fc.tuple(fc.constant(history), deliveryArb(history))),
        async ([history, delivery]) => {
          const harness = createHarness(history);
          await play(harness, schedule(history, delivery, false));
          expect(anyOrderProblems(history, harness.store, harness.x), explain(harness)).toEqual([]);
        },
      ),
      runs(300),
    );
  });

  it('with agents changing statuses, duplicates delivered late (after solves, reopens and replies) change nothing', async () => {
    await fc.assert(
      fc.asyncProperty(
        historyArb(18, { statusChanges: true }).chain((history) => fc.tuple(fc.constant(history), deliveryArb(history))),
        async ([history, delivery]) => {
          const expected = await reference(history);
          const harness = createHarness(history);
          await play(harness, lateDuplicates(history, delivery));
          expect(observable(harness.store), explain(harness)).toEqual(observable(expected.store));
          expect(outboxProblems(harness.store)).toEqual([]);
        },
      ),
      runs(300),
    );
  });

  it("an echo arriving while the worker waits for X's answer settles the reply once, as the worker would have", async () => {
    await fc.assert(
      fc.asyncProperty(
        historyArb().filter((h) => h.agentReplies.length > 0),
        fc.constantFrom<Format>('xaa', 'aaa'),
        async (history, format) => {
          const expected = await reference(history);
          const harness = createHarness(history, { echoDuringPost: new Map(history.agentReplies.map((a) => [a.key, format])) });
          await play(harness, referenceSchedule(history));
          expect(observable(harness.store), explain(harness)).toEqual(observable(expected.store));
          expect(harness.x.posts).toHaveLength(history.agentReplies.length);
        },
      ),
      runs(100),
    );
  });
});

describe('concurrent workers', () => {
  it('batches of deliveries racing on the store (duplicates included) end as one in-order pass', async () => {
    await fc.assert(
      fc.asyncProperty(
        historyArb(14).chain((history) => fc.tuple(fc.constant(history), deliveryArb(history), fc.array(fc.integer({ min: 1, max: 6 }), { minLength: 60, maxLength: 60 }))),
        fc.scheduler(),
        async ([history, delivery, batchSizes], s) => {
          const expected = await reference(history);
          // Every store call waits for the scheduler before it takes effect: fast-check picks which worker goes next.
          const harness = createHarness(history, { wrap: (store) => scheduled(store, s) });
          const steps = schedule(history, delivery, true);
          for (const batch of batches(history, steps, batchSizes)) {
            await s.waitFor(Promise.all(batch.map((step) => harness.play(step))));
          }
          expect(observable(harness.store), `${s.report().map((r) => r.label).join(' | ')}${explain(harness)}`).toEqual(observable(expected.store));
          expect(outboxProblems(harness.store)).toEqual([]);
        },
      ),
      runs(150),
    );
  });
});

describe('a worker killed at any step', () => {
  it('ingest or reply worker dies before or after any store call: the redelivery ends as if it never died', async () => {
    await fc.assert(
      fc.asyncProperty(
        historyArb(18, { statusChanges: true }),
        fc.nat(200),
        fc.integer({ min: 1, max: 12 }),
        fc.constantFrom<'before' | 'after'>('before', 'after'),
        fc.boolean(),
        async (history, pick, callNumber, when, echoWhilePosting) => {
          const expected = await reference(history);
          const killer = { armed: false, calls: 0, killed: false };
          const harness = createHarness(history, {
            wrap: (store) => crashing(store, killer, callNumber, when),
            ...(echoWhilePosting ? { echoDuringPost: new Map(history.agentReplies.map((a) => [a.key, 'aaa' as const])) } : {}),
          });
          const steps = referenceSchedule(history);
          const victim = pick % steps.length;
          for (const [index, step] of steps.entries()) {
            if (index !== victim) {
              await harness.play(step);
              continue;
            }
            killer.armed = true;
            try {
              await harness.play(step);
            } catch (error) {
              if (!(error instanceof WorkerKilled)) throw error;
            }
            killer.armed = false;
            // SQS hands the message to another worker after the visibility timeout (or the helpdesk retries).
            if (step.type === 'agent') await redeliverAgentReply(harness, history.agentReplies.find((a) => a.key === step.key)!);
            else await harness.play(step);
          }
          expect(observable(harness.store), `killed at step ${victim}, ${when} call ${callNumber}${explain(harness)}`).toEqual(
            observable(expected.store),
          );
          for (const agent of history.agentReplies) expect(harness.x.posts.filter((p) => p.text === agent.text)).toHaveLength(1);
          expect(outboxProblems(harness.store)).toEqual([]);
        },
      ),
      runs(400),
    );
  });
});

class WorkerKilled extends Error {}

/** A store whose `callNumber`-th call while armed kills the worker, before or after the call takes effect. */
function crashing(store: TicketStore, killer: { armed: boolean; calls: number; killed: boolean }, callNumber: number, when: 'before' | 'after'): TicketStore {
  return new Proxy(store, {
    get(target, property, receiver) {
      const value = Reflect.get(target, property, receiver) as unknown;
      if (typeof value !== 'function') return value;
      return async (...args: unknown[]) => {
        const doomed = killer.armed && !killer.killed && ++killer.calls === callNumber;
        if (doomed && when === 'before') {
          killer.killed = true;
          throw new WorkerKilled(`killed before ${String(property)}`);
        }
        const result = await (value as (...a: unknown[]) => Promise<unknown>).apply(target, args);
        if (doomed) {
          killer.killed = true;
          throw new WorkerKilled(`killed after ${String(property)}`);
        }
        return result;
      };
    },
  });
}

/** A store whose every call waits for the fast-check scheduler before taking effect. */
function scheduled(store: TicketStore, s: fc.Scheduler): TicketStore {
  return new Proxy(store, {
    get(target, property, receiver) {
      const value = Reflect.get(target, property, receiver) as unknown;
      if (typeof value !== 'function') return value;
      return async (...args: unknown[]) => {
        await s.schedule(Promise.resolve(), String(property));
        return (value as (...a: unknown[]) => Promise<unknown>).apply(target, args);
      };
    },
  });
}

/**
 * Cuts a causal schedule into batches handled concurrently, as SQS pollers would. A step never shares a batch with the
 * first run of what it depends on: causality means "after it was processed", not "at the same time".
 */
function batches(history: History, steps: Step[], sizes: number[]): Step[][] {
  const dependency = (step: Step): string | undefined => {
    if (step.type === 'echo') return step.key;
    if (step.type === 'agent') return `x${history.agentReplies.find((a) => a.key === step.key)!.targetXId}`;
    if (step.type === 'status') return `x${history.statusChanges.find((c) => c.key === step.key)!.targetXId}`;
    return history.items.find((i) => i.key === step.key)!.dependsOn;
  };
  const out: Step[][] = [];
  let current: Step[] = [];
  let inCurrent = new Set<string>();
  let size = sizes[0] ?? 1;
  for (const step of steps) {
    const after = dependency(step);
    if (current.length >= size || (after !== undefined && inCurrent.has(after))) {
      out.push(current);
      current = [];
      inCurrent = new Set();
      size = sizes[out.length % sizes.length] ?? 1;
    }
    current.push(step);
    inCurrent.add(step.key);
  }
  if (current.length > 0) out.push(current);
  return out;
}

/**
 * The helpdesk asks again with the same Idempotency-Key, and the reply queue hands the reply to workers until it is
 * settled; each later attempt comes after the in-flight grace, as the queue's visibility timeout would space them.
 */
async function redeliverAgentReply(harness: Harness, agent: AgentReply): Promise<void> {
  const store = harness.deps.store;
  const now = () => new Date(harness.clock.now);
  const target = await store.getXItem(agent.targetXId);
  if (target?.kind !== 'message') throw new Error(`target ${agent.targetXId} missing`);
  const reply = await requestReply(
    target.message.ticketId,
    { text: agent.text, ...(agent.channel === 'mention' ? { inReplyToMessageId: `msg-${agent.targetXId}` } : {}) },
    agent.key,
    { store, enqueue: async () => undefined, now },
  );
  for (let attempt = 0; attempt < 5; attempt++) {
    harness.clock.now += 61_000;
    const outcome = await postReply(reply.id, { store, x: harness.x, bot: { xUserId: BOT.id, username: BOT.username }, now, inFlightGraceMs: 60_000 });
    if (outcome.outcome !== 'retry') return;
  }
  throw new Error(`${agent.key} was not settled after 5 attempts`);
}
