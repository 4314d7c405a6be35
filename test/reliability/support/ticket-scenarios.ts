// A model of what X and the helpdesk throw at the bridge, for the property tests: a generated history of customer
// posts, their edits, replies, DMs, deletes, posts and DMs the brand sent by hand, agent replies and their webhook echoes; the
// ways X can deliver it (copies, both formats, any interleaving); a harness that plays a delivery schedule through the
// real normaliser, the real ingest use case and the real reply use cases on a ticket store (the in-memory one or the
// DynamoDB adapter, see stores-under-test.ts); and the checks, which read only a store-neutral snapshot.
import * as fc from 'fast-check';
import { postReply, type ReplyPoster } from '../../../shared/replies/post-reply';
import { requestReply } from '../../../shared/replies/request-reply';
import type { StoredReply, TicketStore } from '../../../shared/tickets/ticket-store';
import type { StoreSnapshot } from './stores-under-test';
import { ingestItem, prefetchXItems, type IngestDeps } from '../../../shared/tickets/ingest';
import { parseTicketId } from '../../../shared/tickets/ticket-id';
import type { Reply, Ticket } from '../../../shared/tickets/model';
import { RetryableError } from '../../../shared/errors';
import { changeStatus } from '../../../shared/tickets/ticket-api';
import { normaliseWebhookBody } from '../../../shared/x/normalise';
import { completeFromBody } from '../../../shared/x/complete-items';
import type { InboundEvent } from '../../../shared/x/inbound-event';
import {
  aaaDelete,
  aaaDm,
  aaaMention,
  BOT,
  xaaDelete,
  xaaDm,
  xaaMention,
  xaaReply,
  type XUserRef,
} from '../../support/x-payloads';

export const CUSTOMERS: XUserRef[] = [
  { id: '1000000001', username: 'ana_c', name: 'Ana' },
  { id: '1000000002', username: 'bo_c', name: 'Bo 🚀' },
  { id: '1000000003', username: 'cy_c', name: 'Cy &amp; co' },
  { id: '1000000004', username: 'di_c', name: 'Di' },
];

/** Start of the generated history; every item is written within 20 hours of it, inside the 24 h merge window. */
export const T0 = Date.parse('2026-11-16T08:00:00.000Z');
const HISTORY_MINUTES = 20 * 60;

export type Format = 'xaa' | 'aaa';

/** One X item of the history: a post, a DM, or a delete notice. `dependsOn` is what must exist before X could send it. */
export type XItem = {
  key: string;
  kind: 'post' | 'dm' | 'delete';
  /** The X id the item is stored under (for a delete: the id of the post it deletes). */
  xId: string;
  by: 'customer' | 'bot';
  /** Builds the webhook body X would POST for it, in either format. */
  body: (format: Format) => Record<string, unknown>;
  /** A step that must have run before any delivery of this one in a causal schedule (a reply's parent, ...). */
  dependsOn?: string;
  /** The delete notice for this item, when the history deletes it. */
  deletedBy?: string;
  text?: string;
  /** For a version of an edited post: the X id of its first version (every version names it first), the chain's key. */
  editOf?: string;
};

/** A reply an agent asks for through the helpdesk API, posted by the reply worker, echoed back by X's webhook. */
export type AgentReply = {
  key: string;
  /** The customer message (post or DM) whose ticket it answers. */
  targetXId: string;
  channel: 'mention' | 'dm';
  text: string;
  /** The X id X gives the posted reply. */
  xId: string;
  /** The echo X delivers back to the webhook: a post or DM by the bot. */
  echo: (format: Format) => Record<string, unknown>;
};

/** An agent sets the status of the ticket holding a customer message, through the helpdesk API. */
export type StatusChange = { key: string; targetXId: string; status: 'open' | 'pending' | 'solved' };

/** The items, agent replies and status changes, and `order`: their keys in the order they happened. */
export type History = { items: XItem[]; agentReplies: AgentReply[]; statusChanges: StatusChange[]; order: string[] };

/** One step of a delivery schedule: deliver a copy of an X item, run an agent reply, or deliver a copy of its echo. */
export type Step =
  | { type: 'deliver'; key: string; format: Format }
  | { type: 'agent'; key: string }
  | { type: 'echo'; key: string; format: Format }
  | { type: 'status'; key: string };

