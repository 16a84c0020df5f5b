// The paper's figures: vega-lite specs built from the results DB (data inlined, so each
// `paper/figures/<name>.vl.json` is a self-contained record of what was plotted), rendered to
// SVG headless with vega. Deterministic: seeded vega RNG, sorted data,
// bootstrap CIs seeded. A figure whose data is absent is skipped with a reason.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as vega from 'vega';
import * as vegaLite from 'vega-lite';
import { bootstrapCi, median } from '../core/stats/basic.ts';
import type { ResultsDb } from '../harness/results/db.ts';
import { kafkaLayout, loadRuns, ratioEvidence } from './verdicts.ts';

// vega-lite's TopLevelSpec type is large; specs here are plain JSON checked by compiling them.
export type VlSpec = Record<string, unknown>;

export interface Figure {
  name: string;
  title: string;
  /** One-sentence caption for the paper. */
  caption: string;
  spec: VlSpec;
}

export type FigureOutcome = { name: string; state: 'written'; files: string[]; caption: string; title: string } | { name: string; state: 'skipped'; reason: string };

const SYSTEM_ORDER = ['blackboard-eager', 'blackboard-deferred', 'langgraph-parallel', 'langgraph-stepwise', 'blackboard-kafka'];
const WIDTH = 420;
const BASE = { $schema: 'https://vega.github.io/schema/vega-lite/v6.json', background: 'white', config: { font: 'DejaVu Sans', view: { stroke: null } } };

type Runs = Awaited<ReturnType<typeof loadRuns>>;

/** Headline: median makespan per system (95% bootstrap CI) for the quick matrix. */
export function headlineFigure(runs: Runs, matrix = 'quick'): Figure | string {
  const rs = runs.filter((r) => r.matrix === matrix);
  if (!rs.length) return `no runs of matrix '${matrix}'`;
  const systems = [...new Set(rs.map((r) => r.system))].sort((a, b) => SYSTEM_ORDER.indexOf(a) - SYSTEM_ORDER.indexOf(b));
  const values = systems.map((s) => {
    const xs = rs.filter((r) => r.system === s).map((r) => r.makespan_ms);
    const [lo, hi] = bootstrapCi(xs);
    return { system: s, makespanMs: median(xs), ciLoMs: lo, ciHiMs: hi, n: xs.length };
  });
  return {
    name: 'headline-makespan',
    title: `Makespan by system (${matrix})`,
    caption: `Median makespan over ${Math.min(...values.map((v) => v.n))}+ seeded reps per system, matrix ${matrix}; bars are 95% bootstrap CIs.`,
    spec: {
      ...BASE,
      title: `Makespan by system (${matrix})`,
      width: WIDTH,
      data: { values },
      layer: [
        { mark: { type: 'bar', color: '#4c78a8' }, encoding: { y: { field: 'system', type: 'nominal', sort: systems, title: null }, x: { field: 'makespanMs', type: 'quantitative', title: 'makespan (ms, median)' } } },
        { mark: { type: 'rule', color: 'black' }, encoding: { y: { field: 'system', type: 'nominal', sort: systems }, x: { field: 'ciLoMs', type: 'quantitative' }, x2: { field: 'ciHiMs' } } },
      ],
    },
  };
}

