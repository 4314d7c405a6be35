// Property-based tests of the promise "nothing a customer wrote is lost or doubled, nothing an agent wrote is posted
// twice", on the real normaliser, ingest use case and reply use cases over both ticket stores: the in-memory store
// and the DynamoDB adapter on DynamoDB Local (a fresh table per run, deleted after it). fast-check generates histories
// (test/reliability/support/ticket-scenarios.ts, 17 events at the median) and the ways X can deliver them:
// copies, both webhook formats, any interleaving, concurrent workers, crashes at any store call. Every check reads a
// snapshot of the store (support/stores-under-test.ts): for DynamoDB a scan of the table and its stream, the outbox
// the helpdesk's events come from, so the same assertions judge both stores. The expected outcome is one in-order
// pass on the in-memory store, the model.
//
// DynamoDB Local spends milliseconds where the in-memory store spends microseconds, so it gets fewer runs (the
// `dynamodb` count of each `runsOn`) of the same properties. Two variables, for both stores:
// - FC_SEED=<seed printed in a failure> replays that failure (on DynamoDB, racing workers' real requests may still
//   interleave differently from one replay to the next);
// - FC_RUNS_SCALE=10 runs every property ten times as often, for a deeper search than CI's, and gives each test ten
//   times the time.
//
// What is promised, precisely:
// - Causal delivery (each reply, brand post and delete after the first delivery of what it refers to; any number of
//   copies; any format; any interleaving otherwise): the same tickets, messages, replies and per-ticket change counts
//   as one in-order pass. The order a reply and its parent arrive in is not free: a reply whose parent is unknown is
//   a new mention by the contract's rule 3, so that is the one order the bridge depends on.
// - Any order at all, with agents changing statuses, one worker or several racing: never a doubled message or ticket
//   (a customer's next ticket opens only when the ones before it were solved), every customer item stored once (or
//   redacted / tombstoned when deleted), the brand's own items recorded once what they answer is stored, every agent
//   reply posted once and recorded once, and one change (one event) per sequence number.
// - Edits (rule 9), in the histories above and on their own: whatever the order, copies, formats and racing workers,
//   an edited post is one message under its first version's id with the newest version's text, every version's id
//   finds it, and each `ticket.message_edited` announces a different, newer version; in order, one per version that
//   changed the text. A delete of any version leaves nothing of the chain readable.
import * as fc from 'fast-check';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { postReply } from '../../shared/replies/post-reply';
import { requestReply } from '../../shared/replies/request-reply';
import type { TicketStore } from '../../shared/tickets/ticket-store';
import { contentXIdOf } from '../../shared/tickets/model';
import type { InboundEvent } from '../../shared/x/inbound-event';
import { normaliseWebhookBody } from '../../shared/x/normalise';
import { aaaDelete, aaaDm, aaaMention, BOT, xaaDelete, xaaDm, xaaMention, xaaReply, type XUserRef } from '../support/x-payloads';
import { dynamoHome, memoryHome, type StoreHome, type StoreRun, type StoreSnapshot } from './support/stores-under-test';
import {
  createHarness,
  deliverBody,
  deliveryArb,
  editChains,
  historyArb,
  lateDuplicates,
  observable,
  outboxProblems,
  referenceSchedule,
  replyOf,
  schedule,
  ticketTimelineProblems,
  type AgentReply,
  type Format,
  type Harness,
  type History,
  type Step,
} from './support/ticket-scenarios';

const seed = process.env.FC_SEED ? Number(process.env.FC_SEED) : undefined;
const scale = Number(process.env.FC_RUNS_SCALE ?? 1) || 1;

/** fast-check's parameters for `n` runs (times FC_RUNS_SCALE), seeded when FC_SEED is set. */
const runs = (n: number) => ({ numRuns: Math.ceil(n * scale), ...(seed !== undefined ? { seed } : {}) });

/**
 * Each property's time on `home`, scaled with the runs: ten times or more what it takes on this 2-core machine when
 * idle, room for a machine shared with other test runs.
 */
const timeLimit = (home: StoreHome) => (home.kind === 'memory' ? 90_000 : 150_000) * scale;

/**
 * The parameters of a property run on `home`: its share of runs, and a time limit that also bounds shrinking, so a
 * failure on DynamoDB reports the smallest counterexample found in time rather than a bare test timeout. Running out
 * of time before every run passed is a failure too: fewer runs than asked are not a pass.
 */
