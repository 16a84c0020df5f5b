// The hypotheses' verdicts, computed from the stored runs by rules fixed before the data
// (paper/rules.ts states them; nothing here knows an outcome). Every comparison is paired by
// seed within one exact configuration and decided on the paired t interval of the mean
// log-ratio (core/stats), Bonferroni-adjusted within its hypothesis family. A comparison is
// decided only with enough pairs from more than one session; otherwise it is shown, not decided.
import { keyedRng } from '../core/random.ts';
import { decideRatio, decideThreshold, holm, type Decided, type Decision } from '../core/stats/decide.ts';
import type { Interval } from '../core/stats/dist.ts';
import { comparePaired, type Pair } from '../core/stats/paired.ts';
import type { ResultsDb } from '../harness/results/db.ts';
import { configurations, loadRuns, type Config, type RunRec } from './analysis.ts';
import { ALPHA, FAMILIES, MIN_PAIRS, MIN_SESSIONS, REPLICATION_MIN_PAIRS, type ComparisonPlan, type FamilySpec } from './rules.ts';

export type Verdict = 'supported' | 'refuted' | 'mixed' | 'not decided';

/** One comparison's result. */
export interface Comparison {
  /** Stable across matrices: family, configuration, arms, metric. */
  id: string;
  family: string;
  matrix: string;
  config: string;
  num: string;
  den: string;
  metric: string;
  n: number;
  sessions: number;
  duplicates: number;
  /** Ratio (or scaled ratio) estimate: the geometric mean of the per-seed ratios. */
  estimate: number;
  /** Interval at `level` (the family's Bonferroni level when decided, else 95%). */
  ci: [number, number];
  level: number;
  /** Two-sided p of the paired t-test of ratio = 1, and Holm-adjusted within the family. */
  p: number;
  pHolm: number;
  /** Hodges-Lehmann estimate and its distribution-free interval (a check on the t interval). */
  hl?: { estimate: number; ci: [number, number]; level: number };
  decided: boolean;
  decision: Decision;
  reason: string;
}

export interface FamilyResult {
  id: string;
  hypothesis: string;
  title: string;
  claim: string;
  rule: string;
  verdict: Verdict;
  summary: string;
  /** Decided comparisons (the Bonferroni m) and the level each interval was taken at. */
  m: number;
  level: number;
  comparisons: Comparison[];
}

const round = (x: number) => (Number.isFinite(x) ? Number(x.toPrecision(6)) : x);

function statsOf(pairs: Pair[], scale: number, level: number, seedKey: string) {
  const c = comparePaired(pairs, { level, rng: keyedRng('paper', seedKey), resamples: 1000 });
  const ci: Interval | undefined = c.t ? { lo: c.t.ci.lo * scale, hi: c.t.ci.hi * scale, level } : undefined;
  return { c, ci };
}

function decideOn(plan: ComparisonPlan, ci: Interval | undefined): Decided {
  return plan.claim.kind === 'ratio' ? decideRatio(ci, plan.claim.direction, plan.claim.band) : decideThreshold(ci, plan.claim.threshold, plan.claim.direction);
}

/**
 * Decide one family: each comparison with enough pairs from enough sessions is decided on its
 * paired t interval at the Bonferroni level 1 - alpha/m (m = the family's decided comparisons, or
 * `m` when given: a replication uses the recorded family size); the others are shown at 95%.
 */
