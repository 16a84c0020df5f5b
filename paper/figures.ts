// The paper's figures: vega-lite specs built from the verdicts and the stored runs (data
// inlined, so each `paper/figures/<name>.vl.json` is a self-contained record of what was
// plotted), rendered to SVG headless with vega. Every interval drawn is a paired interval of a
// ratio over seeds (its level stated) or an order-statistic interval with its achieved level.
// Deterministic: seeded vega RNG, sorted data. A figure whose data is absent is skipped with a reason.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as vega from 'vega';
import * as vegaLite from 'vega-lite';
import { canonicalJson } from '../core/canonical.ts';
import { keyedRng } from '../core/random.ts';
import { comparePaired } from '../core/stats/paired.ts';
import type { ResultsDb } from '../harness/results/db.ts';
import { executionsFromSpans, timelineRows, timelineSpec, type TimelineRow } from '../harness/collect/timeline.ts';
import type { SpanRow } from '../harness/results/schema.ts';
import { EQUIVALENCE_BAND, GRAPH_FORMS, NEAR_LINEAR, systemPairs } from './rules.ts';
import { armLabel } from './analysis.ts';
import { medianCi } from '../core/stats/single.ts';
import type { Verdicts } from './verdicts.ts';
import { LATEST_BENCH, SCALING_SQL, scalingFigureSpec, scalingPoints, type BenchFigureRow } from '../harness/bench/figure.ts';
import { standardCases } from '../harness/bench/cases.ts';

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

const BASE = { $schema: 'https://vega.github.io/schema/vega-lite/v6.json', background: 'white', config: { font: 'DejaVu Sans', view: { stroke: null } } };
const byText = (a: Record<string, unknown>, b: Record<string, unknown>, k: string) => String(a[k]).localeCompare(String(b[k]), 'en');

/** H1: every comparison against blackboard-deferred, estimate and interval, log scale, by graph form. */
export function h1ForestFigure(v: Verdicts): Figure | string {
  const values = v.families.filter((f) => f.hypothesis === 'H1' || f.hypothesis === 'H1b').flatMap((f) => f.comparisons.filter((c) => c.metric === 'makespan' && Number.isFinite(c.ci[0])).map((c) => ({
    comparison: f.title, config: `${c.matrix}: ${c.config}`, estimate: c.estimate, lo: c.ci[0], hi: c.ci[1], decided: c.decided ? `decided (${(100 * c.level).toPrecision(4)}%)` : 'not decided (95%)', n: c.n,
  }))).sort((a, b) => byText(a, b, 'comparison') || byText(a, b, 'config'));
  if (!values.length) return 'no H1 comparison has paired runs';
  return {
    name: 'h1-forest',
    title: 'H1: makespan ratio to blackboard-deferred, per configuration',
    caption: `Geometric mean of the per-seed makespan ratios (graph form or eager / blackboard-deferred; > 1: the blackboard is faster) with its paired t interval: decided configurations at their Bonferroni level, the others at 95%. The shaded band is the equivalence band [${EQUIVALENCE_BAND.join(', ')}].`,
    spec: {
      ...BASE,
      title: 'H1: makespan / blackboard-deferred makespan (log)',
      data: { values },
      facet: { row: { field: 'comparison', type: 'nominal', title: null, header: { labelAngle: 0, labelAlign: 'left' } } },
      spec: {
        width: 420,
        layer: [
          { mark: { type: 'rect', color: '#eeeeee' }, encoding: { x: { datum: EQUIVALENCE_BAND[0] }, x2: { datum: EQUIVALENCE_BAND[1] } } },
          { mark: { type: 'rule', color: 'gray', strokeDash: [4, 3] }, encoding: { x: { datum: 1 } } },
          { mark: { type: 'rule' }, encoding: { y: { field: 'config', type: 'nominal', title: null }, x: { field: 'lo', type: 'quantitative', scale: { type: 'log' }, title: 'ratio (log)' }, x2: { field: 'hi' }, color: { field: 'decided', type: 'nominal', title: null } } },
          { mark: { type: 'point', filled: true }, encoding: { y: { field: 'config', type: 'nominal' }, x: { field: 'estimate', type: 'quantitative' }, color: { field: 'decided', type: 'nominal' } } },
        ],
      },
      resolve: { scale: { y: 'independent' } },
    },
  };
}

