// The superstep barrier, measured from a run's executions. A graph engine (Pregel/BSP) starts
// superstep s+1 only when every task of superstep s has ended, so an execution that finished
// early waits for its slowest sibling. For each (scope, step) — a scope being one Pregel loop: a
// graph run, or one subgraph invocation inside it — this computes each branch's wait for the
// step's slowest branch, and the part of it that is a wait for OTHER tasks (a task's own
// branches must all end before its join anyway; a dataflow engine removes only the rest).
//
// What the barrier costs the makespan cannot be read off the waits alone: an execution held at a
// barrier also holds back the executions queued behind it at its agent's concurrency limit. So
// the run is replayed twice on its own execution durations, dependencies (input/output keys) and
// per-agent limits: once with each scope's superstep barriers, once as pure dataflow. The
// difference is the makespan lost at barriers, with engine overhead and everything else equal.
// Pure: executions in, numbers out. Systems without supersteps (the blackboard) have no steps
// and lose nothing by construction.

/** What the analysis needs of an execution (ExecutionRecord fits). */
export interface BarrierExecution {
  agent: string;
  startMs: number;
  endMs: number;
  correlationIds: readonly string[];
  /** Logical keys consumed and produced: the dataflow dependencies of the replay. */
  inputKeys?: readonly string[];
  outputKeys?: readonly string[];
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
  /** Makespan of the replay with every scope's superstep barriers. */
  barrierMs: number;
  /** Makespan of the same executions as pure dataflow (an execution starts when its inputs exist and its agent has a slot). */
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
  /** Undefined when the executions carry no input/output keys. */
  replay?: BarrierReplay;
}

export interface BarrierAnalysis {
  steps: SuperstepBarrier[];
  summary: BarrierSummary;
}

export interface BarrierOptions {
  /** Per-agent concurrency limits (the workload's maxConcurrency); an agent without one is unbounded. */
  limits?: Readonly<Record<string, number>>;
  /** Duration of an execution in the replay. Default: as measured (endMs - startMs). */
  durationMs?: (e: BarrierExecution) => number;
  /** When a task's first executions could start (its arrival). Default 0 (all at once). */
  arrivalMs?: (task: string) => number;
}

export function barrierAnalysis(executions: readonly BarrierExecution[], o: BarrierOptions = {}): BarrierAnalysis {
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
  const canReplay = executions.length > 0 && executions.every((e) => e.inputKeys && e.outputKeys);
  let replay: BarrierReplay | undefined;
  if (canReplay) {
    const barrierMs = replaySchedule(executions, o, true);
    const dataflowMs = replaySchedule(executions, o, false);
    replay = { barrierMs, dataflowMs, lostMs: barrierMs - dataflowMs, lostShare: barrierMs > 0 ? (barrierMs - dataflowMs) / barrierMs : 0 };
  }
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
      ...(replay ? { replay } : {}),
    },
  };
}

/**
 * Makespan of a list schedule of the executions: each starts once every execution producing one
 * of its inputs has ended (and, with `barriers`, every execution of an earlier superstep of its
 * scope), and its agent has a free slot; ready executions take slots in order of readiness, ties
 * in their measured start order. Durations and limits are the same in both replays.
 */
