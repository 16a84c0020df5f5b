// The hypotheses' verdicts, computed from the results DB with decision rules fixed up front.
// Nothing here is hard-coded about outcomes: change the data and the verdicts change.
//
// Statistics: every comparison is a ratio of medians over independent seeded runs (reps) with a
// seeded 95% percentile bootstrap CI (bootstrapRatioCi, 2000 resamples), never over requests
// inside one run. A configuration needs MIN_REPS runs per arm to be decided at all.
import { canonicalJson } from '../core/canonical.ts';
import { bootstrapRatioCi, median } from '../core/stats/basic.ts';
import type { ResultsDb } from '../harness/results/db.ts';

export type Verdict = 'supported' | 'refuted' | 'inconclusive' | 'no data';

/** Fewer runs per arm than this: 'inconclusive' whatever the CI says (>= 9 is the ideal). */
export const MIN_REPS = 3;
/** The repetitions RESEARCH.md §6 asks for (google/benchmark's U-test minimum). */
export const IDEAL_REPS = 9;
/** bootstrapRatioCi's fixed settings (harness/collect/stats.ts), quoted in the paper. */
export const CI_LEVEL = 0.95;
export const BOOTSTRAP_RESAMPLES = 2000;
/** Ratios inside this band are practically equivalent (no material difference). */
export const EQUIVALENCE_BAND: [number, number] = [0.95, 1.05];
/** H2: scaling efficiency at or above this is "near-linear". */
export const NEAR_LINEAR = 0.8;
/** H2 is judged at these partition counts (against 1 partition). */
export const H2_PARTITIONS = [4, 16];
/**
 * A verdict is robust (re-checked by `flockbench paper --check`) when its CI stays this far
 * (relative) from every decision threshold: noise of a fresh run cannot flip it.
 */
export const ROBUST_MARGIN = 0.05;

export interface RatioEvidence {
  /** What is divided by what, e.g. "langgraph-stepwise / blackboard-deferred makespan". */
  label: string;
  estimate: number;
  ci: [number, number];
  n: { num: number; den: number };
  median: { num: number; den: number };
}

/** One decision: a hypothesis variant on one configuration. */
export interface ConfigVerdict {
  /** Stable key: hypothesis variant + matrix + workload + params + tail + scale + transport. */
  id: string;
  hypothesis: string;
  scope: { matrix: string; workload: string; label: string; tail: string; latencyScale: number; llm: string };
  verdict: Verdict;
  reason: string;
  evidence: RatioEvidence[];
  robust: boolean;
}

export interface HypothesisResult {
  hypothesis: string;
  claim: string;
  verdict: Verdict;
  /** Why the aggregate verdict is what it is (counts by verdict). */
  reason: string;
  rule: string;
  evidence: ConfigVerdict[];
}

// ---------------------------------------------------------------- decision rules (pure)

export const RULES = {
  H1: `Per configuration, R = median makespan(graph) / median makespan(blackboard-deferred), 95% bootstrap CI over reps (>= ${MIN_REPS} per arm). `
    + `Supported if the CI lies entirely above 1 (and not entirely inside the equivalence band [${EQUIVALENCE_BAND.join(', ')}]); `
    + `refuted if it lies entirely below 1 (the graph is faster) or entirely inside the band (no material difference); inconclusive otherwise. `
    + `Applied separately to langgraph-stepwise (the seeds' per-edge baseline) and langgraph-parallel (the strongest graph form).`,
  H1b: `Per configuration, R = median makespan(blackboard-eager) / median makespan(blackboard-deferred), same CI and band: `
    + `supported (deferring then running is itself faster) if the CI lies entirely above 1 and not inside the band; refuted if entirely below 1 or inside the band; inconclusive otherwise.`,
  H2: `blackboard-kafka, per (mode, consumers, p in {${H2_PARTITIONS.join(', ')}}): scaling efficiency E = median throughput(p) / (p x median throughput(1)), throughput = tasks / makespan (setup excluded), `
    + `95% bootstrap CI of the ratio of medians divided by p (>= ${MIN_REPS} reps per arm). Supported if the CI lies entirely at or above ${NEAR_LINEAR}; refuted if entirely below ${NEAR_LINEAR}; inconclusive otherwise. Judged separately for at-least-once and exactly-once.`,
  H3: `Open-loop runs only (arrival poisson or uniform). Per configuration and percentile (P95, P99 of task latency from intended arrival, per run), R = median over reps(blackboard-deferred) / median(blackboard-eager), 95% bootstrap CI. `
    + `Supported if the CI lies entirely below 1 (and not inside the band [${EQUIVALENCE_BAND.join(', ')}]); refuted if entirely above 1 or inside the band; inconclusive otherwise. No open-loop runs: no data.`,
  aggregate: `A hypothesis (variant) is supported if every configuration with data supports it, refuted if every one refutes it, no data if none has data, and inconclusive otherwise (mixed or undecided).`,
} as const;

