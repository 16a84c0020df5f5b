// Paired comparison of two systems over seeds. Each pair holds one metric (makespan, P95, ...) of
// system A (`num`) and system B (`den`) from the same seeded rep, so both saw the same draws.
// Inference is on the per-pair log-ratios d = ln(num/den): the seed's shared effect cancels, the
// ratio scale is symmetric (2x and 0.5x are equally far from 1), and results map back to ratios by
// exp. One-sample procedures below work on any list of differences (here: log-ratios).
import { type Interval, type PValues, normalCdf, normalQuantile, signedRankNull, tCdf, tQuantile } from './dist.ts';
import { percentile } from './percentile.ts';

export interface Pair {
  seed: string | number;
  /** System A's metric in this seed's rep (the numerator); positive and finite. */
  num: number;
  /** System B's metric in the same rep (the denominator); positive and finite. */
  den: number;
}

/** One-sample t summary; `se` = sd/√n, `df` = n - 1. */
export interface TSummary {
  n: number;
  mean: number;
  sd: number;
  se: number;
  df: number;
}

export interface Wilcoxon {
  /** Non-zero differences used (zeros are dropped, as in Hollander, Wolfe & Chicken). */
  n: number;
  zeros: number;
  /** V = sum of the (mid-)ranks of |d| over the positive d. */
  statistic: number;
  /** H0: the differences are symmetric about 0; `greater`: shifted above 0 (ratio > 1). */
  p: PValues;
  /** 'exact': permutation distribution over sign flips (conditional on ties); 'normal': tie-corrected normal approximation with continuity correction. */
  method: 'exact' | 'normal';
}

export interface HodgesLehmann {
  /** Median of the Walsh averages (d_i + d_j)/2, i <= j. */
  estimate: number;
  /** Distribution-free CI from order statistics of the Walsh averages; `level` is the achieved level. */
  ci: Interval;
}

export interface PairedComparison {
  /** Number of pairs (seeds) used. */
  n: number;
  seeds: (string | number)[];
  /** ln(num/den) per pair, in input order. */
  logRatios: number[];
  /** Geometric mean ratio exp(mean d); NaN when n = 0. */
  estimate: number;
  /** Paired t on the log-ratios: ratio-scale CI; p-values for H0 ratio = 1 (`greater`: ratio > 1). Undefined for n < 2. */
  t: { summary: TSummary; ci: Interval; p: PValues } | undefined;
  /** BCa bootstrap CI (Efron 1987) of the geometric mean ratio, resampling pairs. Undefined for n < 2. */
  bca: Interval | undefined;
  /** Wilcoxon signed-rank test of the log-ratios. Undefined for n = 0. */
  wilcoxon: Wilcoxon | undefined;
  /** Hodges-Lehmann ratio estimate exp(HL of d) and its distribution-free CI. Undefined for n = 0. */
  hodgesLehmann: HodgesLehmann | undefined;
  /** Plain-language caveats: small n, zero variance, zeros dropped, levels not reached. */
  notes: string[];
}

export interface PairedOptions {
  /** Two-sided confidence level of every interval; default 0.95. */
  level?: number;
  /** Uniform [0, 1) source for the bootstrap; inject a seeded one for reproducible output. */
  rng: () => number;
  /** Bootstrap resamples; default 2000. */
  resamples?: number;
  /** Largest n for exact signed-rank distributions; above it the normal approximation; default 25. */
  exactMaxN?: number;
}

/** ln(num/den) per pair. Throws on a non-positive or non-finite value or a repeated seed. */
export function logRatios(pairs: readonly Pair[]): number[] {
  const seen = new Set<string | number>();
  return pairs.map(({ seed, num, den }) => {
    if (seen.has(seed)) throw new RangeError(`seed ${seed} appears twice: one pair per seed`);
    seen.add(seed);
    if (!(num > 0 && den > 0 && Number.isFinite(num) && Number.isFinite(den))) {
      throw new RangeError(`seed ${seed}: a ratio needs positive finite values, got ${num} / ${den}`);
    }
    return Math.log(num / den);
  });
}

