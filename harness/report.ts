// Summaries of what is stored: one row per (matrix, workload + params, tail, scale, system and
// its non-default parameters), medians over independent runs with the distribution-free
// order-statistic interval of the makespan median and its achieved level (75% at 3 runs: a 95%
// interval needs 6). Comparisons between systems, paired by seed, are the paper's business.
import { median } from '../core/stats/basic.ts';
import { medianCi } from '../core/stats/single.ts';
import { canonicalJson } from '../core/canonical.ts';
import { SYSTEMS } from '../systems/registry.ts';
import type { ResultsDb } from './results/db.ts';

export interface SummaryRow {
  matrix: string;
  workload: string;
  workloadParams: string;
  tail: string;
  latencyScale: number;
  system: string;
  /** The matrix cell's system parameters (e.g. partitions), as JSON; '{}' when none. */
  systemParams: string;
  store: string;
  n: number;
  makespanMs: number;
  /** Order-statistic interval of the median makespan, and its achieved confidence level. */
  makespanCiMs: [number, number];
  makespanCiLevel: number;
  efficiency: number;
  p50Ms: number;
  /** NaN when no run of the group has enough tasks for the percentile (shown as '-'). */
  p95Ms: number;
  p99Ms: number;
  throughputTps: number;
  cpuMs: number;
  rssPeakMb: number;
  costPerTaskUsd: number;
  /** Median Jain's index over per-task ideal/measured latency (1 = equal slowdown for all tasks). */
  fairness: number;
  errors: number;
}

interface RunRow {
  matrix: string; workload: string; system: string; store: string; params: string; latency_scale: number;
  makespan_ms: number; efficiency: number; p50_ms: number | null; p95_ms: number | null; p99_ms: number | null; throughput_tps: number;
  cpu_ms: number; rss_peak_mb: number; cost_per_task_usd: number; errors: number; fairness: number | null;
}

export async function summarize(db: ResultsDb, filter: { matrix?: string; runIds?: string[] } = {}): Promise<SummaryRow[]> {
  const where: string[] = [];
  const vals: string[] = [];
  if (filter.matrix) { where.push('matrix = ?'); vals.push(filter.matrix); }
  const rows = await db.query<RunRow>(
    `SELECT matrix, workload, system, store, CAST(params AS VARCHAR) AS params, latency_scale, makespan_ms, efficiency,
            p50_ms, p95_ms, p99_ms, throughput_tps, cpu_ms, rss_peak_mb, cost_per_task_usd, errors, fairness
       FROM runs WHERE state = 'completed' ${where.length ? 'AND ' + where.join(' AND ') : ''} ORDER BY started_at`, vals);
  type GroupKey = Pick<SummaryRow, 'matrix' | 'workload' | 'workloadParams' | 'tail' | 'latencyScale' | 'system' | 'systemParams' | 'store'>;
  const groups = new Map<string, { key: GroupKey; rows: RunRow[] }>();
  for (const r of rows) {
    const p = JSON.parse(r.params);
    const wp = JSON.stringify(p.workload ?? {});
    const tail = String(p.tail ?? 'calibrated');
    const sp = JSON.stringify(nonDefault(r.system, p.system ?? {}));
    const k = [r.matrix, r.workload, wp, tail, r.latency_scale, r.system, sp].join('|');
    let g = groups.get(k);
    if (!g) groups.set(k, (g = { key: { matrix: r.matrix, workload: r.workload, workloadParams: wp, tail, latencyScale: r.latency_scale, system: r.system, systemParams: sp, store: r.store }, rows: [] }));
    g.rows.push(r);
  }
  const med = (rs: RunRow[], f: (r: RunRow) => number) => median(rs.map(f));
  // P95/P99 are NULL in runs with too few tasks for them (under 20 / 100): shown as '-', never 0.
  const medOpt = (rs: RunRow[], f: (r: RunRow) => number | null) => {
    const xs = rs.map(f).filter((x): x is number => x !== null && x !== undefined);
    return xs.length ? median(xs) : NaN;
  };
  return [...groups.values()].map(({ key, rows: rs }) => ({
    ...key,
    n: rs.length,
    makespanMs: med(rs, (r) => r.makespan_ms),
    ...(() => {
      const m = medianCi(rs.map((r) => r.makespan_ms));
      return { makespanCiMs: (m.ci ? [m.ci.lo, m.ci.hi] : [NaN, NaN]) as [number, number], makespanCiLevel: m.ci?.level ?? NaN };
    })(),
    efficiency: med(rs, (r) => r.efficiency),
    p50Ms: medOpt(rs, (r) => r.p50_ms),
    p95Ms: medOpt(rs, (r) => r.p95_ms),
    p99Ms: medOpt(rs, (r) => r.p99_ms),
    throughputTps: med(rs, (r) => r.throughput_tps),
    cpuMs: med(rs, (r) => r.cpu_ms),
    rssPeakMb: med(rs, (r) => r.rss_peak_mb),
    costPerTaskUsd: med(rs, (r) => r.cost_per_task_usd),
    fairness: median(rs.filter((r) => r.fairness !== null).map((r) => r.fairness!)),
    errors: rs.reduce((a, r) => a + r.errors, 0),
  }));
}