/**
 * Decide on a ratio CI. direction 'above': the claim is R > 1 (H1, H1b); 'below': R < 1 (H3).
 * Equivalence takes precedence: a CI entirely inside the band refutes a claim of a material effect.
 */
export function decideRatio(ci: [number, number], direction: 'above' | 'below', band = EQUIVALENCE_BAND): { verdict: Verdict; reason: string } {
  const [lo, hi] = ci;
  if (!Number.isFinite(lo) || !Number.isFinite(hi)) return { verdict: 'no data', reason: 'no CI' };
  if (lo >= band[0] && hi <= band[1]) return { verdict: 'refuted', reason: `CI inside the equivalence band [${band.join(', ')}]` };
  if (lo > 1) return direction === 'above' ? { verdict: 'supported', reason: 'CI entirely above 1' } : { verdict: 'refuted', reason: 'CI entirely above 1' };
  if (hi < 1) return direction === 'below' ? { verdict: 'supported', reason: 'CI entirely below 1' } : { verdict: 'refuted', reason: 'CI entirely below 1' };
  return { verdict: 'inconclusive', reason: 'CI straddles 1' };
}

/** H2: decide on a scaling-efficiency CI against the near-linear threshold. */
export function decideEfficiency(ci: [number, number], threshold = NEAR_LINEAR): { verdict: Verdict; reason: string } {
  const [lo, hi] = ci;
  if (!Number.isFinite(lo) || !Number.isFinite(hi)) return { verdict: 'no data', reason: 'no CI' };
  if (lo >= threshold) return { verdict: 'supported', reason: `CI entirely >= ${threshold}` };
  if (hi < threshold) return { verdict: 'refuted', reason: `CI entirely < ${threshold}` };
  return { verdict: 'inconclusive', reason: `CI straddles ${threshold}` };
}

/** No decision threshold within ROBUST_MARGIN of the CI. */
export function isRobust(ci: [number, number], thresholds: number[], margin = ROBUST_MARGIN): boolean {
  const [lo, hi] = ci;
  if (!Number.isFinite(lo) || !Number.isFinite(hi)) return false;
  return thresholds.every((t) => lo > t * (1 + margin) || hi < t * (1 - margin));
}

export function aggregate(vs: readonly Verdict[]): { verdict: Verdict; reason: string } {
  const decided = vs.filter((v) => v !== 'no data');
  const count = (v: Verdict) => vs.filter((x) => x === v).length;
  const reason = `${vs.length} configuration(s): ${count('supported')} supported, ${count('refuted')} refuted, ${count('inconclusive')} inconclusive, ${count('no data')} no data`;
  if (!decided.length) return { verdict: 'no data', reason };
  if (decided.every((v) => v === 'supported')) return { verdict: 'supported', reason };
  if (decided.every((v) => v === 'refuted')) return { verdict: 'refuted', reason };
  return { verdict: 'inconclusive', reason };
}

/** Ratio evidence over two samples (medians, seeded bootstrap CI of the ratio of medians). */
export function ratioEvidence(label: string, num: number[], den: number[], scale = 1): RatioEvidence {
  const [lo, hi] = bootstrapRatioCi(num, den);
  return {
    label,
    estimate: (median(num) / median(den)) * scale,
    ci: [lo * scale, hi * scale],
    n: { num: num.length, den: den.length },
    median: { num: median(num), den: median(den) },
  };
}

// ---------------------------------------------------------------- data access