/** H1: ratio graph / deferred vs fan-out width, light vs calibrated tail, with CI bars. */
export function h1RatioFigure(runs: Runs, matrix = 'h1'): Figure | string {
  const rs = runs.filter((r) => r.matrix === matrix && r.workload === 'review-analysis');
  if (!rs.length) return `no review-analysis runs of matrix '${matrix}'`;
  const values: Record<string, unknown>[] = [];
  const keys = new Map<string, Runs>();
  for (const r of rs) {
    const k = `${r.p.workload?.analysts}|${r.p.tail ?? 'calibrated'}`;
    keys.set(k, [...(keys.get(k) ?? []), r]);
  }
  for (const [k, group] of [...keys].sort()) {
    const [analysts, tail] = k.split('|');
    const den = group.filter((r) => r.system === 'blackboard-deferred').map((r) => r.makespan_ms);
    if (!den.length) continue;
    for (const g of ['langgraph-stepwise', 'langgraph-parallel', 'blackboard-eager']) {
      const num = group.filter((r) => r.system === g).map((r) => r.makespan_ms);
      if (!num.length) continue;
      const e = ratioEvidence(g, num, den);
      values.push({ analysts: Number(analysts), tail, system: g, ratio: e.estimate, ciLo: e.ci[0], ciHi: e.ci[1] });
    }
  }
  if (!values.length) return `no configuration of '${matrix}' has blackboard-deferred and another system`;
  values.sort((a, b) => String(a.tail).localeCompare(String(b.tail)) || Number(a.analysts) - Number(b.analysts) || String(a.system).localeCompare(String(b.system)));
  const enc = { x: { field: 'analysts', type: 'quantitative', scale: { type: 'log', base: 2 }, title: 'analysts (fan-out width)' }, color: { field: 'system', type: 'nominal', title: 'numerator' } };
  return {
    name: 'h1-ratio-vs-fanout',
    title: 'H1: makespan ratio to blackboard-deferred vs fan-out width',
    caption: `Median makespan of each system divided by blackboard-deferred's (> 1: slower than batch-then-run), review-analysis of matrix ${matrix}, by latency tail; bars are 95% bootstrap CIs of the ratio of medians.`,
    spec: {
      ...BASE,
      title: 'H1: makespan / blackboard-deferred makespan',
      data: { values },
      facet: { column: { field: 'tail', type: 'nominal', title: 'latency tail' } },
      spec: {
        width: 260,
        height: 220,
        layer: [
          { mark: { type: 'rule', strokeDash: [4, 3], color: 'gray' }, encoding: { y: { datum: 1 } } },
          { mark: { type: 'line', point: true }, encoding: { ...enc, y: { field: 'ratio', type: 'quantitative', scale: { type: 'log' }, title: 'makespan ratio (log)' } } },
          { mark: { type: 'errorbar', ticks: true }, encoding: { ...enc, y: { field: 'ciLo', type: 'quantitative', title: null }, y2: { field: 'ciHi' } } },
        ],
      },
    },
  };
}

/** H2: throughput vs partitions per mode and consumer layout. */
export function h2ThroughputFigure(runs: Runs): Figure | string {
  const k = runs.filter((r) => r.system === 'blackboard-kafka' && r.makespan_ms > 0);
  if (!k.length) return 'no blackboard-kafka runs';
  const cells = new Map<string, number[]>();
  for (const r of k) {
    const sp = r.p.system ?? {};
    const key = `${sp.delivery ?? 'at-least-once'}|${Number(sp.partitions ?? 4)}|${kafkaLayout(sp)}`;
    cells.set(key, [...(cells.get(key) ?? []), r.tasks / (r.makespan_ms / 1000)]);
  }
  const values = [...cells].map(([key, xs]) => {
    const [mode, p, c] = key.split('|');
    const [lo, hi] = bootstrapCi(xs);
    return { mode, partitions: Number(p), layout: c, throughputTps: median(xs), ciLo: lo, ciHi: hi, n: xs.length };
  }).sort((a, b) => a.mode.localeCompare(b.mode) || a.layout.localeCompare(b.layout) || a.partitions - b.partitions);
  const enc = { x: { field: 'partitions', type: 'quantitative', scale: { type: 'log', base: 2 }, title: 'partitions per topic' }, color: { field: 'layout', type: 'nominal', title: 'consumer layout' } };
  return {
    name: 'h2-throughput-vs-partitions',
    title: 'H2: blackboard-kafka throughput vs partitions',
    caption: 'Median throughput (tasks / makespan, setup and teardown excluded) of blackboard-kafka by partitions, consumer layout and delivery mode; bars are 95% bootstrap CIs over reps.',
    spec: {
      ...BASE,
      title: 'H2: throughput vs partitions',
      data: { values },
      facet: { column: { field: 'mode', type: 'nominal', title: 'delivery' } },
      spec: {
        width: 260,
        height: 220,
        layer: [
          { mark: { type: 'line', point: true }, encoding: { ...enc, y: { field: 'throughputTps', type: 'quantitative', title: 'throughput (tasks/s, median)' } } },
          { mark: { type: 'errorbar', ticks: true }, encoding: { ...enc, y: { field: 'ciLo', type: 'quantitative', title: null }, y2: { field: 'ciHi' } } },
        ],
      },
    },
  };
}

