import { describe, expect, it } from 'vitest';
import { Deque } from './deque.ts';

describe('Deque', () => {
  it('is first in, first out across compactions and interleaved pushes', () => {
    const q = new Deque<number>();
    const ref: number[] = [];
    let next = 0;
    // Pushes and shifts interleaved at varying rates, past several compaction thresholds.
    for (let round = 0; round < 50; round++) {
      for (let i = 0; i < 300 + round * 37; i++) { q.push(next); ref.push(next++); }
      for (let i = 0; i < 250 + round * 31; i++) {
        expect(q.peek()).toBe(ref[0]);
        expect(q.shift()).toBe(ref.shift());
      }
      expect(q.length).toBe(ref.length);
    }
    while (ref.length) expect(q.shift()).toBe(ref.shift());
    expect(q.length).toBe(0);
    expect(q.shift()).toBeUndefined();
    expect(q.peek()).toBeUndefined();
    q.push(7);
    expect(q.shift()).toBe(7);
  });
});
