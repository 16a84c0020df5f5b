// Task-latency percentiles: one stated definition, a refusal rule for tails the data cannot show,
// HdrHistogram's bucket caveat, and rep-level (cluster) bootstrap CIs for pooled percentiles.
//
// The definition used for reported latency percentiles is the nearest rank (Hyndman & Fan 1996
// type 1, the inverse of the empirical CDF): P_q = x_(⌈q·n⌉), the smallest observed value with at
// least a fraction q of the values at or below it. It is always an observed latency, never exceeds
// the maximum, commutes with monotone transforms (ms vs µs, logs) and is what HdrHistogram computes
// (up to its bucket resolution, see `hdrBucket`). Linear interpolation (type 7, the default of R
// and numpy) is provided for comparison and for quantiles of bootstrap replicates.
import type { Interval } from './dist.ts';

/** 'nearest-rank': x_(⌈q·n⌉) (type 1). 'linear': x_(1+h) interpolated, h = (n - 1)·q (type 7). */
export type PercentileMethod = 'nearest-rank' | 'linear';

/** The k-th smallest (0-based) of `a`, partially reordering `a` in place (Hoare's quickselect). */
function select(a: Float64Array, k: number): number {
  let lo = 0, hi = a.length - 1;
  while (lo < hi) {
    const pivot = a[(lo + hi) >> 1];
    let i = lo, j = hi;
    while (i <= j) {
      while (a[i] < pivot) i++;
      while (a[j] > pivot) j--;
      if (i <= j) {
        const t = a[i];
        a[i++] = a[j];
        a[j--] = t;
      }
    }
    if (k <= j) hi = j;
    else if (k >= i) lo = i;
    else break;
  }
  return a[k];
}

/** Percentile of a scratch buffer (reordered in place). */
function percentileInPlace(a: Float64Array, q: number, method: PercentileMethod): number {
  const n = a.length;
  if (n === 0) return NaN;
  if (method === 'nearest-rank') {
    // ⌈q·n⌉ without floating noise turning 7.000000000000001 into 8.
    const rank = Math.min(n, Math.max(1, Math.ceil(q * n * (1 - 1e-12))));
    return select(a, rank - 1);
  }
  const h = (n - 1) * q, k = Math.floor(h);
  const low = select(a, k);
  if (k + 1 >= n || h === k) return low;
  // After select, a[k+1..] holds the values >= a[k]; the next order statistic is their minimum.
  let next = Infinity;
  for (let i = k + 1; i < n; i++) if (a[i] < next) next = a[i];
  return low + (h - k) * (next - low);
}

/** The q-th percentile (q a fraction: P95 is q = 0.95) of `xs`; NaN for no values. Default 'nearest-rank'. */
export function percentile(xs: ArrayLike<number>, q: number, method: PercentileMethod = 'nearest-rank'): number {
  if (!(q >= 0 && q <= 1)) throw new RangeError(`percentile: q must be in [0, 1], got ${q}`);
  return percentileInPlace(Float64Array.from(xs), q, method);
}

/**
 * Fewest values for which a q-th percentile is reported: ⌈1/(1 - q)⌉ (P95: 20, P99: 100, P99.9:
 * 1000). Below it the nearest rank ⌈q·n⌉ is n, so every such percentile would be the sample maximum.
 */
export function minSamplesFor(q: number): number {
  return q >= 1 ? Infinity : Math.max(1, Math.ceil(1 / (1 - q) - 1e-9));
}

/** A value, or the reason it is not reported. */
export type Refusable = { value: number; n: number } | { value: undefined; n: number; reason: string };

/** The q-th percentile of one run's task latencies, refused below `minSamplesFor(q)` values. */
export function tailPercentile(xs: ArrayLike<number>, q: number, method: PercentileMethod = 'nearest-rank'): Refusable {
  const n = xs.length, need = minSamplesFor(q);
  if (n < need) return { value: undefined, n, reason: `P${fmtQ(q)} needs at least ${need} values, have ${n}` };
  return { value: percentile(xs, q, method), n };
}

const fmtQ = (q: number) => String(Number((100 * q).toPrecision(6)));

/**
 * The bucket of an HdrHistogram with `significantDigits` (default 3) that holds the non-negative
 * integer `value` (in the histogram's unit, e.g. µs): values from `lowest` to `highest` are stored
 * as one count. Percentile queries (getValueAtPercentile) return the bucket's `highest`, so a
 * stored percentile can exceed every recorded value by up to the bucket width, 2^-10 relative at
 * 3 digits (e.g. a stored P95 of 1602.6 ms above a 1601.6 ms makespan).
 */
export function hdrBucket(value: number, significantDigits = 3): { lowest: number; highest: number } {
  if (!(Number.isInteger(value) && value >= 0)) throw new RangeError(`hdrBucket: a non-negative integer, got ${value}`);
  const subBucketMagnitude = Math.ceil(Math.log2(2 * 10 ** significantDigits));
  if (value < 2 ** subBucketMagnitude) return { lowest: value, highest: value };
  const width = 2 ** (Math.floor(Math.log2(value)) - subBucketMagnitude + 1);
  const lowest = Math.floor(value / width) * width;
  return { lowest, highest: lowest + width - 1 };
}

export interface BootstrapOptions {
  /** Two-sided level of the percentile-bootstrap interval; default 0.95. */
  level?: number;
  /** Resamples of reps (or seeds); default 2000. */
  resamples?: number;
  /** Uniform [0, 1) source; inject a seeded one. */
  rng: () => number;
  /** Percentile definition for the estimate and each replicate; default 'nearest-rank'. */
  method?: PercentileMethod;
}

