import { describe, expect, it } from 'vitest';
import { logMeanCi, medianCi } from './single.ts';

describe('medianCi', () => {
  it('n = 3: 95% is out of reach; [min, max] with its 75% coverage', () => {
    const m = medianCi([1601.6, 1480.2, 1541.1]);
    expect(m).toMatchObject({ n: 3, median: 1541.1, k: 1, ci: { lo: 1480.2, hi: 1601.6, level: 0.75 } });
    expect(m.note).toBe('95% is out of reach at n = 3: [min, max] covers the median with probability 75%');
  });
  it('n = 5: [min, max] at 93.75%; n = 6 reaches 95% (96.9%)', () => {
    expect(medianCi([5, 1, 4, 2, 3]).ci).toEqual({ lo: 1, hi: 5, level: 0.9375 });
    const six = medianCi([6, 1, 5, 2, 4, 3]);
    expect(six.ci).toEqual({ lo: 1, hi: 6, level: 1 - 2 / 64 });
    expect(six.note).toBeUndefined();
  });
  it('n = 10: [x_(2), x_(9)] at 1 - 2·11/1024 = 97.85%', () => {
    const m = medianCi([10, 3, 7, 1, 9, 2, 8, 4, 6, 5]);
    expect(m).toMatchObject({ median: 5.5, k: 2, ci: { lo: 2, hi: 9, level: 1 - 22 / 1024 } });
  });
  it('larger n picks the narrowest interval still at the level; lower levels narrow it', () => {
    const xs = Array.from({ length: 100 }, (_, i) => i + 1);
    const m = medianCi(xs);
    expect(m.k).toBe(40); // P(B <= 39) = 0.0176, P(B <= 40) = 0.0284 for B ~ Bin(100, 1/2)
    expect(m.ci!.level).toBeGreaterThanOrEqual(0.95);
    expect(medianCi(xs, 0.5).k).toBeGreaterThan(45);
  });
  it('n = 0 and n = 1', () => {
    expect(medianCi([])).toEqual({ n: 0, median: NaN, ci: undefined, k: 0 });
    expect(medianCi([7]).ci).toEqual({ lo: 7, hi: 7, level: 0 });
  });
});

describe('logMeanCi', () => {
  it('geometric mean with the t interval of the logs', () => {
    const r = logMeanCi([1, 100]);
    expect(r.estimate).toBeCloseTo(10, 12);
    // mean ln = ln 10, sd = ln(100)/√2, se = ln(10), t_{0.975,1} = 12.706
    expect(Math.log(r.ci!.hi / 10) / Math.log(10)).toBeCloseTo(12.706204736174694, 10);
  });
  it('n = 1 has no interval; non-positive values throw', () => {
    expect(logMeanCi([5])).toEqual({ n: 1, estimate: 5, ci: undefined });
    expect(() => logMeanCi([1, 0])).toThrow(RangeError);
  });
});
