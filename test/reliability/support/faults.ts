// Fault injection for the reliability suite, all through AWS SDK middleware on the clients a test hands the real
// functions (and the fetch it hands notify): no module mocking, and the functions cannot tell an injected fault from a
// real one.
import { AsyncLocalStorage } from 'node:async_hooks';
import { ProvisionedThroughputExceededException, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DeleteMessageCommand, GetQueueAttributesCommand, ReceiveMessageCommand, SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { vi } from 'vitest';

type AnyClient = DynamoDBClient | SQSClient;

/** A small seeded PRNG (mulberry32): a failing run can be replayed with the seed it printed. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** An error as the SDK raises for a request that got no answer in time (the SDK treats it as transient). */
export function timeoutError(command: string): Error {
  const error = new Error(`injected: ${command} timed out`);
  error.name = 'TimeoutError';
  return error;
}

export function throttlingError(command: string): Error {
  return new ProvisionedThroughputExceededException({ message: `injected: ${command} throttled`, $metadata: { httpStatusCode: 400 } });
}

export type FaultPlan = {
  /** Chance that one call gets a fault. */
  fraction: number;
  random: () => number;
  /** Commands (e.g. `TransactWriteItemsCommand`) eligible; all when absent. */
  commands?: ReadonlySet<string>;
  /**
   * `throttle`: refused before reaching the server. `timeout`: no answer, nothing applied. `timeout-after-write`: the
   * server applied it but the answer was lost, the hardest case for a retried conditional write.
   */
  kinds: ('throttle' | 'timeout' | 'timeout-after-write')[];
  /**
   * Where the fault sits: `inside-retries` (the SDK's own retries see it, as with a real throttled request) or
   * `outside-retries` (the call fails outright and the function's error handling and the queue must cope).
   */
  placement: 'inside-retries' | 'outside-retries';
  /** At most this many faults, then none (unlimited when absent); `remaining` on the returned state tops it up. */
  budget?: number;
};

/**
 * Injects faults into a fraction of a client's calls; returns how many of each were injected, by command, and the
 * switches: `enabled`, and `remaining` (faults left to inject, when the plan has a budget).
 */
export function injectFaults(
  client: AnyClient,
  plan: FaultPlan,
  name = 'injectedFaults',
): { injected: Record<string, number>; enabled: boolean; remaining: number } {
  const state = { injected: {} as Record<string, number>, enabled: true, remaining: plan.budget ?? Infinity };
  const middleware = (next: (args: unknown) => Promise<unknown>, context: { commandName?: string }) => async (args: unknown) => {
      const command = context.commandName ?? 'Unknown';
      if (!state.enabled || state.remaining <= 0 || (plan.commands && !plan.commands.has(command)) || plan.random() >= plan.fraction) {
        return next(args);
      }
      state.remaining--;
      const kind = plan.kinds[Math.floor(plan.random() * plan.kinds.length)] ?? 'throttle';
      state.injected[`${command}:${kind}`] = (state.injected[`${command}:${kind}`] ?? 0) + 1;
      if (kind === 'throttle') throw throttlingError(command);
      if (kind === 'timeout') throw timeoutError(command);
      await next(args);
      throw timeoutError(command);
    };
  const stack = (client as DynamoDBClient).middlewareStack as unknown as {
    add(m: typeof middleware, options: { step: string; name: string; override: boolean }): void;
  };
  // The retry middleware sits in finalizeRequest: a deserialize-step middleware runs inside every retry attempt.
  stack.add(middleware, { step: plan.placement === 'inside-retries' ? 'deserialize' : 'initialize', name, override: true });
  return state;
}

/** Thrown where an injected kill stops a worker: what the queue sees is the same as a crashed invocation. */
export class WorkerKilled extends Error {
  override readonly name = 'WorkerKilled';
}

export type KillPoint = { command: string; occurrence: number; when: 'before' | 'after' };

/**
 * A kill switch on a function's client: once armed, the `occurrence`-th call of `command` kills the worker, before
 * the call reaches the service or after the service applied it (the answer never reaches the worker). One kill per
 * arming; `arm` resolves when it has happened, with what was killed.
 */
export function killSwitch(client: AnyClient, name = 'killSwitch') {
  let plan: KillPoint | undefined;
  let seen = 0;
  let announce: ((what: string) => void) | undefined;
  const state = {
    kills: 0,
    log: [] as string[],
    arm(point: KillPoint): Promise<string> {
      plan = point;
      seen = 0;
      return new Promise<string>((resolve) => (announce = resolve));
    },
    disarm() {
      plan = undefined;
    },
  };
  (client as DynamoDBClient).middlewareStack.add(
    (next, context) => async (args) => {
      const doomed = plan !== undefined && context.commandName === plan.command && ++seen === plan.occurrence;
      if (!doomed) return next(args);
      const point = plan!;
      plan = undefined;
      const what = `${point.when} ${point.command} #${point.occurrence}`;
      state.kills++;
      state.log.push(what);
      announce?.(what);
      if (point.when === 'before') throw new WorkerKilled(`killed before ${point.command}`);
      await next(args);
      throw new WorkerKilled(`killed after ${point.command}`);
    },
    { step: 'initialize', name, override: true },
  );
  return state;
}

/** Where a crash falls: the `occurrence`-th call of `at` (an SDK command name, or `fetch`) after arming. */
export type CrashPoint = { at: string; occurrence: number; when: 'before' | 'after' };

type Invocation = { dead: boolean; kill(error: Error): void };

/**
 * A worker process that can be killed in the middle of an invocation, for functions that catch their own errors.
 * killSwitch throws into the function, which is a crash only where nothing catches it; notify catches a failed read or
 * send and turns it into a partial batch failure, so a thrown error there is a failure it handles, not a crash. Here
 * the kill ends the invocation the way a dead process does: the event source sees the invocation fail, and the call at
 * the kill point, and every later one of that invocation, never returns, so nothing after it happens.
 *
 * `worker` wraps the handler (each call one invocation), `watch` puts the crash points on an SDK client, `fetch`
 * on the HTTP client the function is handed. Other invocations running at the same time are not affected.
 */
export function crashSwitch() {
  const invocations = new AsyncLocalStorage<Invocation>();
  let plan: CrashPoint | undefined;
  let seen = 0;
  let announce: ((what: string) => void) | undefined;
  // What a dead process answers: nothing, ever.
  const gone = () => new Promise<never>(() => undefined);

  async function boundary<T>(at: string, call: () => Promise<T>): Promise<T> {
    const invocation = invocations.getStore();
    if (invocation?.dead) return gone();
    const doomed = invocation !== undefined && plan !== undefined && plan.at === at && ++seen === plan.occurrence;
    if (!doomed) return call();
    const point = plan!;
    plan = undefined;
    // "After": the service or the helpdesk got the request and answered; the answer dies with the process.
    if (point.when === 'after') await call().catch(() => undefined);
    const what = `${point.when} ${at} #${point.occurrence}`;
    state.kills++;
    state.log.push(what);
    invocation!.kill(new WorkerKilled(`killed ${what}`));
    announce?.(what);
    return gone();
  }

  const state = {
    kills: 0,
    log: [] as string[],
    /** Arms one crash; resolves when it has happened, with where. */
    arm(point: CrashPoint): Promise<string> {
      plan = point;
      seen = 0;
      return new Promise<string>((resolve) => (announce = resolve));
    },
    disarm() {
      plan = undefined;
    },
    worker<E, R>(handler: (event: E) => Promise<R>): (event: E) => Promise<R> {
      return (event) =>
        new Promise<R>((resolve, reject) => {
          const invocation: Invocation = {
            dead: false,
            kill(error) {
              invocation.dead = true;
              reject(error);
            },
          };
          invocations.run(invocation, () => handler(event)).then(resolve, reject);
        });
    },
    watch(client: AnyClient, name = 'crashSwitch') {
      (client as DynamoDBClient).middlewareStack.add(
        (next, context) => (args) => boundary(context.commandName ?? 'Unknown', () => next(args)),
        { step: 'initialize', name, override: true },
      );
    },
    fetch(impl: typeof globalThis.fetch): typeof globalThis.fetch {
      return (input, init) => boundary('fetch', () => impl(input, init));
    },
  };
  return state;
}

/**
 * Holds one call of a function's client at a step boundary until the test lets it go, so another worker can act in
 * between: `before` the call reaches the service, or `after` it applied and before the worker hears so. One hold per
 * arming: `reached` resolves when the call is held, `release` lets it continue.
 */
export function holdSwitch(client: AnyClient, name = 'holdSwitch') {
  let plan: { point: KillPoint; reached: () => void; released: Promise<void> } | undefined;
  let seen = 0;
  (client as DynamoDBClient).middlewareStack.add(
    (next, context) => async (args) => {
      const held = plan !== undefined && context.commandName === plan.point.command && ++seen === plan.point.occurrence;
      if (!held) return next(args);
      const { point, reached, released } = plan!;
      plan = undefined;
      if (point.when === 'before') {
        reached();
        await released;
        return next(args);
      }
      const result = await next(args);
      reached();
      await released;
      return result;
    },
    { step: 'initialize', name, override: true },
  );
  return {
    arm(point: KillPoint): { reached: Promise<void>; release: () => void } {
      let release!: () => void;
      const released = new Promise<void>((resolve) => (release = resolve));
      let reached!: () => void;
      const reachedPromise = new Promise<void>((resolve) => (reached = resolve));
      plan = { point, reached, released };
      seen = 0;
      return { reached: reachedPromise, release };
    },
  };
}

/**
 * Moves every message from one queue to another with the SQS API, as an ops redrive does: same body, same attributes.
 * Each is sent before it is deleted, and the move goes on until the source queue reports nothing left. Returns the
 * bodies moved.
 */
export async function redrive(sqs: SQSClient, fromUrl: string, toUrl: string): Promise<string[]> {
  const moved: string[] = [];
  for (;;) {
    // An empty receive is not an empty queue (SQS samples its hosts); its counts are.
    const { Attributes } = await sqs.send(
      new GetQueueAttributesCommand({
        QueueUrl: fromUrl,
        AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible', 'ApproximateNumberOfMessagesDelayed'],
      }),
    );
    if (Object.values(Attributes ?? {}).every((n) => Number(n) === 0)) return moved;
    // A long poll: it answers as soon as a message is visible.
    const { Messages } = await sqs.send(
      new ReceiveMessageCommand({ QueueUrl: fromUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1, MessageAttributeNames: ['All'] }),
    );
    for (const message of Messages ?? []) {
      await sqs.send(
        new SendMessageCommand({ QueueUrl: toUrl, MessageBody: message.Body, MessageAttributes: message.MessageAttributes }),
      );
      await sqs.send(new DeleteMessageCommand({ QueueUrl: fromUrl, ReceiptHandle: message.ReceiptHandle }));
      moved.push(message.Body ?? '');
    }
  }
}

/**
 * Resolves with the first value `probe` returns other than undefined, checked by vitest's `vi.waitUntil`; fails after
 * `timeoutMs` naming `what`. A probe that throws fails it at once.
 */
export async function eventually<T>(what: string, probe: () => Promise<T | undefined> | T | undefined, timeoutMs = 20_000): Promise<T> {
  try {
    const found = await vi.waitUntil(async () => {
      const value = await probe();
      return value === undefined ? false : { value };
    }, { timeout: timeoutMs });
    return found.value;
  } catch (error) {
    if (error instanceof Error && error.message === 'Timed out in waitUntil!') throw new Error(`not within ${timeoutMs} ms: ${what}`);
    throw error;
  }
}
