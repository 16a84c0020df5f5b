// What the LangGraph.js systems share at run time: the installed LangGraph version, per-agent
// semaphores, the probe counting supersteps and executions in flight, the agent body wrapped
// with both (recording each execution's superstep), and a per-invoke abort signal.
import { setMaxListeners } from 'node:events';
import { readFileSync } from 'node:fs';
import { executeAgent } from '../../workloads/execute.ts';
import type { AgentSpec, Artifact, WorkloadSpec } from '../../workloads/spec.ts';
import type { RunContext } from '../types.ts';
import { UnsupportedWorkloadError, type CompileHooks, type StepMeta } from './compile.ts';
import { openLoopRefusal } from './refusals.ts';

export const LANGGRAPH_VERSION: string = (() => {
  try {
    const url = new URL('../../node_modules/@langchain/langgraph/package.json', import.meta.url);
    return String(JSON.parse(readFileSync(url, 'utf8')).version);
  } catch {
    return 'unknown';
  }
})();

export class Semaphore {
  private active = 0;
  private readonly waiters: (() => void)[] = [];
  constructor(readonly limit: number) {}
  async acquire(): Promise<void> {
    if (this.active < this.limit) { this.active++; return; }
    await new Promise<void>((r) => this.waiters.push(r));
  }
  release(): void {
    const next = this.waiters.shift();
    if (next) next();
    else this.active--;
  }
}

/** Counts shared by both forms: executions in flight, tasks per superstep per thread. */
export class RunProbe {
  sent = 0;
  started = 0;
  inFlight = 0;
  peakInFlight = 0;
  executions = 0;
  /** Supersteps seen per Pregel loop (a graph run, or one subgraph invocation). */
  readonly stepsByScope = new Map<string, Set<number>>();
  readonly peakByAgent: Record<string, number> = {};
  private readonly runningByAgent = new Map<string, number>();

  onTask(at: StepMeta): void {
    let s = this.stepsByScope.get(at.scope);
    if (!s) this.stepsByScope.set(at.scope, (s = new Set()));
    s.add(at.step);
  }
  /** Supersteps summed over every Pregel loop. */
  supersteps(): number {
    let n = 0;
    for (const s of this.stepsByScope.values()) n += s.size;
    return n;
  }
  begin(agent: string): void {
    this.started++;
    this.inFlight++;
    this.executions++;
    if (this.inFlight > this.peakInFlight) this.peakInFlight = this.inFlight;
    const r = (this.runningByAgent.get(agent) ?? 0) + 1;
    this.runningByAgent.set(agent, r);
    if (r > (this.peakByAgent[agent] ?? 0)) this.peakByAgent[agent] = r;
  }
  end(agent: string): void {
    this.inFlight--;
    this.runningByAgent.set(agent, this.runningByAgent.get(agent)! - 1);
  }
}

export function makeExecute<P>(ctx: RunContext<P>, probe: RunProbe, perAgentLimit: boolean): CompileHooks['execute'] {
  const sems = new Map<string, Semaphore>();
  for (const a of ctx.workload.agents) sems.set(a.name, new Semaphore(a.maxConcurrency));
  return async (agent: AgentSpec, inputs: Artifact[], at: StepMeta) => {
    const sem = perAgentLimit ? sems.get(agent.name)! : undefined;
    await sem?.acquire();
    probe.begin(agent.name);
    // The record carries the node task's superstep, for the barrier analysis.
    const rt = { ...ctx, onExecution: (r: Parameters<typeof ctx.onExecution>[0]) => ctx.onExecution({ ...r, superstep: at }) };
    try {
      return await executeAgent(agent, inputs, rt);
    } finally {
      probe.end(agent.name);
      sem?.release();
    }
  };
}

/**
 * A fresh signal per invoke, aborted with the run's. LangGraph adds an abort listener per task
 * and per invoke; on the run's own signal they would pile up over thousands of invokes.
 */
export function invokeSignal(run: AbortSignal): { signal: AbortSignal; dispose(): void } {
  const c = new AbortController();
  setMaxListeners(0, c.signal);
  const onAbort = () => c.abort(run.reason);
  if (run.aborted) c.abort(run.reason);
  else run.addEventListener('abort', onAbort, { once: true });
  return { signal: c.signal, dispose: () => run.removeEventListener('abort', onAbort) };
}

export function isOpenLoop(ctx: Pick<RunContext, 'arrivals'>): boolean {
  return ctx.arrivals.some((a) => a.intendedAtMs > 0);
}

export function checkOpenLoop(w: WorkloadSpec, system: string): void {
  const why = openLoopRefusal(w, system);
  if (why) throw new UnsupportedWorkloadError(why);
}