/** Mean, sample sd (n - 1), standard error and df of `xs`; undefined for n < 2. A constant sample has sd exactly 0. */
export function tSummary(xs: readonly number[]): TSummary | undefined {
  const n = xs.length;
  if (n < 2) return undefined;
  const mean = xs.every((x) => x === xs[0]) ? xs[0] : xs.reduce((a, b) => a + b, 0) / n;
  const sd = Math.sqrt(xs.reduce((a, x) => a + (x - mean) ** 2, 0) / (n - 1));
  return { n, mean, sd, se: sd / Math.sqrt(n), df: n - 1 };
}

/** mean ± t_{(1+level)/2, n-1}·se. A zero-variance sample gives the point [mean, mean]. */
export function tInterval(s: TSummary, level = 0.95): Interval {
  const half = s.se === 0 ? 0 : tQuantile((1 + level) / 2, s.df) * s.se;
  return { lo: s.mean - half, hi: s.mean + half, level };
}

/** tInterval mapped back by exp: log-ratios to ratios, logs to geometric means. */
export function expTInterval(s: TSummary, level = 0.95): Interval {
  const { lo, hi } = tInterval(s, level);
  return { lo: Math.exp(lo), hi: Math.exp(hi), level };
}

/**
 * t-test p-values for H0: mean = mu0. With zero variance the data decide without noise: p = 0 in
 * the direction of the observed difference, 1 otherwise (all 1 when mean = mu0).
 */
export function tPValues(s: TSummary, mu0 = 0): PValues {
  if (s.se === 0) {
    const greater = s.mean > mu0 ? 0 : 1, less = s.mean < mu0 ? 0 : 1;
    return { twoSided: Math.min(greater, less), greater, less };
  }
  const t = (s.mean - mu0) / s.se;
  const greater = tCdf(-t, s.df), less = tCdf(t, s.df);
  return { twoSided: Math.min(1, 2 * Math.min(greater, less)), greater, less };
}

/**
 * BCa bootstrap interval (Efron 1987) for the mean of `xs`: `resamples` (default 2000) resamples of
 * the n values with replacement; bias correction z0 = Φ⁻¹(share of replicates below the estimate,
 * ties counted half); acceleration from the jackknife; endpoints are linear-interpolated quantiles
 * of the replicates. Undefined for n < 2; a constant sample gives the point [x, x].
 */
export function bcaMeanInterval(
  xs: readonly number[],
  { level = 0.95, resamples = 2000, rng }: { level?: number; resamples?: number; rng: () => number },
): Interval | undefined {
  const n = xs.length;
  if (n < 2) return undefined;
  const mean = xs.reduce((a, b) => a + b, 0) / n;
  // Equal up to rounding (ratios of identical effects): a point, as for exactly equal values.
  if (xs.every((x) => Math.abs(x - xs[0]) <= 1e-12 * Math.max(1, Math.abs(xs[0])))) return { lo: xs[0], hi: xs[0], level };
  const reps = new Float64Array(resamples);
  let below = 0;
  for (let r = 0; r < resamples; r++) {
    let s = 0;
    for (let i = 0; i < n; i++) s += xs[Math.floor(rng() * n)];
    reps[r] = s / n;
    below += reps[r] < mean ? 1 : reps[r] === mean ? 0.5 : 0;
  }
  const share = Math.min(Math.max(below / resamples, 0.5 / resamples), 1 - 0.5 / resamples);
  const z0 = normalQuantile(share);
  // Jackknife: leave-one-out means (n·mean - x_i)/(n - 1), their deviations from their own mean.
  const loo = xs.map((x) => (n * mean - x) / (n - 1));
  const looMean = loo.reduce((a, b) => a + b, 0) / n;
  const num = loo.reduce((a, v) => a + (looMean - v) ** 3, 0);
  const den = loo.reduce((a, v) => a + (looMean - v) ** 2, 0);
  const accel = den > 0 && Number.isFinite(num / (6 * den ** 1.5)) ? num / (6 * den ** 1.5) : 0;
  const adjusted = (z: number) => normalCdf(z0 + (z0 + z) / (1 - accel * (z0 + z)));
  const alpha = (1 - level) / 2;
  return {
    lo: percentile(reps, adjusted(normalQuantile(alpha)), 'linear'),
    hi: percentile(reps, adjusted(normalQuantile(1 - alpha)), 'linear'),
    level,
  };
}

