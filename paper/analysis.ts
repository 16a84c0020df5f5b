// The runs behind the paper, as the verdict rules see them: completed runs not taken under heavy
// external load, grouped into exact configurations (every workload parameter, tail, latency
// scale, LLM transport) and arms (a system with every resolved system parameter), and paired
// across arms by seed: the same seed gives every system the same latency draws. Nothing is
// pooled: two parameter sets are two arms, and a seed repeated within one arm is kept once and
// reported.
import { canonicalJson } from '../core/canonical.ts';
import type { Pair } from '../core/stats/paired.ts';
import type { ResultsDb } from '../harness/results/db.ts';
import { SYSTEMS } from '../systems/registry.ts';
import { WORKLOADS } from '../workloads/registry.ts';

export interface RunRec {
  runId: string;
  matrix: string;
  session: string;
  system: string;
  workload: string;
  /** Resolved workload parameters. */
  wp: Record<string, unknown>;
  /** Resolved system parameters. */
  sp: Record<string, unknown>;
  tail: string;
  latencyScale: number;
  llmTransport: string;
  seed: number;
  tasks: number;
  makespanMs: number;
  throughputTps: number;
  p95Ms: number | null;
  p99Ms: number | null;
  idealMs: number | null;
  lowerBoundMs: number;
  cpuMs: number;
  /** LLM calls the run made (every call a simulator answered, fallbacks and retries included). */
  llmCalls: number;
  loaded: boolean;
  /** WorkflowError artifacts: agent executions that failed (the run did not do the same work). */
  errors: number;
  startedAt: string;
  settings: Record<string, unknown>;
  counters: Record<string, number>;
  /** The run's agent executions on its clock (empty when its executions are not stored). */
  execs: ExecSpan[];
}

/**
 * The runs whose executions the paper reads (over run_configs r): closed loop at latency x1, where
 * the tutorial's decision and reference table live. Open-loop runs have thousands of executions
 * each and nothing here needs them.
 */
export const EXECUTIONS_NEEDED = `coalesce(r.wl_arrival, 'all-at-once') = 'all-at-once' AND r.latency_scale = 1`;

export interface ExecSpan {
  agent: string;
  startMs: number;
  endMs: number;
  /** The LLM time the execution needed: its calls' drawn latency, scaled (0 for a tool agent). */
  llmMs: number;
}

interface Row {
  run_id: string; matrix: string; session: string | null; system: string; workload: string; params: string; tail: string | null;
  latency_scale: number; llm_transport: string | null; seed: string | number; tasks: number; makespan_ms: number; throughput_tps: number;
  p95_ms: number | null; p99_ms: number | null; ideal_ms: number | null; lower_bound_ms: number; cpu_ms: number; llm_calls: number | null; loaded: boolean; errors: number; started_at: string;
}

/** Every completed run, in a stable order (the paper must regenerate byte for byte). */
export async function loadRuns(db: ResultsDb): Promise<RunRec[]> {
  const rows = await db.query<Row>(
    `SELECT run_id, matrix, session, system, workload, CAST(params AS VARCHAR) AS params, tail, latency_scale, llm_transport, seed, tasks,
            makespan_ms, throughput_tps, p95_ms, p99_ms, ideal_ms, lower_bound_ms, cpu_ms, llm_calls, loaded, errors, CAST(started_at AS VARCHAR) AS started_at
       FROM run_configs ORDER BY matrix, system, seed, started_at, run_id`);
  const execRows = await db.query<{ run_id: string; agent: string; start_ms: number; end_ms: number; llm_ms: number | null }>(
    `SELECT e.run_id, e.agent, e.start_ms, e.end_ms, e.scaled_latency_ms AS llm_ms FROM executions e JOIN run_configs r USING (run_id)
      WHERE ${EXECUTIONS_NEEDED} ORDER BY e.run_id, e.start_ms, e.agent, e.end_ms`);
  const execsOf = new Map<string, ExecSpan[]>();
  for (const e of execRows) {
    let xs = execsOf.get(e.run_id);
    if (!xs) execsOf.set(e.run_id, (xs = []));
    xs.push({ agent: e.agent, startMs: Number(e.start_ms), endMs: Number(e.end_ms), llmMs: Number(e.llm_ms ?? 0) });
  }
  return rows.map((r) => {
    const p = JSON.parse(r.params) as { workload?: Record<string, unknown>; system?: Record<string, unknown>; tail?: string; settings?: Record<string, unknown>; counters?: Record<string, number> };
    return {
      runId: r.run_id, matrix: r.matrix, session: r.session ?? 'unknown', system: r.system, workload: r.workload, wp: withDefaults(r.workload, p.workload ?? {}), sp: p.system ?? {},
      tail: r.tail ?? p.tail ?? 'calibrated', latencyScale: Number(r.latency_scale), llmTransport: r.llm_transport ?? 'inprocess', seed: Number(r.seed),
      tasks: Number(r.tasks), makespanMs: Number(r.makespan_ms), throughputTps: Number(r.throughput_tps), p95Ms: r.p95_ms, p99Ms: r.p99_ms,
      idealMs: r.ideal_ms, lowerBoundMs: Number(r.lower_bound_ms), cpuMs: Number(r.cpu_ms) + pythonCpuNotCounted(r.system, p), llmCalls: Number(r.llm_calls ?? NaN), loaded: Boolean(r.loaded), errors: Number(r.errors ?? 0), startedAt: r.started_at,
      settings: p.settings ?? {}, counters: p.counters ?? {}, execs: execsOf.get(r.run_id) ?? [],
    };
  });
}

