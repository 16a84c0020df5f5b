import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import * as vegaLite from 'vega-lite';
import { ResultsDb } from '../harness/results/db.ts';
import { insertReps } from './synthetic.ts';
import { loadRuns } from './verdicts.ts';
import { h1RatioFigure, h2ThroughputFigure, headlineFigure, overheadFigure, renderSvg, type Figure } from './figures.ts';

describe('figures', () => {
  let db: ResultsDb;
  beforeEach(async () => { db = await ResultsDb.open(':memory:'); });
  afterEach(() => db.close());

  const asFigure = (f: Figure | string): Figure => {
    if (typeof f === 'string') throw new Error(`skipped: ${f}`);
    return f;
  };

  it('headline: bars with CI rules, one per system, deterministic SVG', async () => {
    for (const [s, base] of [['blackboard-deferred', 1000], ['langgraph-stepwise', 4000], ['langgraph-parallel', 1300]] as const) {
      await insertReps(db, { matrix: 'quick', system: s }, [base, base + 20, base - 20]);
    }
    const f = asFigure(headlineFigure(await loadRuns(db)));
    expect(() => vegaLite.compile(f.spec as unknown as vegaLite.TopLevelSpec)).not.toThrow();
    const svg = await renderSvg(f.spec);
    expect(svg).toMatch(/^<svg/);
    expect(svg).toContain('mark-rect');
    expect(svg).toContain('mark-rule');
    expect(svg).toContain('langgraph-stepwise');
    expect((svg.match(/<path [^>]*aria-roledescription="bar"/g) ?? []).length).toBe(3);
    expect(await renderSvg(f.spec)).toBe(svg);
  });

  it('H1 ratio vs fan-out: line, points and error bars faceted by tail', async () => {
    for (const tail of ['light', 'calibrated']) {
      for (const analysts of [2, 8]) {
        const c = { matrix: 'h1', tail, workloadParams: { analysts, tasks: 1 } };
        await insertReps(db, { ...c, system: 'blackboard-deferred' }, [1000, 1010, 990]);
        await insertReps(db, { ...c, system: 'langgraph-parallel' }, [1100 * analysts / 2, 1110, 1090]);
      }
    }
    const svg = await renderSvg(asFigure(h1RatioFigure(await loadRuns(db))).spec);
    expect(svg).toContain('mark-line');
    expect(svg).toContain('mark-symbol');
    expect(svg).toContain('light');
    expect(svg).toContain('calibrated');
  });

  it('H2 throughput vs partitions renders lines per consumers', async () => {
    for (const p of [1, 4]) {
      await insertReps(db, { matrix: 'h2', system: 'blackboard-kafka', tasks: 200, systemParams: { partitions: p, consumers: 2, delivery: 'exactly-once' } }, [2000 / p, 2010 / p, 1990 / p]);
    }
    const svg = await renderSvg(asFigure(h2ThroughputFigure(await loadRuns(db))).spec);
    expect(svg).toContain('mark-line');
    expect(svg).toContain('exactly-once');
  });

  it('overhead per event: log-scale bars from the latest bench session', async () => {
    await db.conn.run(`INSERT INTO bench (bench_id, started_at, system, case_name, per_event_us) VALUES
      ('b1', '2026-01-01', 'blackboard-eager', 'fanout-100', 2.5), ('b1', '2026-01-01', 'langgraph-stepwise', 'fanout-100', 250)`);
    const svg = await renderSvg(asFigure(await overheadFigure(db)).spec);
    expect(svg).toContain('mark-rect');
    expect(svg).toContain('fanout-100');
  });

  it('skips a figure cleanly when its data is absent', async () => {
    const runs = await loadRuns(db);
    expect(headlineFigure(runs)).toMatch(/no runs/);
    expect(h1RatioFigure(runs)).toMatch(/no review-analysis runs/);
    expect(h2ThroughputFigure(runs)).toMatch(/no blackboard-kafka/);
    expect(await overheadFigure(db)).toMatch(/no bench session/);
  });
});