export function decide(spec: FamilySpec, plans: ComparisonPlan[], o: { minPairs?: number; minSessions?: number; m?: number } = {}): FamilyResult {
  const minPairs = o.minPairs ?? MIN_PAIRS, minSessions = o.minSessions ?? MIN_SESSIONS;
  const decidable = plans.map((p) => p.paired.pairs.length >= minPairs && p.paired.sessions >= minSessions);
  const m = o.m ?? decidable.filter(Boolean).length;
  const level = 1 - ALPHA / Math.max(1, m);
  const comparisons: Comparison[] = plans.map((p, i) => {
    const scale = p.scale ?? 1;
    const lv = decidable[i] ? level : 0.95;
    const { c, ci } = statsOf(p.paired.pairs, scale, lv, p.id);
    const d = decideOn(p, ci);
    const reason = decidable[i]
      ? d.reason
      : `not decided: ${p.paired.pairs.length} pair(s) from ${p.paired.sessions} session(s) (a decision needs >= ${minPairs} pairs from >= ${minSessions} sessions); the 95% interval alone would say ${d.decision}`;
    const hl = c.hodgesLehmann;
    return {
      id: p.id, family: spec.id, matrix: p.matrix, config: p.config, num: p.num, den: p.den, metric: p.metric,
      n: c.n, sessions: p.paired.sessions, duplicates: p.paired.duplicates,
      estimate: round(c.estimate * scale), ci: ci ? [round(ci.lo), round(ci.hi)] : [NaN, NaN], level: round(lv),
      p: round(c.t?.p.twoSided ?? NaN), pHolm: NaN,
      ...(hl ? { hl: { estimate: round(hl.estimate * scale), ci: [round(hl.ci.lo * scale), round(hl.ci.hi * scale)] as [number, number], level: round(hl.ci.level) } } : {}),
      decided: decidable[i]!, decision: decidable[i] ? d.decision : 'inconclusive', reason,
    };
  });
  const adj = holm(comparisons.map((c) => (Number.isFinite(c.p) ? c.p : 1)));
  comparisons.forEach((c, i) => { c.pHolm = round(adj[i]!); });
  const decided = comparisons.filter((c) => c.decided);
  const count = (d: Decision) => decided.filter((c) => c.decision === d).length;
  const sup = count('supported'), ref = count('refuted') + count('refuted-equivalent');
  const verdict: Verdict = !decided.length ? 'not decided' : sup === decided.length ? 'supported' : ref === decided.length ? 'refuted' : 'mixed';
  const summary = `${decided.length} decided configuration(s): ${sup} supported, ${count('refuted')} refuted (opposite effect), ${count('refuted-equivalent')} refuted (equivalent), ${count('inconclusive')} inconclusive; ${comparisons.length - decided.length} shown but not decided`;
  return { id: spec.id, hypothesis: spec.hypothesis, title: spec.title, claim: spec.claim, rule: spec.rule, verdict, summary, m, level: round(level), comparisons };
}

export interface Verdicts {
  families: FamilyResult[];
  /** Runs left out of every decision because the machine was under heavy external load. */
  loaded: RunRec[];
  /** Runs left out because agent executions failed in them (they did not do the same work). */
  erred: RunRec[];
  configs: Config[];
}

export async function computeVerdicts(db: ResultsDb, o: { minPairs?: number; minSessions?: number; recordedM?: Map<string, number> } = {}): Promise<Verdicts> {
  const runs = await loadRuns(db);
  const { configs, loaded, erred } = configurations(runs);
  const families = FAMILIES.map((spec) => decide(spec, spec.plans(configs), { minPairs: o.minPairs, minSessions: o.minSessions, m: o.recordedM?.get(spec.id) }));
  return { families, loaded, erred, configs };
}

// ---------------------------------------------------------------- the record and the replication check

export interface VerdictRecord {
  note: string;
  /** Seeds behind the recorded decisions, per matrix as [min, max]: a replication must avoid them. */
  seeds: Record<string, [number, number]>;
  rules: { alpha: number; minPairs: number; minSessions: number; families: { id: string; claim: string; rule: string }[] };
  families: { id: string; verdict: Verdict; summary: string; m: number; level: number }[];
  comparisons: Omit<Comparison, 'reason'>[];
}

