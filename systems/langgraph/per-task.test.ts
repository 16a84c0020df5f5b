import { describe, expect, it } from 'vitest';
import { resolveParams } from '../../core/params.ts';
import { barrierAnalysis } from '../../harness/collect/barrier.ts';
import { runOnce, runSession } from '../../harness/runner/run-once.ts';
import { SimulatedLlm } from '../../llm/simulator.ts';
import type { ExecutionRecord } from '../../workloads/execute.ts';
import { buildWorkload } from '../../workloads/registry.ts';
import type { WorkloadSpec } from '../../workloads/spec.ts';
import { UnsupportedWorkloadError, type RunContext } from '../types.ts';
import { compileSubgraph, splitByTask, TASK_NODE } from './compile.ts';
import { parallelParams, perItemParams, subgraphParams } from './params.ts';
import { langgraphPerItemSystem, langgraphSubgraphSystem } from './per-task.ts';
import { langgraphParallelSystem } from './system.ts';

const DEFS = { 'langgraph-per-item': perItemParams, 'langgraph-subgraph': subgraphParams, 'langgraph-parallel': parallelParams } as const;

/** A run context over the in-process simulator. */
function context(w: WorkloadSpec, system: keyof typeof DEFS, systemParams: Record<string, unknown> = {}, latencyScale = 0.005) {
  const executions: ExecutionRecord[] = [];
  const t0 = performance.now();
  const ctx: RunContext<never> = {
    runId: 'test', workload: w, llm: new SimulatedLlm({ seed: 7, latencyScale }), seed: 7, clock: () => performance.now() - t0,
    onExecution: (r) => executions.push(r), latencyScale, params: resolveParams(system, DEFS[system], systemParams) as never,
    arrivals: w.tasks.map((task, index) => ({ index, task, intendedAtMs: 0 })),
    signal: new AbortController().signal, llmConfig: { transport: 'inprocess' },
  };
  return { ctx, executions };
}

function peakOverlap(execs: readonly ExecutionRecord[]): number {
  const ev = execs.flatMap((e) => [[e.startMs, 1], [e.endMs, -1]] as const).sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  let cur = 0, peak = 0;
  for (const [, d] of ev) { cur += d; peak = Math.max(peak, cur); }
  return peak;
}

const scopesOf = (execs: readonly ExecutionRecord[]) => new Set(execs.map((e) => e.superstep!.scope));

describe('langgraph-per-item', () => {
  it('one graph run per task, each its own Pregel loop; per-agent limits hold across runs', async () => {
    const w = buildWorkload('review-analysis', { analysts: 3, tasks: 5, maxConcurrency: 2 });
    const { ctx, executions } = context(w, 'langgraph-per-item');
    const r = await runSession(langgraphPerItemSystem(), w, ctx);
    expect(executions).toHaveLength(5 * 4);
    expect(r.counters).toMatchObject({ invokes: 5, peakRunningInvokes: 5, executions: 20 });
    // Every execution records its superstep; one scope per task, holding only that task.
    expect(executions.every((e) => e.superstep && e.superstep.step >= 0)).toBe(true);
    expect(scopesOf(executions).size).toBe(5);
    for (const s of scopesOf(executions)) expect(new Set(executions.filter((e) => e.superstep!.scope === s).map((e) => e.correlationIds[0])).size).toBe(1);
    // 5 stories want 5 concurrent executions of each analyst: the shared semaphore allows 2.
    for (const a of w.agents) expect(peakOverlap(executions.filter((e) => e.agent === a.name))).toBeLessThanOrEqual(2);
    expect(r.counters!.peakInFlight).toBeGreaterThan(2);
    expect(r.settings).toMatchObject({ form: 'per-item', maxInvocations: 'unbounded', graphRuns: 'per-task' });
    expect(barrierAnalysis(executions).summary).toMatchObject({ coupledSupersteps: 0, crossTaskWaitMs: 0 });
  });

  it('maxInvocations bounds the graph runs in flight', async () => {
    const w = buildWorkload('map', { tasks: 4, depth: 2 });
    const { ctx, executions } = context(w, 'langgraph-per-item', { maxInvocations: 1 });
    const r = await runSession(langgraphPerItemSystem(), w, ctx);
    expect(r.counters).toMatchObject({ invokes: 4, peakRunningInvokes: 1 });
    expect(peakOverlap(executions)).toBe(1);
  });

  it('refuses a global batch at start(), with the fix', async () => {
    const w = buildWorkload('map', { tasks: 3, join: true });
    const { ctx } = context(w, 'langgraph-per-item');
    await expect(langgraphPerItemSystem().start(w, ctx)).rejects.toThrow(UnsupportedWorkloadError);
    await expect(langgraphPerItemSystem().start(w, ctx)).rejects.toThrow(/reducer .* global batch.*langgraph-subgraph or langgraph-parallel/);
  });

  it('open-loop arrivals: each task starts its run when it arrives', async () => {
    const w = buildWorkload('review-analysis', { analysts: 2, tasks: 3, arrival: 'uniform', ratePerSec: 200 });
    const { ctx, executions } = context(w, 'langgraph-per-item');
    ctx.arrivals = ctx.arrivals.map((a, i) => ({ ...a, intendedAtMs: i * 5 }));
    const r = await runSession(langgraphPerItemSystem(), w, ctx);
    expect(r.counters!.invokes).toBe(3);
    expect(executions).toHaveLength(9);
  });
});

