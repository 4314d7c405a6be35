// The local runner's reconciliation timer (infra/local/bridge.ts), as EventBridge Scheduler's schedule stands in for
// it on AWS: a run every interval, armed when the previous run ends so runs never overlap, manual runs queued behind
// the one in progress, a failing run logged and followed by the next tick, and stop waiting for the run in progress.
// Fake timers drive the clock; the run is a stand-in whose timing the test controls.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { startReconcileTimer } from '../../infra/local/bridge';
import type { ReconcileReport } from '../../shared/x/reconcile';

const report = (n: number): ReconcileReport => ({ outcome: 'done', found: n, missed: 0, webhookMissed: 0, requests: 1, reads: 0, costMicroUsd: 0 });

/** A run that takes `ms` of (fake) time, recording when it started and ended and how many ran at once. */
function timedRun(ms: number, fail: (n: number) => boolean = () => false) {
  const log = { starts: [] as number[], ends: [] as number[], maxInFlight: 0 };
  let inFlight = 0;
  const run = async () => {
    const n = log.starts.length + 1;
    log.starts.push(Date.now());
    inFlight += 1;
    log.maxInFlight = Math.max(log.maxInFlight, inFlight);
    await new Promise((resolve) => setTimeout(resolve, ms));
    inFlight -= 1;
    log.ends.push(Date.now());
    if (fail(n)) throw new Error(`run ${n} could not reach the table`);
    return report(n);
  };
  return { run, log };
}

describe('the local reconciliation timer', () => {
  beforeEach(() => {
    vi.useFakeTimers({ now: 0 });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('runs every interval after the previous run ended, never two at once, and keeps going past a failed run', async () => {
    const { run, log } = timedRun(20_000, (n) => n === 2);
    const errors: string[] = [];
    const timer = startReconcileTimer(run, { intervalSeconds: 60, offWithoutRun: 'unused', log: (m, e) => errors.push(`${m}: ${(e as Error).message}`) });
    expect(timer.status).toEqual({ every: 60 });
    await vi.advanceTimersByTimeAsync(59_999);
    expect(log.starts).toEqual([]);
    await vi.advanceTimersByTimeAsync(1 + 3 * 80_000);
    // 60 s, then 60 s after each 20 s run ended (run 2 failed at 160 s and the timer went on).
    expect(log.starts).toEqual([60_000, 140_000, 220_000, 300_000]);
    expect(log.maxInFlight).toBe(1);
    expect(errors).toEqual(['reconciliation run failed: run 2 could not reach the table']);
    const stopping = timer.stop();
    await vi.advanceTimersByTimeAsync(20_000);
    await stopping;
  });

  it('queues a manual run behind the one in progress, and stop waits for it and arms nothing more', async () => {
    const { run, log } = timedRun(20_000);
    const timer = startReconcileTimer(run, { intervalSeconds: 60, offWithoutRun: 'unused', log: () => undefined });
    await vi.advanceTimersByTimeAsync(65_000);
    const manual = timer.runOnce();
    await vi.advanceTimersByTimeAsync(40_000);
    await expect(manual).resolves.toMatchObject({ found: 2 });
    expect(log.starts).toEqual([60_000, 80_000]);
    expect(log.maxInFlight).toBe(1);
    const stopping = timer.stop();
    await vi.advanceTimersByTimeAsync(600_000);
    await stopping;
    expect(log.starts).toHaveLength(2);
    await expect(timer.runOnce()).rejects.toThrow(/stopped/);
  });

  it('is off at an interval of 0 or without a run, and says why', async () => {
    const { run, log } = timedRun(1);
    expect(startReconcileTimer(run, { intervalSeconds: 0, offWithoutRun: 'unused', log: () => undefined }).status).toEqual({ off: 'X_RECONCILE_INTERVAL_SECONDS is 0' });
    const without = startReconcileTimer(undefined, { intervalSeconds: 60, offWithoutRun: 'X_ACCESS_TOKEN is not set', log: () => undefined });
    expect(without.status).toEqual({ off: 'X_ACCESS_TOKEN is not set' });
    await vi.advanceTimersByTimeAsync(600_000);
    expect(log.starts).toEqual([]);
    expect(await without.runOnce()).toBeUndefined();
  });
});