export function toRecord(v: Verdicts): VerdictRecord {
  const seeds: Record<string, [number, number]> = {};
  for (const c of v.configs) for (const rs of c.arms.values()) for (const r of rs) {
    const cur = seeds[r.matrix];
    seeds[r.matrix] = cur ? [Math.min(cur[0], r.seed), Math.max(cur[1], r.seed)] : [r.seed, r.seed];
  }
  return {
    seeds: Object.fromEntries(Object.entries(seeds).sort(([a], [b]) => (a < b ? -1 : 1))),
    note: 'Written by `flockbench paper` from the stored runs. `flockbench paper --check` recomputes every decision it can on fresh seeds (paper/experiments/replication.yaml) and fails when a decided verdict flips between supported and refuted.',
    rules: { alpha: ALPHA, minPairs: MIN_PAIRS, minSessions: MIN_SESSIONS, families: FAMILIES.map((f) => ({ id: f.id, claim: f.claim, rule: f.rule })) },
    families: v.families.map((f) => ({ id: f.id, verdict: f.verdict, summary: f.summary, m: f.m, level: f.level })),
    comparisons: v.families.flatMap((f) => f.comparisons.map(({ reason: _r, ...c }) => c)),
  };
}

export interface CheckLine {
  id: string;
  recorded: Decision;
  now: Decision | 'not replicated';
  status: 'held' | 'FLIPPED' | 'changed' | 'not replicated';
  detail: string;
}

export interface CheckOutcome {
  ok: boolean;
  lines: CheckLine[];
  /** Replication seeds that fall inside a recorded matrix's seed range (the replication is then not fresh). */
  seedOverlap: number[];
  /** Recorded decisions the replication re-decided (held, changed or flipped); 0 fails the check. */
  replicated: number;
}

const side = (d: Decision) => (d === 'supported' ? 'supported' : d === 'refuted' || d === 'refuted-equivalent' ? 'refuted' : 'undecided');

/**
 * Compare the recorded decisions with decisions recomputed from a fresh replication (fewer
 * pairs, one session allowed, the recorded family sizes). A decided verdict that flips between
 * supported and refuted fails the check; every other change is reported.
 */
export function checkReplication(recorded: VerdictRecord, fresh: Verdicts): CheckOutcome {
  const now = new Map(fresh.families.flatMap((f) => f.comparisons).map((c) => [c.id, c]));
  const lines: CheckLine[] = [];
  for (const r of recorded.comparisons) {
    if (!r.decided) continue;
    const f = now.get(r.id);
    if (!f?.decided) {
      lines.push({ id: r.id, recorded: r.decision, now: 'not replicated', status: 'not replicated', detail: f ? `${f.n} fresh pair(s): too few to decide` : 'not in the replication matrix' });
      continue;
    }
    const a = side(r.decision), b = side(f.decision);
    const status = r.decision === f.decision ? 'held' : a !== 'undecided' && b !== 'undecided' && a !== b ? 'FLIPPED' : 'changed';
    lines.push({ id: r.id, recorded: r.decision, now: f.decision, status, detail: `recorded ${r.estimate} [${r.ci.join(', ')}] n=${r.n}; fresh ${f.estimate} [${f.ci.join(', ')}] n=${f.n}` });
  }
  const ranges = Object.values(recorded.seeds ?? {});
  const seedOverlap = [...new Set(fresh.configs.flatMap((c) => [...c.arms.values()].flat().map((r) => r.seed)))]
    .filter((s) => ranges.some(([lo, hi]) => s >= lo && s <= hi)).sort((a, b) => a - b);
  // A replication that re-decides nothing proves nothing: the check fails then too (e.g. a
  // configuration key that no longer matches the recorded one would otherwise pass silently).
  const replicated = lines.filter((l) => l.status === 'held' || l.status === 'changed' || l.status === 'FLIPPED').length;
  return { ok: !lines.some((l) => l.status === 'FLIPPED') && seedOverlap.length === 0 && replicated > 0, lines, seedOverlap, replicated };
}

export { REPLICATION_MIN_PAIRS };