type RecipeStep = {
  op: 'mention' | 'reply' | 'reply-external' | 'dm' | 'bot-dm' | 'bot-post' | 'delete' | 'agent-post' | 'agent-dm' | 'status' | 'edit';
  who: number;
  pick: number;
  text: string;
  minutes: number;
};

// Text a customer might send, traps included: X's HTML escapes, emoji, CJK, lone surrogates, control characters.
const customerText = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 30 }),
  fc.string({ unit: fc.constantFrom('&', '<', '>', 'a', ' ', '@', '🚀', '字', '\u0301', 'é', '\uD800', '\n'), maxLength: 20 }),
  fc.constantFrom('@AcmeSupport my order is late', 'still waiting &amp; annoyed', '&lt;b&gt;', ''),
);

const OPS: RecipeStep['op'][] = ['mention', 'reply', 'reply', 'reply-external', 'dm', 'bot-dm', 'bot-post', 'delete', 'agent-post', 'agent-dm', 'edit', 'edit'];

const recipeStep = (statusChanges: boolean): fc.Arbitrary<RecipeStep> =>
  fc.record({
    op: fc.constantFrom(...OPS, ...(statusChanges ? (['status', 'status'] as const) : [])),
    who: fc.nat(CUSTOMERS.length - 1),
    pick: fc.nat(1000),
    text: customerText,
    minutes: fc.nat(HISTORY_MINUTES),
  });

/** How many recipe steps a generated history has, by default. */
export const HISTORY_STEPS = { min: 8, max: 40 };

/**
 * Histories of `minSteps` to `maxSteps` recipe steps (each becomes one X item, agent reply or status change, unless
 * it has nothing to refer to yet: a brand DM before any customer DM, a delete with nothing left to delete). Status
 * changes only when asked: after one, which ticket a later item joins can depend on arrival order (see the properties).
 * The defaults give a median of 17 events (a quarter of the histories 10 or fewer, a tenth 31 or more): threads
 * several replies deep, several agent replies, solves and reopens in one history. `size: 'max'` spreads the lengths
 * over the whole range, where fast-check's default size would keep most arrays short.
 */
export function historyArb(options: { minSteps?: number; maxSteps?: number; statusChanges?: boolean } = {}): fc.Arbitrary<History> {
  const { minSteps = HISTORY_STEPS.min, maxSteps = HISTORY_STEPS.max } = options;
  return fc
    .array(recipeStep(options.statusChanges ?? false), { minLength: minSteps, maxLength: maxSteps, size: 'max' })
    .map(buildHistory);
}

