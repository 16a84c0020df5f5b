// Small statistics: quantiles, median, seeded bootstrap CIs over independent runs.
import { keyedRng } from '../random.ts';

/** Quantile by linear interpolation (type 7), q in [0,1]. NaN for empty input. */
export function quantile(xs: readonly number[], q: number): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const pos = (s.length - 1) * q;
  const lo = Math.floor(pos), hi = Math.ceil(pos);
  return s[lo] + (s[hi] - s[lo]) * (pos - lo);
}

export const median = (xs: readonly number[]) => quantile(xs, 0.5);
export const mean = (xs: readonly number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : NaN);

/** Percentile bootstrap CI of a statistic (default the median), seeded for reproducible reports. */
export function bootstrapCi(
  xs: readonly number[],
  stat: (s: number[]) => number = median,
  { level = 0.95, resamples = 2000, seed = 1 }: { level?: number; resamples?: number; seed?: number } = {},
): [number, number] {
  if (xs.length === 0) return [NaN, NaN];
  if (xs.length === 1) return [xs[0], xs[0]];
  const rng = keyedRng(seed, 'bootstrap', xs.length);
  const stats: number[] = [];
  const buf = new Array<number>(xs.length);
  for (let r = 0; r < resamples; r++) {
    for (let i = 0; i < xs.length; i++) buf[i] = xs[Math.floor(rng() * xs.length)];
    stats.push(stat(buf));
  }
  return [quantile(stats, (1 - level) / 2), quantile(stats, 1 - (1 - level) / 2)];
}

/** Bootstrap CI of the ratio of medians of two independent samples. */
export function bootstrapRatioCi(num: readonly number[], den: readonly number[], seed = 1): [number, number] {
  if (!num.length || !den.length) return [NaN, NaN];
  const rng = keyedRng(seed, 'ratio', num.length, den.length);
  const out: number[] = [];
  for (let r = 0; r < 2000; r++) {
    const a = num.map(() => num[Math.floor(rng() * num.length)]);
    const b = den.map(() => den[Math.floor(rng() * den.length)]);
    out.push(median(a) / median(b));
  }
  return [quantile(out, 0.025), quantile(out, 0.975)];
}

/** Jain's fairness index over non-negative allocations: 1 = perfectly fair, 1/n = one gets all. */
export function jainIndex(xs: readonly number[]): number {
  if (!xs.length) return NaN;
  const s = xs.reduce((a, b) => a + b, 0);
  const s2 = xs.reduce((a, b) => a + b * b, 0);
  return s2 === 0 ? 1 : (s * s) / (xs.length * s2);
}