/** H1 sensitivity: the ratio to blackboard-deferred against the latency scale, per graph form and configuration. */
export function h1ScaleFigure(v: Verdicts): Figure | string {
  // A workload configuration at several latency scales, whichever matrices ran them (the
  // decision matrix at x1, a sensitivity matrix below it); pairs stay within one matrix's runs.
  const shape = (c: (typeof v.configs)[number]) => `${c.sample.workload}|${canonicalJson(c.sample.wp)}|${c.sample.tail}|${c.sample.llmTransport}`;
  const scales = new Map<string, Set<number>>();
  for (const c of v.configs) {
    const k = shape(c);
    if (!scales.has(k)) scales.set(k, new Set());
    scales.get(k)!.add(c.sample.latencyScale);
  }
  const multi = v.configs.filter((c) => scales.get(shape(c))!.size > 1 && (c.sample.wp.arrival ?? 'all-at-once') === 'all-at-once');
  const values: Record<string, unknown>[] = [];
  for (const form of [...GRAPH_FORMS.map((g) => g.system), 'blackboard-eager']) {
    for (const plan of systemPairs(multi, () => true, form, 'blackboard-deferred', (r) => r.makespanMs, 'makespan', 'scale', { kind: 'ratio', direction: 'greater', band: EQUIVALENCE_BAND })) {
      if (plan.paired.pairs.length < 2) continue;
      const cmp = comparePaired(plan.paired.pairs, { level: 0.95, rng: keyedRng('figure', plan.id), resamples: 200 });
      const cfg = multi.find((c) => plan.id.includes(c.key) && c.matrix === plan.matrix)!;
      values.push({ system: form, matrix: cfg.matrix, config: `${cfg.sample.workload} ${Object.entries(cfg.sample.wp).filter(([k]) => ['tasks', 'analysts', 'depth'].includes(k)).map(([k, x]) => `${k}=${x}`).join(' ')}`, scale: cfg.sample.latencyScale, estimate: cmp.estimate, lo: cmp.t?.ci.lo, hi: cmp.t?.ci.hi, n: cmp.n });
    }
  }
  if (!values.length) return 'no configuration was run at more than one latency scale';
  values.sort((a, b) => byText(a, b, 'config') || byText(a, b, 'system') || Number(a.scale) - Number(b.scale));
  const enc = { x: { field: 'scale', type: 'quantitative', scale: { type: 'log' }, title: 'latency scale (x public latencies, log)' }, color: { field: 'system', type: 'nominal', title: 'numerator' } };
  return {
    name: 'h1-ratio-vs-scale',
    title: 'H1 sensitivity: makespan ratio to blackboard-deferred vs latency scale',
    caption: 'Geometric mean of the per-seed makespan ratios with 95% paired t intervals, per system and workload configuration, as every simulated latency is scaled down (each point pairs runs of one matrix: the decision matrix at x1, the sensitivity matrix below): where a ratio moves away from its value at x1, engine CPU (not scheduling) is deciding it.',
    spec: {
      ...BASE,
      title: 'makespan / blackboard-deferred makespan vs latency scale',
      data: { values },
      facet: { column: { field: 'config', type: 'nominal', title: null } },
      spec: {
        width: 240,
        height: 220,
        layer: [
          { mark: { type: 'rule', strokeDash: [4, 3], color: 'gray' }, encoding: { y: { datum: 1 } } },
          { mark: { type: 'line', point: true }, encoding: { ...enc, y: { field: 'estimate', type: 'quantitative', scale: { type: 'log' }, title: 'ratio (log)' } } },
          { mark: { type: 'errorbar', ticks: true }, encoding: { ...enc, y: { field: 'lo', type: 'quantitative', title: null }, y2: { field: 'hi' } } },
        ],
      },
    },
  };
}

