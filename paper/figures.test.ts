import { describe, expect, it } from 'vitest';
import { ResultsDb } from '../harness/results/db.ts';
import { spans } from '../harness/results/schema.ts';
import { h1ForestFigure, h1ScaleFigure, h2EfficiencyFigure, overheadFigure, renderSvg, scalingFigure, TIMELINE_MATRIX, TIMELINE_SYSTEMS, timelineFigure } from './figures.ts';
import { growthText } from './build.ts';
import { insertArm, insertRun, seedEffect } from './synthetic.ts';
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
        await insertArm(db, { matrix: 'h2', system: 'blackboard-kafka', workload: 'map', tasks: 400, workloadParams: { tasks: 400 }, systemParams: { partitions: p, consumers: p, processes: 0, delivery: 'at-least-once', keying: 'balanced', maxInFlight: 4 } }, seeds, (x) => (10_000 / (p * (p === 1 ? 1 : 0.9))) * seedEffect(x));
        await insertArm(db, { matrix: 'h2', system: 'blackboard-eager', workload: 'map', tasks: 400, workloadParams: { tasks: 400 }, systemParams: { agentConcurrency: 4 * p } }, seeds, (x) => (10_000 / p) * seedEffect(x));
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

  it('timeline: one panel per system on a seed all of them ran, bars from the stored spans; skipped with a reason otherwise', async () => {
    const db = await ResultsDb.open(':memory:');
    try {
      expect(await timelineFigure(db)).toMatch(/no seed of h1-forms-x1/);
      const ms = (x: number) => BigInt(1_700_000_000_000_000_000n + BigInt(x) * 1_000_000n);
      for (const system of TIMELINE_SYSTEMS) {
        await insertRun(db, { matrix: TIMELINE_MATRIX, system, seed: 7, makespanMs: 300 });
        const run = (await db.query<{ run_id: string }>(`SELECT run_id FROM runs WHERE system = '${system}'`))[0]!.run_id;
        const span = (id: string, name: string, parent: string | null, a: number, b: number, attrs: Record<string, unknown>) => ({
          trace_id: 't', span_id: `${run}-${id}`, parent_id: parent ? `${run}-${parent}` : null, name, service: system, operation: name, kind: 'INTERNAL',
          start_time: ms(a), end_time: ms(b), duration_ms: b - a, status_code: 'OK', status_description: null, attributes: JSON.stringify(attrs), events: null, run_id: run,
        });
        await db.append([[spans, [
          span('root', `${system}.run`, null, 0, 300, { 'flockbench.workload': 'review-analysis' }),
          span('a', 'analyst.execute', 'root', 10, 100, { 'flockbench.agent': 'analyst', 'flockbench.correlation_ids': ['news-0'] }),
          span('e', 'editor.execute', 'root', 100, 300, { 'flockbench.agent': 'editor', 'flockbench.correlation_ids': ['news-0'] }),
        ] as never[]]]);
      }
      const f = await timelineFigure(db);
      expect(typeof f).not.toBe('string');
      if (typeof f === 'string') return;
      const values = (f.spec as { data: { values: { system: string; agent: string; task: string; startMs: number }[] } }).data.values;
      expect(values).toHaveLength(2 * TIMELINE_SYSTEMS.length);
      expect(new Set(values.map((v) => v.system))).toEqual(new Set(TIMELINE_SYSTEMS));
      expect(values.find((v) => v.agent === 'editor')).toMatchObject({ task: 'news-0', startMs: 100 });
      expect(await renderSvg(f.spec)).toMatch(/^<svg/);
    } finally {
      db.close();
    }
  });

  it('bench: the bar figure keeps the standard cases, the scaling figure and the growth table read the growth series (slope 1 vs 2, a stopped size as a lower bound)', async () => {
    const db = await ResultsDb.open(':memory:');
    try {
      expect(await scalingFigure(db)).toMatch(/no bench session/);
      // A constant 2 us per event for the blackboard; langgraph-parallel's per-event cost grows
      // with n (quadratic total) and its largest size is stopped by the budget after 30 s.
      const rows: string[] = [];
      const add = (system: string, fam: string, n: number, perEventUs: number | null, state = 'completed', firstRunMs: number | null = null) => {
        const p50 = perEventUs === null ? 'NULL' : String((perEventUs * n) / 1000);
        rows.push(`('b-1', TIMESTAMP '2026-12-01 00:00:00', '${system}', '${fam}-${n}', '${fam}', ${n}, ${n}, '${state}', ${state === 'completed' ? 'NULL' : "'over the time budget'"}, ${p50}, ${perEventUs === null ? 'NULL' : perEventUs}, ${perEventUs ?? 'NULL'}, ${firstRunMs ?? 'NULL'}, 15000, 2048)`);
      };
      for (const n of [10, 100, 1000, 10_000]) {
        add('blackboard-eager', 'items', n, 2);
        if (n < 10_000) add('langgraph-parallel', 'items', n, 0.5 * n);
        else add('langgraph-parallel', 'items', n, null, 'over-budget', 30_000);
      }
      add('blackboard-eager', 'fan-out', 8, 3); // a standard case (fan-out-8), not a growth size
      await db.query(`INSERT INTO bench (bench_id, started_at, system, case_name, family, n, events, state, reason, p50_ms, per_event_p50_us, per_event_us, first_run_ms, budget_ms, budget_mb) VALUES ${rows.join(', ')}`);
      const bar = await overheadFigure(db);
      if (typeof bar === 'string') throw new Error(bar);
      expect((bar.spec as { data: { values: { case: string }[] } }).data.values.map((v) => v.case).sort()).toEqual(['fan-out-8', 'items-10000']);
      const f = await scalingFigure(db);
      if (typeof f === 'string') throw new Error(f);
      const pts = (f.spec as { data: { values: { system: string; n: number; state: string; perEventUs: number }[] } }).data.values;
      expect(pts.filter((p) => p.system === 'langgraph-parallel').map((p) => [p.n, p.state])).toEqual([[10, 'completed'], [100, 'completed'], [1000, 'completed'], [10_000, 'over-budget']]);
      expect(pts.find((p) => p.state === 'over-budget')!.perEventUs).toBeCloseTo(3000, 6); // 30 s / 10,000 events
      expect(await renderSvg(f.spec)).toMatch(/^<svg/);
      const growth = await db.query<Parameters<typeof growthText>[0][number]>(
        `SELECT system, family, n, state, p50_ms, per_event_p50_us, first_run_ms, events, reason FROM bench WHERE family IN ('items', 'fan-out') AND n >= 10 ORDER BY family, system, n`);
      const text = growthText(growth);
      const line = (system: string) => text.split('\n').find((l) => l.includes(`| ${system} |`))!;
      expect(line('blackboard-eager')).toMatch(/\| 1\.00 \| constant per event \| - \|$/);
      // Completed sizes: slope 2. To the stopped size: 500 ms at n = 1000, >= 30 s at 10,000: >= log10(60) = 1.78.
      expect(line('langgraph-parallel')).toMatch(/>= 3000\.00 \(stopped\) \| 2\.00 \| linear per event \(quadratic total\) \| >= 1\.78 \(1000 to 10000\) \|$/);
      expect(text).toMatch(/langgraph-parallel items-10000: over-budget, over the time budget/);
    } finally {
      db.close();
    }
  });
});
