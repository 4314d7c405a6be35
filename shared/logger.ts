// Structured JSON logs (Powertools Logger) and per-outcome metrics (Powertools Metrics, CloudWatch EMF).
// Log lines carry X ids and ticket ids; never a secret, and message text only at debug level.
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { METRIC_NAMESPACE, METRIC_SERVICE, type MetricName } from './metric-names';

export const logger = new Logger({ serviceName: METRIC_SERVICE });

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
  logger.appendKeys({ fn, brand });
  // One process serves one brand on Lambda; the local runner runs every function in one process, so set it once.
  if (dimensionsFor !== brand) {
    metrics.setDefaultDimensions({ brand });
    dimensionsFor = brand;
  }
  try {
    return await work();
  } finally {
    if (metrics.hasStoredMetrics()) metrics.publishStoredMetrics();
  }
}
