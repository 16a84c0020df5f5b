import { describe, expect, it } from 'vitest';
import { topoAgents } from '../../workloads/spec.ts';
import { runSession } from '../runner/run-once.ts';
import { benchContext, growthTable, predictMs, ratioToBlackboard, runBench } from './bench.ts';
import { batch, chain, fanOut, items, join, standardCases } from './cases.ts';
import { growthClass, loglogSlope } from './growth.ts';

describe('bench cases', () => {
  it('are valid DAG workloads with the stated number of agent executions', async () => {
    for (const c of standardCases()) expect(topoAgents(c.workload).length).toBe(c.workload.agents.length);
    const { loadSystem } = await import('../../systems/registry.ts');
    const sys = await loadSystem('blackboard-eager');
    for (const c of [fanOut(8), chain(10), items(20), batch(8), join(8)]) {
      const ctx = benchContext(c.workload, 'blackboard-eager');
      await runSession(sys, c.workload, ctx);
      expect(ctx.executions()).toBe(c.events);
    }
  });
});

describe('run-time prediction for the budget guard', () => {
  it('extrapolates with the growth exponent seen between the two largest sizes, at least linear', () => {
    expect(predictMs([], 100)).toBe(0);
    expect(predictMs([{ n: 10, meanMs: 5 }], 100)).toBeCloseTo(50);
    // Quadratic so far: 10 -> 100 took 100x, so 1000 is predicted at 100x again.
    expect(predictMs([{ n: 10, meanMs: 1 }, { n: 100, meanMs: 100 }], 1000)).toBeCloseTo(10_000);
    // Sizes too close together (1000 vs 1024) say nothing about growth: 1024 is compared with 100.
    const e = Math.log(15) / Math.log(10.24);
    expect(predictMs([{ n: 100, meanMs: 1 }, { n: 1000, meanMs: 10 }, { n: 1024, meanMs: 15 }], 10_240)).toBeCloseTo(15 * 10 ** e, 6);
    // Sublinear so far: still predicted linearly.
    expect(predictMs([{ n: 10, meanMs: 10 }, { n: 100, meanMs: 20 }], 1000)).toBeCloseTo(200);
  });
});

describe('growth fit', () => {
  it('recovers slope 1 for constant per-event cost and 2 for quadratic totals', () => {
    const ns = [10, 100, 1000, 10_000];
    expect(loglogSlope(ns.map((n) => ({ n, ms: 0.05 * n })))).toBeCloseTo(1, 6);
    expect(loglogSlope(ns.map((n) => ({ n, ms: 1e-4 * n * n })))).toBeCloseTo(2, 6);
    expect(growthClass(1.02)).toBe('constant per event');
    expect(growthClass(1.9)).toBe('linear per event (quadratic total)');
  });
});

describe('runBench', () => {
  it('times every system on the same case, reports ratios, and skips what would blow the budget', async () => {
    const res = await runBench({ systems: ['blackboard-eager', 'blackboard-deferred'], cases: [fanOut(8), items(10), items(100)], timeMs: 50, maxRunMs: 10_000 });
    expect(res).toHaveLength(6);
    for (const r of res) {
      expect(r.state).toBe('completed');
      if (r.state === 'completed') {
        expect(r.samples).toBeGreaterThanOrEqual(5);
        expect(r.perEventUs).toBeGreaterThan(0);
        expect(r.p50Ms).toBeLessThanOrEqual(r.p99Ms);
      }
    }
    const ratios = ratioToBlackboard(res);
    expect(res.filter((r) => r.system === 'blackboard-eager').every((r) => ratios.get(r) === 1)).toBe(true);
    const g = growthTable(res);
    expect(g.find((x) => x.family === 'items' && x.system === 'blackboard-eager')!.perEventUs).toHaveProperty('100');

    // A budget of 0.001 ms: the first measured size passes through its first run check and is skipped.
    const tight = await runBench({ systems: ['blackboard-eager'], cases: [items(10), items(1000)], timeMs: 20, maxRunMs: 0.001 });
    expect(tight.every((r) => r.state === 'skipped')).toBe(true);
  });
});