/** Turns a recipe into a history whose every reference (parent, deleted post, DM conversation) exists before it. */
export function buildHistory(recipe: RecipeStep[]): History {
  const items: XItem[] = [];
  const agentReplies: AgentReply[] = [];
  const statusChanges: StatusChange[] = [];
  const order: string[] = [];
  const addItem = (item: XItem) => (items.push(item), order.push(item.key));
  const addAgent = (agent: AgentReply) => (agentReplies.push(agent), order.push(agent.key));
  // Posts that can be replied to: customers' posts, the brand's hand posts, and posted agent replies.
  const posts: { xId: string; author: XUserRef; key: string }[] = [];
  // Customer posts no agent reply names and no delete took yet: deletable. Named by agent replies: never deleted.
  const deletable: { item: XItem; author: XUserRef }[] = [];
  const answerable: { item: XItem; author: XUserRef }[] = [];
  // A customer's latest DM: the brand's DMs and agent DM replies join the conversation it is in.
  const latestDm = new Map<string, XItem>();
  // Customer messages never deleted: what agents answer and set the status of.
  const statusTargets: XItem[] = [];
  // Customer posts that can still be edited (X allows 5 edits), each with its versions so far and how to build another.
  type Chain = { versions: XItem[]; author: XUserRef; deletable: boolean; build: (id: string, text: string, createdAt: string, editOf: string[]) => XItem };
  const chains: Chain[] = [];
  let serial = 0n;
  const nextId = () => String(1_990_000_000_000_000_000n + ++serial);
  const at = (minutes: number) => new Date(T0 + minutes * 60_000).toISOString().replace(/\.\d{3}Z$/, '.000Z');

  for (const step of recipe) {
    const customer = CUSTOMERS[step.who]!;
    const createdAt = at(step.minutes);
    const pickFrom = <T>(list: T[]): T | undefined => (list.length ? list[step.pick % list.length] : undefined);
    switch (step.op) {
      case 'mention':
      case 'reply':
      case 'reply-external': {
        const parent = step.op === 'reply' ? pickFrom(posts) : undefined;
        const external = step.op === 'reply-external' ? { id: String(1_100_000_000_000_000_000n + BigInt(step.pick)), user: BOT } : undefined;
        const inReplyTo = parent ? { id: parent.xId, user: parent.author } : external;
        const xId = nextId();
        // Every version of a post keeps its place in the thread; an edit is a new post with the chain's history.
        const build = (id: string, text: string, at: string, editOf: string[]): XItem => {
          const options = { id, author: customer, text, createdAt: at, ...(inReplyTo ? { inReplyTo } : {}), ...(editOf.length ? { editOf } : {}) };
          return {
            key: `x${id}`,
            kind: 'post',
            xId: id,
            by: 'customer',
            text,
            body: (format) => (format === 'aaa' ? aaaMention(options) : inReplyTo ? xaaReply({ ...options, inReplyTo }) : xaaMention(options)),
            ...(editOf.length ? { editOf: editOf[0]!, dependsOn: `x${editOf.at(-1)!}` } : parent ? { dependsOn: parent.key } : {}),
          };
        };
        const item = build(xId, step.text, createdAt, []);
        addItem(item);
        posts.push({ xId, author: customer, key: item.key });
        if (step.pick % 3 === 0) {
          answerable.push({ item, author: customer });
          statusTargets.push(item);
        }
        else deletable.push({ item, author: customer });
        chains.push({ versions: [item], author: customer, deletable: step.pick % 3 !== 0, build });
        break;
      }
      case 'edit': {
        // X allows five edits, and none once a version is deleted.
        const chain = pickFrom(chains.filter((c) => c.versions.length <= 5 && !c.versions.some((v) => v.deletedBy)));
        if (!chain) break;
        const xId = nextId();
        const version = chain.build(xId, step.text, createdAt, chain.versions.map((v) => v.xId));
        addItem(version);
        chain.versions.push(version);
        // A reply to any version is a reply in the thread; a delete of any version deletes the chain.
        posts.push({ xId, author: chain.author, key: version.key });
        if (chain.deletable) deletable.push({ item: version, author: chain.author });
        break;
      }
      case 'dm': {
        const xId = nextId();
        const options = { id: xId, sender: customer, recipient: BOT, text: step.text, createdAt };
        const item: XItem = {
          key: `x${xId}`,
          kind: 'dm',
          xId,
          by: 'customer',
          text: step.text,
          body: (format) => (format === 'aaa' ? aaaDm(options) : xaaDm(options)),
        };
        addItem(item);
        latestDm.set(customer.id, item);
        statusTargets.push(item);
        break;
      }
      case 'bot-dm': {
        // The brand's hand-written DM joins the customer's conversation, which their first DM opened.
        const opened = latestDm.get(customer.id);
        if (!opened) break;
        const xId = nextId();
        const options = { id: xId, sender: BOT, recipient: customer, text: `by hand: ${step.text}`, createdAt };
        addItem({
          key: `x${xId}`,
          kind: 'dm',
          xId,
          by: 'bot',
          body: (format) => (format === 'aaa' ? aaaDm(options) : xaaDm(options)),
          dependsOn: opened.key,
        });
        break;
      }
      case 'bot-post': {
        const parent = pickFrom(posts.filter((p) => p.author.id !== BOT.id));
        if (!parent) break;
        const xId = nextId();
        const options = { id: xId, author: BOT, text: `by hand: ${step.text}`, createdAt, inReplyTo: { id: parent.xId, user: parent.author } };
        const item: XItem = {
          key: `x${xId}`,
          kind: 'post',
          xId,
          by: 'bot',
          body: (format) => (format === 'aaa' ? aaaMention(options) : xaaReply(options)),
          dependsOn: parent.key,
        };
        addItem(item);
        posts.push({ xId, author: BOT, key: item.key });
        break;
      }
      case 'delete': {
        const chainDeleted = (item: XItem) => items.some((i) => i.deletedBy && (i.xId === (item.editOf ?? item.xId) || i.editOf === (item.editOf ?? item.xId)));
        const target = pickFrom(deletable.filter((d) => !chainDeleted(d.item)));
        if (!target) break;
        const key = `del${target.item.xId}`;
        target.item.deletedBy = key;
        const options = { id: target.item.xId, authorId: target.author.id, deletedAt: createdAt };
        addItem({
          key,
          kind: 'delete',
          xId: target.item.xId,
          by: 'customer',
          body: (format) => (format === 'aaa' ? aaaDelete(options) : xaaDelete(options)),
          // Of an edited post, the chain is deleted after its latest version was made: X sends the delete after it.
          dependsOn: (chains.find((c) => c.versions.includes(target.item))?.versions.at(-1) ?? target.item).key,
        });
        break;
      }
      case 'status': {
        const target = pickFrom(statusTargets);
        if (!target) break;
        const change: StatusChange = {
          key: `status${statusChanges.length + 1}`,
          targetXId: target.xId,
          status: (['solved', 'pending', 'open', 'solved'] as const)[step.minutes % 4]!,
        };
        statusChanges.push(change);
        order.push(change.key);
        break;
      }
      case 'agent-post':
      case 'agent-dm': {
        const k = agentReplies.length + 1;
        const text = `Agent answer ${k}: we are on it`;
        const xId = String(1_980_000_000_000_000_000n + BigInt(k));
        if (step.op === 'agent-post') {
          const target = pickFrom(answerable);
          if (!target) break;
          const echo = { id: xId, author: BOT, text, createdAt, inReplyTo: { id: target.item.xId, user: target.author } };
          addAgent({
            key: `agent${k}`,
            targetXId: target.item.xId,
            channel: 'mention',
            text,
            xId,
            echo: (format) => (format === 'aaa' ? aaaMention(echo) : xaaReply(echo)),
          });
          posts.push({ xId, author: BOT, key: `agent${k}` });
        } else {
          const opened = latestDm.get(customer.id);
          if (!opened) break;
          const echo = { id: xId, sender: BOT, recipient: customer, text, createdAt };
          addAgent({
            key: `agent${k}`,
            targetXId: opened.xId,
            channel: 'dm',
            text,
            xId,
            echo: (format) => (format === 'aaa' ? aaaDm(echo) : xaaDm(echo)),
          });
        }
        break;
      }
    }
  }
  return { items, agentReplies, statusChanges, order };
}

