// Fault injection for the reliability suite, all through AWS SDK middleware on the clients a test hands the real
// functions: no module mocking, and the functions cannot tell an injected fault from a real one.
import { ProvisionedThroughputExceededException, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DeleteMessageCommand, ReceiveMessageCommand, SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';

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
};

/** Injects faults into a fraction of a client's calls; returns how many of each were injected, by command. */
export function injectFaults(client: AnyClient, plan: FaultPlan, name = 'injectedFaults'): { injected: Record<string, number>; enabled: boolean } {
  const state = { injected: {} as Record<string, number>, enabled: true };
  const middleware = (next: (args: unknown) => Promise<unknown>, context: { commandName?: string }) => async (args: unknown) => {
      const command = context.commandName ?? 'Unknown';
      if (!state.enabled || (plan.commands && !plan.commands.has(command)) || plan.random() >= plan.fraction) return next(args);
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
 * arming.
 */
export function killSwitch(client: AnyClient, name = 'killSwitch') {
  let plan: KillPoint | undefined;
  let seen = 0;
  const state = {
    kills: 0,
    log: [] as string[],
    arm(point: KillPoint) {
      plan = point;
      seen = 0;
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
      state.kills++;
      state.log.push(`${point.when} ${point.command} #${point.occurrence}`);
      if (point.when === 'before') throw new WorkerKilled(`killed before ${point.command}`);
      await next(args);
      throw new WorkerKilled(`killed after ${point.command}`);
    },
    { step: 'initialize', name, override: true },
  );
  return state;
}

/**
 * Moves every message from one queue to another with the SQS API, as an ops redrive does: same body, same attributes.
 * Returns the bodies moved.
 */
export async function redrive(sqs: SQSClient, fromUrl: string, toUrl: string, timeoutMs = 10_000): Promise<string[]> {
  const moved: string[] = [];
  const deadline = Date.now() + timeoutMs;
  let emptyPolls = 0;
  while (Date.now() < deadline && emptyPolls < 2) {
    const { Messages } = await sqs.send(
      new ReceiveMessageCommand({ QueueUrl: fromUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0, MessageAttributeNames: ['All'] }),
    );
    if (!Messages?.length) {
      emptyPolls++;
      continue;
    }
    emptyPolls = 0;
    for (const message of Messages) {
      await sqs.send(
        new SendMessageCommand({ QueueUrl: toUrl, MessageBody: message.Body, MessageAttributes: message.MessageAttributes }),
      );
      await sqs.send(new DeleteMessageCommand({ QueueUrl: fromUrl, ReceiptHandle: message.ReceiptHandle }));
      moved.push(message.Body ?? '');
    }
  }
  return moved;
}

/** Polls `probe` every 50 ms until it returns something other than undefined; fails after `timeoutMs` with `what`. */
export async function eventually<T>(what: string, probe: () => Promise<T | undefined> | T | undefined, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`not within ${timeoutMs} ms: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