export interface RunRow {
  run_id: string;
  matrix: string;
  system: string;
  workload: string;
  store: string;
  rep: number;
  tasks: number;
  latency_scale: number;
  makespan_ms: number;
  p95_ms: number;
  p99_ms: number;
  params: string;
}

interface Parsed extends RunRow {
  p: {
    workload?: Record<string, unknown>;
    tail?: string;
    llmTransport?: string;
    system?: Record<string, unknown>;
  };
}

export async function loadRuns(db: ResultsDb): Promise<Parsed[]> {
  const rows = await db.query<RunRow>(
    `SELECT run_id, matrix, system, workload, store, rep, tasks, latency_scale, makespan_ms, p95_ms, p99_ms, CAST(params AS VARCHAR) AS params
       FROM runs WHERE state = 'completed' ORDER BY matrix, system, rep, run_id`);
  return rows.map((r) => ({ ...r, rep: Number(r.rep), tasks: Number(r.tasks), p: JSON.parse(r.params) }));
}

/** A short human label for a workload configuration. */
export function configLabel(workload: string, wp: Record<string, unknown>): string {
  const keys = ['analysts', 'tasks', 'depth', 'arrival', 'ratePerSec', 'model'];
  const parts = keys.filter((k) => wp[k] !== undefined && !(k === 'arrival' && wp[k] === 'all-at-once') && !(k === 'ratePerSec' && (wp.arrival ?? 'all-at-once') === 'all-at-once')).map((k) => `${k}=${wp[k]}`);
  return `${workload} ${parts.join(' ')}`.trim();
}

interface ConfigGroup {
  key: string;
  scope: ConfigVerdict['scope'];
  bySystem: Map<string, Parsed[]>;
}

/** Group in-process runs by workload configuration (matrix, workload, params, tail, scale, transport). */
function groupConfigs(runs: Parsed[], filter: (r: Parsed) => boolean): ConfigGroup[] {
  const groups = new Map<string, ConfigGroup>();
  for (const r of runs) {
    if (!filter(r)) continue;
    const wp = r.p.workload ?? {};
    const tail = String(r.p.tail ?? 'calibrated');
    const llm = String(r.p.llmTransport ?? 'inprocess');
    const key = [r.matrix, r.workload, canonicalJson(wp), tail, r.latency_scale, llm].join('|');
    let g = groups.get(key);
    if (!g) groups.set(key, (g = { key, scope: { matrix: r.matrix, workload: r.workload, label: configLabel(r.workload, wp), tail, latencyScale: r.latency_scale, llm }, bySystem: new Map() }));
    const list = g.bySystem.get(r.system) ?? [];
    list.push(r);
    g.bySystem.set(r.system, list);
  }
  return [...groups.values()].sort((a, b) => a.key.localeCompare(b.key, 'en'));
}

const isOpenLoop = (r: Parsed) => ['poisson', 'uniform'].includes(String(r.p.workload?.arrival ?? 'all-at-once'));

function ratioVerdict(
  hypothesis: string, g: ConfigGroup, numSys: string, denSys: string, metric: (r: Parsed) => number,
  direction: 'above' | 'below', what: string,
): ConfigVerdict | undefined {
  const num = g.bySystem.get(numSys), den = g.bySystem.get(denSys);
  if (!num?.length || !den?.length) return undefined;
  const ev = ratioEvidence(`${numSys} / ${denSys} ${what}`, num.map(metric), den.map(metric));
  let { verdict, reason } = decideRatio(ev.ci, direction);
  if (Math.min(num.length, den.length) < MIN_REPS) ({ verdict, reason } = { verdict: 'inconclusive', reason: `fewer than ${MIN_REPS} reps per arm (${num.length}, ${den.length})` });
  return {
    id: `${hypothesis}|${g.key}|${what}`,
    hypothesis,
    scope: g.scope,
    verdict,
    reason,
    evidence: [ev],
    robust: verdict !== 'inconclusive' && isRobust(ev.ci, [EQUIVALENCE_BAND[0], 1, EQUIVALENCE_BAND[1]]),
  };
}

function result(hypothesis: string, claim: string, rule: string, evidence: ConfigVerdict[]): HypothesisResult {
  const a = aggregate(evidence.map((e) => e.verdict));
  return { hypothesis, claim, rule: `${rule} ${RULES.aggregate}`, ...a, evidence };
}

