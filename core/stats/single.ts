// Single-arm intervals for figures and reports (one system, one configuration, n reps), with their
// coverage stated honestly at the n used.
import { type Interval, signedRankNull } from './dist.ts';
import { fmtPct, expTInterval, tSummary } from './paired.ts';
import { percentile } from './percentile.ts';

export interface MedianInterval {
  n: number;
  /** Sample median (mean of the two middle values for even n); NaN for n = 0. */
  median: number;
  /** [x_(k), x_(n+1-k)]; `level` is its exact coverage for continuous data. Undefined for n = 0. */
  ci: Interval | undefined;
  /** Order-statistic index k of the lower end (1 = the minimum). */
  k: number;
  /** Set when the requested level is out of reach at this n. */
  note?: string;
}

/**
 * Distribution-free CI of a median from order statistics (Hollander, Wolfe & Chicken 2014, ch. 3):
 * P(x_(k) <= median <= x_(n+1-k)) = 1 - 2·P(B <= k - 1), B ~ Bin(n, 1/2), for any continuous
 * distribution. k is the largest with coverage >= `level` (default 0.95). When even k = 1 (min,
 * max) falls short, the interval [min, max] is returned with its own level 1 - 2^(1-n): 75% at
 * n = 3, 93.75% at n = 5; 95% needs n >= 6.
 */
export function medianCi(xs: readonly number[], level = 0.95): MedianInterval {
  const n = xs.length;
  if (n === 0) return { n, median: NaN, ci: undefined, k: 0 };
  const s = [...xs].sort((a, b) => a - b);
  const cdf = Array.from(signedRankNull(new Array<number>(n).fill(1))); // Bin(n, 1/2)
  for (let v = 1; v <= n; v++) cdf[v] += cdf[v - 1];
  const coverage = (k: number) => Math.max(0, 1 - 2 * cdf[k - 1]);
  let k = 1;
  while (k + 1 <= (n + 1) / 2 && coverage(k + 1) >= level) k++;
  const ci = { lo: s[k - 1], hi: s[n - k], level: coverage(k) };
  const note = ci.level < level
    ? `${fmtPct(level)} is out of reach at n = ${n}: [min, max] covers the median with probability ${fmtPct(ci.level)}`
    : undefined;
  return { n, median: percentile(s, 0.5, 'linear'), ci, k, ...(note && { note }) };
}

/**
 * Geometric mean of positive values (makespans, throughputs) with the t interval of the mean of
 * their logs mapped back by exp: exp(mean ln x ± t_{(1+level)/2, n-1}·sd(ln x)/√n). Its coverage is
 * exact for lognormal data and approximate otherwise. `ci` is undefined for n < 2; throws on a
 * non-positive or non-finite value.
 */
export function logMeanCi(xs: readonly number[], level = 0.95): { n: number; estimate: number; ci: Interval | undefined } {
  const logs = xs.map((x) => {
    if (!(x > 0 && Number.isFinite(x))) throw new RangeError(`logMeanCi: positive finite values only, got ${x}`);
    return Math.log(x);
  });
  const s = tSummary(logs);
  const estimate = logs.length ? Math.exp(logs.reduce((a, b) => a + b, 0) / logs.length) : NaN;
  return { n: xs.length, estimate, ci: s && expTInterval(s, level) };
}
