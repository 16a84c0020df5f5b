import { describe, expect, it } from 'vitest';
import { runOnce, runSession } from '../../harness/runner/run-once.ts';
import { SimulatedLlm } from '../../llm/simulator.ts';
import type { ExecutionRecord } from '../../workloads/execute.ts';
import { buildWorkload } from '../../workloads/registry.ts';
import type { WorkloadSpec } from '../../workloads/spec.ts';
import type { RunContext } from '../types.ts';
import { resolveParams } from '../../core/params.ts';
import { parallelParams, stepwiseParams } from './params.ts';
import { langgraphParallelSystem, langgraphStepwiseSystem } from './system.ts';

/** A run context over the in-process simulator whose LLM counts calls in flight. */
function context(w: WorkloadSpec, system: 'langgraph-parallel' | 'langgraph-stepwise', systemParams: Record<string, unknown> = {}, latencyScale = 0.005) {
  const llm = new SimulatedLlm({ seed: 7, latencyScale });
  const seen = { inFlight: 0, peak: 0 };
  const complete = llm.complete.bind(llm);
  llm.complete = async (req) => {
    seen.inFlight++;
    seen.peak = Math.max(seen.peak, seen.inFlight);
    try { return await complete(req); } finally { seen.inFlight--; }
  };
  const executions: ExecutionRecord[] = [];
  const t0 = performance.now();
  const ctx: RunContext<never> = {
    runId: 'test', workload: w, llm, seed: 7, clock: () => performance.now() - t0, onExecution: (r) => executions.push(r),
    latencyScale, params: resolveParams(system, system === 'langgraph-parallel' ? parallelParams : stepwiseParams, systemParams) as never,
    arrivals: w.tasks.map((task, index) => ({ index, task, intendedAtMs: 0 })),
    signal: new AbortController().signal, llmConfig: { transport: 'inprocess' },
  };
  return { ctx, seen, executions };
}

function peakOverlap(execs: readonly ExecutionRecord[]): number {
  const ev = execs.flatMap((e) => [[e.startMs, 1], [e.endMs, -1]] as const).sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  let cur = 0, peak = 0;
  for (const [, d] of ev) { cur += d; peak = Math.max(peak, cur); }
  return peak;
}

describe('langgraph-stepwise', () => {
  it('advances one superstep (one execution) per invoke', async () => {
    const w = buildWorkload('review-analysis', { analysts: 4, tasks: 2 });
    const { ctx, seen, executions } = context(w, 'langgraph-stepwise');
    const r = await runSession(langgraphStepwiseSystem(), w, ctx);
    const n = executions.length;
    expect(n).toBe(2 * 4 + 2);
    // One invoke feeds the seeds and stops before the first node; then one invoke per execution.
    expect(r.counters!.invokes).toBe(n + 1);
    expect(r.counters!.supersteps).toBe(n);
    expect(seen.peak).toBe(1);
    const sorted = [...executions].sort((a, b) => a.startMs - b.startMs);
    for (let i = 1; i < sorted.length; i++) expect(sorted[i].startMs).toBeGreaterThanOrEqual(sorted[i - 1].endMs);
    // Items one after another: story 0 (analysts + editor) completes before story 1 starts.
    expect(sorted.slice(0, 5).every((e) => e.correlationIds.includes('news-0'))).toBe(true);
    expect(r.artifacts).toHaveLength(2 + 2 * 4 + 2);
    expect(r.settings!.langgraphVersion).toMatch(/^\d+\.\d+\.\d+/);
  });

  it('map with a global join: the reducer runs once, after every item', async () => {
    const w = buildWorkload('map', { tasks: 5, depth: 2, join: true });
    const { ctx, executions } = context(w, 'langgraph-stepwise');
    const r = await runSession(langgraphStepwiseSystem(), w, ctx);
    expect(executions).toHaveLength(11);
    expect(executions.at(-1)!.agent).toBe('reducer');
    expect(executions.at(-1)!.inputKeys).toHaveLength(5);
    expect(r.counters!.invokes).toBe(12);
  });
});

