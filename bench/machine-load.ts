// How busy this machine was with work that is not the benchmark's: the figures are only comparable between runs on
// a quiet machine, and a shared 2-core box is not always quiet. Linux only (/proc); elsewhere it reports nothing.
import { readFileSync } from 'node:fs';
import { cpus } from 'node:os';

const TICKS_PER_SECOND = 100; // USER_HZ: 100 on every Linux build Node supports.

function machineBusyTicks(): number | undefined {
  try {
    const cpu = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
    // user nice system idle iowait irq softirq steal: busy is everything but idle and iowait.
    return cpu.reduce((sum, v, i) => (i === 3 || i === 4 ? sum : sum + v), 0);
  } catch {
    return undefined;
  }
}

function processTicks(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // utime and stime of the process and of its waited-for children (fields 14–17 of stat).
    return fields.slice(11, 15).reduce((sum, v) => sum + Number(v), 0);
  } catch {
    return 0;
  }
}

export type LoadMeter = {
  /** Cores' worth of CPU used by other processes since start (0 on a quiet machine), or undefined off Linux. */
  foreignCores(): number | undefined;
  /** Cores' worth of CPU used by this process and `pids` since start. */
  ownCores(): number;
};

/** Starts measuring; `pids` are the benchmark's own child processes (DynamoDB Local's java). */
export function startLoadMeter(pids: number[]): LoadMeter {
  const started = performance.now();
  const machine0 = machineBusyTicks();
  const own = () => processTicks(process.pid) + pids.reduce((sum, pid) => sum + processTicks(pid), 0);
  const own0 = own();
  const seconds = () => (performance.now() - started) / 1000;
  return {
    foreignCores() {
      const machine1 = machineBusyTicks();
      if (machine0 === undefined || machine1 === undefined) return undefined;
      const foreign = machine1 - machine0 - (own() - own0);
      return Math.max(0, foreign / TICKS_PER_SECOND / seconds());
    },
    ownCores: () => (own() - own0) / TICKS_PER_SECOND / seconds(),
  };
}

/** The number of cores Node sees. */
export const CORES = cpus().length;