export interface PooledPercentile {
  /** Reps pooled and task latencies in the pool. */
  reps: number;
  tasks: number;
  /** The percentile of all task latencies pooled; undefined (with `reason`) when refused. */
  value: number | undefined;
  /** Cluster-bootstrap CI resampling whole reps; undefined (with `reason`) for fewer than 2 reps. */
  ci: Interval | undefined;
  reason?: string;
}

/** Pool the selected reps (indices) into `buf`; returns the filled view. */
function pool(reps: readonly ArrayLike<number>[], picks: ArrayLike<number>, buf: Float64Array): Float64Array {
  let at = 0;
  for (let i = 0; i < picks.length; i++) {
    const r = reps[picks[i]];
    for (let j = 0; j < r.length; j++) buf[at++] = r[j];
  }
  return buf.subarray(0, at);
}

/** Linear-interpolated quantiles (1 ∓ level)/2 of bootstrap replicates. */
function percentileInterval(replicates: Float64Array, level: number): Interval {
  const alpha = (1 - level) / 2;
  return { lo: percentile(replicates, alpha, 'linear'), hi: percentile(replicates, 1 - alpha, 'linear'), level };
}

/**
 * A tail percentile over reps: the estimate pools the task latencies of every rep (one percentile
 * of the pool); the CI resamples whole reps with replacement (cluster bootstrap, percentile
 * method), because tasks inside a rep share that rep's draws and load and are not independent.
 * With few reps the interval is coarse and tends to under-cover: state the number of reps.
 */
export function pooledPercentile(reps: readonly ArrayLike<number>[], q: number, opts: BootstrapOptions): PooledPercentile {
  const { level = 0.95, resamples = 2000, rng, method = 'nearest-rank' } = opts;
  const all = reps.map((_, i) => i);
  const maxLen = Math.max(0, ...reps.map((r) => r.length));
  const buf = new Float64Array(reps.length * maxLen);
  const pooled = pool(reps, all, buf);
  const tasks = pooled.length;
  const est = tailPercentile(pooled, q, method);
  if (est.value === undefined) return { reps: reps.length, tasks, value: undefined, ci: undefined, reason: est.reason };
  if (reps.length < 2) return { reps: reps.length, tasks, value: est.value, ci: undefined, reason: 'one rep: no rep-level CI' };
  const picks = new Int32Array(reps.length);
  const replicates = new Float64Array(resamples);
  for (let b = 0; b < resamples; b++) {
    for (let i = 0; i < picks.length; i++) picks[i] = Math.floor(rng() * reps.length);
    replicates[b] = percentileInPlace(pool(reps, picks, buf), q, method);
  }
  return { reps: reps.length, tasks, value: est.value, ci: percentileInterval(replicates, level) };
}

export interface SeedTasks {
  seed: string | number;
  /** System A's task latencies in this seed's rep. */
  num: ArrayLike<number>;
  /** System B's task latencies in the same seed's rep. */
  den: ArrayLike<number>;
}

export interface PairedPooledRatio {
  /** Seeds (paired reps) used, and task latencies pooled per system. */
  seeds: number;
  tasks: { num: number; den: number };
  /** Pooled percentiles of each system. */
  num: number | undefined;
  den: number | undefined;
  /** num / den; undefined (with `reason`) when either pooled percentile is refused. */
  ratio: number | undefined;
  /** Cluster-bootstrap CI of the ratio resampling seeds jointly (both systems' reps of a drawn seed); undefined for fewer than 2 seeds. */
  ci: Interval | undefined;
  reason?: string;
}

/**
 * Ratio of pooled percentiles of two systems run on the same seeds (e.g. P95 deferred / P95 eager):
 * each system's task latencies are pooled over its reps; the CI resamples seeds with replacement and
 * takes both systems' reps of every drawn seed, so the pairing by seed is kept in every replicate.
 */
export function pairedPooledPercentileRatio(pairs: readonly SeedTasks[], q: number, opts: BootstrapOptions): PairedPooledRatio {
  const { level = 0.95, resamples = 2000, rng, method = 'nearest-rank' } = opts;
  const seen = new Set<string | number>();
  for (const p of pairs) {
    if (seen.has(p.seed)) throw new RangeError(`seed ${p.seed} appears twice: one pair per seed`);
    seen.add(p.seed);
  }
  const nums = pairs.map((p) => p.num), dens = pairs.map((p) => p.den);
  const numBuf = new Float64Array(pairs.length * Math.max(0, ...nums.map((r) => r.length)));
  const denBuf = new Float64Array(pairs.length * Math.max(0, ...dens.map((r) => r.length)));
  const all = pairs.map((_, i) => i);
  const a = tailPercentile(pool(nums, all, numBuf), q, method);
  const b = tailPercentile(pool(dens, all, denBuf), q, method);
  const base = { seeds: pairs.length, tasks: { num: a.n, den: b.n }, num: a.value, den: b.value };
  if (a.value === undefined || b.value === undefined) {
    const reason = [a.value === undefined && `num: ${a.reason}`, b.value === undefined && `den: ${b.reason}`].filter(Boolean).join('; ');
    return { ...base, ratio: undefined, ci: undefined, reason };
  }
  const ratio = a.value / b.value;
  if (pairs.length < 2) return { ...base, ratio, ci: undefined, reason: 'one seed: no seed-level CI' };
  const picks = new Int32Array(pairs.length);
  const replicates = new Float64Array(resamples);
  for (let r = 0; r < resamples; r++) {
    for (let i = 0; i < picks.length; i++) picks[i] = Math.floor(rng() * pairs.length);
    replicates[r] = percentileInPlace(pool(nums, picks, numBuf), q, method) / percentileInPlace(pool(dens, picks, denBuf), q, method);
  }
  return { ...base, ratio, ci: percentileInterval(replicates, level) };
}
