// Decision rules fixed before looking at the data, and multiplicity within a hypothesis family.
//
// One comparison: a CI of a ratio θ (system A / system B) and a claim direction decide:
//   refuted-equivalent  the CI lies inside the equivalence band [lo, hi] (e.g. [0.95, 1.05]): any
//                       effect is immaterial. Checked first. With a two-sided (1 - α) CI this is the
//                       two one-sided tests (TOST, Schuirmann 1987) at α/2 each.
//   supported           the CI lies entirely on the claimed side of 1 (and not inside the band).
//   refuted             the CI lies entirely on the other side of 1: the opposite effect.
//   inconclusive        anything else, or no CI.
// A threshold claim (scaling efficiency >= 0.8) is supported when the CI lies at or beyond the
// threshold on the claimed side, refuted when it lies entirely on the other side.
//
// A family (every configuration of one hypothesis) is decided by Bonferroni-adjusted intervals:
// each of the m comparisons gets its CI at level 1 - α/m and the single-comparison rule above.
// Bonferroni intervals cover all m ratios at once with probability >= 1 - α under any dependence
// between comparisons (configurations of one matrix share seeds), and a wrong decided verdict
// (supported, refuted or equivalent) needs an interval that misses its ratio, so the family-wise
// probability of any wrong decided verdict is <= α. For m = 1 this is the plain 95% CI rule.
//
// Why not Holm's step-down? Holm (1979) is closed testing with Bonferroni local tests; its later
// steps test at α/(m-1), α/(m-2), ... because after each rejection fewer hypotheses can still be
// true. Here that never happens: each comparison j carries a directional pair, θ_j <= 1 and θ_j >= 1, and
// one member always has a one-sided p-value >= 1/2. For any hypothesis of comparison i the closure
// contains its intersection with those members of every other comparison; that intersection is
// non-empty and its Bonferroni test can reject only through comparison i at α/m. So the closure
// decides "θ_i > 1" exactly when the one-sided p-value is <= α/(2m) (the 1 - α/m CI excludes 1;
// θ_i = 1 is tested two-sided) and equivalence exactly when the TOST p-value is <= α/m: the step-
// down gains nothing for directional and equivalence verdicts. Raising the CI level step by step
// (α/m, α/(m-1), ...) after earlier decisions is not covered by Holm's proof and can exceed α (a
// comparison just outside a band edge with a narrow CI is always decided first, handing the next
// one a full α). Using the 1 - α/m interval for equivalence too (the closure allows 1 - 2α/m) is
// conservative, and keeps one interval and one rule per printed row.
//
// `holm` and `benjaminiHochberg` adjust p-values of non-directional tests (e.g. the two-sided
// p-values printed beside the intervals, or a screening of many metrics).
import type { Interval } from './dist.ts';

export type Decision = 'supported' | 'refuted' | 'refuted-equivalent' | 'inconclusive';

export interface Decided {
  decision: Decision;
  reason: string;
}

/** The claim about a ratio θ: 'greater' means θ > 1, 'less' means θ < 1. */
export type RatioClaim = 'greater' | 'less';

/** Ratios inside this band are practically equivalent. */
export const EQUIVALENCE_BAND: readonly [number, number] = [0.95, 1.05];

const fmt = (x: number) => String(Number(x.toPrecision(4)));
const fmtCi = (ci: Interval) => `[${fmt(ci.lo)}, ${fmt(ci.hi)}]`;

