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
