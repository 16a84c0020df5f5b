import { describe, expect, it } from 'vitest';
import type { ExecutionRecord } from '../../workloads/execute.ts';
import { buildWorkload } from '../../workloads/registry.ts';
import { runOnce } from '../runner/run-once.ts';
import { lowerBound } from './lower-bound.ts';

const ex = (agent: string, inputKeys: string[], out: string, ms: number): ExecutionRecord => ({
  agent, identity: out, inputKeys, correlationIds: [], outputKeys: [out], startMs: 0, endMs: 0,
  drawnLatencyMs: ms, scaledLatencyMs: ms, tokensIn: 0, tokensOut: 0, costUsd: 0,
});

describe('critical-path lower bound', () => {
  it('is the longest dependency chain when no concurrency limit binds', () => {
    const lb = lowerBound([ex('a', ['s'], 'x', 10), ex('b', ['s'], 'y', 30), ex('c', ['x', 'y'], 'z', 5)], { a: 9, b: 9, c: 9 });
    expect(lb.criticalPathMs).toBe(35);
    expect(lb.lowerBoundMs).toBe(35);
  });

  it('accounts for a binding per-agent concurrency limit and seed arrival times', () => {
    const execs = Array.from({ length: 6 }, (_, i) => ex('w', [`s${i}`], `o${i}`, 10));
    expect(lowerBound(execs, { w: 2 }).lowerBoundMs).toBe(30);
    expect(lowerBound(execs, { w: 2 }).bindingAgent).toBe('w');
    expect(lowerBound(execs, { w: 6 }, new Map([['s5', 100]])).lowerBoundMs).toBe(110);
  });

  it.each([
    ['review-analysis', { analysts: 8, tasks: 3 }],
    ['map', { tasks: 40, depth: 3, join: true, maxConcurrency: 8 }],
    // The H3 workloads: tool agents (no LLM wait, outputs keyed by the tool), coalescing
    // batches (one call, one output per input), per-task joins, open-loop arrivals.
    ['retrieval-summarization', { tasks: 3, k: 3, chunks: 300, arrival: 'poisson', ratePerSec: 200 }],
    ['retrieval-summarization', { tasks: 3, k: 3, chunks: 300, coalesce: true }],
    ['mixed', { tasks: 6, k: 2, chunks: 300, analysts: 2, arrival: 'trace', ratePerSec: 200 }],
    ['mixed', { tasks: 6, k: 2, chunks: 300, analysts: 2, coalesce: true, coalesceTasks: 3 }],
  ])('never exceeds the measured makespan, nor the ideal replay (%s %o)', async (name, params) => {
    for (const system of ['blackboard-eager', 'blackboard-deferred']) {
      const r = await runOnce({ system, workload: buildWorkload(name, params), seed: 5, latencyScale: 0.005 });
      expect(r.lowerBoundMs).toBeGreaterThan(0);
      expect(r.lowerBoundMs).toBeLessThanOrEqual(r.makespanMs);
      expect(r.efficiency).toBeGreaterThan(0);
      expect(r.efficiency).toBeLessThanOrEqual(1);
      // The replay finds every draw it needs, and no policy beats the bound.
      expect(Number.isFinite(r.idealMs)).toBe(true);
      expect(r.lowerBoundMs).toBeLessThanOrEqual(r.idealMs + 1e-6);
    }
  });

  it('holds for the graph forms on a tool agent and a coalescing batch, and their replays find every draw', async () => {
    const w = buildWorkload('retrieval-summarization', { tasks: 3, k: 3, chunks: 300, coalesce: true });
    for (const system of ['langgraph-parallel', 'langgraph-per-item', 'langgraph-subgraph']) {
      const r = await runOnce({ system, workload: w, seed: 5, latencyScale: 0.005 });
      expect(r.lowerBoundMs, system).toBeLessThanOrEqual(r.makespanMs);
      expect(Number.isFinite(r.idealMs), system).toBe(true);
      expect(r.lowerBoundMs, system).toBeLessThanOrEqual(r.idealMs + 1e-6);
    }
  });
});