/** H2: the decided efficiency (E_mem) with its paired interval by partitions, delivery and layout. */
export function h2EfficiencyFigure(v: Verdicts): Figure | string {
  const values = v.families.filter((f) => f.hypothesis === 'H2').flatMap((f) => f.comparisons.filter((c) => Number.isFinite(c.ci[0])).map((c) => {
    const p = Number(/p=(\d+)/.exec(c.config)?.[1]);
    const layout = /worker-processes/.test(c.config) ? 'worker-processes' : 'one-process';
    return { delivery: f.id.replace('H2 ', ''), layout, partitions: p, efficiency: c.estimate, lo: c.ci[0], hi: c.ci[1] };
  })).sort((a, b) => byText(a, b, 'delivery') || byText(a, b, 'layout') || a.partitions - b.partitions);
  if (!values.length) return 'no blackboard-kafka scaling comparison has paired runs';
  const enc = { x: { field: 'partitions', type: 'quantitative', scale: { type: 'log', base: 2 }, title: 'partitions (consumers grow with them)' }, color: { field: 'layout', type: 'nominal', title: 'consumer layout' } };
  return {
    name: 'h2-efficiency',
    title: 'H2: scaling efficiency vs partitions',
    caption: `E_mem(p) = throughput(p) / throughput(in-memory blackboard at the same execution slots), geometric mean over seed pairs, with paired t intervals; the dashed line is the near-linear threshold ${NEAR_LINEAR}.`,
    spec: {
      ...BASE,
      title: 'H2: scaling efficiency',
      data: { values },
      facet: { column: { field: 'delivery', type: 'nominal', title: 'delivery' } },
      spec: {
        width: 260,
        height: 220,
        layer: [
          { mark: { type: 'rule', strokeDash: [4, 3], color: 'gray' }, encoding: { y: { datum: NEAR_LINEAR } } },
          { mark: { type: 'line', point: true }, encoding: { ...enc, y: { field: 'efficiency', type: 'quantitative', title: 'E_mem (vs in-memory at equal slots)' } } },
          { mark: { type: 'errorbar', ticks: true }, encoding: { ...enc, y: { field: 'lo', type: 'quantitative', title: null }, y2: { field: 'hi' } } },
        ],
      },
    },
  };
}

interface TailRow {
  matrix: string; workload: string; system: string; sp: string; rate: number; coalesce: boolean | null; coalesce_tasks: number | null;
  task_class: string; p95_ms: number | null; p99_ms: number | null;
}

/**
 * H3: P95 and P99 task latency against offered load (tasks/s), per open-loop configuration and
 * task class, one line per arm: the median over runs of each run's percentile, with its
 * order-statistic interval (achieved level in the data). Runs under heavy external load or with
 * failed agents are left out, as in the verdicts.
 */
export async function h3TailFigure(db: ResultsDb): Promise<Figure | string> {
  const rows = await db.query<TailRow>(
    `SELECT r.matrix, r.workload, r.system, CAST(r.params->'system' AS VARCHAR) AS sp, r.wl_rate_per_sec AS rate, r.wl_coalesce AS coalesce,
            r.wl_coalesce_tasks AS coalesce_tasks, c.task_class, c.p95_ms, c.p99_ms
       FROM task_latency_by_class c JOIN run_configs r USING (run_id)
      WHERE r.wl_arrival IN ('poisson', 'uniform', 'trace') AND NOT r.loaded AND coalesce(r.errors, 0) = 0
      ORDER BY r.matrix, r.workload, c.task_class, r.system, sp, rate, r.run_id`);
  if (!rows.length) return 'no open-loop run is stored';
  const groups = new Map<string, { config: string; arm: string; metric: string; rate: number; xs: number[] }>();
  for (const r of rows) {
    // Rows: a configuration and task class; lines: the arm, batched across tasks or not (the
    // comparison H3 decides sits in one panel). Retrieval's per-query coalescing is part of the row.
    const retrieval = r.task_class === 'retrieval-summarization';
    const config = `${r.matrix}: ${r.task_class !== r.workload ? `${r.workload} / ${r.task_class}` : r.workload}${!retrieval || r.coalesce === null ? '' : r.coalesce ? ' (k summaries in one call)' : ' (k summary calls)'}`;
    const batch = Number(r.coalesce_tasks ?? 1);
    const arm = `${armLabel(r.system, JSON.parse(r.sp) as Record<string, unknown>)}, ${batch > 1 ? `${batch} tasks per call` : 'one call per task'}`;
    for (const [metric, x] of [['P95', r.p95_ms], ['P99', r.p99_ms]] as const) {
      if (x === null || !Number.isFinite(x)) continue;
      const key = `${config}|${arm}|${metric}|${r.rate}`;
      let g = groups.get(key);
      if (!g) groups.set(key, (g = { config, arm, metric, rate: Number(r.rate), xs: [] }));
      g.xs.push(Number(x));
    }
  }
  const values = [...groups.values()].map((g) => {
    const m = medianCi(g.xs);
    return { config: g.config, arm: g.arm, metric: g.metric, rate: g.rate, n: g.xs.length, medianMs: m.median, lo: m.ci?.lo ?? m.median, hi: m.ci?.hi ?? m.median, level: m.ci ? Number(m.ci.level.toPrecision(4)) : 0 };
  }).sort((a, b) => byText(a, b, 'config') || byText(a, b, 'metric') || byText(a, b, 'arm') || a.rate - b.rate);
  if (!values.length) return 'no open-loop run has a P95 (>= 20 tasks of a class)';
  const enc = {
    x: { field: 'rate', type: 'quantitative', title: 'offered load (tasks/s)' },
    color: { field: 'arm', type: 'nominal', title: 'arm', legend: { labelLimit: 0, orient: 'bottom', direction: 'vertical' } },
  };
  return {
    name: 'h3-tail-vs-load',
    title: 'H3: P95 and P99 task latency vs offered load',
    caption: 'Median over runs of each run\'s P95 / P99 task latency (from the intended arrival), with order-statistic intervals of the median, per open-loop configuration and task class (rows) and arm, batched across tasks or one call per task (colour); log scale. A class with fewer than 20 (P95) or 100 (P99) tasks in a run has no point.',
    spec: {
      ...BASE,
      title: 'H3: tail latency vs offered load',
      data: { values },
      facet: { row: { field: 'config', type: 'nominal', title: null, header: { labelAngle: 0, labelAlign: 'left', labelLimit: 0 } }, column: { field: 'metric', type: 'nominal', title: null } },
      spec: {
        width: 240,
        height: 170,
        layer: [
          { mark: { type: 'line', point: true }, encoding: { ...enc, y: { field: 'medianMs', type: 'quantitative', scale: { type: 'log' }, title: 'task latency (ms, log)' } } },
          { mark: { type: 'errorbar', ticks: true }, encoding: { ...enc, y: { field: 'lo', type: 'quantitative', title: null }, y2: { field: 'hi' } } },
        ],
      },
    },
  };
}