/** The one in-order pass: every item once, in the order it happened, each agent reply's echo right after it. */
export function referenceSchedule(history: History): Step[] {
  const agents = new Set(history.agentReplies.map((a) => a.key));
  const statuses = new Set(history.statusChanges.map((c) => c.key));
  return history.order.flatMap((key): Step[] =>
    agents.has(key)
      ? [{ type: 'agent', key }, { type: 'echo', key, format: 'xaa' }]
      : statuses.has(key)
        ? [{ type: 'status', key }]
        : [{ type: 'deliver', key, format: 'xaa' }],
  );
}

/**
 * The in-order pass with every extra copy (of items and echoes, in either format) delivered late, anywhere after its
 * first delivery: across status changes, agent replies and everything else that happened since.
 */
export function lateDuplicates(history: History, delivery: Delivery): Step[] {
  const base = referenceSchedule(history);
  const placed: { step: Step; at: number }[] = base.map((step, index) => {
    if (step.type === 'deliver') {
      const i = history.items.findIndex((item) => item.key === step.key);
      return { step: { ...step, format: delivery.formats[i]?.[0] ?? 'xaa' }, at: index };
    }
    return { step, at: index };
  });
  let p = 0;
  const later = (first: number) => first + (((delivery.priorities[p++ % delivery.priorities.length] ?? 0) % 997) + 1) / 998 * (base.length - first);
  history.items.forEach((item, i) => {
    const first = base.findIndex((step) => step.type === 'deliver' && step.key === item.key);
    for (let c = 1; c < (delivery.copies[i] ?? 1); c++) placed.push({ step: { type: 'deliver', key: item.key, format: delivery.formats[i]?.[c] ?? 'aaa' }, at: later(first) });
  });
  history.agentReplies.forEach((agent, k) => {
    const first = base.findIndex((step) => step.type === 'echo' && step.key === agent.key);
    for (let c = 1; c < (delivery.echoCopies[k] ?? 1); c++) placed.push({ step: { type: 'echo', key: agent.key, format: delivery.echoFormats[k]?.[c] ?? 'aaa' }, at: later(first) });
  });
  return placed.sort((a, b) => a.at - b.at).map((entry) => entry.step);
}

/** How X delivers a history: copies per item and echo (1 to 3), a format per copy, and priorities for the shuffle. */
export type Delivery = { copies: number[]; formats: Format[][]; echoCopies: number[]; echoFormats: Format[][]; priorities: number[] };

