import { describe, expect, it } from 'vitest';
import { SYSTEMS, loadSystem } from '../systems/registry.ts';
import type { System } from '../systems/types.ts';
import { WORKLOADS, buildWorkload } from '../workloads/registry.ts';
import { ERROR_TYPE } from '../workloads/spec.ts';
import { conform, formatConformReport } from './conform.ts';
import { runOnce } from './runner/run-once.ts';

const inMemory = SYSTEMS.filter((s) => s.store === 'memory' || s.store === 'graph-state').map((s) => s.name);

/** Small cases of every shipped workload; a new workload without a case fails the coverage test. */
const CASES: Record<string, Record<string, unknown>[]> = {
  'review-analysis': [{ analysts: 4, tasks: 3 }, { analysts: 10, tasks: 1, maxConcurrency: 3 }, { analysts: 4, tasks: 3, editorBatch: 'unkeyed' }],
  map: [{ tasks: 6, depth: 1 }, { tasks: 5, depth: 3, join: true }, { tasks: 7, depth: 2, coalesceTasks: 3 }],
  // A 1,000-chunk corpus keeps the index build short; the tool and the joins are what is checked.
  'retrieval-summarization': [{ tasks: 3, k: 4, chunks: 1000 }, { tasks: 3, k: 5, chunks: 1000, coalesce: true }],
  mixed: [
    { tasks: 10, chunks: 1000, k: 3, analysts: 3 },
    // Open loop on the real trace (sizes from it), coalesced retrieval.
    { tasks: 10, chunks: 1000, k: 3, analysts: 3, coalesce: true, arrival: 'trace', ratePerSec: 200 },
  ],
};