interface BenchRow { case_name: string; system: string; per_event_p50_us: number; events: number }

/** The standard cases' names (the growth series has its own figure), as a SQL list. */
export const STANDARD_CASES_SQL = standardCases().map((c) => `'${c.name}'`).join(', ');

/** Orchestration overhead per event by standard case and system (latest bench session, medians), log scale. */
export async function overheadFigure(db: ResultsDb): Promise<Figure | string> {
  const rows = await db.query<BenchRow>(
    `SELECT case_name, system, per_event_p50_us, events FROM bench
      WHERE ${LATEST_BENCH} AND per_event_p50_us IS NOT NULL
        AND case_name IN (${STANDARD_CASES_SQL})
      ORDER BY case_name, system`);
  if (!rows.length) return 'no bench session stored (run `flockbench bench`)';
  const systems = [...new Set(rows.map((r) => r.system))].sort();
  return {
    name: 'overhead-per-event',
    title: 'Orchestration overhead per event',
    caption: 'Median per-event engine cost with zero-latency agents (microseconds, log scale) on the standard cases, latest `flockbench bench` session.',
    spec: {
      ...BASE,
      title: 'Overhead per event (zero-latency agents, median)',
      width: 420,
      data: { values: rows.map((r) => ({ case: r.case_name, system: r.system, perEventUs: r.per_event_p50_us })) },
      mark: 'bar',
      encoding: {
        y: { field: 'case', type: 'nominal', title: null },
        yOffset: { field: 'system', sort: systems },
        x: { field: 'perEventUs', type: 'quantitative', scale: { type: 'log' }, title: 'per event (us, median, log)' },
        color: { field: 'system', type: 'nominal', sort: systems },
      },
    },
  };
}

/**
 * How per-event engine cost grows with size (latest bench session's growth series), log-log, one
 * line per system, a panel per case family: the figure `flockbench bench` itself describes
 * (harness/bench/figure.ts). A size stopped by the budget is an open triangle at its lower bound.
 */
export async function scalingFigure(db: ResultsDb): Promise<Figure | string> {
  const points = scalingPoints(await db.query<BenchFigureRow>(SCALING_SQL));
  if (!points.length) return 'no bench session with a growth series stored (run `flockbench bench`)';
  return {
    name: 'overhead-scaling',
    title: 'Engine cost per event vs size',
    caption: 'Median per-event engine cost (µs, log) against n (log) with zero-latency agents, latest `flockbench bench` session: a flat line is a constant cost per event, slope 1 a cost per event growing with n (quadratic in total). Ticks: p95. Open triangles: a size stopped by the time or memory budget, drawn at the least it cost per event (the time it had run / n).',
    spec: scalingFigureSpec(points),
  };
}