// ---------------------------------------------------------------- the hypotheses

/** H1 for one graph form: closed-loop (all-at-once) in-process configurations with both arms. */
export function verdictH1(runs: Parsed[], graph: 'langgraph-stepwise' | 'langgraph-parallel'): HypothesisResult {
  const groups = groupConfigs(runs, (r) => r.store !== 'kafka' && !isOpenLoop(r));
  const ev = groups.map((g) => ratioVerdict(`H1 ${graph}`, g, graph, 'blackboard-deferred', (r) => r.makespan_ms, 'above', 'makespan')).filter((x): x is ConfigVerdict => !!x);
  return result(`H1 ${graph}`, `Batch-then-run (blackboard-deferred) has lower makespan than ${graph} on independent agent tasks.`, RULES.H1, ev);
}

export function verdictH1b(runs: Parsed[]): HypothesisResult {
  const groups = groupConfigs(runs, (r) => r.store !== 'kafka' && !isOpenLoop(r));
  const ev = groups.map((g) => ratioVerdict('H1b', g, 'blackboard-eager', 'blackboard-deferred', (r) => r.makespan_ms, 'above', 'makespan')).filter((x): x is ConfigVerdict => !!x);
  return result('H1b', 'On the same blackboard, deferring execution until the batch is published (deferred) beats running on every publish (eager).', RULES.H1b, ev);
}

interface KafkaRun extends Parsed { mode: string; partitions: number; layout: string; throughput: number }

/**
 * How consumers are laid out as partitions grow: the cell's `layout` label (linked axes in
 * h2.yaml, e.g. consumers = partitions in worker processes), else a fixed consumer count.
 */
export function kafkaLayout(sp: Record<string, unknown>): string {
  return Number(sp.processes ?? 0) === 0 ? 'one-process' : 'worker-processes';
}

export function verdictH2(runs: Parsed[]): HypothesisResult[] {
  const k: KafkaRun[] = runs.filter((r) => r.system === 'blackboard-kafka' && r.makespan_ms > 0).map((r) => {
    const sp = r.p.system ?? {};
    return { ...r, mode: String(sp.delivery ?? 'at-least-once'), partitions: Number(sp.partitions ?? 4), layout: kafkaLayout(sp), throughput: r.tasks / (r.makespan_ms / 1000) };
  });
  const out: HypothesisResult[] = [];
  for (const mode of ['at-least-once', 'exactly-once']) {
    const ev: ConfigVerdict[] = [];
    const ofMode = k.filter((r) => r.mode === mode);
    const groups = groupConfigs(ofMode, () => true);
    for (const g of groups) {
      const all = [...g.bySystem.values()].flat() as KafkaRun[];
      const layouts = [...new Set(all.map((r) => r.layout))].sort();
      for (const c of layouts) {
        const base = all.filter((r) => r.layout === c && r.partitions === 1).map((r) => r.throughput);
        for (const p of H2_PARTITIONS) {
          const at = all.filter((r) => r.layout === c && r.partitions === p).map((r) => r.throughput);
          if (!at.length || !base.length) continue;
          const e = ratioEvidence(`scaling efficiency throughput(p=${p}) / (${p} x throughput(p=1)), ${c}`, at, base, 1 / p);
          let { verdict, reason } = decideEfficiency(e.ci);
          if (Math.min(at.length, base.length) < MIN_REPS) ({ verdict, reason } = { verdict: 'inconclusive', reason: `fewer than ${MIN_REPS} reps per arm (${at.length}, ${base.length})` });
          ev.push({
            id: `H2 ${mode}|${g.key}|${c}|partitions=${p}`,
            hypothesis: `H2 ${mode}`,
            scope: { ...g.scope, label: `${g.scope.label} ${c} partitions=${p}` },
            verdict, reason, evidence: [e],
            robust: verdict !== 'inconclusive' && isRobust(e.ci, [NEAR_LINEAR]),
          });
        }
      }
    }
    out.push(result(`H2 ${mode}`, `Partitioned Kafka topics give near-linear throughput gains (${mode}).`, RULES.H2, ev));
  }
  return out;
}

