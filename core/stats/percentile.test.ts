import { describe, expect, it } from 'vitest';
import {
  hdrBucket, minSamplesFor, pairedPooledPercentileRatio, percentile, pooledPercentile, tailPercentile,
} from './percentile.ts';
import { keyedRng } from '../random.ts';

describe('percentile definitions', () => {
  // numpy.percentile(v, 100q, method='inverted_cdf' | 'linear')
  const v = [5, 1, 9, 3, 7, 2, 8, 6, 4, 10, 12, 11, 15, 14, 13, 20, 18, 17, 16, 19.5];
  const cases: [number, number, number][] = [
    [0.05, 1, 1.95], [0.5, 10, 10.5], [0.9, 18, 18.15], [0.95, 19.5, 19.525], [0.99, 20, 19.905], [1, 20, 20],
  ];
  it.each(cases)('q = %s: nearest rank %s, linear %s (numpy inverted_cdf / linear)', (q, nearest, linear) => {
    expect(percentile(v, q)).toBe(nearest);
    expect(percentile(v, q, 'linear')).toBeCloseTo(linear, 12);
  });
  it('nearest rank is an observed value and is not fooled by floating q·n', () => {
    const xs = Array.from({ length: 100 }, (_, i) => i + 1);
    expect(percentile(xs, 0.07)).toBe(7); // 0.07 * 100 = 7.000000000000001
    expect(percentile(xs, 0)).toBe(1);
    expect(percentile([3], 0.99)).toBe(3);
    expect(percentile([], 0.5)).toBeNaN();
    expect(() => percentile([1], 95)).toThrow(RangeError);
  });
  it('leaves its input alone', () => {
    const xs = [3, 1, 2];
    percentile(xs, 0.5);
    expect(xs).toEqual([3, 1, 2]);
  });
});

describe('refusing tails the data cannot show', () => {
  it('needs ⌈1/(1-q)⌉ values: P95 20, P99 100, P99.9 1000', () => {
    expect([minSamplesFor(0.95), minSamplesFor(0.99), minSamplesFor(0.999), minSamplesFor(0.5), minSamplesFor(1)]).toEqual([20, 100, 1000, 2, Infinity]);
  });
  it('below the minimum, nearest rank would be the maximum: refused with a reason', () => {
    const four = [900, 1100, 1300, 1601.6];
    expect(tailPercentile(four, 0.95)).toEqual({ value: undefined, n: 4, reason: 'P95 needs at least 20 values, have 4' });
    const xs = Array.from({ length: 99 }, (_, i) => i + 1);
    expect(tailPercentile(xs, 0.99)).toMatchObject({ value: undefined, reason: 'P99 needs at least 100 values, have 99' });
    expect(tailPercentile([...xs, 100], 0.99)).toEqual({ value: 99, n: 100 });
    expect(tailPercentile(xs.slice(0, 20), 0.95)).toEqual({ value: 19, n: 20 });
  });
});

describe('hdrBucket', () => {
  // Checked against hdr-histogram-js 3.0.1 (3 significant digits): lowestEquivalentValue /
  // highestEquivalentValue, and getValueAtPercentile returning the highest.
  it('stored values are bucket upper edges: 1601.6 ms in µs is stored as 1602.559 ms', () => {
    expect(hdrBucket(1601600)).toEqual({ lowest: 1601536, highest: 1602559 });
    expect(hdrBucket(123456789)).toEqual({ lowest: 123404288, highest: 123469823 });
    expect(hdrBucket(1601600, 2)).toEqual({ lowest: 1597440, highest: 1605631 });
  });
  it('exact below 2048 at 3 digits, then buckets double', () => {
    expect(hdrBucket(2047)).toEqual({ lowest: 2047, highest: 2047 });
    expect(hdrBucket(2049)).toEqual({ lowest: 2048, highest: 2049 });
    expect(hdrBucket(4096)).toEqual({ lowest: 4096, highest: 4099 });
    expect(() => hdrBucket(1.5)).toThrow(RangeError);
  });
});

/** Reps of task latencies: each rep has its own level (load, draws), tasks vary around it. */
function makeReps(seed: string, reps: number, tasks: number, level = 1): number[][] {
  const rng = keyedRng(seed);
  return Array.from({ length: reps }, () => {
    const repLevel = level * (0.8 + 0.4 * rng());
    return Array.from({ length: tasks }, () => repLevel * (100 - 50 * Math.log(1 - rng())));
  });
}