/** Mid-ranks of `xs` (1-based, ties averaged), doubled so that they are integers, and the tie sizes. */
function doubledMidRanks(xs: readonly number[]): { ranks2: number[]; ties: number[] } {
  const order = xs.map((_, i) => i).sort((a, b) => xs[a] - xs[b]);
  const ranks2 = new Array<number>(xs.length);
  const ties: number[] = [];
  for (let i = 0; i < order.length; ) {
    let j = i;
    while (j + 1 < order.length && xs[order[j + 1]] === xs[order[i]]) j++;
    for (let k = i; k <= j; k++) ranks2[order[k]] = i + 1 + j + 1; // 2 × mean of ranks i+1..j+1
    ties.push(j - i + 1);
    i = j + 1;
  }
  return { ranks2, ties };
}

/**
 * Wilcoxon signed-rank test of H0: `d` symmetric about 0 (Hollander, Wolfe & Chicken 2014, ch. 3).
 * Zeros are dropped; ties in |d| get mid-ranks. Exact for at most `exactMaxN` (default 25) non-zero
 * values: the permutation distribution of V over the 2^n sign assignments of the actual mid-ranks.
 * Above: normal approximation with mean n(n+1)/4, variance n(n+1)(2n+1)/24 - Σ(t³ - t)/48 over tie
 * groups of size t, and a continuity correction of 1/2.
 */
export function wilcoxonSignedRank(d: readonly number[], { exactMaxN = 25 }: { exactMaxN?: number } = {}): Wilcoxon {
  const nz = d.filter((x) => x !== 0);
  const n = nz.length;
  const { ranks2, ties } = doubledMidRanks(nz.map(Math.abs));
  const v2 = nz.reduce((a, x, i) => a + (x > 0 ? ranks2[i] : 0), 0);
  let greater: number, less: number;
  if (n <= exactMaxN) {
    const pmf = signedRankNull(ranks2);
    greater = 0;
    less = 0;
    pmf.forEach((p, v) => {
      if (v >= v2) greater += p;
      if (v <= v2) less += p;
    });
    greater = Math.min(1, greater);
    less = Math.min(1, less);
  } else {
    const mean = (n * (n + 1)) / 4;
    const sd = Math.sqrt((n * (n + 1) * (2 * n + 1)) / 24 - ties.reduce((a, t) => a + t ** 3 - t, 0) / 48);
    greater = normalCdf(-(v2 / 2 - mean - 0.5) / sd);
    less = normalCdf((v2 / 2 - mean + 0.5) / sd);
  }
  return {
    n, zeros: d.length - n, statistic: v2 / 2,
    p: { twoSided: Math.min(1, 2 * Math.min(greater, less)), greater, less },
    method: n <= exactMaxN ? 'exact' : 'normal',
  };
}

/**
 * Hodges-Lehmann estimate of the centre of `d` (median of the M = n(n+1)/2 Walsh averages, all
 * values including zeros) with its distribution-free CI [W_(k), W_(M+1-k)] (Hollander, Wolfe &
 * Chicken 2014, ch. 3): k is the largest integer with P(V <= k - 1) <= (1 - level)/2 under the no-ties signed-rank null
 * (exact for n <= `exactMaxN`, default 25; normal approximation above). The achieved level
 * 1 - 2·P(V <= k - 1) is returned; when even k = 1 falls short (two-sided 95% needs n >= 6), the
 * interval is [min W, max W] with its level 1 - 2^(1-n). Undefined for n = 0.
 */