export function verdictH3(runs: Parsed[]): HypothesisResult {
  const groups = groupConfigs(runs, (r) => r.store !== 'kafka' && isOpenLoop(r));
  const ev: ConfigVerdict[] = [];
  for (const g of groups) {
    for (const [what, f] of [['P95', (r: Parsed) => r.p95_ms], ['P99', (r: Parsed) => r.p99_ms]] as const) {
      const v = ratioVerdict('H3', g, 'blackboard-deferred', 'blackboard-eager', f, 'below', what);
      if (v) ev.push(v);
    }
  }
  return result('H3', 'Explicit batching (deferred) lowers P95/P99 task latency versus eager execution under open-loop load.', RULES.H3, ev);
}

export async function computeVerdicts(db: ResultsDb): Promise<HypothesisResult[]> {
  const runs = await loadRuns(db);
  return [verdictH1(runs, 'langgraph-stepwise'), verdictH1(runs, 'langgraph-parallel'), verdictH1b(runs), ...verdictH2(runs), verdictH3(runs)];
}

// ---------------------------------------------------------------- the record and the check

export interface VerdictRecordFile {
  note: string;
  rules: typeof RULES;
  hypotheses: { hypothesis: string; verdict: Verdict; reason: string }[];
  configurations: { id: string; hypothesis: string; matrix: string; label: string; verdict: Verdict; robust: boolean; estimate: number; ci: [number, number] }[];
}

export function toRecord(rs: HypothesisResult[]): VerdictRecordFile {
  return {
    note: 'Written by `flockbench paper`. `flockbench paper --check` recomputes the verdicts of one matrix (default quick) and fails if a robust one differs.',
    rules: RULES,
    hypotheses: rs.map((r) => ({ hypothesis: r.hypothesis, verdict: r.verdict, reason: r.reason })),
    configurations: rs.flatMap((r) => r.evidence.map((e) => ({
      id: e.id, hypothesis: e.hypothesis, matrix: e.scope.matrix, label: e.scope.label, verdict: e.verdict, robust: e.robust,
      estimate: round(e.evidence[0].estimate), ci: [round(e.evidence[0].ci[0]), round(e.evidence[0].ci[1])] as [number, number],
    }))),
  };
}

const round = (x: number) => (Number.isFinite(x) ? Number(x.toPrecision(4)) : x);

export interface CheckOutcome {
  ok: boolean;
  checked: { id: string; recorded: Verdict; now: Verdict | 'missing'; same: boolean }[];
  skipped: { id: string; why: string }[];
  problems: string[];
}

/**
 * Compare the recorded verdicts of `matrix` with fresh ones. Only recorded verdicts flagged
 * robust are checked (their CI clears every threshold by ROBUST_MARGIN, so a fresh run's noise
 * cannot flip them honestly); the others are listed as skipped. Fails when nothing is checked.
 */
export function checkVerdicts(recorded: VerdictRecordFile, now: HypothesisResult[], matrix: string): CheckOutcome {
  const fresh = new Map(now.flatMap((r) => r.evidence).map((e) => [e.id, e]));
  const out: CheckOutcome = { ok: true, checked: [], skipped: [], problems: [] };
  for (const c of recorded.configurations) {
    if (c.matrix !== matrix) continue;
    if (!c.robust) { out.skipped.push({ id: c.id, why: `recorded verdict '${c.verdict}' is not robust (CI within ${ROBUST_MARGIN * 100}% of a threshold)` }); continue; }
    const f = fresh.get(c.id);
    const nowV = f ? f.verdict : 'missing';
    const same = nowV === c.verdict;
    out.checked.push({ id: c.id, recorded: c.verdict, now: nowV, same });
    if (!same) out.problems.push(`${c.id}: recorded ${c.verdict}, now ${nowV}${f ? ` (${f.reason}; estimate ${f.evidence[0].estimate.toFixed(3)} [${f.evidence[0].ci.map((x) => x.toFixed(3)).join(', ')}])` : ' (no such configuration in the DB)'}`);
  }
  if (!out.checked.length) out.problems.push(`no robust verdict recorded for matrix '${matrix}': nothing to check (rebuild paper/verdicts.json from a DB with that matrix)`);
  out.ok = out.problems.length === 0;
  return out;
}
