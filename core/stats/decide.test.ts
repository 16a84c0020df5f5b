import { describe, expect, it } from 'vitest';
import type { Interval } from './dist.ts';
import { benjaminiHochberg, decideFamily, decideRatio, decideThreshold, holm } from './decide.ts';
import { expTInterval, tSummary } from './paired.ts';
import { keyedRng, normal } from '../random.ts';

const ci = (lo: number, hi: number) => ({ lo, hi, level: 0.95 });

describe('decideRatio', () => {
  it('decides a claim that the ratio exceeds 1', () => {
    expect(decideRatio(ci(1.1, 1.3), 'greater').decision).toBe('supported');
    expect(decideRatio(ci(1.01, 1.08), 'greater').decision).toBe('supported');
    expect(decideRatio(ci(0.8, 0.9), 'greater').decision).toBe('refuted');
    expect(decideRatio(ci(0.9, 1.2), 'greater').decision).toBe('inconclusive');
    expect(decideRatio(undefined, 'greater')).toEqual({ decision: 'inconclusive', reason: 'no interval' });
  });
  it('equivalence takes precedence: H1b\'s paired CI [0.998, 1.003] is refuted-equivalent', () => {
    const d = decideRatio(ci(0.998, 1.003), 'greater');
    expect(d).toEqual({ decision: 'refuted-equivalent', reason: 'CI [0.998, 1.003] inside the equivalence band [0.95, 1.05]' });
    expect(decideRatio(ci(1.01, 1.04), 'greater').decision).toBe('refuted-equivalent');
    expect(decideRatio(ci(0.95, 1.05), 'less').decision).toBe('refuted-equivalent');
  });
  it('decides a claim that the ratio is below 1 (H3: deferred / eager P95)', () => {
    expect(decideRatio(ci(0.7, 0.9), 'less').decision).toBe('supported');
    expect(decideRatio(ci(1.06, 1.14), 'less')).toEqual({ decision: 'refuted', reason: 'CI [1.06, 1.14] entirely above 1' });
  });
  it('takes a custom band, which must contain 1', () => {
    expect(decideRatio(ci(0.92, 1.08), 'greater', [0.9, 1.1]).decision).toBe('refuted-equivalent');
    expect(() => decideRatio(ci(1, 2), 'greater', [1.05, 1.2])).toThrow(RangeError);
  });
});

describe('decideThreshold', () => {
  it('efficiency >= 0.8', () => {
    expect(decideThreshold(ci(0.8, 0.95), 0.8).decision).toBe('supported');
    expect(decideThreshold(ci(0.5, 0.79), 0.8)).toEqual({ decision: 'refuted', reason: 'CI [0.5, 0.79] entirely < 0.8' });
    expect(decideThreshold(ci(0.7, 0.9), 0.8).decision).toBe('inconclusive');
    expect(decideThreshold(undefined, 0.8).decision).toBe('inconclusive');
  });
  it('value <= threshold', () => {
    expect(decideThreshold(ci(0.1, 0.2), 0.25, 'atMost').decision).toBe('supported');
    expect(decideThreshold(ci(0.3, 0.4), 0.25, 'atMost').decision).toBe('refuted');
  });
});

describe('p-value adjustment', () => {
  const ps = [0.04, 0.001, 0.03, 0.5, 0.012];
  it('Holm step-down', () => {
    holm(ps).forEach((p, i) => {
      expect(p).toBeCloseTo([0.09, 0.005, 0.09, 0.5, 0.048][i], 15);
    });
    expect(holm([0.01, 0.02, 0.03, 0.04, 0.05]).map((p) => Number(p.toFixed(12)))).toEqual([0.05, 0.08, 0.09, 0.09, 0.09]);
  });
  it('Benjamini-Hochberg', () => {
    benjaminiHochberg(ps).forEach((p, i) => {
      expect(p).toBeCloseTo([0.05, 0.005, 0.05, 0.5, 0.03][i], 15);
    });
    expect(benjaminiHochberg([0.9, 0.95])).toEqual([0.95, 0.95]);
  });
  it('empty families and invalid p-values', () => {
    expect(holm([])).toEqual([]);
    expect(() => benjaminiHochberg([0.1, NaN])).toThrow(RangeError);
  });
});

describe('decideFamily (Bonferroni-adjusted intervals)', () => {
  const member = (logs: number[]) => {
    const s = tSummary(logs)!;
    return { ciAt: (level: number) => expTInterval(s, level), decide: (c: Interval | undefined) => decideRatio(c, 'greater') };
  };
  it('m = 1 is the plain 95% rule', () => {
    const logs = [0.05, 0.02, 0.08, 0.04, 0.06];
    const f = decideFamily([member(logs)]);
    expect(f.level).toBe(0.95);
    expect(f.results[0]).toEqual({ ...decideRatio(expTInterval(tSummary(logs)!, 0.95), 'greater'), ci: expTInterval(tSummary(logs)!, 0.95) });
  });
  it('widens every interval to 1 - alpha/m and counts members without data', () => {
    const weak = [0.09, 0.01, 0.135, 0.03, 0.105]; // t = 3.16 on 4 df: beyond t_0.975 = 2.78, short of t_{1-0.05/6} = 3.96
    const f = decideFamily([member(weak), { ciAt: () => undefined, decide: (c) => decideRatio(c, 'greater') }, member(weak)]);
    expect(f.m).toBe(3);
    expect(f.level).toBeCloseTo(1 - 0.05 / 3, 15);
    expect(decideFamily([member(weak)]).results[0].decision).toBe('supported');
    expect(f.results.map((r) => r.decision)).toEqual(['inconclusive', 'inconclusive', 'inconclusive']);
    expect(f.results[0].ci!.level).toBeCloseTo(1 - 0.05 / 3, 15);
  });
  // Simulated family-wise error: m = 4 comparisons whose true ratio is exactly 1 (so "supported" and
  // "refuted" are both wrong), n = 10 pairs each, 2000 families. Theory: 1 - (1 - 0.05/4)^4 = 0.049
  // adjusted, 1 - 0.95^4 = 0.185 unadjusted. Measured: 0.053 and 0.181 (Monte Carlo SE 0.005, 0.009).
  it('keeps the family-wise rate of wrong verdicts at alpha (up to Monte Carlo error)', () => {
    const rng = keyedRng('fwer');
    let wrongAdjusted = 0, wrongPlain = 0;
    const families = 2000;
    for (let f = 0; f < families; f++) {
      const members = Array.from({ length: 4 }, () => member(Array.from({ length: 10 }, () => 0.1 * normal(rng))));
      const bad = (ds: string[]) => ds.some((d) => d === 'supported' || d === 'refuted');
      if (bad(decideFamily(members).results.map((r) => r.decision))) wrongAdjusted++;
      if (bad(members.map((m) => m.decide(m.ciAt(0.95)).decision))) wrongPlain++;
    }
    expect(wrongAdjusted / families).toBeLessThan(0.05 + 2 * 0.005);
    expect(wrongPlain / families).toBeGreaterThan(0.15);
  });
});
