// LangGraph for Python against the TS systems: same final artifacts (content hashes) and the same
// execution identities in every form, its per-agent limits, its supersteps, its CPU and LLM
// accounting. Needs the venv: `bash scripts/flock/setup.sh` (CI runs it first). Without it these
// tests fail with that hint on purpose — a silent skip would hide a missing reference system.
import { describe, expect, it } from 'vitest';
import { barrierAnalysis } from '../../harness/collect/barrier.ts';
import { conform, formatConformReport } from '../../harness/conform.ts';
import { runOnce } from '../../harness/runner/run-once.ts';
import { buildWorkload } from '../../workloads/registry.ts';
import type { ExecutionRecord } from '../../workloads/execute.ts';
import { assertLangGraphPyVenv } from './system.ts';

function peakOverlap(execs: readonly ExecutionRecord[]): number {
  const ev = execs.flatMap((e) => [[e.startMs, 1], [e.endMs, -1]] as const).sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  let cur = 0, peak = 0;
  for (const [, d] of ev) { cur += d; peak = Math.max(peak, cur); }
  return peak;
}

describe('langgraph-py (needs .venv: bash scripts/flock/setup.sh)', () => {
  it('has the venv with langgraph', () => {
    expect(() => assertLangGraphPyVenv()).not.toThrow();
  });

  for (const form of ['per-item', 'subgraph', 'one-graph']) {
    it(`form ${form} conforms with blackboard-eager on review-analysis (4 analysts, 3 stories)`, async () => {
      const r = await conform('review-analysis', { analysts: 4, tasks: 3 }, ['blackboard-eager', 'langgraph-py'], 11, { latencyScale: 0.01, systemParams: { 'langgraph-py': { form } } });
      expect(r.ok, formatConformReport(r)).toBe(true);
      expect(r.systems[1]!.executionsDiffer).toBe(false);
      expect(r.systems[1]!.counters).toMatchObject({ executions: 15, invokes: form === 'per-item' ? 3 : 1 });
    });
  }

  it('map: per-item and subgraph conform; a global join runs in subgraph and one-graph forms, per-item is refused', async () => {
    const chain = await conform('map', { tasks: 5, depth: 2 }, ['blackboard-eager', 'langgraph-py'], 12, { latencyScale: 0.01 });
    expect(chain.ok, formatConformReport(chain)).toBe(true);
    for (const form of ['subgraph', 'one-graph']) {
      const r = await conform('map', { tasks: 5, depth: 2, join: true }, ['blackboard-eager', 'langgraph-py'], 12, { latencyScale: 0.01, systemParams: { 'langgraph-py': { form } } });
      expect(r.ok, formatConformReport(r)).toBe(true);
      expect(r.systems[1]!.executionsDiffer).toBe(false);
    }
    await expect(runOnce({ system: 'langgraph-py', workload: buildWorkload('map', { tasks: 2, join: true }), seed: 1, latencyScale: 0.01 }))
      .rejects.toThrow(/form per-item: agent reducer .* global batch/);
  });

  it('per-item: one Pregel loop per task, per-agent limits shared by every run, Python CPU counted', async () => {
    const out = await runOnce({ system: 'langgraph-py', workload: buildWorkload('review-analysis', { analysts: 3, tasks: 5, maxConcurrency: 2 }), seed: 4, latencyScale: 0.01 });
    expect(out.executions).toHaveLength(20);
    expect(new Set(out.executions.map((e) => e.superstep!.scope)).size).toBe(5);
    for (const a of ['world_analyst', 'technology_analyst', 'business_analyst', 'editor']) expect(peakOverlap(out.executions.filter((e) => e.agent === a))).toBeLessThanOrEqual(2);
    expect(barrierAnalysis(out.executions).summary).toMatchObject({ coupledSupersteps: 0, crossTaskWaitMs: 0 });
    const counters = out.params.counters as Record<string, number>;
    expect(counters.pythonCpuMs).toBeGreaterThan(0);
    expect(out.cpuMs).toBeGreaterThanOrEqual(counters.pythonCpuMs);
    expect(out.params.settings).toMatchObject({ language: 'python', form: 'per-item', langgraphVersion: '1.2.24' });
  });

  it('one-graph: the analysts of every story share one superstep (the barrier couples tasks)', async () => {
    const out = await runOnce({ system: 'langgraph-py', workload: buildWorkload('review-analysis', { analysts: 3, tasks: 3 }), seed: 4, latencyScale: 0.01, systemParams: { form: 'one-graph' } });
    const b = barrierAnalysis(out.executions);
    expect(b.summary.coupledSupersteps).toBe(2);
    expect(b.steps[0]).toMatchObject({ branches: 9, tasks: 3 });
  });

  it('accounts its LLM usage like the in-process systems (calls, tokens, cost)', async () => {
    const w = () => buildWorkload('map', { tasks: 4, depth: 1 });
    const ref = await runOnce({ system: 'blackboard-eager', workload: w(), seed: 13, latencyScale: 0.01 });
    const py = await runOnce({ system: 'langgraph-py', workload: w(), seed: 13, latencyScale: 0.01 });
    expect(py.llm.calls).toBe(ref.llm.calls);
    expect(py.llm.tokensOut).toBe(ref.llm.tokensOut);
    expect(py.llm.costUsd).toBeCloseTo(ref.llm.costUsd, 9);
    expect(py.finalHash).toEqual(ref.finalHash);
  });
});
