import { describe, expect, it } from 'vitest';
import { bootstrapCi, jainIndex, median, quantile } from './basic.ts';

describe('stats', () => {
  it('quantiles interpolate (type 7)', () => {
    expect(quantile([1, 2, 3, 4], 0.5)).toBe(2.5);
    expect(quantile([5], 0.99)).toBe(5);
    expect(median([3, 1, 2])).toBe(2);
    expect(Number.isNaN(quantile([], 0.5))).toBe(true);
  });
  it('bootstrap CI brackets the median and is reproducible', () => {
    const xs = [10, 12, 11, 13, 9, 10, 14, 12, 11];
    const ci = bootstrapCi(xs);
    expect(ci[0]).toBeLessThanOrEqual(median(xs));
    expect(ci[1]).toBeGreaterThanOrEqual(median(xs));
    expect(bootstrapCi(xs)).toEqual(ci);
  });
  it("Jain's index: 1 when equal, 1/n when one takes all", () => {
    expect(jainIndex([3, 3, 3])).toBeCloseTo(1);
    expect(jainIndex([9, 0, 0])).toBeCloseTo(1 / 3);
  });
});