describe('pooledPercentile', () => {
  it('estimates from the pool, CI from resampled reps, reproducibly', () => {
    const reps = makeReps('pool', 10, 50);
    const r = pooledPercentile(reps, 0.95, { rng: keyedRng(1), resamples: 1000 });
    expect(r).toMatchObject({ reps: 10, tasks: 500, value: percentile(reps.flat(), 0.95) });
    expect(r.ci!.lo).toBeLessThan(r.value!);
    expect(r.ci!.hi).toBeGreaterThan(r.value!);
    expect(pooledPercentile(reps, 0.95, { rng: keyedRng(1), resamples: 1000 })).toEqual(r);
  });
  it('the rep-level CI is wider than a naive task-level bootstrap would be (tasks share their rep)', () => {
    const reps = makeReps('cluster', 10, 200);
    const r = pooledPercentile(reps, 0.5, { rng: keyedRng(2), resamples: 500 });
    const naive = pooledPercentile(reps.flat().map((x) => [x]), 0.5, { rng: keyedRng(2), resamples: 500 });
    expect(naive.value).toBe(r.value);
    expect(r.ci!.hi - r.ci!.lo).toBeGreaterThan(2 * (naive.ci!.hi - naive.ci!.lo));
  });
  it('refuses a pooled P99 from fewer than 100 tasks; no CI from one rep', () => {
    expect(pooledPercentile(makeReps('few', 3, 30), 0.99, { rng: keyedRng(1) })).toEqual({
      reps: 3, tasks: 90, value: undefined, ci: undefined, reason: 'P99 needs at least 100 values, have 90',
    });
    expect(pooledPercentile(makeReps('one', 1, 200), 0.99, { rng: keyedRng(1) })).toMatchObject({ value: expect.any(Number), ci: undefined });
    expect(pooledPercentile([], 0.95, { rng: keyedRng(1) }).value).toBeUndefined();
  });
});

describe('pairedPooledPercentileRatio', () => {
  it('identical systems: ratio 1 with a CI of exactly [1, 1] (seeds resampled jointly)', () => {
    const reps = makeReps('same', 8, 40);
    const r = pairedPooledPercentileRatio(reps.map((xs, i) => ({ seed: i, num: xs, den: xs })), 0.95, { rng: keyedRng(3), resamples: 500 });
    expect(r).toMatchObject({ seeds: 8, tasks: { num: 320, den: 320 }, ratio: 1, ci: { lo: 1, hi: 1 } });
  });
  it('a 10% slower system on the same seeds: ratio 1.1 with a tight paired CI', () => {
    const reps = makeReps('slow', 8, 40);
    const pairs = reps.map((xs, i) => ({ seed: i, num: xs.map((x) => 1.1 * x), den: xs }));
    const r = pairedPooledPercentileRatio(pairs, 0.95, { rng: keyedRng(4), resamples: 500 });
    expect(r.ratio).toBeCloseTo(1.1, 12);
    expect(r.ci!.lo).toBeCloseTo(1.1, 12);
    expect(r.ci!.hi).toBeCloseTo(1.1, 12);
    expect(r.num! / r.den!).toBe(r.ratio);
  });
  it('refuses too few tasks, keeps pairing strict, and needs two seeds for a CI', () => {
    const small = [{ seed: 1, num: [1, 2, 3], den: [1, 2, 3] }];
    expect(pairedPooledPercentileRatio(small, 0.95, { rng: keyedRng(1) })).toMatchObject({
      ratio: undefined, reason: 'num: P95 needs at least 20 values, have 3; den: P95 needs at least 20 values, have 3',
    });
    const one = makeReps('single', 1, 50)[0];
    expect(pairedPooledPercentileRatio([{ seed: 1, num: one, den: one }], 0.95, { rng: keyedRng(1) })).toMatchObject({ ratio: 1, ci: undefined });
    expect(() => pairedPooledPercentileRatio([{ seed: 1, num: one, den: one }, { seed: 1, num: one, den: one }], 0.95, { rng: keyedRng(1) })).toThrow(/twice/);
  });
});
