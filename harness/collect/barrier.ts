// The superstep barrier, measured from a run's executions. A graph engine (Pregel/BSP) starts
// superstep s+1 only when every task of superstep s has ended, so an execution that finished
// early waits for its slowest sibling. For each (scope, step) — a scope being one Pregel loop: a
// graph run, or one subgraph invocation inside it — this computes each branch's wait for the
// step's slowest branch, and the part of it that is a wait for OTHER tasks (a task's own
// branches must all end before its join anyway; a dataflow engine removes only the rest).
//
// What the barrier costs the makespan cannot be read off the waits alone: an execution held at a
// barrier also holds back the executions queued behind it at its agent's concurrency limit. So
// `barrierCost` replays the run's draws twice with the ideal-makespan replay (ideal.ts): once
// under the system's own superstep policy, once as dataflow, engine overhead excluded from both.
// Systems without supersteps (the blackboard) have no steps and lose nothing by construction.
import type { SchedulingPolicy } from '../../systems/types.ts';
import { idealMakespan, type IdealInput } from './ideal.ts';

/** What the analysis needs of an execution (ExecutionRecord fits). */
export interface BarrierExecution {
  agent: string;
  startMs: number;
  endMs: number;
  correlationIds: readonly string[];
  superstep?: { scope: string; step: number };
}

/** The task an execution belongs to: its correlation key (several, joined, for a cross-task batch). */
export function taskOf(e: Pick<BarrierExecution, 'correlationIds'>): string {
  return e.correlationIds.length === 1 ? e.correlationIds[0]! : [...e.correlationIds].sort().join('+');
}

export interface BranchWait {
  agent: string;
  task: string;
  endMs: number;
  /** The step's slowest end minus this branch's end. */
  waitMs: number;
}

export interface SuperstepBarrier {
  scope: string;
  step: number;
  /** Executions in the step. */
  branches: number;
  /** Distinct tasks among them. */
  tasks: number;
  startMs: number;
  /** End of the slowest branch: when the barrier could release. */
  endMs: number;
  /** Sum over branches of their wait for the slowest one (branch-ms). */
  waitMs: number;
  maxWaitMs: number;
  /** Sum over tasks of (step end - the task's own last end in the step): time tasks waited for other tasks. */
  crossTaskWaitMs: number;
  waits: BranchWait[];
}

export interface BarrierReplay {
  /** Ideal makespan under the system's superstep policy (its barriers, windows, limits). */
  barrierMs: number;
  /** Ideal makespan of the same draws as dataflow (an execution starts when its inputs exist and its agent has a slot). */
  dataflowMs: number;
  /** barrierMs - dataflowMs: the makespan the barriers cost. */
  lostMs: number;
  /** lostMs / barrierMs. */
  lostShare: number;
}

export interface BarrierSummary {
  /** Steps with at least one execution. */
  supersteps: number;
  branches: number;
  /** Steps holding branches of more than one task (where tasks can couple). */
  coupledSupersteps: number;
  /** Sum of every branch's wait for its slowest sibling (branch-ms). */
  waitMs: number;
  /** Sum over tasks and steps of the wait for other tasks' branches (task-ms). */
  crossTaskWaitMs: number;
  /** Largest cross-task wait of one task summed over the run. */
  maxTaskWaitMs: number;
  /** The run's last execution end. */
  lastEndMs: number;
}

export interface BarrierAnalysis {
  steps: SuperstepBarrier[];
  summary: BarrierSummary;
}

export function barrierAnalysis(executions: readonly BarrierExecution[]): BarrierAnalysis {
  const groups = new Map<string, BarrierExecution[]>();
  for (const e of executions) {
    if (!e.superstep) continue;
    const k = `${e.superstep.scope}\u0000${e.superstep.step}`;
    let g = groups.get(k);
    if (!g) groups.set(k, (g = []));
    g.push(e);
  }
  const steps: SuperstepBarrier[] = [];
  const waitByTask = new Map<string, number>();
  for (const g of groups.values()) {
    const endMs = Math.max(...g.map((e) => e.endMs));
    const lastEndByTask = new Map<string, number>();
    for (const e of g) {
      const t = taskOf(e);
      lastEndByTask.set(t, Math.max(lastEndByTask.get(t) ?? -Infinity, e.endMs));
    }
    let crossTaskWaitMs = 0;
    for (const [t, end] of lastEndByTask) {
      crossTaskWaitMs += endMs - end;
      waitByTask.set(t, (waitByTask.get(t) ?? 0) + endMs - end);
    }
    const waits = g.map((e) => ({ agent: e.agent, task: taskOf(e), endMs: e.endMs, waitMs: endMs - e.endMs }));
    steps.push({
      scope: g[0]!.superstep!.scope,
      step: g[0]!.superstep!.step,
      branches: g.length,
      tasks: lastEndByTask.size,
      startMs: Math.min(...g.map((e) => e.startMs)),
      endMs,
      waitMs: waits.reduce((s, w) => s + w.waitMs, 0),
      maxWaitMs: Math.max(...waits.map((w) => w.waitMs)),
      crossTaskWaitMs,
      waits,
    });
  }
  steps.sort((a, b) => (a.scope < b.scope ? -1 : a.scope > b.scope ? 1 : a.step - b.step));
  return {
    steps,
    summary: {
      supersteps: steps.length,
      branches: steps.reduce((s, x) => s + x.branches, 0),
      coupledSupersteps: steps.filter((x) => x.tasks > 1).length,
      waitMs: steps.reduce((s, x) => s + x.waitMs, 0),
      crossTaskWaitMs: steps.reduce((s, x) => s + x.crossTaskWaitMs, 0),
      maxTaskWaitMs: waitByTask.size ? Math.max(...waitByTask.values()) : 0,
      lastEndMs: executions.reduce((m, e) => Math.max(m, e.endMs), 0),
    },
  };
}

/**
 * The makespan a run's superstep barriers cost: its ideal makespan under the system's policy less
 * the ideal makespan of the same draws as dataflow (per-agent limits held in both). Undefined for
 * a policy without supersteps, or when the run lacks a draw the replay needs.
 */
export function barrierCost(run: Omit<IdealInput, 'policy' | 'maxConcurrency' | 'maxRuns' | 'dispatchEveryMs' | 'agentLimits'>, policy: SchedulingPolicy): BarrierReplay | undefined {
  if (policy.kind === 'dataflow') return undefined;
  const barrier = idealMakespan({ ...run, policy: policy.kind, maxConcurrency: policy.maxConcurrency, maxRuns: policy.maxRuns, agentLimits: policy.agentLimits });
  const dataflow = idealMakespan({ ...run, policy: 'dataflow' });
  if (!barrier || !dataflow) return undefined;
  const lostMs = barrier.idealMs - dataflow.idealMs;
  return { barrierMs: barrier.idealMs, dataflowMs: dataflow.idealMs, lostMs, lostShare: barrier.idealMs > 0 ? lostMs / barrier.idealMs : 0 };
}
