// Process probes from /proc for broker JVMs: liveness (pid + expected command line) and CPU/RSS samples.
import { readFileSync } from 'node:fs';

/** Linux USER_HZ; 100 on every mainstream kernel config (sysconf(_SC_CLK_TCK)). */
const CLOCK_TICKS_PER_S = 100;

/** True when `pid` exists and, if given, its command line contains `marker` (guards against pid reuse). */
export function isProcessAlive(pid: number, marker?: string): boolean {
  try {
    process.kill(pid, 0);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  if (!marker) return true;
  try {
    const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    // A zombie has an empty cmdline: treat it as dead.
    return cmd.includes(marker);
  } catch {
    return false;
  }
}

export interface ProcessSample {
  pid: number;
  /** Wall-clock time of the sample, ms since epoch. */
  atMs: number;
  /** Cumulative user+system CPU time of the process, ms. */
  cpuTimeMs: number;
  /** Resident set size, MiB. */
  rssMb: number;
}

/** One /proc sample of cumulative CPU time and RSS; undefined when the process is gone. */
export function sampleProcess(pid: number): ProcessSample | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Field 2 (comm) may contain spaces; fields after the closing paren are space-separated.
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // rest[0] is field 3 (state); utime and stime are fields 14 and 15.
    const utime = Number(rest[11]);
    const stime = Number(rest[12]);
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const m = /VmRSS:\s+(\d+)\s+kB/.exec(status);
    const rssKb = m ? Number(m[1]) : 0;
    return {
      pid,
      atMs: Date.now(),
      cpuTimeMs: ((utime + stime) * 1000) / CLOCK_TICKS_PER_S,
      rssMb: rssKb / 1024,
    };
  } catch {
    return undefined;
  }
}

/** CPU utilisation between two samples of the same process, in percent of one core. */
export function cpuPercent(prev: ProcessSample, next: ProcessSample): number {
  const wallMs = next.atMs - prev.atMs;
  if (wallMs <= 0) return 0;
  return (100 * (next.cpuTimeMs - prev.cpuTimeMs)) / wallMs;
}

/** Stateful sampler: each call returns RSS and CPU% since the previous call (0 on the first). */
export function processSampler(pid: number): () => { cpuPct: number; rssMb: number } | undefined {
  let prev: ProcessSample | undefined;
  return () => {
    const s = sampleProcess(pid);
    if (!s) return undefined;
    const cpuPct = prev ? cpuPercent(prev, s) : 0;
    prev = s;
    return { cpuPct, rssMb: s.rssMb };
  };
}