describe('langgraph-subgraph', () => {
  it('compiles per-task agents into the subgraph (joins deferred) and global batches into the outer graph (deferred gate)', () => {
    const w = buildWorkload('map', { tasks: 3, depth: 2, join: true });
    expect(splitByTask(w).crossTask.map((a) => a.name)).toEqual(['reducer']);
    const g = compileSubgraph(w, { execute: async () => [] }) as unknown as { nodes: Record<string, { defer?: boolean }> };
    expect(Object.keys(g.nodes).sort()).toEqual(['gate.reducer', 'reducer', TASK_NODE].sort());
    expect(g.nodes['gate.reducer']!.defer).toBe(true);
    const ra = buildWorkload('review-analysis', { analysts: 2, tasks: 2 });
    expect(splitByTask(ra).crossTask).toEqual([]);
  });

  it('one graph run; each task advances through its own subgraph supersteps, so no step holds two tasks', async () => {
    const w = buildWorkload('review-analysis', { analysts: 3, tasks: 4, maxConcurrency: 2 });
    const { ctx, executions } = context(w, 'langgraph-subgraph');
    const r = await runSession(langgraphSubgraphSystem(), w, ctx);
    expect(executions).toHaveLength(16);
    expect(r.counters).toMatchObject({ invokes: 1, subgraphs: 4, executions: 16 });
    expect(scopesOf(executions).size).toBe(4);
    for (const a of w.agents) expect(peakOverlap(executions.filter((e) => e.agent === a.name))).toBeLessThanOrEqual(2);
    expect(barrierAnalysis(executions).summary).toMatchObject({ coupledSupersteps: 0, crossTaskWaitMs: 0 });
    expect(r.settings).toMatchObject({ form: 'subgraph', deferredJoins: true, outerAgents: [] });
  });

  it('map with a global join: the reducer runs once in the outer graph, after every task subgraph', async () => {
    const w = buildWorkload('map', { tasks: 5, depth: 2, join: true });
    const { ctx, executions } = context(w, 'langgraph-subgraph');
    const r = await runSession(langgraphSubgraphSystem(), w, ctx);
    expect(executions).toHaveLength(11);
    const reducer = executions.filter((e) => e.agent === 'reducer');
    expect(reducer).toHaveLength(1);
    expect(reducer[0]!.inputKeys).toHaveLength(5);
    expect(reducer[0]!.startMs).toBeGreaterThanOrEqual(Math.max(...executions.filter((e) => e.agent !== 'reducer').map((e) => e.endMs)));
    // Per-task scopes for the workers, the run's own scope for the reducer.
    expect(scopesOf(executions).size).toBe(6);
    expect(r.artifacts.filter((a) => a.type === 'Summary')).toHaveLength(1);
    expect(r.artifacts.filter((a) => a.type === 'Task')).toHaveLength(5);
  });
});

describe('the barrier in one graph run (langgraph-parallel) couples tasks; per task it does not', () => {
  it('parallel: the analysts of every story share one superstep', async () => {
    const w = buildWorkload('review-analysis', { analysts: 4, tasks: 3 });
    const { ctx, executions } = context(w, 'langgraph-parallel');
    await runSession(langgraphParallelSystem(), w, ctx);
    const b = barrierAnalysis(executions);
    expect(b.summary.supersteps).toBe(2);
    expect(b.summary.coupledSupersteps).toBe(2);
    expect(b.steps[0]).toMatchObject({ branches: 12, tasks: 3 });
    expect(b.summary.crossTaskWaitMs).toBeGreaterThan(0);
  });
});

describe('under the harness', () => {
  for (const name of ['langgraph-per-item', 'langgraph-subgraph']) {
    it(`${name}: lower bound <= makespan, executions carry supersteps`, async () => {
      const out = await runOnce({ system: name, workload: buildWorkload('map', { tasks: 6, depth: 2 }), seed: 3, latencyScale: 0.005 });
      expect(out.executions).toHaveLength(12);
      expect(out.lowerBoundMs).toBeGreaterThan(0);
      expect(out.lowerBoundMs).toBeLessThanOrEqual(out.makespanMs);
      // The ideal replay of its own policy (superstep per task / per subgraph) ran on its draws.
      expect(out.idealMs).toBeGreaterThan(0);
      expect(out.idealMs).toBeLessThanOrEqual(out.makespanMs);
      expect(out.executions.every((e) => e.superstep !== undefined)).toBe(true);
    });
  }
});