describe('conformance across in-memory systems', () => {
  it('covers every shipped workload and every in-process graph system', () => {
    expect(Object.keys(CASES).sort()).toEqual(WORKLOADS.map((w) => w.name).sort());
    expect(inMemory).toEqual(expect.arrayContaining(['langgraph-stepwise', 'langgraph-parallel', 'langgraph-per-item', 'langgraph-subgraph']));
  });

  for (const [name, cases] of Object.entries(CASES)) {
    for (const params of cases) {
      it(`${name} ${JSON.stringify(params)}`, async () => {
        const r = await conform(name, params, inMemory, 11, { latencyScale: 0.002 });
        expect(r.ok, formatConformReport(r)).toBe(true);
        // A batch across tasks closed by a (scaled, here 2 ms) window groups whatever has arrived:
        // which tasks share a coalesced call depends on timing, so only the artifacts must agree.
        if (!params.coalesceTasks) expect(r.systems.every((s) => !s.executionsDiffer), formatConformReport(r)).toBe(true);
        expect(r.systems[0].finals).toBeGreaterThan(0);
        // Only a form that cannot express the workload sits out: one graph run per task and a global batch.
        const skipped = r.systems.filter((s) => s.unsupported).map((s) => s.system);
        // Coalescing map tasks makes every layer a global batch: no per-task subgraph either.
        expect(skipped).toEqual(params.coalesceTasks ? ['langgraph-per-item', 'langgraph-subgraph'] : params.join || params.editorBatch === 'unkeyed' ? ['langgraph-per-item'] : []);
      }, 120_000);
    }
  }

  it('a failing analyst: the blackboard flushes the editor batch on timeout, the graph when upstream is done — same digest', async () => {
    const results = [];
    for (const system of ['blackboard-eager', 'langgraph-parallel', 'langgraph-stepwise', 'langgraph-per-item', 'langgraph-subgraph']) {
      const w = buildWorkload('review-analysis', { analysts: 3, tasks: 2, editorTimeoutMs: 5_000 });
      w.agents[1] = { ...w.agents[1], failWhen: { inputKeyIncludes: 'news-1' } };
      const out = await runOnce({ system, workload: w, seed: 5, latencyScale: 0.01 });
      expect(out.errors).toBe(1);
      expect(out.artifacts.filter((a) => a.type === ERROR_TYPE)).toHaveLength(1);
      results.push(out.finalHash);
    }
    for (const r of results.slice(1)) expect(r).toEqual(results[0]);
  });

  it('lists a system that refuses the workload as skipped, with its reason, and compares the rest', async () => {
    const r = await conform('map', { tasks: 3, join: true }, ['blackboard-eager', 'langgraph-per-item', 'langgraph-subgraph'], 2, { latencyScale: 0.002 });
    expect(r.ok, formatConformReport(r)).toBe(true);
    expect(r.systems.map((s) => [s.system, s.ok, s.unsupported === undefined])).toEqual([['blackboard-eager', true, true], ['langgraph-per-item', false, false], ['langgraph-subgraph', true, true]]);
    expect(formatConformReport(r)).toMatch(/skip langgraph-per-item +langgraph-per-item: agent reducer/);
    await expect(conform('map', { join: true }, ['langgraph-per-item', 'blackboard-eager'], 2)).rejects.toThrow(/fewer than two of the systems can run/);
  });

  it('coalescing changes calls, never artifacts: the same finals with and without it', async () => {
    const finals = [];
    for (const coalesce of [false, true]) {
      const w = buildWorkload('retrieval-summarization', { tasks: 3, k: 4, chunks: 1000, coalesce });
      const out = await runOnce({ system: 'blackboard-eager', workload: w, seed: 3, latencyScale: 0.002 });
      expect(out.errors).toBe(0);
      finals.push(out.finalHash);
    }
    expect(finals[1]).toEqual(finals[0]);
    const m = [];
    for (const coalesceTasks of [1, 4]) {
      const out = await runOnce({ system: 'blackboard-eager', workload: buildWorkload('map', { tasks: 9, depth: 2, coalesceTasks }), seed: 3, latencyScale: 0.002 });
      m.push(out);
    }
    expect(m[1]!.finalHash).toEqual(m[0]!.finalHash);
    expect(m[1]!.llm.calls).toBeLessThan(m[0]!.llm.calls);
  }, 120_000);

  it('flock-real refuses tool agents and coalescing batches before anything starts', async () => {
    const w = buildWorkload('retrieval-summarization', { tasks: 1, chunks: 1000 });
    await expect(runOnce({ system: 'flock-real', workload: w, seed: 1 })).rejects.toThrow(/tool agent, which the real Flock runner does not implement/);
    const m = buildWorkload('map', { tasks: 2, coalesceTasks: 2 });
    await expect(runOnce({ system: 'flock-real', workload: m, seed: 1 })).rejects.toThrow(/coalesces its batch into one call/);
  });

  it("the tutorial's unkeyed editor mixes stories; conform compares what it consumed, and still catches a lost digest", async () => {
    const w = buildWorkload('review-analysis', { analysts: 4, tasks: 3, editorBatch: 'unkeyed' });
    expect(w.orderDependent).toEqual(['editor']);
    expect(w.agents.find((a) => a.name === 'editor')!.consumes.batch).toEqual({ size: 4, timeoutMs: 30_000 });
    expect(buildWorkload('review-analysis', { analysts: 4, tasks: 3 }).orderDependent).toBeUndefined();
    expect(buildWorkload('review-analysis', { analysts: 4, tasks: 1, editorBatch: 'unkeyed' }).orderDependent).toBeUndefined();
    // Per-agent concurrency 2 interleaves the stories: some digest gathers analyses of several.
    const out = await runOnce({ system: 'blackboard-eager', workload: w, seed: 11, latencyScale: 0.002 });
    const digests = out.executions.filter((e) => e.agent === 'editor');
    expect(digests.flatMap((e) => e.inputKeys).sort()).toEqual(out.executions.filter((e) => e.agent !== 'editor').flatMap((e) => e.outputKeys).sort());
    expect(digests.some((e) => new Set(e.correlationIds).size > 1)).toBe(true);

    const eager = await loadSystem('blackboard-eager');
    const dropsDigest: System<unknown> = {
      name: 'drops-a-digest',
      async start(wl, ctx) {
        const session = await eager.start(wl, ctx);
        return { ...session, async collect() {
          const r = await session.collect();
          const i = r.artifacts.findIndex((a) => a.type === 'NewsDigest');
          return { ...r, artifacts: r.artifacts.filter((_, j) => j !== i) };
        } };
      },
    };
    const r = await conform('review-analysis', { analysts: 4, tasks: 3, editorBatch: 'unkeyed' }, ['blackboard-deferred', dropsDigest], 11, { latencyScale: 0.002 });
    expect(r.ok, formatConformReport(r)).toBe(false);
    expect(formatConformReport(r)).toMatch(/order-dependent: editor/);
    // An analysis with other content fails too, though the editor consumed the same keys.
    const altersAnalysis: System<unknown> = {
      name: 'alters-an-analysis',
      async start(wl, ctx) {
        const session = await eager.start(wl, ctx);
        return { ...session, async collect() {
          const res = await session.collect();
          const i = res.artifacts.findIndex((a) => a.type === 'NewsAnalysis');
          return { ...res, artifacts: res.artifacts.map((a, j) => (j === i ? { ...a, payload: { ...a.payload, impact_assessment: 'something else entirely here' } } : a)) };
        } };
      },
    };
    const r2 = await conform('review-analysis', { analysts: 4, tasks: 3, editorBatch: 'unkeyed' }, ['blackboard-deferred', altersAnalysis], 11, { latencyScale: 0.002 });
    expect(r2.ok, formatConformReport(r2)).toBe(false);
  });

  it('reports a structured diff when systems disagree', async () => {
    const parallel = await loadSystem('langgraph-parallel');
    const wrong: System<unknown> = {
      name: 'drops-one',
      async start(w, ctx) {
        const session = await parallel.start(w, { ...ctx, params: { maxConcurrency: 64, checkpointer: 'none', durability: 'async', perAgentLimit: true } });
        return {
          ...session,
          async collect() {
            const r = await session.collect();
            const i = r.artifacts.findIndex((a) => a.type === 'Stage1');
            return { ...r, artifacts: r.artifacts.filter((_, j) => j !== i) };
          },
        };
      },
    };
    const r = await conform('map', { tasks: 3 }, ['blackboard-eager', wrong], 1, { latencyScale: 0.001 });
    expect(r.ok).toBe(false);
    expect(r.systems[1].missing).toHaveLength(1);
    expect(r.systems[1].missing[0].type).toBe('Stage1');
    expect(r.systems[1].extra).toHaveLength(0);
    expect(formatConformReport(r)).toMatch(/MISMATCH/);
  });
});