export function deliveryArb(history: History): fc.Arbitrary<Delivery> {
  const n = history.items.length;
  const m = history.agentReplies.length;
  const formats = fc.array(fc.constantFrom<Format>('xaa', 'aaa'), { minLength: 3, maxLength: 3 });
  const steps = 3 * n + m + 3 * m + history.statusChanges.length;
  return fc.record({
    copies: fc.array(fc.integer({ min: 1, max: 3 }), { minLength: n, maxLength: n }),
    formats: fc.array(formats, { minLength: n, maxLength: n }),
    echoCopies: fc.array(fc.integer({ min: 1, max: 3 }), { minLength: m, maxLength: m }),
    echoFormats: fc.array(formats, { minLength: m, maxLength: m }),
    priorities: fc.array(fc.nat(10_000), { minLength: steps, maxLength: steps }),
  });
}

/**
 * A delivery schedule: every copy of every item and echo, and every agent reply, in a random order. `causal` keeps
 * what X and the helpdesk cannot reorder: each reply, bot item and delete after the first delivery of what it refers
 * to. Without it only the physically necessary stays: an agent reply after its target exists, an echo after its post.
 */
export function schedule(history: History, delivery: Delivery, causal: boolean): Step[] {
  const all: { step: Step; after?: string; id: string }[] = [];
  history.items.forEach((item, i) => {
    for (let c = 0; c < (delivery.copies[i] ?? 1); c++) {
      const after = item.dependsOn && (causal || item.dependsOn.startsWith('agent')) ? item.dependsOn : undefined;
      all.push({ step: { type: 'deliver', key: item.key, format: delivery.formats[i]?.[c] ?? 'xaa' }, id: item.key, ...(after ? { after } : {}) });
    }
  });
  for (const change of history.statusChanges) {
    all.push({ step: { type: 'status', key: change.key }, id: change.key, after: `x${change.targetXId}` });
  }
  history.agentReplies.forEach((agent, k) => {
    all.push({ step: { type: 'agent', key: agent.key }, id: agent.key, after: `x${agent.targetXId}` });
    for (let c = 0; c < (delivery.echoCopies[k] ?? 1); c++) {
      all.push({ step: { type: 'echo', key: agent.key, format: delivery.echoFormats[k]?.[c] ?? 'xaa' }, id: `echo:${agent.key}`, after: agent.key });
    }
  });
  const done = new Set<string>();
  const out: Step[] = [];
  const remaining = all.map((entry, index) => ({ ...entry, priority: delivery.priorities[index] ?? index, index }));
  while (remaining.length > 0) {
    let best = -1;
    for (let i = 0; i < remaining.length; i++) {
      const candidate = remaining[i]!;
      if (candidate.after && !done.has(candidate.after)) continue;
      if (best < 0 || candidate.priority < remaining[best]!.priority) best = i;
    }
    if (best < 0) throw new Error('schedule: unsatisfiable dependency');
    const [chosen] = remaining.splice(best, 1);
    out.push(chosen!.step);
    done.add(chosen!.id);
  }
  return out;
}

/** A fake X that posts the agent replies under the ids the history gives them and can be asked what it has. */
export class ModelX implements ReplyPoster {
  readonly posts: { xId: string; text: string; target: string; at: number }[] = [];
  /** Called when X has the post and before it answers: the webhook's echo can arrive in that window. */
  onPosted?: (xId: string) => Promise<void> | void;
  constructor(
    private readonly history: History,
    private readonly clock: () => number,
  ) {}

  private async post(text: string, target: string): Promise<{ xId: string }> {
    const agent = this.history.agentReplies.find((a) => a.text === text);
    if (!agent) throw new Error(`model X: no agent reply with text ${text}`);
    this.posts.push({ xId: agent.xId, text, target, at: this.clock() });
    await this.onPosted?.(agent.xId);
    return { xId: agent.xId };
  }

  postReply(input: { text: string; inReplyToXId: string }) {
    return this.post(input.text, `post:${input.inReplyToXId}`);
  }

  sendDm(input: { participantXUserId: string; text: string }) {
    return this.post(input.text, `dm:${input.participantXUserId}`);
  }

  async findPosted(input: { target: StoredReply['target']; text: string; since: string }) {
    const target = input.target.kind === 'post' ? `post:${input.target.inReplyToXId}` : `dm:${input.target.participantXUserId}`;
    const found = this.posts.find((p) => p.target === target && p.text === input.text && p.at >= Date.parse(input.since) - 1000);
    return found ? { xId: found.xId } : undefined;
  }
}

