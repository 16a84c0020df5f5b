// The scaling figure of `flockbench bench`: median µs per event against n, log-log, one line per
// system and a panel per case family (items, fan-out). A constant per-event cost is a flat line;
// a quadratic engine's per-event cost rises with slope 1. A size a system did not finish within
// the budget is drawn as an open triangle at the least it was known to cost: the time it had run
// when stopped, per event (the cost is at least that). Pure: rows in, a vega-lite spec out.

/** A vega-lite spec as plain JSON (compiled and rendered by the caller). */
export type VlSpec = Record<string, unknown>;

/** What the figure needs of a `bench` row (columns of the bench table). */
export interface BenchFigureRow {
  system: string;
  family: string;
  n: number;
  events: number;
  state: string;
  per_event_p50_us: number | null;
  per_event_p95_us: number | null;
  first_run_ms: number | null;
}

/** SQL predicate on `bench`: the rows of the latest bench session (ties broken by id). */
export const LATEST_BENCH = 'bench_id = (SELECT bench_id FROM bench ORDER BY started_at DESC, bench_id LIMIT 1)';

/** The rows of the latest bench session that the figure plots (a query against the results DB). */
export const SCALING_SQL = `SELECT system, family, n, events, state, per_event_p50_us, per_event_p95_us, first_run_ms
  FROM bench
  WHERE ${LATEST_BENCH}
    AND family IN ('items', 'fan-out') AND state IN ('completed', 'over-budget')
  ORDER BY family, system, n`;

export interface ScalingPoint {
  system: string;
  family: string;
  n: number;
  /** `completed`: measured median; `over-budget`: stopped, perEventUs is a lower bound. */
  state: 'completed' | 'over-budget';
  perEventUs: number;
  perEventP95Us: number | null;
}

const SYSTEM_ORDER = ['blackboard-eager', 'blackboard-deferred', 'langgraph-parallel', 'langgraph-stepwise', 'blackboard-kafka', 'flock-real'];

/** Bench rows to plotted points: completed sizes at their median, stopped ones at their lower bound; others dropped. */
export function scalingPoints(rows: readonly BenchFigureRow[]): ScalingPoint[] {
  const out: ScalingPoint[] = [];
  for (const r of rows) {
    if (r.state === 'completed' && r.per_event_p50_us !== null && r.per_event_p50_us > 0) {
      out.push({ system: r.system, family: r.family, n: r.n, state: 'completed', perEventUs: r.per_event_p50_us, perEventP95Us: r.per_event_p95_us });
    } else if (r.state === 'over-budget' && r.first_run_ms !== null && r.first_run_ms > 0 && r.events > 0) {
      out.push({ system: r.system, family: r.family, n: r.n, state: 'over-budget', perEventUs: (r.first_run_ms * 1000) / r.events, perEventP95Us: null });
    }
  }
  const rank = (s: string) => (SYSTEM_ORDER.includes(s) ? SYSTEM_ORDER.indexOf(s) : SYSTEM_ORDER.length);
  return out.sort((a, b) => a.family.localeCompare(b.family) || rank(a.system) - rank(b.system) || a.system.localeCompare(b.system) || a.n - b.n);
}

/** The vega-lite spec: per-event cost vs n, log-log, by system, a column per family. */
export function scalingFigureSpec(points: readonly ScalingPoint[], o: { title?: string; width?: number; height?: number } = {}): VlSpec {
  const systems = [...new Set(points.map((p) => p.system))];
  const x = { field: 'n', type: 'quantitative', scale: { type: 'log' }, title: 'n (tasks or subscribers, log)' };
  const y = { field: 'perEventUs', type: 'quantitative', scale: { type: 'log' }, title: 'µs per event (median, log)' };
  const color = { field: 'system', type: 'nominal', sort: systems, title: 'system' };
  const tooltip = [
    { field: 'system', type: 'nominal' }, { field: 'n', type: 'quantitative' }, { field: 'state', type: 'nominal' },
    { field: 'perEventUs', type: 'quantitative', format: '.3~g', title: 'µs/event (p50; lower bound if stopped)' },
    { field: 'perEventP95Us', type: 'quantitative', format: '.3~g', title: 'µs/event p95' },
  ];
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    background: 'white',
    config: { font: 'DejaVu Sans', view: { stroke: null } },
    title: o.title ?? 'Engine cost per event vs size (zero-latency agents)',
    data: { values: points.map((p) => ({ ...p })) },
    facet: { column: { field: 'family', type: 'nominal', title: 'case family' } },
    resolve: { scale: { x: 'independent' } },
    spec: {
      width: o.width ?? 260,
      height: o.height ?? 220,
      layer: [
        {
          transform: [{ filter: "datum.state === 'completed'" }],
          mark: { type: 'line', point: true },
          encoding: { x, y, color, tooltip },
        },
        {
          transform: [{ filter: "datum.state === 'completed' && isValid(datum.perEventP95Us)" }],
          mark: { type: 'tick', thickness: 1, opacity: 0.6 },
          encoding: { x, y: { ...y, field: 'perEventP95Us' }, color, tooltip },
        },
        {
          transform: [{ filter: "datum.state === 'over-budget'" }],
          mark: { type: 'point', shape: 'triangle-up', filled: false, size: 90 },
          encoding: { x, y, color, tooltip },
        },
      ],
    },
  };
}