/** The matrix, and the systems, whose first shared seed the timeline figure draws. */
export const TIMELINE_MATRIX = 'h1-forms-x1';
export const TIMELINE_SYSTEMS = ['blackboard-deferred', 'langgraph-per-item', 'langgraph-parallel'] as const;

/**
 * The barrier, seen: one run per system on the same seed (the lowest seed of the H1 decision
 * matrix that every system ran), every execution a bar rebuilt from the run's stored spans
 * (agent, run-clock times, the task's correlation id), agents on the y axis. The runs are whichever
 * of these have stored spans (the shipped reference keeps exactly these runs' spans).
 */
export async function timelineFigure(db: ResultsDb): Promise<Figure | string> {
  const list = TIMELINE_SYSTEMS.map((x) => `'${x}'`).join(', ');
  const runs = await db.query<{ run_id: string; system: string; seed: number }>(
    `WITH r AS (SELECT run_id, system, seed FROM runs WHERE state = 'completed' AND matrix = '${TIMELINE_MATRIX}' AND system IN (${list})
                  AND run_id IN (SELECT DISTINCT run_id FROM spans)),
          s AS (SELECT min(seed) AS seed FROM (SELECT seed FROM r GROUP BY seed HAVING count(DISTINCT system) = ${TIMELINE_SYSTEMS.length}))
     SELECT min(run_id) AS run_id, system, any_value(seed)::BIGINT AS seed FROM r WHERE seed = (SELECT seed FROM s) GROUP BY system ORDER BY system`);
  if (runs.length < TIMELINE_SYSTEMS.length) return `no seed of ${TIMELINE_MATRIX} has a run with stored spans for every one of ${TIMELINE_SYSTEMS.join(', ')}`;
  const values: TimelineRow[] = [];
  for (const system of TIMELINE_SYSTEMS) {
    const run = runs.find((r) => r.system === system)!;
    const spans = await db.query<Pick<SpanRow, 'span_id' | 'name' | 'parent_id' | 'start_time' | 'end_time' | 'attributes'>>(
      `SELECT span_id, name, parent_id, start_time, end_time, CAST(attributes AS VARCHAR) AS attributes FROM spans WHERE run_id = '${run.run_id}' ORDER BY start_time, span_id`);
    values.push(...timelineRows(executionsFromSpans(spans), system));
  }
  const agents = [...new Set(values.map((r) => r.agent))].sort((a, b) => (a === 'editor' ? 1 : b === 'editor' ? -1 : a.localeCompare(b, 'en')));
  const spec = timelineSpec(values, { agentOrder: agents, width: 560, rowHeightPx: 12 });
  return {
    name: 'h1-timeline',
    title: `H1: one run per system on the same draws (${TIMELINE_MATRIX}, seed ${runs[0]!.seed})`,
    caption: "Every agent execution as a bar (colour: story), on the run clock. The blackboard and one graph run per story let each story's editor start when that story's analyses are done; one graph run over every story holds each superstep until the slowest branch of any story ends.",
    spec: { ...BASE, ...spec, $schema: BASE.$schema },
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

/** Build every figure and write `<out>/figures/<name>.{vl.json,svg}` (the paper embeds the SVG). */
export async function writeFigures(db: ResultsDb, v: Verdicts, outDir: string): Promise<FigureOutcome[]> {
  const candidates: [string, Figure | string][] = [
    ['h1-forest', h1ForestFigure(v)],
    ['h1-ratio-vs-scale', h1ScaleFigure(v)],
    ['h1-timeline', await timelineFigure(db)],
    ['h2-efficiency', h2EfficiencyFigure(v)],
    ['h3-tail-vs-load', await h3TailFigure(db)],
    ['overhead-per-event', await overheadFigure(db)],
    ['overhead-scaling', await scalingFigure(db)],
  ];
  const dir = join(outDir, 'figures');
  mkdirSync(dir, { recursive: true });
  const out: FigureOutcome[] = [];
  for (const [name, f] of candidates) {
    if (typeof f === 'string') { out.push({ name, state: 'skipped', reason: f }); continue; }
    const svg = await renderSvg(f.spec);
    const files = [`figures/${f.name}.vl.json`, `figures/${f.name}.svg`];
    writeFileSync(join(outDir, files[0]!), `${JSON.stringify(f.spec, null, 2)}\n`);
    writeFileSync(join(outDir, files[1]!), svg);
    out.push({ name: f.name, state: 'written', files, caption: f.caption, title: f.title });
  }
  return out;
}