export type Harness = {
  x: ModelX;
  /** What each step did, for failure messages. */
  trace: string[];
  /** Plays one step; echoes that X delivers while a reply is being posted are played by `onPosted`. */
  play(step: Step): Promise<void>;
  deps: IngestDeps;
  /** The time in epoch ms; tests move it on to let time pass (a queue's visibility timeout). */
  clock: { now: number };
  /** Reads the clock, moving it on by a millisecond (see createHarness). */
  now: () => Date;
};

export type HarnessOptions = {
  mentionMergeHours?: number;
  /** The store the use cases see instead of the one given (a crashing or scheduled wrapper of it). */
  wrap?: (store: TicketStore) => TicketStore;
  /** Echo copies to deliver while the reply worker waits for X's answer, by agent reply key. */
  echoDuringPost?: Map<string, Format>;
};

/** Normalises one webhook body as the webhook function would, and ingests each event; contention is retried. */
export async function deliverBody(body: Record<string, unknown>, deps: IngestDeps, receivedAt: string): Promise<InboundEvent[]> {
  const { events } = normaliseWebhookBody(body, { botUserId: BOT.id, botUsername: BOT.username, receivedAt });
  // As the ingest function does: one read of the body's X ids first, stale by the time later items use it.
  const prefetched = await prefetchXItems(deps.store, events.map((e) => e.xId));
  for (const event of events) {
    // A RetryableError goes back to SQS, which delivers it again: do the same, a bounded number of times.
    for (let attempt = 1; ; attempt++) {
      try {
        await ingestItem(completeFromBody(event), deps, attempt === 1 ? prefetched(event.xId) : undefined);
        break;
      } catch (error) {
        if (!(error instanceof RetryableError) || attempt >= 20) throw error;
      }
    }
  }
  return events;
}

/**
 * A harness playing steps on `store` (which should be empty), with a clock that starts at the end of the history and
 * moves on by a millisecond each time it is read: every decision, and so every ticket state written, carries its own
 * instant, which lets the checks put the writes of different tickets on one timeline (ticketTimelineProblems). Nothing
 * in the rules decides on a millisecond: the windows are hours.
 */
export function createHarness(history: History, store: TicketStore, options: HarnessOptions = {}): Harness {
  const clock = { now: T0 + HISTORY_MINUTES * 60_000 };
  const seen = options.wrap ? options.wrap(store) : store;
  const now = () => new Date(++clock.now);
  const deps: IngestDeps = {
    store: seen,
    brand: 'acme',
    botUserId: BOT.id,
    botUsername: BOT.username,
    windows: { mentionMergeHours: options.mentionMergeHours ?? 24, reopenHours: 168 },
    now,
  };
  const x = new ModelX(history, () => clock.now);
  const trace: string[] = [];
  const items = new Map(history.items.map((i) => [i.key, i]));
  const agents = new Map(history.agentReplies.map((a) => [a.key, a]));
  const statuses = new Map(history.statusChanges.map((c) => [c.key, c]));
  const receivedAt = () => now().toISOString();

  x.onPosted = async (xId) => {
    const agent = history.agentReplies.find((a) => a.xId === xId);
    const format = agent ? options.echoDuringPost?.get(agent.key) : undefined;
    if (agent && format) {
      trace.push(`echo ${agent.key} (${format}) while the worker waits for X`);
      await deliverBody(agent.echo(format), deps, receivedAt());
    }
  };

  async function play(step: Step): Promise<void> {
    if (step.type === 'deliver') {
      const item = items.get(step.key)!;
      const events = await deliverBody(item.body(step.format), deps, receivedAt());
      trace.push(`deliver ${item.kind} ${item.xId} by ${item.by} (${step.format}) → ${events.length} event(s)`);
      return;
    }
    if (step.type === 'status') {
      const change = statuses.get(step.key)!;
      const target = await seen.getXItem(change.targetXId);
      if (target?.kind !== 'message') throw new Error(`status change ${change.key}: target ${change.targetXId} is not stored`);
      trace.push(`agent sets ${target.message.ticketId} ${change.status}`);
      await changeStatus(seen, target.message.ticketId, change.status, now);
      return;
    }
    const agent = agents.get(step.key)!;
    if (step.type === 'echo') {
      trace.push(`echo ${agent.key} (${step.format})`);
      await deliverBody(agent.echo(step.format), deps, receivedAt());
      return;
    }
    trace.push(`agent ${agent.key} answers ${agent.targetXId}`);
    await runAgentReply(agent, seen, x, now);
  }
  return { x, trace, play, deps, clock, now };
}

