import { describe, expect, it } from 'vitest';
import {
  bcaMeanInterval, comparePaired, hodgesLehmann, logRatios, tInterval, tPValues, tSummary, wilcoxonSignedRank,
} from './paired.ts';
import { keyedRng } from '../random.ts';

const d10 = [0.05, -0.02, 0.11, 0.03, 0.07, 0.01, 0.09, -0.01, 0.04, 0.06];

describe('logRatios', () => {
  it('is ln(num/den) per pair', () => {
    expect(logRatios([{ seed: 1, num: 2, den: 1 }, { seed: 2, num: 1, den: 1 }])).toEqual([Math.log(2), 0]);
  });
  it('rejects zeros, negatives, non-finite values and repeated seeds', () => {
    expect(() => logRatios([{ seed: 7, num: 0, den: 1 }])).toThrow(/seed 7/);
    expect(() => logRatios([{ seed: 7, num: 1, den: -1 }])).toThrow(RangeError);
    expect(() => logRatios([{ seed: 7, num: NaN, den: 1 }])).toThrow(RangeError);
    expect(() => logRatios([{ seed: 7, num: 1, den: Infinity }])).toThrow(RangeError);
    expect(() => logRatios([{ seed: 7, num: 1, den: 1 }, { seed: 7, num: 2, den: 1 }])).toThrow(/twice/);
  });
});

describe('one-sample t', () => {
  // scipy.stats.ttest_1samp(d10, 0): p = 0.010088641212804969, CI [0.013017526784313959, 0.07298247321568603].
  it('matches scipy on ten log-ratios', () => {
    const s = tSummary(d10)!;
    expect(s.mean).toBeCloseTo(0.043, 15);
    expect(s.sd).toBeCloseTo(0.04191260749066642, 15);
    const ci = tInterval(s);
    expect(ci.lo).toBeCloseTo(0.013017526784313959, 12);
    expect(ci.hi).toBeCloseTo(0.07298247321568603, 12);
    const p = tPValues(s);
    expect(p.twoSided).toBeCloseTo(0.010088641212804969, 12);
    expect(p.greater).toBeCloseTo(0.005044320606402484, 12);
    expect(p.less).toBeCloseTo(0.9949556793935975, 12);
  });
  it('is undefined below two values; zero variance gives a point and decisive p-values', () => {
    expect(tSummary([0.1])).toBeUndefined();
    const s = tSummary([0.1, 0.1, 0.1])!;
    expect(tInterval(s)).toEqual({ lo: 0.1, hi: 0.1, level: 0.95 });
    expect(tPValues(s)).toEqual({ twoSided: 0, greater: 0, less: 1 });
    expect(tPValues(tSummary([0, 0])!)).toEqual({ twoSided: 1, greater: 1, less: 1 });
  });
});

describe('BCa bootstrap', () => {
  const data = [0.12, -0.05, 0.31, 0.08, 0.02, 0.55, -0.11, 0.19, 0.07, 0.9];
  it('agrees with scipy.stats.bootstrap(method="BCa", n_resamples=200000): [0.069, 0.456]', () => {
    const ci = bcaMeanInterval(data, { rng: keyedRng('bca-ref'), resamples: 20000 })!;
    expect(ci.lo).toBeGreaterThan(0.069 - 0.008);
    expect(ci.lo).toBeLessThan(0.069 + 0.008);
    expect(ci.hi).toBeGreaterThan(0.456 - 0.015);
    expect(ci.hi).toBeLessThan(0.456 + 0.015);
  });
  it('is reproducible from the seed and skewed like the data', () => {
    const a = bcaMeanInterval(data, { rng: keyedRng(1) })!;
    expect(bcaMeanInterval(data, { rng: keyedRng(1) })).toEqual(a);
    const mean = data.reduce((x, y) => x + y) / data.length;
    expect(a.hi - mean).toBeGreaterThan(mean - a.lo);
  });
  it('handles n < 2 and constant samples', () => {
    expect(bcaMeanInterval([1], { rng: keyedRng(1) })).toBeUndefined();
    expect(bcaMeanInterval([0.2, 0.2, 0.2], { rng: keyedRng(1) })).toEqual({ lo: 0.2, hi: 0.2, level: 0.95 });
  });
});

