import { describe, expect, it } from 'vitest';
import { ResultsDb } from '../harness/results/db.ts';
import { h1ForestFigure, h1ScaleFigure, h2EfficiencyFigure, renderSvg } from './figures.ts';
import { insertArm, seedEffect } from './synthetic.ts';
import { computeVerdicts } from './verdicts.ts';

const seeds = Array.from({ length: 10 }, (_, i) => i + 1);

describe('figures', () => {
  it('H1 forest, H1 ratio vs latency scale and H2 efficiency render to deterministic SVG with their intervals', async () => {
    const db = await ResultsDb.open(':memory:');
    try {
      for (const latencyScale of [1, 0.25, 0.05]) {
        const base = { matrix: 'h1', latencyScale, workloadParams: { analysts: 8, tasks: 4, arrival: 'all-at-once' } };
        await insertArm(db, { ...base, system: 'blackboard-deferred' }, seeds, (x) => 1000 * latencyScale * seedEffect(x));
        await insertArm(db, { ...base, system: 'langgraph-per-item' }, seeds, (x) => 1000 * latencyScale * (1 + 0.02 / latencyScale) * seedEffect(x));
      }
      for (const p of [1, 4]) {
        await insertArm(db, { matrix: 'h2', system: 'blackboard-kafka', workload: 'map', tasks: 400, workloadParams: { tasks: 400 }, systemParams: { partitions: p, consumers: p, processes: 0, delivery: 'at-least-once' } }, seeds, (x) => (10_000 / (p * (p === 1 ? 1 : 0.9))) * seedEffect(x));
      }
      const v = await computeVerdicts(db);
      const forest = h1ForestFigure(v);
      const scale = h1ScaleFigure(v);
      const h2 = h2EfficiencyFigure(v);
      for (const f of [forest, scale, h2]) {
        expect(typeof f).not.toBe('string');
        if (typeof f === 'string') continue;
        const svg = await renderSvg(f.spec);
        expect(svg).toMatch(/^<svg/);
        expect(await renderSvg(f.spec)).toBe(svg);
      }
      // The scale figure has one point per scale, the per-item ratio growing as latencies shrink.
      const pts = (scale as unknown as { spec: { data: { values: { system: string; scale: number; estimate: number }[] } } }).spec.data.values.filter((x) => x.system === 'langgraph-per-item');
      expect(pts.map((x) => x.scale)).toEqual([0.05, 0.25, 1]);
      expect(pts[0]!.estimate).toBeGreaterThan(pts[2]!.estimate);
      expect((h2 as unknown as { spec: { data: { values: { efficiency: number }[] } } }).spec.data.values[0]!.efficiency).toBeCloseTo(0.9, 2);
    } finally {
      db.close();
    }
  });
});
