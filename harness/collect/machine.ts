// What the machine was doing when a run happened: the 1-minute load average (all processes,
// including this one), the CPUs this process may run on (affinity, e.g. under `--pin`), and
// their list. Stored per run so runs taken under heavy external load can be flagged.
import { readFileSync } from 'node:fs';
import { availableParallelism, loadavg } from 'node:os';

export function load1(): number {
  return loadavg()[0] ?? NaN;
}

/** The CPU list this process may run on (Linux `Cpus_allowed_list`), or `all` elsewhere. */
export function cpuList(): string {
  try {
    const m = /Cpus_allowed_list:\s*(\S+)/.exec(readFileSync('/proc/self/status', 'utf8'));
    return m?.[1] ?? 'all';
  } catch {
    return 'all';
  }
}

export function cpusAvailable(): number {
  return availableParallelism();
}

/**
 * Runs are set apart as started under load when the 1-minute load average exceeds cpus + 1
 * (the `loaded` column). That average lags: a run right after a heavy one (worker processes
 * compiling, a warm-up that spawned them) inherits its predecessor's load, so a matrix can ask
 * to wait before each measured run until the average is back to cpus + 0.5 (1 below the cut,
 * half a core of margin), for at most `maxMs`. Returns how long it waited and whether the target
 * was reached; a timeout is not an error: the run starts and its load_start says what it was.
 */
export async function settleLoad(maxMs: number, o: { target?: number; pollMs?: number; load?: () => number; now?: () => number; sleep?: (ms: number) => Promise<void> } = {}): Promise<{ waitedMs: number; reached: boolean }> {
  const target = o.target ?? cpusAvailable() + 0.5;
  const load = o.load ?? load1;
  const now = o.now ?? (() => performance.now());
  const sleep = o.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const pollMs = o.pollMs ?? 1000;
  const t0 = now();
  for (;;) {
    const l = load();
    // NaN (no load average on this platform): nothing to wait for.
    if (!(l > target)) return { waitedMs: now() - t0, reached: true };
    if (now() - t0 >= maxMs) return { waitedMs: now() - t0, reached: false };
    await sleep(pollMs);
  }
}

/** Cumulative CPU time of the whole machine (/proc/stat), ms summed over its CPUs; undefined off Linux. */
export interface MachineCpu {
  busyMs: number;
  totalMs: number;
  cpus: number;
}

const TICKS_PER_S = 100;

export function machineCpu(): MachineCpu | undefined {
  try {
    const lines = readFileSync('/proc/stat', 'utf8').split('\n');
    const f = lines[0]!.trim().split(/\s+/).slice(1).map(Number);
    // user nice system idle iowait irq softirq steal (guest time is inside user/nice).
    const [user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0] = f;
    const busy = user + nice + system + irq + softirq + steal;
    const cpus = lines.filter((l) => /^cpu\d+\s/.test(l)).length;
    return { busyMs: (busy * 1000) / TICKS_PER_S, totalMs: ((busy + idle + iowait) * 1000) / TICKS_PER_S, cpus };
  } catch {
    return undefined;
  }
}

/** The machine is saturated when at least this share of all its CPU time was busy. */
export const SATURATED_SHARE = 0.9;

/**
 * Where the machine's CPU went during a window, as shares of all its CPU time (1 = every core
 * busy the whole window): the run's own processes, the broker JVMs, everything else.
 * `saturated`: the machine as a whole was (near) fully busy, whoever used it; the run's
 * throughput is then bounded by the CPU, not by the system under test or its broker alone.
 */
export interface CpuShares {
  runShare: number;
  brokerShare: number;
  otherShare: number;
  machineBusyShare: number;
  cpus: number;
  saturated: boolean;
}

export function cpuShares(before: MachineCpu, after: MachineCpu, runCpuMs: number, brokerCpuMs: number): CpuShares {
  const total = after.totalMs - before.totalMs;
  const busy = after.busyMs - before.busyMs;
  const share = (ms: number) => (total > 0 ? ms / total : NaN);
  const machineBusyShare = share(busy);
  const runShare = share(runCpuMs);
  const brokerShare = share(brokerCpuMs);
  return {
    runShare, brokerShare, machineBusyShare, cpus: after.cpus,
    otherShare: Math.max(0, machineBusyShare - runShare - brokerShare),
    saturated: machineBusyShare >= SATURATED_SHARE,
  };
}