/** The system parameters that differ from the system's declared defaults (what distinguishes a cell). */
function nonDefault(system: string, sp: Record<string, unknown>): Record<string, unknown> {
  const defs = SYSTEMS.find((s) => s.name === system)?.params ?? {};
  return Object.fromEntries(Object.entries(sp).filter(([k, v]) => canonicalJson(defs[k]?.default) !== canonicalJson(v)));
}

/** {"partitions":4,"delivery":"exactly-once"} -> partitions=4 delivery=exactly-once */
function compactParams(json: string): string {
  return Object.entries(JSON.parse(json) as Record<string, unknown>).map(([k, v]) => `${k}=${v}`).join(' ');
}

const f = (x: number, d = 1) => (Number.isFinite(x) ? x.toFixed(d) : '-');

/** Fixed-width text table, one block per workload configuration. */
export function formatSummary(rows: SummaryRow[]): string {
  if (!rows.length) return 'no runs stored';
  const blocks = new Map<string, SummaryRow[]>();
  for (const r of rows) {
    const k = `${r.matrix} · ${r.workload} ${r.workloadParams} · tail=${r.tail} · latency x${r.latencyScale}`;
    let b = blocks.get(k);
    if (!b) blocks.set(k, (b = []));
    b.push(r);
  }
  const head = ['system', 'n', 'makespan ms [CI, level]', 'effic.', 'p50 ms', 'p95 ms', 'p99 ms', 'tasks/s', 'CPU ms', 'RSS MB', '$/task', 'fair', 'err'];
  const out: string[] = [];
  for (const [k, rs] of blocks) {
    const table = [head, ...rs.sort((a, b) => a.makespanMs - b.makespanMs).map((r) => [
      r.systemParams === '{}' ? r.system : `${r.system} ${compactParams(r.systemParams)}`, String(r.n), `${f(r.makespanMs)} [${f(r.makespanCiMs[0])}, ${f(r.makespanCiMs[1])}, ${Number.isFinite(r.makespanCiLevel) ? `${(100 * r.makespanCiLevel).toFixed(1)}%` : '-'}]`, f(r.efficiency, 3),
      f(r.p50Ms), f(r.p95Ms), f(r.p99Ms), f(r.throughputTps, 2), f(r.cpuMs, 0), f(r.rssPeakMb, 0), r.costPerTaskUsd.toFixed(5), f(r.fairness, 2), String(r.errors),
    ])];
    const widths = head.map((_, i) => Math.max(...table.map((row) => row[i].length)));
    out.push(k);
    for (const [i, row] of table.entries()) {
      out.push('  ' + row.map((c, j) => (j === 0 ? c.padEnd(widths[j]) : c.padStart(widths[j]))).join('  '));
      if (i === 0) out.push('  ' + widths.map((w) => '-'.repeat(w)).join('  '));
    }
    out.push('');
  }
  return out.join('\n');
}
