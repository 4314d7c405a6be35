// Structured JSON logs (Powertools Logger) and per-outcome metrics (Powertools Metrics, CloudWatch EMF).
// Log lines carry X ids and ticket ids; never a secret, and message text only at debug level.
import { AsyncLocalStorage } from 'node:async_hooks';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { METRIC_NAMESPACE, METRIC_SERVICE, type MetricName } from './metric-names';
import { mapBundleStacks } from './source-map-stacks';

// In a bundle (index.mjs, its map beside it), error stacks name the .ts sources: the map is read at the first stack
// written, not at every cold start (shared/source-map-stacks.ts). Run from the sources, Node or tsx maps them.
mapBundleStacks(import.meta.url);

const base = new Logger({ serviceName: METRIC_SERVICE });

/**
 * The function and brand of the invocation being served. Kept per invocation rather than appended to the logger,
 * which is one per process: the local runner serves every function's invocations at once in one process, and an
 * appended key would land on another invocation's lines.
 */
const invocation = new AsyncLocalStorage<{ fn: string; brand: string }>();

type LogAttributes = Record<string, unknown>;
const withInvocation = (attributes: LogAttributes = {}): LogAttributes => ({ ...invocation.getStore(), ...attributes });

/** Structured JSON lines (Powertools), each with the function and brand of its invocation. */
export const logger = {
  debug: (message: string, attributes?: LogAttributes) => base.debug(message, withInvocation(attributes)),
  info: (message: string, attributes?: LogAttributes) => base.info(message, withInvocation(attributes)),
  warn: (message: string, attributes?: LogAttributes) => base.warn(message, withInvocation(attributes)),
  error: (message: string, attributes?: LogAttributes) => base.error(message, withInvocation(attributes)),
  setLogLevel: (level: Parameters<Logger['setLogLevel']>[0]) => base.setLogLevel(level),
};

export const metrics = new Metrics({ namespace: METRIC_NAMESPACE, serviceName: METRIC_SERVICE });

/** Counts one outcome (for example `TicketsCreated`). */
export function count(name: MetricName, value = 1): void {
  if (value > 0) metrics.addMetric(name, MetricUnit.Count, value);
}

/** Counts one outcome with one more dimension, for example WebhookEventsIgnored by `reason`. */
export function countBy(name: MetricName, dimension: string, dimensionValue: string, value = 1): void {
  if (value <= 0) return;
  const single = metrics.singleMetric();
  single.addDimension(dimension, dimensionValue);
  single.addMetric(name, MetricUnit.Count, value);
}

let dimensionsFor: string | undefined;

/** Runs one invocation with the function name and brand on every log line, then flushes its metrics. */
export async function instrumented<T>(fn: string, brand: string, work: () => Promise<T>): Promise<T> {
  // One process serves one brand on Lambda; the local runner runs every function in one process, so set it once.
  if (dimensionsFor !== brand) {
    metrics.setDefaultDimensions({ brand });
    dimensionsFor = brand;
  }
  try {
    return await invocation.run({ fn, brand }, work);
  } finally {
    if (metrics.hasStoredMetrics()) metrics.publishStoredMetrics();
  }
}
