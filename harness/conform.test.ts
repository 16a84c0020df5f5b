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
  'review-analysis': [{ analysts: 4, tasks: 3 }, { analysts: 10, tasks: 1, maxConcurrency: 3 }],
  map: [{ tasks: 6, depth: 1 }, { tasks: 5, depth: 3, join: true }],
};

describe('conformance across in-memory systems', () => {
  it('covers every shipped workload and both graph systems', () => {
    expect(Object.keys(CASES).sort()).toEqual(WORKLOADS.map((w) => w.name).sort());
    expect(inMemory).toEqual(expect.arrayContaining(['langgraph-stepwise', 'langgraph-parallel']));
  });

  for (const [name, cases] of Object.entries(CASES)) {
    for (const params of cases) {
      it(`${name} ${JSON.stringify(params)}`, async () => {
        const r = await conform(name, params, inMemory, 11, { latencyScale: 0.002 });
        expect(r.ok, formatConformReport(r)).toBe(true);
        expect(r.systems.every((s) => !s.executionsDiffer), formatConformReport(r)).toBe(true);
        expect(r.systems[0].finals).toBeGreaterThan(0);
      });
    }
  }

  it('a failing analyst: the blackboard flushes the editor batch on timeout, the graph when upstream is done — same digest', async () => {
    const results = [];
    for (const system of ['blackboard-eager', 'langgraph-parallel', 'langgraph-stepwise']) {
      const w = buildWorkload('review-analysis', { analysts: 3, tasks: 2, editorTimeoutMs: 5_000 });
      w.agents[1] = { ...w.agents[1], failWhen: { inputKeyIncludes: 'news-1' } };
      const out = await runOnce({ system, workload: w, seed: 5, latencyScale: 0.01 });
      expect(out.errors).toBe(1);
      expect(out.artifacts.filter((a) => a.type === ERROR_TYPE)).toHaveLength(1);
      results.push(out.finalHash);
    }
    expect(results[1]).toEqual(results[0]);
    expect(results[2]).toEqual(results[0]);
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
