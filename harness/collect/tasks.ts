// Per-task latency: a task is one seed input; it completes when the last execution that
// consumed anything of its correlation id ends. Measured from the *intended* arrival time,
// so a system that delays starting work is charged for it (no coordinated omission).
import type { ExecutionRecord } from '../../workloads/execute.ts';
import type { Arrival } from '../../systems/types.ts';

export interface TaskLatency {
  task: string;
  intendedAtMs: number;
  completedAtMs: number;
  latencyMs: number;
}

export function taskLatencies(arrivals: readonly Arrival[], executions: readonly ExecutionRecord[]): TaskLatency[] {
  const done = new Map<string, number>();
  for (const e of executions) {
    for (const c of e.correlationIds) {
      if ((done.get(c) ?? -Infinity) < e.endMs) done.set(c, e.endMs);
    }
  }
  return arrivals.map((a) => {
    const completedAtMs = done.get(a.input.correlationId) ?? a.intendedAtMs;
    return { task: a.input.key, intendedAtMs: a.intendedAtMs, completedAtMs, latencyMs: completedAtMs - a.intendedAtMs };
  });
}
