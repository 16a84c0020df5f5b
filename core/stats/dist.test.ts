import { describe, expect, it } from 'vitest';
import { normalCdf, normalQuantile, signedRankNull, tCdf, tQuantile } from './dist.ts';

// Reference values from scipy.stats 1.x (norm, t).
describe('normal', () => {
  it('CDF matches reference values, including the far lower tail', () => {
    expect(normalCdf(1.959963984540054)).toBeCloseTo(0.975, 14);
    expect(normalCdf(0)).toBe(0.5);
    expect(normalCdf(-5) / 2.866515718791933e-7).toBeCloseTo(1, 12);
    expect(normalCdf(-3)).toBeCloseTo(0.0013498980316300933, 15);
  });
  it('quantile inverts the CDF and matches references', () => {
    expect(normalQuantile(0.975)).toBeCloseTo(1.959963984540054, 13);
    expect(normalQuantile(1e-10)).toBeCloseTo(-6.361340902404056, 12);
    for (const p of [1e-8, 0.001, 0.02425, 0.3, 0.5, 0.9, 0.999999]) expect(normalCdf(normalQuantile(p)) / p).toBeCloseTo(1, 12);
    expect(normalQuantile(0)).toBe(-Infinity);
    expect(normalQuantile(1)).toBe(Infinity);
  });
});

describe('Student t', () => {
  it('quantiles match references for small and large df', () => {
    expect(tQuantile(0.975, 9)).toBeCloseTo(2.262157162798205, 12);
    expect(tQuantile(0.975, 1)).toBeCloseTo(12.706204736174694, 10);
    expect(tQuantile(0.975, 2)).toBeCloseTo(4.302652729749462, 12);
    expect(tQuantile(0.975, 30)).toBeCloseTo(2.0422724563012378, 12);
    expect(tQuantile(0.995, 3)).toBeCloseTo(5.840909309733355, 11);
    expect(tQuantile(1e-6, 3) / -103.29946778041935).toBeCloseTo(1, 12);
    expect(tQuantile(0.025, 9)).toBeCloseTo(-2.262157162798205, 12);
  });
  it('CDF matches references and inverts the quantile', () => {
    expect(tCdf(-2, 4)).toBeCloseTo(0.05805826175840778, 14);
    expect(tCdf(1.5, 2.5)).toBeCloseTo(0.8760817734568519, 14);
    expect(1 - tCdf(2.5, 9)).toBeCloseTo(0.016930913841492867, 13);
    expect(tCdf(0, 7)).toBe(0.5);
    for (const df of [3, 4.5, 9, 50]) for (const p of [0.001, 0.05, 0.5, 0.8]) expect(tCdf(tQuantile(p, df), df)).toBeCloseTo(p, 12);
  });
});

describe('signedRankNull', () => {
  it('equals brute-force enumeration of sign flips, with tied (doubled mid-)ranks', () => {
    const scores = [2, 5, 5, 8, 9, 11, 14];
    const total = scores.reduce((a, b) => a + b, 0);
    const brute = new Array<number>(total + 1).fill(0);
    for (let mask = 0; mask < 1 << scores.length; mask++) {
      brute[scores.reduce((a, s, i) => a + (mask & (1 << i) ? s : 0), 0)] += 1 / (1 << scores.length);
    }
    const pmf = signedRankNull(scores);
    brute.forEach((p, v) => {
      expect(pmf[v]).toBeCloseTo(p, 15);
    });
  });
  it('unit scores give Bin(n, 1/2) exactly', () => {
    expect(Array.from(signedRankNull([1, 1, 1]))).toEqual([1 / 8, 3 / 8, 3 / 8, 1 / 8]);
    expect(signedRankNull(new Array<number>(10).fill(1))[5]).toBe(252 / 1024);
  });
  it('n = 10 untied: P(V <= 8) = 25/1024', () => {
    const pmf = signedRankNull(Array.from({ length: 10 }, (_, i) => i + 1));
    expect(pmf.slice(0, 9).reduce((a, b) => a + b, 0)).toBeCloseTo(25 / 1024, 15);
  });
});