/** Independent check: exact signed-rank p-values by enumerating all 2^n sign assignments. */
function bruteWilcoxon(d: number[]): { v: number; greater: number; less: number } {
  const nz = d.filter((x) => x !== 0), abs = nz.map(Math.abs);
  const rank = abs.map((a) => {
    const below = abs.filter((b) => b < a).length, equal = abs.filter((b) => b === a).length;
    return below + (equal + 1) / 2;
  });
  const v = rank.reduce((s, r, i) => s + (nz[i] > 0 ? r : 0), 0);
  let greater = 0, less = 0;
  const total = 2 ** nz.length;
  for (let mask = 0; mask < total; mask++) {
    const w = rank.reduce((s, r, i) => s + (mask & (1 << i) ? r : 0), 0);
    if (w >= v - 1e-9) greater++;
    if (w <= v + 1e-9) less++;
  }
  return { v, greater: greater / total, less: less / total };
}

describe('Wilcoxon signed-rank', () => {
  it('reproduces the Hollander & Wolfe / R example (V = 40, one-sided p = 0.01953)', () => {
    const x = [1.83, 0.5, 1.62, 2.48, 1.68, 1.88, 1.55, 3.06, 1.3], y = [0.878, 0.647, 0.598, 2.05, 1.06, 1.29, 1.06, 3.14, 1.29];
    const w = wilcoxonSignedRank(x.map((v, i) => v - y[i]));
    expect(w.statistic).toBe(40);
    expect(w.method).toBe('exact');
    expect(w.p.greater).toBeCloseTo(0.01953125, 14);
    expect(w.p.twoSided).toBeCloseTo(0.0390625, 14);
  });
  it('exact with ties and zeros equals brute-force enumeration (zeros dropped)', () => {
    const d = [0, 0.5, -0.5, 1, 1, 2, -3, 2.5, 0, 1.5, 0.5, -1];
    const w = wilcoxonSignedRank(d), b = bruteWilcoxon(d);
    expect(w.n).toBe(10);
    expect(w.zeros).toBe(2);
    expect(w.statistic).toBe(b.v);
    expect(w.p.greater).toBeCloseTo(b.greater, 14);
    expect(w.p.less).toBeCloseTo(b.less, 14);
  });
  it('normal approximation with tie correction matches scipy (zero_method="wilcox", correction=True)', () => {
    const big = [0.25, 0.5, -0, -0.75, -0.25, -0.75, 0.25, 1.5, -0.25, -0.25, 0.75, 0.5, 0.25, -0.75, 0.25, 1, -1, -0.25, -1.75, -1, -1.5, 0, -1, 0.5, 0.5, 0,
      -2.25, -0.25, 0.25, 0.25, -1.25, -0.25, -0.75, -0.5, 1.25, -0.5, 0.25, 1.25, -0.25, 0.25, 0.25, 0.25, -1, 0.25, 1.5, -1.25, 1, 0.25, -0.5, 2.25, 1, -1,
      0.25, 0.75, 0, 1, 0.25, 1, 1.75, -0.5];
    const w = wilcoxonSignedRank(big);
    expect(w.method).toBe('normal');
    expect(w.n).toBe(56);
    expect(w.statistic).toBe(829.5);
    expect(w.p.greater).toBeCloseTo(0.39942834502223445, 12);
    expect(w.p.less).toBeCloseTo(0.6037429259637654, 12);
    expect(w.p.twoSided).toBeCloseTo(0.7988566900444689, 12);
  });
  it('all zeros: no evidence either way', () => {
    expect(wilcoxonSignedRank([0, 0, 0]).p).toEqual({ twoSided: 1, greater: 1, less: 1 });
  });
});