/** The helpdesk asks for the reply (under the target message) and the reply worker posts it. */
export async function runAgentReply(agent: AgentReply, store: TicketStore, x: ReplyPoster, now: () => Date): Promise<void> {
  const target = await store.getXItem(agent.targetXId);
  if (target?.kind !== 'message') throw new Error(`agent reply ${agent.key}: target ${agent.targetXId} is not stored`);
  const reply = await requestReply(
    target.message.ticketId,
    { text: agent.text, ...(agent.channel === 'mention' ? { inReplyToMessageId: `msg-${agent.targetXId}` } : {}) },
    agent.key,
    { store, enqueue: async () => undefined, now },
  );
  await postReply(reply.id, { store, x, bot: { xUserId: BOT.id, username: BOT.username }, now, inFlightGraceMs: 60_000 });
}

/** The versions of each edited post in a history (two or more), by the X id of its first version, oldest first. */
export function editChains(history: History): Map<string, XItem[]> {
  const chains = new Map<string, XItem[]>();
  for (const item of history.items) {
    if (item.kind !== 'post' || item.by !== 'customer') continue;
    const root = item.editOf ?? item.xId;
    chains.set(root, [...(chains.get(root) ?? []), item]);
  }
  return new Map([...chains].filter(([, versions]) => versions.length > 1));
}

/** The reply record for an agent reply, found by its text (each agent reply's text is unique in a history). */
export function replyOf(snapshot: StoreSnapshot, agent: AgentReply): Reply | undefined {
  return [...snapshot.replies.values()].find((r) => r.text === agent.text);
}

/** Each ticket's written states, in the order written. */
function statesByTicket(snapshot: StoreSnapshot): Map<string, Ticket[]> {
  const states = new Map<string, Ticket[]>();
  for (const change of snapshot.changes) {
    const written = states.get(change.id) ?? [];
    written.push(change);
    states.set(change.id, written);
  }
  return states;
}

/**
 * The state a helpdesk would see, with what legitimately depends on timing left out: tickets by id with status,
 * customer, sequence and the count of each change type; messages with their ticket, direction, text, redaction and
 * reply link; replies with status and X id; tombstones.
 */
export function observable(snapshot: StoreSnapshot, options: { renameTickets?: boolean } = {}) {
  const storedMessages = [...snapshot.xItems.values()].flatMap((i) => (i.kind === 'message' ? [i.message] : []));
  const ticketKey = new Map<string, string>();
  for (const ticket of snapshot.tickets) {
    const xIds = storedMessages.flatMap((m) => (m.ticketId === ticket.id ? [m.xId] : [])).sort();
    // With renaming, a ticket is known by its messages: the n in mn-<customer>-<n> depends on arrival order.
    ticketKey.set(ticket.id, options.renameTickets ? `ticket{${xIds.join(',')}}` : ticket.id);
  }
  const name = (id: string) => ticketKey.get(id) ?? `missing:${id}`;
  // A reply's id derives from its ticket's id and its Idempotency-Key: with renamed tickets, name it by its text.
  const replyName = (id: string | undefined) =>
    id === undefined || !options.renameTickets ? id : `reply{${snapshot.replies.get(id)?.text ?? id}}`;
  const states = statesByTicket(snapshot);
  const changeCounts = (ticket: Ticket) => {
    const counts: Record<string, number> = {};
    for (const change of states.get(ticket.id) ?? []) counts[change.lastChange.type] = (counts[change.lastChange.type] ?? 0) + 1;
    return counts;
  };
  const tickets = snapshot.tickets
    .map((t) => ({
      id: name(t.id),
      status: t.status,
      channel: t.channel,
      customer: t.customer,
      sequence: t.sequence,
      followUpOf: t.followUpOf ? name(t.followUpOf) : undefined,
      changes: changeCounts(t),
    }))
    .sort((a, b) => a.id.localeCompare(b.id));
  const messages = storedMessages
    .map((m) => ({
      xId: m.xId,
      ticket: name(m.ticketId),
      direction: m.direction,
      text: m.text,
      redacted: m.redacted,
      author: m.author,
      summonsBot: m.summonsBot,
      replyId: replyName(m.replyId),
      inReplyToXId: m.inReplyToXId,
      editHistory: m.editHistory,
    }))
    .sort((a, b) => a.xId.localeCompare(b.xId));
  const tombstones = [...snapshot.xItems.values()].flatMap((i) => (i.kind === 'tombstone' ? [i.xId] : [])).sort();
  const aliases = [...snapshot.aliases].sort(([a], [b]) => a.localeCompare(b));
  const replies = [...snapshot.replies.values()]
    .map((r) => ({ id: replyName(r.id) ?? '', ticket: name(r.ticketId), status: r.status, xId: r.xId, text: r.text }))
    .sort((a, b) => a.id.localeCompare(b.id));
  return { tickets, messages, tombstones, aliases, replies };
}