function runsOn(home: StoreHome, counts: { memory: number; dynamodb: number }) {
  return { ...runs(counts[home.kind]), interruptAfterTimeLimit: timeLimit(home) - 15_000, markInterruptAsFailure: true };
}

const ctx = { botUserId: BOT.id, botUsername: BOT.username, receivedAt: '2026-11-16T14:05:09.000Z' };

async function play(harness: Harness, steps: Step[]): Promise<void> {
  for (const step of steps) await harness.play(step);
}

/** The expected outcome: one in-order pass of the history on the in-memory store, the model of both stores. */
async function reference(history: History, mentionMergeHours = 24): Promise<StoreSnapshot> {
  return onFreshStore(memoryHome(), async (run) => {
    await play(createHarness(history, run.store, { mentionMergeHours }), referenceSchedule(history));
    return run.snapshot();
  });
}

/** Runs `body` on a fresh, empty store of `home`, and removes the store afterwards, pass or fail. */
async function onFreshStore<T>(home: StoreHome, body: (run: StoreRun) => Promise<T>): Promise<T> {
  const run = await home.open();
  try {
    return await body(run);
  } finally {
    await run.close();
  }
}

/**
 * What must hold whatever the delivery order (see the header). `played` is the schedule as it ran: batches in order,
 * the steps of one batch concurrently when `racing`, else one step per batch.
 */
function anyOrderProblems(history: History, snapshot: StoreSnapshot, x: Harness['x'], played: Step[][], options: { racing?: boolean } = {}): string[] {
  const problems = [...outboxProblems(snapshot), ...ticketTimelineProblems(snapshot, options)];
  const firstBatch = (key: string) => played.findIndex((batch) => batch.some((step) => step.key === key));
  const lastBatch = (key: string) => played.findLastIndex((batch) => batch.some((step) => step.key === key));
  const chains = editChains(history);
  for (const item of history.items) {
    if (item.kind === 'delete') continue;
    // Edited posts are judged as chains, below.
    if (chains.has(item.editOf ?? item.xId)) continue;
    const stored = snapshot.xItems.get(item.xId);
    if (item.by === 'customer') {
      if (item.deletedBy) {
        const gone = stored?.kind === 'tombstone' || (stored?.kind === 'message' && stored.message.redacted && stored.message.text === '');
        if (!gone) problems.push(`deleted ${item.kind} ${item.xId} is still readable: ${JSON.stringify(stored)}`);
      } else if (stored?.kind !== 'message' || stored.message.redacted || stored.message.direction !== 'inbound') {
        problems.push(`customer ${item.kind} ${item.xId} is not stored as an inbound message: ${JSON.stringify(stored)}`);
      }
    } else {
      // The brand's own item is recorded in the thread it belongs to, and ignored when it arrives before anything of
      // that thread is stored: it must be there once a copy came after what it answers was stored.
      const anchor = history.items.find((i) => i.key === item.dependsOn);
      const anchored = anchor !== undefined && snapshot.xItems.get(anchor.xId)?.kind === 'message' && lastBatch(item.key) > firstBatch(anchor.key);
      if (stored ? stored.kind !== 'message' || stored.message.direction !== 'outbound' : anchored) {
        const found = stored ? `stored as ${JSON.stringify(stored)}` : `missing, though a copy came after ${anchor?.xId} was stored`;
        problems.push(`brand ${item.kind} ${item.xId} is ${found}`);
      }
    }
  }
  problems.push(...chainProblems(history, snapshot));
  for (const agent of history.agentReplies) {
    const reply = replyOf(snapshot, agent);
    if (!reply) {
      problems.push(`${agent.key} has no reply record`);
      continue;
    }
    if (reply.status !== 'posted' || reply.xId !== agent.xId) problems.push(`${agent.key} ended ${reply.status} ${reply.xId}`);
    const onX = x.posts.filter((p) => p.text === agent.text).length;
    if (onX !== 1) problems.push(`${agent.key} was posted on X ${onX} times`);
    const recorded = [...snapshot.xItems.values()].filter((i) => i.kind === 'message' && i.message.replyId === reply.id);
    if (recorded.length !== 1 || snapshot.xItems.get(agent.xId)?.kind !== 'message') {
      problems.push(`${agent.key} is recorded as ${recorded.length} outbound message(s)`);
    }
  }
  // One change per message joined and per redaction: the events the helpdesk gets match what is stored.
  for (const ticket of snapshot.tickets) {
    const messages = [...snapshot.xItems.values()].flatMap((i) => (i.kind === 'message' && i.message.ticketId === ticket.id ? [i.message] : []));
    const changes = snapshot.changes.filter((c) => c.id === ticket.id).map((c) => c.lastChange.type);
    const joined = changes.filter((t) => MESSAGE_CHANGES.has(t)).length;
    const redactions = changes.filter((t) => t === 'ticket.message_redacted').length;
    if (joined !== messages.length) problems.push(`${ticket.id}: ${messages.length} messages but ${joined} message changes`);
    if (redactions !== messages.filter((m) => m.redacted).length) problems.push(`${ticket.id}: redactions and redacted messages differ`);
  }
  return problems;
}