describe('Hodges-Lehmann', () => {
  it('n = 10: median Walsh average, CI [W_(9), W_(47)] at achieved level 1 - 50/1024', () => {
    const hl = hodgesLehmann(d10)!;
    expect(hl.estimate).toBeCloseTo(0.045, 15);
    expect(hl.ci.lo).toBeCloseTo(0.01, 15);
    expect(hl.ci.hi).toBeCloseTo(0.075, 15);
    expect(hl.ci.level).toBeCloseTo(1 - 50 / 1024, 15);
  });
  it('n = 6 reaches 95% only with [min, max] (level 1 - 2/64); n = 3 cannot (level 0.75)', () => {
    const six = hodgesLehmann([3, 1, 4, 1.5, 5, 9])!;
    expect([six.ci.lo, six.ci.hi, six.ci.level]).toEqual([1, 9, 1 - 2 / 64]);
    const three = hodgesLehmann([3, 1, 2])!;
    expect([three.ci.lo, three.ci.hi, three.ci.level]).toEqual([1, 3, 0.75]);
    expect(hodgesLehmann([]) ).toBeUndefined();
  });
  it('the normal-approximation branch gives nearly the exact interval', () => {
    const d = Array.from({ length: 25 }, (_, i) => Math.sin(i * 1.7) + 0.2);
    const exact = hodgesLehmann(d)!, approx = hodgesLehmann(d, { exactMaxN: 10 })!;
    expect(approx.estimate).toBe(exact.estimate);
    expect(Math.abs(approx.ci.lo - exact.ci.lo)).toBeLessThan(0.05);
    expect(Math.abs(approx.ci.level - exact.ci.level)).toBeLessThan(0.01);
  });
});

describe('comparePaired', () => {
  const rng = () => keyedRng('compare');
  it('reproduces the review\'s paired H1b interval: ratios 0.9996, 1.0001, 1.0016 give about [0.998, 1.003]', () => {
    const pairs = [0.9996, 1.0001, 1.0016].map((r, i) => ({ seed: 42 + i, num: 1500 * r, den: 1500 }));
    const c = comparePaired(pairs, { rng: rng() });
    expect(c.n).toBe(3);
    expect(c.seeds).toEqual([42, 43, 44]);
    expect(c.t!.ci.lo).toBeCloseTo(0.9978513165468627, 10);
    expect(c.t!.ci.hi).toBeCloseTo(1.003021307725101, 10);
    expect(c.estimate).toBeCloseTo(Math.cbrt(0.9996 * 1.0001 * 1.0016), 12);
    expect(c.hodgesLehmann!.ci.level).toBe(0.75);
    expect(c.notes.join(' ')).toMatch(/reaches 75%/);
  });
  it('maps everything to the ratio scale', () => {
    const pairs = d10.map((d, i) => ({ seed: i, num: 100 * Math.exp(d), den: 100 }));
    const c = comparePaired(pairs, { rng: rng() });
    expect(c.t!.ci.lo).toBeCloseTo(Math.exp(0.013017526784313959), 10);
    expect(c.hodgesLehmann!.estimate).toBeCloseTo(Math.exp(0.045), 10);
    expect(c.bca!.lo).toBeLessThan(c.estimate);
    expect(c.bca!.hi).toBeGreaterThan(c.estimate);
    expect(c.wilcoxon!.p.greater).toBeLessThan(0.01);
    expect(c.t!.p.greater).toBeCloseTo(0.005044320606402484, 10);
  });
  it('handles no pairs, one pair, and identical systems', () => {
    const none = comparePaired([], { rng: rng() });
    expect([none.n, none.t, none.bca, none.wilcoxon, none.hodgesLehmann]).toEqual([0, undefined, undefined, undefined, undefined]);
    expect(none.estimate).toBeNaN();
    const one = comparePaired([{ seed: 1, num: 2, den: 1 }], { rng: rng() });
    expect([one.estimate, one.t, one.bca]).toEqual([2, undefined, undefined]);
    const same = comparePaired([1, 2, 3].map((s) => ({ seed: s, num: 10 * s, den: 10 * s })), { rng: rng() });
    expect(same.t!.ci).toEqual({ lo: 1, hi: 1, level: 0.95 });
    expect(same.bca).toEqual({ lo: 1, hi: 1, level: 0.95 });
    expect(same.wilcoxon).toMatchObject({ n: 0, zeros: 3, p: { twoSided: 1 } });
    expect(same.notes.join(' ')).toMatch(/zero variance/);
  });
});
