import { describe, expect, it } from 'vitest';
import { loadTrace, parseAzureTrace, traceSchedule } from './trace.ts';

const cv = (a: readonly number[]) => {
  const g = a.slice(1).map((x, i) => x - a[i]!);
  const m = g.reduce((p, q) => p + q, 0) / g.length;
  return Math.sqrt(g.reduce((p, q) => p + (q - m) ** 2, 0) / (g.length - 1)) / m;
};

describe('Azure LLM inference trace 2023', () => {
  const conv = loadTrace('conv');

  it('parses the shipped files exactly', () => {
    expect(conv).toHaveLength(19_366);
    expect(loadTrace('code')).toHaveLength(8_819);
    const t = parseAzureTrace('TIMESTAMP,ContextTokens,GeneratedTokens\n2023-11-16 18:15:46.6805900,374,44\n2023-11-16 18:15:50.9951690,396,109');
    expect(t[1]!.tMs).toBeCloseTo(4314.579, 6);
    expect([t[1]!.promptTokens, t[1]!.outputTokens]).toEqual([396, 109]);
    expect(() => parseAzureTrace('a,b,c\n')).toThrow(/not an Azure LLM trace/);
    expect(() => parseAzureTrace('TIMESTAMP,ContextTokens,GeneratedTokens\n2023-11-16 18:15:46.6,0,1')).toThrow(/>= 1/);
  });

  it('window normalization hits the target rate exactly and keeps the gap pattern', () => {
    for (const rate of [1, 7.5, 40]) {
      const s = traceSchedule(conv, { n: 1000, ratePerSec: rate, seed: 3, key: 'w' });
      expect(s).toHaveLength(1000);
      expect(s[0]!.atMs).toBe(0);
      expect(999 / (s[999]!.atMs / 1000)).toBeCloseTo(rate, 9);
      const raw = s.map((x) => conv[x.traceIndex]!.tMs);
      if (s[999]!.traceIndex > s[0]!.traceIndex) expect(cv(s.map((x) => x.atMs))).toBeCloseTo(cv(raw), 9);
      expect(s.every((x) => x.promptTokens === conv[x.traceIndex]!.promptTokens)).toBe(true);
    }
  });

  it('is seeded, deterministic, and wraps around the end', () => {
    const a = traceSchedule(conv, { n: 50, ratePerSec: 2, seed: 9, key: 'k' });
    expect(traceSchedule(conv, { n: 50, ratePerSec: 2, seed: 9, key: 'k' })).toEqual(a);
    expect(traceSchedule(conv, { n: 50, ratePerSec: 2, seed: 10, key: 'k' })[0]!.traceIndex).not.toBe(a[0]!.traceIndex);
    const big = traceSchedule(conv, { n: 25_000, ratePerSec: 2, seed: 9, key: 'k' });
    expect(big).toHaveLength(25_000);
    for (let i = 1; i < big.length; i++) expect(big[i]!.atMs).toBeGreaterThanOrEqual(big[i - 1]!.atMs);
  });

  it("'trace' normalization keeps the trace's own swings; maxGapMs caps its silences", () => {
    const code = loadTrace('code');
    const rates = [1, 2, 3, 4, 5, 6].map((seed) => {
      const s = traceSchedule(code, { n: 500, ratePerSec: 10, seed, normalize: 'trace' });
      return 499 / (s[499]!.atMs / 1000);
    });
    expect(Math.max(...rates) / Math.min(...rates)).toBeGreaterThan(1.2);
    const capped = traceSchedule(code, { n: 1000, ratePerSec: 10, seed: 1, maxGapMs: 1000 });
    const uncapped = traceSchedule(code, { n: 1000, ratePerSec: 10, seed: 1 });
    expect(cv(capped.map((x) => x.atMs))).toBeLessThan(cv(uncapped.map((x) => x.atMs)));
  });
});