/** What the stored message of a version shows for its text: the text as the normaliser makes it. */
function normalisedText(item: { body: (format: Format) => Record<string, unknown> }): string {
  const [event] = normaliseWebhookBody(item.body('xaa'), ctx).events;
  if (event?.kind !== 'post') throw new Error('not a post');
  return event.text;
}

/**
 * Rule 9 for every edited post of a history, whatever order its versions came in (each delivered at least once): one
 * message under the first version's id, with the newest version's text and every version's id in its history, each
 * later id an alias of it, and no more edit events than versions after the first; or, when any version was deleted,
 * nothing of the chain readable.
 */
function chainProblems(history: History, snapshot: StoreSnapshot): string[] {
  const problems: string[] = [];
  const read = (xId: string) => snapshot.xItems.get(snapshot.aliases.get(xId) ?? xId);
  for (const [root, versions] of editChains(history)) {
    if (versions.some((v) => v.deletedBy)) {
      for (const v of versions) {
        const stored = read(v.xId);
        if (stored?.kind === 'message' && (!stored.message.redacted || stored.message.text !== '')) {
          problems.push(`version ${v.xId} of deleted post ${root} is still readable: ${JSON.stringify(stored)}`);
        }
      }
      continue;
    }
    const stored = snapshot.xItems.get(root);
    const newest = versions.at(-1)!;
    if (stored?.kind !== 'message' || stored.message.redacted) {
      problems.push(`edited post ${root} is not stored as a message: ${JSON.stringify(stored)}`);
      continue;
    }
    const message = stored.message;
    if (message.text !== normalisedText(newest)) problems.push(`edited post ${root} shows ${JSON.stringify(message.text)}, not its newest version's text`);
    if (JSON.stringify(message.editHistory) !== JSON.stringify(versions.map((v) => v.xId))) {
      problems.push(`edited post ${root} has history ${JSON.stringify(message.editHistory)}`);
    }
    for (const v of versions.slice(1)) {
      if (snapshot.xItems.has(v.xId)) problems.push(`version ${v.xId} of ${root} is stored on its own`);
      if (snapshot.aliases.get(v.xId) !== root) problems.push(`version ${v.xId} of ${root} does not find its message`);
    }
    const edits = snapshot.changes.filter((c) => c.lastChange.type === 'ticket.message_edited' && c.lastChange.messageXId === root).length;
    if (edits > versions.length - 1) problems.push(`edited post ${root}: ${edits} edit events for ${versions.length} versions`);
  }
  return problems;
}

/** The changes that each add one message to a ticket. */
const MESSAGE_CHANGES = new Set(['ticket.created', 'ticket.message_added', 'ticket.reopened', 'ticket.reply_posted']);

const explain = (harness: Harness) => `\nschedule:\n  ${harness.trace.join('\n  ')}`;

const HOMES: StoreHome[] = [
  memoryHome(),
  dynamoHome(() => ({ dynamodb: inject('dynamodbEndpoint'), sqs: inject('sqsEndpoint') })),
];

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