/**
 * The outbox invariant: every ticket's written states carry sequences 1..n, each exactly once, so the helpdesk gets
 * exactly one event (one webhook-id) per change. Returns the problems found.
 */
export function outboxProblems(snapshot: StoreSnapshot): string[] {
  const problems: string[] = [];
  const states = statesByTicket(snapshot);
  for (const ticket of snapshot.tickets) {
    const sequences = (states.get(ticket.id) ?? []).map((c) => c.sequence);
    const expected = Array.from({ length: ticket.sequence }, (_, i) => i + 1);
    if (JSON.stringify(sequences) !== JSON.stringify(expected)) {
      problems.push(`${ticket.id}: changes written with sequences [${sequences}] but the ticket is at ${ticket.sequence}`);
    }
  }
  for (const id of states.keys()) {
    if (!snapshot.tickets.some((t) => t.id === id)) problems.push(`${id}: changes written for a ticket that is not stored`);
  }
  return problems;
}

/** How many of a customer's latest tickets on a channel ingest reads to decide (CUSTOMER_TICKETS in ingest.ts). */
const TICKETS_THE_RULES_SEE = 5;

/**
 * No doubled ticket, for every history in any order, status changes included. A customer's next ticket on a channel
 * may open only if every ticket before it that the rules look at was solved: an unsolved one would have taken the
 * item (rules 2 and 3). Each ticket's states come from the outbox, and each carries the clock reading of the decision
 * that wrote it (see createHarness), which puts the writes of all tickets on one timeline:
 * - steps run one at a time: each earlier ticket's state at the new ticket's instant must be solved;
 * - `racing` workers: the creator read the earlier tickets before it read the clock, so each must have had a solved
 *   state before that instant (it may have been reopened since, by a worker between the creator's read and write).
 * And since the whole history lies inside the reopen window, a follow-up to a solved ticket reopens it: no ticket may
 * be a follow-up (`followUpOf`), and no customer may have a second DM ticket.
 */
export function ticketTimelineProblems(snapshot: StoreSnapshot, options: { racing?: boolean } = {}): string[] {
  const problems: string[] = [];
  const states = statesByTicket(snapshot);
  const owners = new Map<string, Ticket[]>();
  for (const ticket of snapshot.tickets) {
    const owner = `${ticket.customer.username} ${ticket.channel}`;
    owners.set(owner, [...(owners.get(owner) ?? []), ticket]);
  }
  const generation = (t: Ticket) => parseTicketId(t.id)?.generation ?? 0;
  for (const [owner, tickets] of owners) {
    tickets.sort((a, b) => generation(a) - generation(b));
    tickets.forEach((ticket, n) => {
      if (ticket.followUpOf) problems.push(`${ticket.id} follows up ${ticket.followUpOf}, which a follow-up in the window reopens`);
      if (n === 0) return;
      if (ticket.channel === 'dm') problems.push(`${owner}: a second DM ticket ${ticket.id}, where a DM joins or reopens the first`);
      for (const earlier of tickets.slice(Math.max(0, n - TICKETS_THE_RULES_SEE), n)) {
        const before = (states.get(earlier.id) ?? []).filter((state) => state.updatedAt < ticket.createdAt).sort((a, b) => a.sequence - b.sequence);
        const solved = options.racing ? before.some((state) => state.status === 'solved') : before.at(-1)?.status === 'solved';
        if (!solved) {
          const was = before.map((state) => state.status).join(' → ') || 'not yet written';
          problems.push(`${ticket.id} opened at ${ticket.createdAt}, when ${earlier.id} had been ${was}`);
        }
      }
    });
  }
  return problems;
}
