import { describe, expect, it } from 'vitest';
import { fanOutParallelism, fanOutPhase, peakInFlight, withDefaults } from './analysis.ts';

const ex = (agent: string, startMs: number, endMs: number, llmMs = endMs - startMs) => ({ agent, startMs, endMs, llmMs });

describe('execution summaries', () => {
  it('peakInFlight: an end frees its slot before a start at the same instant', () => {
    expect(peakInFlight([ex('a', 0, 10), ex('b', 10, 20), ex('c', 5, 15)])).toBe(2);
    expect(peakInFlight([])).toBe(0);
  });

  it('fanOutPhase / P: together near 1, one at a time 1/k, judged on LLM time not on the intervals', () => {
    const first = new Set(['a', 'b', 'c', 'd']);
    const together = ['a', 'b', 'c', 'd'].map((g) => ex(g, 0, 100));
    expect(fanOutParallelism(together, first)).toBe(1);
    const serial = ['a', 'b', 'c', 'd'].map((g, i) => ex(g, 100 * i, 100 * (i + 1)));
    expect(fanOutParallelism(serial, first)).toBe(0.25);
    // A blocked event loop: every interval starts at 0 and they overlap, but the calls ran in turn.
    const blocked = ['a', 'b', 'c', 'd'].map((g, i) => ex(g, 0, 100 * (i + 1), 100));
    expect(peakInFlight(blocked)).toBe(4);
    expect(fanOutParallelism(blocked, first)).toBe(0.25);
    // Not every first-stage agent once (a second story, a missing record): no value.
    expect(fanOutPhase([...together, ex('a', 200, 300)], first)).toBeNull();
    expect(fanOutPhase(together.slice(1), first)).toBeNull();
  });

  it('withDefaults fills declared defaults a stored run lacks, and keeps what it has', () => {
    const wp = withDefaults('review-analysis', { analysts: 4, tasks: 1 });
    expect(wp).toMatchObject({ analysts: 4, tasks: 1, editorBatch: 'per-story', maxConcurrency: 2 });
    expect(withDefaults('review-analysis', { editorBatch: 'unkeyed' }).editorBatch).toBe('unkeyed');
    expect(withDefaults('no-such-workload', { x: 1 })).toEqual({ x: 1 });
  });
});
