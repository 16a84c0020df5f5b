import { describe, expect, it } from 'vitest';
import { topoAgents } from '../../workloads/spec.ts';
import { runSession } from '../runner/run-once.ts';
import { benchContext, growthTable, predictMs, ratioToBlackboard, runBench } from './bench.ts';
import { batch, caseByName, chain, fanOut, items, join, standardCases } from './cases.ts';
import { scalingFigureSpec, scalingPoints } from './figure.ts';
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
    const res = await runBench({ systems: ['blackboard-eager', 'blackboard-deferred'], cases: [fanOut(8), items(10), items(100)], timeMs: 50, maxRunMs: 10_000, isolate: false });
    expect(res).toHaveLength(6);
    for (const r of res) {
      expect(r.state).toBe('completed');
      if (r.state === 'completed') {
        expect(r.samples).toBeGreaterThanOrEqual(5);
        expect(r.perEventUs).toBeGreaterThan(0);
        expect(r.p50Ms).toBeLessThanOrEqual(r.p99Ms);
        expect(r.perEventP50Us).toBeCloseTo((r.p50Ms * 1000) / r.events, 9);
        expect(r.perEventP50Us).toBeLessThanOrEqual(r.perEventP95Us);
      }
    }
    const ratios = ratioToBlackboard(res);
    expect(res.filter((r) => r.system === 'blackboard-eager').every((r) => ratios.get(r) === 1)).toBe(true);
    const g = growthTable(res);
    expect(g.find((x) => x.family === 'items' && x.system === 'blackboard-eager')!.perEventUs).toHaveProperty('100');

    // In this process a first run can only be judged once it finished: over budget, and the larger size skipped.
    const tight = await runBench({ systems: ['blackboard-eager'], cases: [items(10), items(1000)], timeMs: 20, maxRunMs: 0.001, isolate: false });
    expect(tight.map((r) => r.state)).toEqual(['over-budget', 'skipped']);
  });
});

describe('bench budgets in a case process', () => {
  it('stop a first size that runs past the time budget, and one past the memory budget', async () => {
    // items-300000 runs for seconds on any engine: stopped after 150 ms of its first run.
    const [slow] = await runBench({ systems: ['blackboard-eager'], cases: [items(300_000)], timeMs: 20, maxRunMs: 150 });
    expect(slow).toMatchObject({ state: 'over-budget', reason: expect.stringMatching(/first run still going after 150 ms/) });
    if (slow!.state !== 'over-budget') throw new Error('unreachable');
    expect(slow.firstRunMs!).toBeGreaterThanOrEqual(150);
    expect(slow.caseWallMs!).toBeLessThan(60_000);
    // Its heap grows past 100 MiB well before it could finish.
    const [big] = await runBench({ systems: ['blackboard-eager'], cases: [items(300_000)], timeMs: 20, maxRunMs: 600_000, maxRssMb: 100 });
    expect(big).toMatchObject({ state: 'over-budget', reason: expect.stringMatching(/MiB/) });
  });

  it('measure a case that fits, with its process figures', async () => {
    const [r] = await runBench({ systems: ['blackboard-eager'], cases: [items(100)], timeMs: 20, maxRunMs: 30_000 });
    expect(r).toMatchObject({ state: 'completed', caseName: 'items-100' });
    if (r!.state !== 'completed') throw new Error('unreachable');
    expect(r.rssPeakMb!).toBeGreaterThan(20);
    expect(r.caseWallMs!).toBeGreaterThan(r.firstRunMs);
  });
});

describe('scaling figure', () => {
  it('plots completed sizes at their median and stopped ones at their lower bound, as a valid vega-lite spec', async () => {
    const rows = [
      { system: 'blackboard-eager', family: 'items', n: 10, events: 10, state: 'completed', per_event_p50_us: 5, per_event_p95_us: 7, first_run_ms: 1 },
      { system: 'blackboard-eager', family: 'items', n: 100, events: 100, state: 'completed', per_event_p50_us: 4, per_event_p95_us: 6, first_run_ms: 1 },
      { system: 'langgraph-stepwise', family: 'items', n: 10, events: 10, state: 'completed', per_event_p50_us: 900, per_event_p95_us: 1000, first_run_ms: 10 },
      { system: 'langgraph-stepwise', family: 'items', n: 10_000, events: 10_000, state: 'over-budget', per_event_p50_us: null, per_event_p95_us: null, first_run_ms: 15_000 },
      { system: 'langgraph-stepwise', family: 'items', n: 100_000, events: 100_000, state: 'skipped', per_event_p50_us: null, per_event_p95_us: null, first_run_ms: null },
    ];
    const pts = scalingPoints(rows);
    expect(pts.map((p) => [p.system, p.n, p.state, p.perEventUs])).toEqual([
      ['blackboard-eager', 10, 'completed', 5], ['blackboard-eager', 100, 'completed', 4],
      ['langgraph-stepwise', 10, 'completed', 900], ['langgraph-stepwise', 10_000, 'over-budget', 1500],
    ]);
    const spec = scalingFigureSpec(pts);
    const vegaLite = await import('vega-lite');
    const vega = await import('vega');
    const compiled = vegaLite.compile(spec as never).spec;
    const svg = await new vega.View(vega.parse(compiled), { renderer: 'none' }).toSVG();
    expect(svg).toContain('langgraph-stepwise');
    expect(svg).toContain('µs per event');
  });

  it('rebuilds a case from its name', () => {
    expect(caseByName('items-100').events).toBe(100);
    expect(caseByName('fan-out-8').workload.agents).toHaveLength(8);
    expect(() => caseByName('nope-3')).toThrow(/unknown bench case/);
  });
});