export function hodgesLehmann(
  d: readonly number[],
  { level = 0.95, exactMaxN = 25 }: { level?: number; exactMaxN?: number } = {},
): HodgesLehmann | undefined {
  const n = d.length;
  if (n === 0) return undefined;
  const walsh: number[] = [];
  for (let i = 0; i < n; i++) for (let j = i; j < n; j++) walsh.push((d[i] + d[j]) / 2);
  walsh.sort((a, b) => a - b);
  const m = walsh.length;
  const alpha = (1 - level) / 2;
  // lowerTail(k) = P(V <= k - 1) under H0 without ties.
  let lowerTail: (k: number) => number;
  if (n <= exactMaxN) {
    const cdf = Array.from(signedRankNull(Array.from({ length: n }, (_, i) => i + 1)));
    for (let v = 1; v < cdf.length; v++) cdf[v] += cdf[v - 1];
    lowerTail = (k) => cdf[k - 1];
  } else {
    const mean = m / 2, sd = Math.sqrt((n * (n + 1) * (2 * n + 1)) / 24);
    lowerTail = (k) => normalCdf((k - 0.5 - mean) / sd);
  }
  let k = 1;
  while (k + 1 <= (m + 1) / 2 && lowerTail(k + 1) <= alpha) k++;
  return {
    estimate: percentile(walsh, 0.5, 'linear'),
    ci: { lo: walsh[k - 1], hi: walsh[m - k], level: Math.max(0, 1 - 2 * lowerTail(k)) },
  };
}

/**
 * Everything a verdict row prints for a paired comparison: n pairs, the geometric mean ratio with a
 * paired t CI and p-values (the primary analysis), a BCa bootstrap CI and a Wilcoxon signed-rank /
 * Hodges-Lehmann check, all on the ratio scale num/den. Throws like `logRatios` on invalid pairs.
 */
export function comparePaired(pairs: readonly Pair[], opts: PairedOptions): PairedComparison {
  const { level = 0.95, rng, resamples = 2000, exactMaxN = 25 } = opts;
  const d = logRatios(pairs);
  const n = d.length;
  const notes: string[] = [];
  const summary = tSummary(d);
  if (n === 0) notes.push('no pairs');
  else if (n < 2) notes.push('one pair: no t or bootstrap interval');
  else if (summary?.sd === 0) notes.push('all pairs have the same ratio: zero variance, the t and bootstrap intervals are points');
  const wilcoxon = n > 0 ? wilcoxonSignedRank(d, { exactMaxN }) : undefined;
  if (wilcoxon?.zeros) notes.push(`${wilcoxon.zeros} pair(s) with equal values dropped from the signed-rank test`);
  const hl = hodgesLehmann(d, { level, exactMaxN });
  if (hl && hl.ci.level < level) {
    notes.push(`a ${fmtPct(level)} Hodges-Lehmann interval needs more pairs: [min, max] of the Walsh averages reaches ${fmtPct(hl.ci.level)} at n = ${n}`);
  }
  const bca = bcaMeanInterval(d, { level, resamples, rng });
  return {
    n,
    seeds: pairs.map((p) => p.seed),
    logRatios: d,
    estimate: n ? Math.exp(summary?.mean ?? d[0]) : NaN,
    t: summary && { summary, ci: expTInterval(summary, level), p: tPValues(summary) },
    bca: bca && { lo: Math.exp(bca.lo), hi: Math.exp(bca.hi), level },
    wilcoxon,
    hodgesLehmann: hl && { estimate: Math.exp(hl.estimate), ci: { lo: Math.exp(hl.ci.lo), hi: Math.exp(hl.ci.hi), level: hl.ci.level } },
    notes,
  };
}

export const fmtPct = (p: number) => `${(100 * p).toFixed(1).replace(/\.0$/, '')}%`;
