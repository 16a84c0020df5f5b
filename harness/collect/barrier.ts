// The superstep barrier, measured from a run's executions. A graph engine (Pregel/BSP) starts
// superstep s+1 only when every task of superstep s has ended, so an execution that finished
// early waits for its slowest sibling. For each (scope, step) — a scope being one Pregel loop: a
// graph run, or one subgraph invocation inside it — this computes each branch's wait for the
// step's slowest branch, and the part of it that is a wait for OTHER tasks (a task's own
// branches must all end before its join anyway; a dataflow engine removes only the rest).
// Pure: executions in, numbers out. Systems without supersteps (the blackboard) have no steps
// here and lose nothing by construction. Executions downstream of a cross-task batch carry its
// `multi:` correlation and count as a task of their own.

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
  /** Largest delay of one task: its cross-task waits at steps before its last execution. */
  maxTaskDelayMs: number;
  /** The run's last execution end (the makespan as far as executions tell). */
  lastEndMs: number;
  /**
   * First-order estimate of the makespan lost at barriers: the last end minus the latest
   * `finish(task) - delay(task)` over tasks, i.e. how much sooner the run would end if
   * every task advanced when its own branches ended, the executions' durations unchanged (it
   * ignores the extra contention an earlier start could meet at the per-agent limits).
   */
  lostMs: number;
  /** lostMs / makespanMs (the run's makespan when given, else lastEndMs). */
  lostShare: number;
}

export interface BarrierAnalysis {
  steps: SuperstepBarrier[];
  summary: BarrierSummary;
}

export function barrierAnalysis(executions: readonly BarrierExecution[], makespanMs?: number): BarrierAnalysis {
  const groups = new Map<string, BarrierExecution[]>();
  for (const e of executions) {
    if (!e.superstep) continue;
    const k = `${e.superstep.scope}\u0000${e.superstep.step}`;
    let g = groups.get(k);
    if (!g) groups.set(k, (g = []));
    g.push(e);
  }
  const steps: SuperstepBarrier[] = [];
  /** Per task: (its last end in a step, its wait there for other tasks). */
  const taskWaits = new Map<string, { endMs: number; waitMs: number }[]>();
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
      let l = taskWaits.get(t);
      if (!l) taskWaits.set(t, (l = []));
      l.push({ endMs: end, waitMs: endMs - end });
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

  // Each task's finish, less what it waited for other tasks. An execution over several tasks (a
  // global batch) could have started when its last task would have finished unblocked: it is
  // shifted by its tasks' latest finish minus their latest unblocked finish.
  const finishByTask = new Map<string, number>();
  const members = new Map<string, readonly string[]>();
  let lastEndMs = 0;
  for (const e of executions) {
    const t = taskOf(e);
    finishByTask.set(t, Math.max(finishByTask.get(t) ?? -Infinity, e.endMs));
    if (e.correlationIds.length > 1) members.set(t, e.correlationIds);
    lastEndMs = Math.max(lastEndMs, e.endMs);
  }
  // A wait delays a task only if the task has work after it (a wait after its last execution
  // is the graph run's, not the task's).
  const delayByTask = new Map<string, number>();
  for (const [t, l] of taskWaits) delayByTask.set(t, l.filter((x) => x.endMs < finishByTask.get(t)!).reduce((a, x) => a + x.waitMs, 0));
  const unblocked = (t: string) => finishByTask.get(t)! - (delayByTask.get(t) ?? 0);
  let latestUnblocked = -Infinity;
  for (const t of finishByTask.keys()) {
    let u = unblocked(t);
    const ids = members.get(t)?.filter((x) => finishByTask.has(x));
    if (ids?.length) u -= Math.max(...ids.map((x) => finishByTask.get(x)!)) - Math.max(...ids.map(unblocked));
    latestUnblocked = Math.max(latestUnblocked, u);
  }
  const lostMs = executions.length ? lastEndMs - latestUnblocked : 0;
  const denom = makespanMs ?? lastEndMs;
  return {
    steps,
    summary: {
      supersteps: steps.length,
      branches: steps.reduce((s, x) => s + x.branches, 0),
      coupledSupersteps: steps.filter((x) => x.tasks > 1).length,
      waitMs: steps.reduce((s, x) => s + x.waitMs, 0),
      crossTaskWaitMs: steps.reduce((s, x) => s + x.crossTaskWaitMs, 0),
      maxTaskDelayMs: delayByTask.size ? Math.max(...delayByTask.values()) : 0,
      lastEndMs,
      lostMs,
      lostShare: denom > 0 ? lostMs / denom : 0,
    },
  };
}