/**
 * flock-real runs stored before its Python runner's CPU was added to the run's (settings without
 * `cpuIncludesPython`) carry it in counters.pythonCpuMs: count it, so every Python system's CPU
 * is its Node process plus its Python runner in the measured window.
 */
function pythonCpuNotCounted(system: string, p: { settings?: Record<string, unknown>; counters?: Record<string, number> }): number {
  if (system !== 'flock-real' || p.settings?.cpuIncludesPython) return 0;
  return Number(p.counters?.pythonCpuMs ?? 0);
}

/**
 * A run's workload parameters with every declared default it lacks filled in: a parameter added
 * after the run was stored defaults to the behaviour the run had, so runs stored before and after
 * it land in the same configuration (and a replication on new code pairs with recorded runs).
 */
export function withDefaults(workload: string, wp: Record<string, unknown>): Record<string, unknown> {
  const defs = WORKLOADS.find((w) => w.name === workload)?.params as Record<string, { default?: unknown }> | undefined;
  if (!defs) return wp;
  const filled: Record<string, unknown> = {};
  for (const [k, d] of Object.entries(defs)) if (d.default !== undefined && !(k in wp)) filled[k] = d.default;
  return { ...filled, ...wp };
}

/** The exact workload configuration of a run (everything but the system), without the matrix. */
export function configKey(r: RunRec): string {
  return canonicalJson({ workload: r.workload, wp: r.wp, tail: r.tail, latencyScale: r.latencyScale, llmTransport: r.llmTransport });
}

/** The system parameters that differ from the system's declared defaults. */
export function nonDefaultParams(system: string, sp: Record<string, unknown>): Record<string, unknown> {
  const defs = SYSTEMS.find((s) => s.name === system)?.params ?? {};
  return Object.fromEntries(Object.entries(sp).filter(([k, v]) => canonicalJson(defs[k]?.default) !== canonicalJson(v)).sort(([a], [b]) => (a < b ? -1 : 1)));
}

/** An arm: a system with its exact parameters, labelled by those that differ from the defaults. */
export function armLabel(system: string, sp: Record<string, unknown>): string {
  const nd = nonDefaultParams(system, sp);
  const parts = Object.entries(nd).map(([k, v]) => `${k}=${Array.isArray(v) ? v.join(',') : v}`);
  return parts.length ? `${system} ${parts.join(' ')}` : system;
}

export function armKey(r: Pick<RunRec, 'system' | 'sp'>): string {
  return canonicalJson([r.system, r.sp]);
}

/** A short label of a workload configuration. */
export function configLabel(r: Pick<RunRec, 'workload' | 'wp' | 'tail' | 'latencyScale'>): string {
  const wp = r.wp;
  const keys = ['tasks', 'analysts', 'depth', 'join', 'k', 'model', 'arrival', 'ratePerSec'];
  const shown = keys.filter((k) => wp[k] !== undefined && !(k === 'join' && wp[k] === false) && !(k === 'ratePerSec' && (wp.arrival ?? 'all-at-once') === 'all-at-once') && !(k === 'arrival' && wp[k] === 'all-at-once'));
  return `${r.workload} ${shown.map((k) => `${k}=${wp[k]}`).join(' ')} (${r.tail} tail, latency x${r.latencyScale})`;
}

/** Runs of one configuration of one matrix, by arm. */
export interface Config {
  matrix: string;
  key: string;
  label: string;
  sample: RunRec;
  arms: Map<string, RunRec[]>;
}