describe('langgraph-parallel', () => {
  it('respects the global maxConcurrency', async () => {
    const w = buildWorkload('map', { tasks: 40, depth: 1, maxConcurrency: 100 });
    const { ctx, seen } = context(w, 'langgraph-parallel', { maxConcurrency: 5, perAgentLimit: false });
    const r = await runSession(langgraphParallelSystem(), w, ctx);
    expect(seen.peak).toBeGreaterThan(1);
    expect(seen.peak).toBeLessThanOrEqual(5);
    expect(r.counters!.executions).toBe(40);
    expect(r.counters!.invokes).toBe(1);
    expect(r.settings).toMatchObject({ maxConcurrency: 5, checkpointer: 'none', perAgentLimit: false });
  });

  it('enforces per-agent limits of the spec inside the node', async () => {
    const w = buildWorkload('review-analysis', { analysts: 3, tasks: 6, maxConcurrency: 2 });
    const { ctx, executions } = context(w, 'langgraph-parallel');
    const r = await runSession(langgraphParallelSystem(), w, ctx);
    for (const a of w.agents) {
      const peak = peakOverlap(executions.filter((e) => e.agent === a.name));
      expect(peak).toBeLessThanOrEqual(2);
    }
    expect(r.counters!.peakInFlight).toBeGreaterThan(2);
    // Supersteps: gate + agent per layer (analysts, editor).
    expect(r.counters!.supersteps).toBe(4);
  });

  it('rejects maxConcurrency 1 before the run (langgraphjs #2656 drops Send tasks)', async () => {
    const w = buildWorkload('map', { tasks: 2 });
    expect(() => context(w, 'langgraph-parallel', { maxConcurrency: 1 })).toThrow(/'maxConcurrency' must be an integer >= 2.*2656/);
  });

  it('runs with a MemorySaver checkpointer when asked', async () => {
    const w = buildWorkload('map', { tasks: 8, depth: 2, join: true });
    const { ctx, executions } = context(w, 'langgraph-parallel', { checkpointer: 'memory', durability: 'sync' });
    const r = await runSession(langgraphParallelSystem(), w, ctx);
    expect(executions).toHaveLength(17);
    expect(r.settings).toMatchObject({ checkpointer: 'memory', durability: 'sync' });
  });

  it('open-loop arrivals: one graph run per item; a global batch is rejected', async () => {
    const w = buildWorkload('review-analysis', { analysts: 2, tasks: 3, arrival: 'uniform', ratePerSec: 200 });
    const { ctx, executions } = context(w, 'langgraph-parallel');
    ctx.arrivals = ctx.arrivals.map((a, i) => ({ ...a, intendedAtMs: i * 5 }));
    const r = await runSession(langgraphParallelSystem(), w, ctx);
    expect(r.counters!.invokes).toBe(3);
    expect(executions).toHaveLength(9);
    const m = buildWorkload('map', { tasks: 3, join: true, arrival: 'uniform', ratePerSec: 200 });
    const c2 = context(m, 'langgraph-parallel').ctx;
    c2.arrivals = c2.arrivals.map((a, i) => ({ ...a, intendedAtMs: i * 5 }));
    await expect(runSession(langgraphParallelSystem(), m, c2)).rejects.toThrow(/global batch/);
  });
});

describe('graph runs under the harness', () => {
  for (const name of ['langgraph-parallel', 'langgraph-stepwise']) {
    it(`${name}: lower bound <= makespan`, async () => {
      const out = await runOnce({ system: name, workload: buildWorkload('map', { tasks: 6, depth: 2, join: true }), seed: 3, latencyScale: 0.005 });
      expect(out.executions).toHaveLength(13);
      expect(out.lowerBoundMs).toBeGreaterThan(0);
      expect(out.lowerBoundMs).toBeLessThanOrEqual(out.makespanMs);
      expect((out.params.counters as Record<string, number>).invokes).toBeGreaterThanOrEqual(1);
    });
  }
});