for (const home of HOMES) {
  describe(`on ${home.label}`, () => {
    afterAll(() => home.dispose());

    describe('ticket rules under redelivery and reordering', () => {
      it('causal delivery with duplicates, both formats and any interleaving gives the tickets of one in-order pass', async () => {
        await fc.assert(
          fc.asyncProperty(
            historyArb().chain((history) => fc.tuple(fc.constant(history), deliveryArb(history))),
            async ([history, delivery]) => {
              const expected = await reference(history);
              await onFreshStore(home, async (run) => {
                const harness = createHarness(history, run.store);
                await play(harness, schedule(history, delivery, true));
                const got = await run.snapshot();
                expect(observable(got), explain(harness)).toEqual(observable(expected));
                expect(outboxProblems(got)).toEqual([]);
              });
            },
          ),
          runsOn(home, { memory: 300, dynamodb: 12 }),
        );
      }, timeLimit(home));

      it('with a merge window of 0 (every mention its own ticket) the same holds up to how tickets are numbered', async () => {
        await fc.assert(
          fc.asyncProperty(
            historyArb().chain((history) => fc.tuple(fc.constant(history), deliveryArb(history))),
            async ([history, delivery]) => {
              const expected = await reference(history, 0);
              await onFreshStore(home, async (run) => {
                const harness = createHarness(history, run.store, { mentionMergeHours: 0 });
                await play(harness, schedule(history, delivery, true));
                const got = await run.snapshot();
                expect(observable(got, { renameTickets: true }), explain(harness)).toEqual(observable(expected, { renameTickets: true }));
                expect(outboxProblems(got)).toEqual([]);
              });
            },
          ),
          runsOn(home, { memory: 100, dynamodb: 6 }),
        );
      }, timeLimit(home));

      it('in any order at all: nothing lost, nothing doubled, every agent reply posted and recorded once', async () => {
        await fc.assert(
          fc.asyncProperty(
            historyArb({ statusChanges: true }).chain((history) => fc.tuple(fc.constant(history), deliveryArb(history))),
            async ([history, delivery]) => {
              await onFreshStore(home, async (run) => {
                const harness = createHarness(history, run.store);
                const steps = schedule(history, delivery, false);
                await play(harness, steps);
                const problems = anyOrderProblems(history, await run.snapshot(), harness.x, steps.map((step) => [step]));
                expect(problems, explain(harness)).toEqual([]);
              });
            },
          ),
          runsOn(home, { memory: 300, dynamodb: 12 }),
        );
      }, timeLimit(home));

      it('with agents changing statuses, duplicates delivered late (after solves, reopens and replies) change nothing', async () => {
        await fc.assert(
          fc.asyncProperty(
            historyArb({ statusChanges: true }).chain((history) => fc.tuple(fc.constant(history), deliveryArb(history))),
            async ([history, delivery]) => {
              const expected = await reference(history);
              await onFreshStore(home, async (run) => {
                const harness = createHarness(history, run.store);
                await play(harness, lateDuplicates(history, delivery));
                const got = await run.snapshot();
                expect(observable(got), explain(harness)).toEqual(observable(expected));
                expect(outboxProblems(got)).toEqual([]);
              });
            },
          ),
          runsOn(home, { memory: 300, dynamodb: 12 }),
        );
      }, timeLimit(home));

      it("an echo arriving while the worker waits for X's answer settles the reply once, as the worker would have", async () => {
        await fc.assert(
          fc.asyncProperty(
            historyArb().filter((h) => h.agentReplies.length > 0),
            fc.constantFrom<Format>('xaa', 'aaa'),
            async (history, format) => {
              const expected = await reference(history);
              await onFreshStore(home, async (run) => {
                const harness = createHarness(history, run.store, { echoDuringPost: new Map(history.agentReplies.map((a) => [a.key, format])) });
                await play(harness, referenceSchedule(history));
                expect(observable(await run.snapshot()), explain(harness)).toEqual(observable(expected));
                expect(harness.x.posts).toHaveLength(history.agentReplies.length);
              });
            },
          ),
          runsOn(home, { memory: 100, dynamodb: 6 }),
        );
      }, timeLimit(home));
    });

    // On DynamoDB these get more runs than the others: the races there are real, so which interleaving a run hits is
    // chance, and the one where only the message's own condition stops a duplicate (a batch read gone stale while
    // another worker stores the same item) came up once in 1 to 8 runs.
    describe('concurrent workers', () => {
      it('batches of deliveries racing on the store (duplicates included) end as one in-order pass', async () => {
        await fc.assert(
          fc.asyncProperty(
            historyArb().chain((history) => fc.tuple(fc.constant(history), deliveryArb(history), fc.array(fc.integer({ min: 1, max: 6 }), { minLength: 60, maxLength: 60 }))),
            fc.scheduler(),
            async ([history, delivery, batchSizes], s) => {
              const expected = await reference(history);
              await onFreshStore(home, async (run) => {
                // Every store call waits for the scheduler before it starts: fast-check picks which worker goes next.
                // On DynamoDB the released calls then run for real, several in flight at once.
                const harness = createHarness(history, run.store, { wrap: (store) => scheduled(store, s) });
                const steps = schedule(history, delivery, true);
                for (const batch of batches(history, steps, batchSizes, true)) {
                  await s.waitFor(Promise.all(batch.map((step) => harness.play(step))));
                }
                const got = await run.snapshot();
                expect(observable(got), `${s.report().map((r) => r.label).join(' | ')}${explain(harness)}`).toEqual(observable(expected));
                expect(outboxProblems(got)).toEqual([]);
              });
            },
          ),
          runsOn(home, { memory: 150, dynamodb: 20 }),
        );
      }, timeLimit(home));

      // Where two deliveries of one item, read a moment apart, decide differently (the parent arrived, or an agent
      // solved the ticket, in between), only the conditions of the writes keep the second from doubling it.
      it('workers racing in any order, with agents changing statuses: nothing lost, nothing doubled, every reply posted once', async () => {
        await fc.assert(
          fc.asyncProperty(
            historyArb({ statusChanges: true }).chain((history) => fc.tuple(fc.constant(history), deliveryArb(history), fc.array(fc.integer({ min: 1, max: 6 }), { minLength: 60, maxLength: 60 }))),
            fc.scheduler(),
            async ([history, delivery, batchSizes], s) => {
              await onFreshStore(home, async (run) => {
                const harness = createHarness(history, run.store, { wrap: (store) => scheduled(store, s) });
                const played = batches(history, schedule(history, delivery, false), batchSizes, false);
                for (const batch of played) await s.waitFor(Promise.all(batch.map((step) => harness.play(step))));
                const problems = anyOrderProblems(history, await run.snapshot(), harness.x, played, { racing: true });
                expect(problems, `${s.report().map((r) => r.label).join(' | ')}${explain(harness)}`).toEqual([]);
              });
            },
          ),
          runsOn(home, { memory: 150, dynamodb: 20 }),
        );
      }, timeLimit(home));
    });

    describe('edits', () => {
      const editText = fc.oneof(
        fc.constantFrom('@AcmeSupport my order is late', '@AcmeSupport my order is late!', '&lt;b&gt; &amp;', ''),
        fc.string({ unit: fc.constantFrom('a', ' ', '🚀', '&', 'é'), maxLength: 6 }),
      );
      // A post and 1 to 5 edits (X's limit), each version's copies in either format, shuffled, handled by racing workers.
      const editCase = fc
        .record({
          texts: fc.array(editText, { minLength: 2, maxLength: 6 }),
          reply: fc.boolean(),
          deleteVersion: fc.option(fc.nat(5), { nil: undefined, freq: 3 }),
        })
        .chain((shape) =>
          fc.record({
            shape: fc.constant(shape),
            copies: fc.array(fc.array(fc.constantFrom<Format>('xaa', 'aaa'), { minLength: 1, maxLength: 3 }), {
              minLength: shape.texts.length,
              maxLength: shape.texts.length,
            }),
            priorities: fc.array(fc.nat(1000), { minLength: 3 * shape.texts.length + 1, maxLength: 3 * shape.texts.length + 1 }),
            sizes: fc.array(fc.integer({ min: 1, max: 5 }), { minLength: 20, maxLength: 20 }),
          }),
        );
      let serial = 0n;

      it('every version in any order, copies in both formats, racing workers: one message, the newest text, one event per newer version', async () => {
        await fc.assert(
          fc.asyncProperty(editCase, fc.scheduler(), async ({ shape, copies, priorities, sizes }, s) => {
            const customer = { id: '1000000009', username: 'ed_c', name: 'Ed' };
            const base = 1_970_000_000_000_000_000n + ++serial * 10n;
            const ids = shape.texts.map((_, k) => String(base + BigInt(k)));
            const inReplyTo = shape.reply ? { id: '1100000000000000001', user: BOT } : undefined;
            const versions = shape.texts.map((text, k) => {
              const options = { id: ids[k]!, author: customer, text, createdAt: new Date(Date.parse(ctx.receivedAt) + k * 60_000), ...(k ? { editOf: ids.slice(0, k) } : {}), ...(inReplyTo ? { inReplyTo } : {}) };
              return { xId: ids[k]!, body: (format: Format) => (format === 'aaa' ? aaaMention(options) : inReplyTo ? xaaReply({ ...options, inReplyTo }) : xaaMention(options)) };
            });
            const deleted = shape.deleteVersion === undefined ? undefined : ids[shape.deleteVersion % ids.length]!;
            const bodies = versions.flatMap((v, k) => copies[k]!.map((format) => v.body(format)));
            if (deleted) bodies.push(xaaDelete({ id: deleted, authorId: customer.id }));
            const order = bodies.map((body, i) => ({ body, p: priorities[i] ?? i })).sort((a, b) => a.p - b.p).map((e) => e.body);
            const expectedText = normalisedText(versions.at(-1)!);

            // In order, one copy each: exactly one event per version whose text differs from the one before.
            const inOrderEdits = await onFreshStore(memoryHome(), async (run) => {
              const harness = createHarness({ items: [], agentReplies: [], statusChanges: [], order: [] }, run.store);
              for (const v of versions) await deliverBody(v.body('xaa'), harness.deps, ctx.receivedAt);
              const texts = versions.map(normalisedText);
              const expected = texts.filter((t, k) => k > 0 && t !== texts[k - 1]).length;
              const snapshot = await run.snapshot();
              return { got: snapshot.changes.filter((c) => c.lastChange.type === 'ticket.message_edited').length, expected };
            });
            expect(inOrderEdits.got).toBe(inOrderEdits.expected);

            await onFreshStore(home, async (run) => {
              // Each announced edit's version, in the order the writes landed: every one newer than the one before.
              const announced: string[] = [];
              const recording = (store: TicketStore): TicketStore => ({
                ...store,
                editMessage: async (write) => {
                  const written = await store.editMessage(write);
                  if (written === 'ok' && write.ticket) announced.push(contentXIdOf(write.message));
                  return written;
                },
              });
              const harness = createHarness({ items: [], agentReplies: [], statusChanges: [], order: [] }, run.store, {
                wrap: (store) => scheduled(recording(store), s),
              });
              const batchesOf: Record<string, unknown>[][] = [];
              for (let i = 0, b = 0; i < order.length; b++) {
                const size = sizes[b % sizes.length]!;
                batchesOf.push(order.slice(i, i + size));
                i += size;
              }
              for (const batch of batchesOf) {
                await s.waitFor(Promise.all(batch.map((body) => deliverBody(body, harness.deps, ctx.receivedAt))));
              }
              const snapshot = await run.snapshot();
              const messages = [...snapshot.xItems.values()].flatMap((i) => (i.kind === 'message' ? [i.message] : []));
              const report = s.report().map((r) => r.label).join(' | ');
              expect(outboxProblems(snapshot), report).toEqual([]);
              expect(messages.length, report).toBeLessThanOrEqual(1);
              const reading = (xId: string) => snapshot.xItems.get(snapshot.aliases.get(xId) ?? xId);
              if (deleted) {
                for (const xId of ids) {
                  const stored = reading(xId);
                  expect(stored?.kind !== 'message' || (stored.message.redacted && stored.message.text === ''), `${xId}: ${report}`).toBe(true);
                }
                return;
              }
              expect(messages, report).toEqual([expect.objectContaining({ xId: ids[0], id: `msg-${ids[0]}`, text: expectedText, editHistory: ids, redacted: false })]);
              for (const xId of ids.slice(1)) expect(snapshot.aliases.get(xId), report).toBe(ids[0]);
              const edits = snapshot.changes.filter((c) => c.lastChange.type === 'ticket.message_edited');
              expect(edits.length, report).toBe(announced.length);
              expect(announced, report).toEqual([...new Set(announced)].sort((a, b) => (BigInt(a) < BigInt(b) ? -1 : 1)));
              expect(snapshot.changes.filter((c) => c.lastChange.type !== 'ticket.message_edited').map((c) => c.lastChange.type), report).toEqual(['ticket.created']);
            });
          }),
          runsOn(home, { memory: 200, dynamodb: 15 }),
        );
      }, timeLimit(home));
    });

    describe('a worker killed at any step', () => {
      it('ingest and reply workers die before or after any store call, at any steps: every redelivery ends as if none died', async () => {
        await fc.assert(
          fc.asyncProperty(
            historyArb({ statusChanges: true }).chain((history) => {
              const steps = referenceSchedule(history).length;
              // About half the steps lose their worker, so one history tries many deaths.
              const kills = fc.array(fc.option(killPoint, { nil: undefined, freq: 2 }), { minLength: steps, maxLength: steps });
              return fc.tuple(fc.constant(history), kills);
            }),
            fc.boolean(),
            async ([history, kills], echoWhilePosting) => {
              const expected = await reference(history);
              await onFreshStore(home, async (run) => {
                const killer: Killer = { calls: 0, killed: false };
                const harness = createHarness(history, run.store, {
                  wrap: (store) => crashing(store, killer),
                  ...(echoWhilePosting ? { echoDuringPost: new Map(history.agentReplies.map((a) => [a.key, 'aaa' as const])) } : {}),
                });
                for (const [index, step] of referenceSchedule(history).entries()) {
                  const kill = kills[index];
                  if (!kill) {
                    await harness.play(step);
                    continue;
                  }
                  Object.assign(killer, { at: kill, calls: 0, killed: false });
                  try {
                    await harness.play(step);
                  } catch (error) {
                    if (!(error instanceof WorkerKilled)) throw error;
                    harness.trace.push(`${step.type} ${step.key}: worker ${error.message}, redelivered`);
                  }
                  delete killer.at;
                  // SQS hands the message to another worker after the visibility timeout (or the helpdesk retries).
                  if (step.type === 'agent') await redeliverAgentReply(harness, history.agentReplies.find((a) => a.key === step.key)!);
                  else await harness.play(step);
                }
                const got = await run.snapshot();
                expect(observable(got), explain(harness)).toEqual(observable(expected));
                for (const agent of history.agentReplies) expect(harness.x.posts.filter((p) => p.text === agent.text)).toHaveLength(1);
                expect(outboxProblems(got)).toEqual([]);
              });
            },
          ),
          runsOn(home, { memory: 400, dynamodb: 16 }),
        );
      }, timeLimit(home));
    });
  });
}