/**
 * Group runs into configurations per matrix, in a stable order. Set apart: runs started under heavy
 * external load, and runs in which agent executions failed (errors > 0): a run that lost work did
 * not finish the same work, so its makespan is not comparable (a failing system would look fast).
 */
export function configurations(runs: readonly RunRec[]): { configs: Config[]; loaded: RunRec[]; erred: RunRec[] } {
  const byKey = new Map<string, Config>();
  const loaded: RunRec[] = [];
  const erred: RunRec[] = [];
  for (const r of runs) {
    if (r.loaded) { loaded.push(r); continue; }
    if (r.errors > 0) { erred.push(r); continue; }
    const k = `${r.matrix}\u0000${configKey(r)}`;
    let c = byKey.get(k);
    if (!c) byKey.set(k, (c = { matrix: r.matrix, key: configKey(r), label: configLabel(r), sample: r, arms: new Map() }));
    const a = armKey(r);
    let l = c.arms.get(a);
    if (!l) c.arms.set(a, (l = []));
    l.push(r);
  }
  const configs = [...byKey.values()].sort((a, b) => (a.matrix + a.key < b.matrix + b.key ? -1 : 1));
  return { configs, loaded, erred };
}

export interface Paired {
  pairs: Pair[];
  /** Distinct sessions the pairs came from. */
  sessions: number;
  /** Seeds seen more than once in one arm (the earliest run kept). */
  duplicates: number;
}

/** Pair two arms' runs by seed with a metric; a seed missing from either arm is left out. */
export function pairBySeed(num: readonly RunRec[], den: readonly RunRec[], metric: (r: RunRec) => number | null): Paired {
  let duplicates = 0;
  const first = (rs: readonly RunRec[]) => {
    const m = new Map<number, RunRec>();
    for (const r of [...rs].sort((a, b) => (a.startedAt < b.startedAt ? -1 : a.startedAt > b.startedAt ? 1 : 0))) {
      if (m.has(r.seed)) duplicates++;
      else m.set(r.seed, r);
    }
    return m;
  };
  const a = first(num), b = first(den);
  const pairs: Pair[] = [];
  const sessions = new Set<string>();
  for (const [seed, ra] of [...a].sort(([x], [y]) => x - y)) {
    const rb = b.get(seed);
    if (!rb) continue;
    const x = metric(ra), y = metric(rb);
    if (x === null || y === null || !(x > 0) || !(y > 0)) continue;
    pairs.push({ seed, num: x, den: y });
    sessions.add(ra.session);
    sessions.add(rb.session);
  }
  return { pairs, sessions: sessions.size, duplicates };
}

/** Most executions in flight at once (an end at t frees its slot before a start at t). */
export function peakInFlight(execs: readonly ExecSpan[]): number {
  const ev = execs.flatMap((e) => [[e.startMs, 1], [e.endMs, -1]] as const).sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  let n = 0, peak = 0;
  for (const [, d] of ev) peak = Math.max(peak, (n += d));
  return peak;
}

/**
 * The first fan-out of a run (the executions of the agents that consume the seed type), when
 * every one of those agents ran exactly once (one task): its wall span, from the first of them
 * starting to the last ending, and the longest LLM time one of them needed. Null otherwise.
 */
export function fanOutPhase(execs: readonly ExecSpan[], firstStage: ReadonlySet<string>): { spanMs: number; longestLlmMs: number } | null {
  const xs = execs.filter((e) => firstStage.has(e.agent));
  if (xs.length !== firstStage.size || new Set(xs.map((e) => e.agent)).size !== xs.length) return null;
  return {
    spanMs: Math.max(...xs.map((e) => e.endMs)) - Math.min(...xs.map((e) => e.startMs)),
    longestLlmMs: Math.max(...xs.map((e) => e.llmMs)),
  };
}

/**
 * How parallel the first fan-out was: P = the longest LLM time one of its agents needed over the
 * phase's wall span. Near 1: they ran together (the phase took as long as its longest call); k
 * equal calls one at a time: 1/k. Measured on LLM time, not on the recorded execution intervals:
 * an engine that blocks the event loop (Flock's DSPyEngine) starts every execution at once and
 * then serves their calls one by one, so its intervals overlap while its calls do not.
 */
export function fanOutParallelism(execs: readonly ExecSpan[], firstStage: ReadonlySet<string>): number | null {
  const ph = fanOutPhase(execs, firstStage);
  return ph && ph.spanMs > 0 && ph.longestLlmMs > 0 ? ph.longestLlmMs / ph.spanMs : null;
}
