// The real function factories, each given its own AWS clients (as each Lambda function has its own), counted per
// function: every SQS call, and every DynamoDB call with the capacity DynamoDB says it consumed.
//
// Capacity is asked for as INDEXES, not TOTAL: DynamoDB Local 3.3 leaves the global secondary indexes out of TOTAL
// for TransactWriteItems (a 2-item transaction with one GSI write per item reports 4 under TOTAL and 8 under INDEXES:
// table 4, byStatus 2, byTicket 2), while AWS bills the index writes. INDEXES gives the table and each index apart.
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { SQSClient } from '@aws-sdk/client-sqs';
import type { HandlerFactories } from '../infra/local/bridge';
import { createAwsClients, type AwsClients } from '../shared/aws/clients';
import type { Config } from '../shared/config';

export type FunctionKey = keyof HandlerFactories;

/** Consumed capacity, split as DynamoDB reports it under ReturnConsumedCapacity=INDEXES. */
export type Capacity = { total: number; table: number; indexes: Record<string, number> };

export type CommandCount = { calls: number; errors: number; capacity: Capacity };

/** Everything one function's clients sent, by service and command (`GetItem`, `SendMessageBatch`, ...). */
export type FunctionCounts = { dynamodb: Record<string, CommandCount>; sqs: Record<string, CommandCount> };

const READ_COMMANDS = new Set(['GetItem', 'Query', 'Scan', 'BatchGetItem', 'TransactGetItems']);
const WRITE_COMMANDS = new Set(['PutItem', 'UpdateItem', 'DeleteItem', 'BatchWriteItem', 'TransactWriteItems']);

const emptyCapacity = (): Capacity => ({ total: 0, table: 0, indexes: {} });

type RawCapacity = {
  CapacityUnits?: number;
  Table?: { CapacityUnits?: number };
  GlobalSecondaryIndexes?: Record<string, { CapacityUnits?: number }>;
};

function addCapacity(into: Capacity, output: unknown): void {
  const consumed = (output as { ConsumedCapacity?: RawCapacity | RawCapacity[] } | undefined)?.ConsumedCapacity;
  for (const c of Array.isArray(consumed) ? consumed : consumed ? [consumed] : []) {
    into.total += c.CapacityUnits ?? 0;
    into.table += c.Table?.CapacityUnits ?? 0;
    for (const [index, units] of Object.entries(c.GlobalSecondaryIndexes ?? {})) {
      into.indexes[index] = (into.indexes[index] ?? 0) + (units.CapacityUnits ?? 0);
    }
  }
}

function counted<C extends DynamoDBClient | SQSClient>(client: C, into: Record<string, CommandCount>, askCapacity: boolean): C {
  (client as DynamoDBClient).middlewareStack.add(
    (next, context) => async (args) => {
      const name = (context.commandName ?? 'Unknown').replace(/Command$/, '');
      const count = (into[name] ??= { calls: 0, errors: 0, capacity: emptyCapacity() });
      count.calls++;
      const input = args.input as Record<string, unknown>;
      const withCapacity =
        askCapacity && (READ_COMMANDS.has(name) || WRITE_COMMANDS.has(name))
          ? { ...args, input: { ...input, ReturnConsumedCapacity: 'INDEXES' } }
          : args;
      try {
        const result = await next(withCapacity);
        addCapacity(count.capacity, result.output);
        return result;
      } catch (error) {
        count.errors++;
        throw error;
      }
    },
    { step: 'initialize', name: 'benchCounter', override: true },
  );
  return client;
}

export type CountedFunctions = {
  factories: HandlerFactories;
  /** A copy of what each function's clients have sent so far. */
  snapshot(): Record<FunctionKey, FunctionCounts>;
  /** Closes every client the factories made (their keep-alive sockets). */
  destroy(): void;
};

/** Wraps `factories` so each function builds its own clients (shared/aws/clients.ts), counted per function. */
export function countedFunctions(factories: HandlerFactories): CountedFunctions {
  const counts = {} as Record<FunctionKey, FunctionCounts>;
  const made: AwsClients[] = [];
  const clientsFor = (key: FunctionKey, config: Config): AwsClients => {
    const into = (counts[key] ??= { dynamodb: {}, sqs: {} });
    const own = createAwsClients(config);
    const clients = { dynamodb: counted(own.dynamodb, into.dynamodb, true), sqs: counted(own.sqs, into.sqs, false) };
    made.push(clients);
    return clients;
  };
  const wrapped: HandlerFactories = {};
  for (const key of Object.keys(factories) as FunctionKey[]) {
    const factory = factories[key] as ((config: Config, clients?: AwsClients) => unknown) | undefined;
    if (!factory) continue;
    (wrapped as Record<string, unknown>)[key] = (config: Config) => factory(config, clientsFor(key, config));
  }
  return {
    factories: wrapped,
    snapshot: () => structuredClone(counts),
    destroy: () => {
      for (const clients of made.splice(0)) {
        clients.dynamodb.destroy();
        clients.sqs.destroy();
      }
    },
  };
}

/** Sums of read and write capacity over commands (reads and writes told apart by command, as DynamoDB bills them). */
export function capacityByKind(counts: FunctionCounts | undefined): { read: Capacity; write: Capacity; calls: Record<string, number> } {
  const read = emptyCapacity();
  const write = emptyCapacity();
  const calls: Record<string, number> = {};
  for (const [name, c] of Object.entries(counts?.dynamodb ?? {})) {
    calls[name] = c.calls;
    const into = READ_COMMANDS.has(name) ? read : WRITE_COMMANDS.has(name) ? write : undefined;
    if (!into) continue;
    into.total += c.capacity.total;
    into.table += c.capacity.table;
    for (const [index, units] of Object.entries(c.capacity.indexes)) into.indexes[index] = (into.indexes[index] ?? 0) + units;
  }
  return { read, write, calls };
}

/** `after - before`, command by command. */
export function diffCounts(after: FunctionCounts | undefined, before: FunctionCounts | undefined): FunctionCounts {
  const diff = (a: Record<string, CommandCount> = {}, b: Record<string, CommandCount> = {}) =>
    Object.fromEntries(
      Object.entries(a).map(([name, c]) => {
        const p = b[name];
        const indexes = Object.fromEntries(
          Object.entries(c.capacity.indexes).map(([i, u]) => [i, u - (p?.capacity.indexes[i] ?? 0)]),
        );
        return [
          name,
          {
            calls: c.calls - (p?.calls ?? 0),
            errors: c.errors - (p?.errors ?? 0),
            capacity: { total: c.capacity.total - (p?.capacity.total ?? 0), table: c.capacity.table - (p?.capacity.table ?? 0), indexes },
          },
        ];
      }),
    );
  return { dynamodb: diff(after?.dynamodb, before?.dynamodb), sqs: diff(after?.sqs, before?.sqs) };
}