interface BenchRow { case_name: string; system: string; per_event_us: number; events: number }

/** Orchestration overhead per event by case and system (latest bench session), log scale. */
export async function overheadFigure(db: ResultsDb): Promise<Figure | string> {
  const rows = await db.query<BenchRow>(
    `SELECT case_name, system, per_event_us, events FROM bench
      WHERE bench_id = (SELECT bench_id FROM bench ORDER BY started_at DESC LIMIT 1) AND per_event_us IS NOT NULL
      ORDER BY case_name, system`);
  if (!rows.length) return 'no bench session stored (run `flockbench bench`)';
  const systems = [...new Set(rows.map((r) => r.system))].sort((a, b) => SYSTEM_ORDER.indexOf(a) - SYSTEM_ORDER.indexOf(b));
  return {
    name: 'overhead-per-event',
    title: 'Orchestration overhead per event',
    caption: 'Per-event engine cost with zero-latency agents (microseconds, log scale), latest `flockbench bench` session.',
    spec: {
      ...BASE,
      title: 'Overhead per event (zero-latency agents)',
      width: WIDTH,
      data: { values: rows.map((r) => ({ case: r.case_name, system: r.system, perEventUs: r.per_event_us })) },
      mark: 'bar',
      encoding: {
        y: { field: 'case', type: 'nominal', title: null },
        yOffset: { field: 'system', sort: systems },
        x: { field: 'perEventUs', type: 'quantitative', scale: { type: 'log' }, title: 'per event (us, log)' },
        color: { field: 'system', type: 'nominal', sort: systems },
      },
    },
  };
}

/** Compile vega-lite and render SVG headless, deterministically. */
export async function renderSvg(spec: VlSpec, seed = 1): Promise<string> {
  // setRandom/randomLCG exist at runtime (vega-util) but are missing from vega's type declarations.
  const rnd = vega as unknown as { setRandom(r: () => number): void; randomLCG(seed: number): () => number };
  rnd.setRandom(rnd.randomLCG(seed));
  const compiled = vegaLite.compile(spec as unknown as vegaLite.TopLevelSpec).spec;
  const view = new vega.View(vega.parse(compiled), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

/** Build every figure from the DB and write `<out>/figures/<name>.{vl.json,svg}` (the paper embeds the SVG). */
export async function writeFigures(db: ResultsDb, outDir: string): Promise<FigureOutcome[]> {
  const runs = await loadRuns(db);
  const candidates: [string, Figure | string][] = [
    ['headline-makespan', headlineFigure(runs)],
    ['h1-ratio-vs-fanout', h1RatioFigure(runs)],
    ['h2-throughput-vs-partitions', h2ThroughputFigure(runs)],
    ['overhead-per-event', await overheadFigure(db)],
  ];
  const dir = join(outDir, 'figures');
  mkdirSync(dir, { recursive: true });
  const out: FigureOutcome[] = [];
  for (const [name, f] of candidates) {
    if (typeof f === 'string') { out.push({ name, state: 'skipped', reason: f }); continue; }
    const svg = await renderSvg(f.spec);
    const files = [`figures/${f.name}.vl.json`, `figures/${f.name}.svg`];
    writeFileSync(join(outDir, files[0]), JSON.stringify(f.spec, null, 2) + '\n');
    writeFileSync(join(outDir, files[1]), svg);
    out.push({ name: f.name, state: 'written', files, caption: f.caption, title: f.title });
  }
  return out;
}