export function replaySchedule(executions: readonly BarrierExecution[], o: BarrierOptions, barriers: boolean): number {
  const n = executions.length;
  if (!n) return 0;
  const dur = executions.map((e) => Math.max(0, o.durationMs ? o.durationMs(e) : e.endMs - e.startMs));
  const producerOf = new Map<string, number>();
  executions.forEach((e, i) => { for (const k of e.outputKeys ?? []) producerOf.set(k, i); });
  const dependents: number[][] = executions.map(() => []);
  const missing = new Array<number>(n).fill(0);
  executions.forEach((e, i) => {
    for (const p of new Set((e.inputKeys ?? []).map((k) => producerOf.get(k)).filter((p): p is number => p !== undefined && p !== i))) {
      dependents[p]!.push(i);
      missing[i]!++;
    }
  });
  // Barriers: per scope, its steps in order; an execution may start once every earlier step of its scope is done.
  const scopeSteps = new Map<string, number[]>();
  const left = new Map<string, number>();
  if (barriers) {
    for (const e of executions) {
      if (!e.superstep) continue;
      const l = scopeSteps.get(e.superstep.scope) ?? [];
      if (!l.includes(e.superstep.step)) l.push(e.superstep.step);
      scopeSteps.set(e.superstep.scope, l);
      const k = `${e.superstep.scope}\u0000${e.superstep.step}`;
      left.set(k, (left.get(k) ?? 0) + 1);
    }
    for (const l of scopeSteps.values()) l.sort((a, b) => a - b);
  }
  const open = (i: number): boolean => {
    const s = executions[i]!.superstep;
    if (!barriers || !s) return true;
    for (const st of scopeSteps.get(s.scope)!) {
      if (st >= s.step) return true;
      if (left.get(`${s.scope}\u0000${st}`)! > 0) return false;
    }
    return true;
  };
  const readyAt = new Array<number>(n).fill(0);
  const depsDone = new Array<boolean>(n).fill(false);
  const queued = new Array<boolean>(n).fill(false);
  const byAgent = new Map<string, number[]>();
  const running = new Map<string, number>();
  const finishing: { at: number; i: number }[] = [];
  const enqueue = (i: number, t: number) => {
    queued[i] = true;
    readyAt[i] = t;
    const a = executions[i]!.agent;
    let q = byAgent.get(a);
    if (!q) byAgent.set(a, (q = []));
    q.push(i);
  };
  const arrival = (i: number) => (o.arrivalMs ? o.arrivalMs(taskOf(executions[i]!)) : 0);
  let now = 0;
  const release = () => {
    for (let i = 0; i < n; i++) if (!queued[i] && depsDone[i] && open(i)) enqueue(i, Math.max(now, readyAt[i]!));
    for (const [a, q] of byAgent) {
      q.sort((x, y) => readyAt[x]! - readyAt[y]! || executions[x]!.startMs - executions[y]!.startMs);
      const limit = o.limits?.[a] ?? Infinity;
      let r = running.get(a) ?? 0;
      while (q.length && r < limit && readyAt[q[0]!]! <= now) {
        const i = q.shift()!;
        r++;
        finishing.push({ at: now + dur[i]!, i });
      }
      running.set(a, r);
    }
  };
  for (let i = 0; i < n; i++) if (missing[i] === 0) { depsDone[i] = true; readyAt[i] = arrival(i); }
  let done = 0;
  let makespan = 0;
  while (done < n) {
    release();
    // Next event: an execution ending, or a task arriving.
    const nextEnd = finishing.reduce((m, f) => Math.min(m, f.at), Infinity);
    let nextArrival = Infinity;
    for (let i = 0; i < n; i++) if (!queued[i] && depsDone[i] && readyAt[i]! > now) nextArrival = Math.min(nextArrival, readyAt[i]!);
    for (const q of byAgent.values()) for (const i of q) if (readyAt[i]! > now) nextArrival = Math.min(nextArrival, readyAt[i]!);
    const next = Math.min(nextEnd, nextArrival);
    if (next === Infinity) throw new Error('barrier replay: executions wait on inputs nothing produces (a dependency cycle?)');
    now = next;
    for (let k = finishing.length - 1; k >= 0; k--) {
      const f = finishing[k]!;
      if (f.at > now) continue;
      finishing.splice(k, 1);
      done++;
      makespan = Math.max(makespan, f.at);
      const e = executions[f.i]!;
      running.set(e.agent, running.get(e.agent)! - 1);
      if (e.superstep && barriers) {
        const key = `${e.superstep.scope}\u0000${e.superstep.step}`;
        left.set(key, left.get(key)! - 1);
      }
      for (const d of dependents[f.i]!) if (--missing[d]! === 0) { depsDone[d] = true; readyAt[d] = now; }
    }
  }
  return makespan;
}
