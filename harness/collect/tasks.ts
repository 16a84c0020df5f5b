// Per-task latency: a task is one seed input; it completes when the last execution that
// consumed anything of its correlation id ends. Measured from the *intended* arrival time,
// so a system that delays starting work is charged for it (no coordinated omission).
import type { ExecutionRecord } from '../../workloads/execute.ts';
import type { Arrival } from '../../workloads/arrivals.ts';
import { jainIndex } from '../../core/stats/basic.ts';
import { asLog, forEachKey, type ExecutionLog } from './execution-log.ts';

export interface TaskLatency {
  task: string;
  /** The task's class (Task.class; default the workload's name), for per-class percentiles. */
  taskClass: string;
  intendedAtMs: number;
  /** When the harness handed the task to the system (its lateness vs intendedAtMs is the harness's own). */
  publishedAtMs: number;
  completedAtMs: number;
  latencyMs: number;
}

export function taskLatencies(arrivals: readonly Arrival[], executions: ExecutionLog | readonly ExecutionRecord[], publishedAtMs: readonly number[] = [], defaultClass = ''): TaskLatency[] {
  const log = asLog(executions);
  const done = new Map<string, number>();
  for (let i = 0; i < log.length; i++) {
    const end = log.endMs[i]!;
    forEachKey(log.correlationIds[i]!, (c) => {
      if ((done.get(c) ?? -Infinity) < end) done.set(c, end);
    });
  }
  return arrivals.map((a) => {
    const completedAtMs = done.get(a.task.correlationId) ?? a.intendedAtMs;
    return { task: a.task.key, taskClass: a.task.class ?? defaultClass, intendedAtMs: a.intendedAtMs, publishedAtMs: publishedAtMs[a.index] ?? a.intendedAtMs, completedAtMs, latencyMs: completedAtMs - a.intendedAtMs };
  });
}

/**
 * Fairness under contention: Jain's index over per-task service ratios, ideal / measured latency,
 * where ideal is the task's own critical path from its arrival (no contention, no scheduling).
 * 1 = every task was slowed by the same factor; 1/n = one task got all the service.
 */
export function taskFairness(lat: readonly TaskLatency[], correlationOf: (task: string, i: number) => string, idealFinishMs: ReadonlyMap<string, number>): number {
  const ratios: number[] = [];
  for (let i = 0; i < lat.length; i++) {
    const t = lat[i]!;
    const finish = idealFinishMs.get(correlationOf(t.task, i));
    if (finish === undefined || t.latencyMs <= 0) continue;
    ratios.push(Math.min(1, Math.max(0, finish - t.intendedAtMs) / t.latencyMs));
  }
  return ratios.length ? jainIndex(ratios) : NaN;
}