class WorkerKilled extends Error {}

/** Where a worker dies: before or after its `call`-th store call (a step makes 2 to 10 or so). */
type KillPoint = { call: number; when: 'before' | 'after' };
const killPoint: fc.Arbitrary<KillPoint> = fc.record({ call: fc.integer({ min: 1, max: 10 }), when: fc.constantFrom<'before' | 'after'>('before', 'after') });

/** The death planned for the step being played (none when `at` is unset), and how far its worker got. */
type Killer = { at?: KillPoint; calls: number; killed: boolean };

/** A store whose call at the killer's point kills the worker, before or after the call takes effect. */
function crashing(store: TicketStore, killer: Killer): TicketStore {
  return new Proxy(store, {
    get(target, property, receiver) {
      const value = Reflect.get(target, property, receiver) as unknown;
      if (typeof value !== 'function') return value;
      return async (...args: unknown[]) => {
        const at = killer.at;
        const doomed = at !== undefined && !killer.killed && ++killer.calls === at.call;
        if (doomed && at.when === 'before') {
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
 * Cuts a schedule into batches handled concurrently, as SQS pollers would. A step never shares a batch with the first
 * run of what it depends on: causality means "after it was processed", not "at the same time". Without `causal`, only
 * what is physically necessary keeps steps apart (as in `schedule`): an agent's reply or status change after its
 * target is stored, an echo after its post, a customer's reply to an agent's post after that post.
 */
function batches(history: History, steps: Step[], sizes: number[], causal: boolean): Step[][] {
  const dependency = (step: Step): string | undefined => {
    if (step.type === 'echo') return step.key;
    if (step.type === 'agent') return `x${history.agentReplies.find((a) => a.key === step.key)!.targetXId}`;
    if (step.type === 'status') return `x${history.statusChanges.find((c) => c.key === step.key)!.targetXId}`;
    const after = history.items.find((i) => i.key === step.key)!.dependsOn;
    return causal || after?.startsWith('agent') ? after : undefined;
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
  const now = harness.now;
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