/** Decide a ratio claim from a CI of the ratio; `band` (default [0.95, 1.05]) must contain 1. */
export function decideRatio(ci: Interval | undefined, claim: RatioClaim, band: readonly [number, number] = EQUIVALENCE_BAND): Decided {
  if (!(band[0] < 1 && 1 < band[1])) throw new RangeError(`equivalence band [${band.join(', ')}] must contain 1`);
  if (!ci) return { decision: 'inconclusive', reason: 'no interval' };
  const at = `CI ${fmtCi(ci)}`;
  if (ci.lo >= band[0] && ci.hi <= band[1]) {
    return { decision: 'refuted-equivalent', reason: `${at} inside the equivalence band [${band.join(', ')}]` };
  }
  if (ci.lo > 1) return { decision: claim === 'greater' ? 'supported' : 'refuted', reason: `${at} entirely above 1` };
  if (ci.hi < 1) return { decision: claim === 'less' ? 'supported' : 'refuted', reason: `${at} entirely below 1` };
  return { decision: 'inconclusive', reason: `${at} contains 1 and leaves the equivalence band` };
}

/** Decide a threshold claim (default: value >= threshold) from a CI of the value. */
export function decideThreshold(ci: Interval | undefined, threshold: number, claim: 'atLeast' | 'atMost' = 'atLeast'): Decided {
  if (!ci) return { decision: 'inconclusive', reason: 'no interval' };
  const at = `CI ${fmtCi(ci)}`;
  const [meets, fails] = claim === 'atLeast' ? [ci.lo >= threshold, ci.hi < threshold] : [ci.hi <= threshold, ci.lo > threshold];
  const side = claim === 'atLeast' ? ['>=', '<'] : ['<=', '>'];
  if (meets) return { decision: 'supported', reason: `${at} entirely ${side[0]} ${threshold}` };
  if (fails) return { decision: 'refuted', reason: `${at} entirely ${side[1]} ${threshold}` };
  return { decision: 'inconclusive', reason: `${at} contains ${threshold}` };
}

function checkP(ps: readonly number[]): void {
  for (const p of ps) if (!(p >= 0 && p <= 1)) throw new RangeError(`p-values must be in [0, 1], got ${p}`);
}

/** Holm (1979) step-down adjusted p-values, in input order: p̃_(i) = max_{j <= i} min(1, (m - j + 1)·p_(j)). */
export function holm(ps: readonly number[]): number[] {
  checkP(ps);
  const m = ps.length;
  const order = ps.map((_, i) => i).sort((a, b) => ps[a] - ps[b]);
  const out = new Array<number>(m);
  let running = 0;
  order.forEach((idx, j) => {
    running = Math.max(running, Math.min(1, (m - j) * ps[idx]));
    out[idx] = running;
  });
  return out;
}

/** Benjamini-Hochberg (1995) adjusted p-values (FDR), in input order: p̃_(i) = min_{j >= i} min(1, m·p_(j)/j). */
export function benjaminiHochberg(ps: readonly number[]): number[] {
  checkP(ps);
  const m = ps.length;
  const order = ps.map((_, i) => i).sort((a, b) => ps[a] - ps[b]);
  const out = new Array<number>(m);
  let running = 1;
  for (let j = m - 1; j >= 0; j--) {
    running = Math.min(running, (m * ps[order[j]]) / (j + 1));
    out[order[j]] = running;
  }
  return out;
}

/** One comparison of a family: its CI at any level, and the rule that decides from a CI. */
export interface FamilyMember {
  ciAt: (level: number) => Interval | undefined;
  decide: (ci: Interval | undefined) => Decided;
}

export interface FamilyDecision {
  /** Family size and the adjusted level 1 - alpha/m of every interval. */
  m: number;
  level: number;
  /** Per member, in input order: the decision and the adjusted interval it was made on. */
  results: (Decided & { ci: Interval | undefined })[];
}

/**
 * Decide a family of m comparisons with Bonferroni-adjusted intervals: each member's CI at level
 * 1 - alpha/m (alpha default 0.05), then its own rule. m counts every member passed, including
 * those without data: the family is what was planned, not what happened to run.
 */
export function decideFamily(members: readonly FamilyMember[], alpha = 0.05): FamilyDecision {
  const m = members.length;
  const level = 1 - alpha / Math.max(1, m);
  return {
    m,
    level,
    results: members.map((c) => {
      const ci = c.ciAt(level);
      return { ...c.decide(ci), ci };
    }),
  };
}
