import { describe, expect, it } from 'vitest';
import type { ExecutionRecord } from '../../workloads/execute.ts';
import { ExecutionLog } from './execution-log.ts';

describe('execution log', () => {
  it('gives back every record it was given, across growth, with single and several keys, errors and supersteps', () => {
    const records: ExecutionRecord[] = Array.from({ length: 3000 }, (_, i) => ({
      agent: `a${i % 7}`, identity: `a${i % 7}(k${i})`, inputKeys: i % 5 ? [`k${i}`] : [`k${i}`, `j${i}`], correlationIds: i % 3 ? [`c${i}`] : [],
      outputKeys: i % 11 ? [`o${i}`] : [`o${i}#0`, `o${i}#1`], startMs: i * 0.5, endMs: i * 0.5 + 1.25, drawnLatencyMs: 700 + i, scaledLatencyMs: 0.7 + i / 1000,
      tokensIn: 300 + i, tokensOut: 100 + (i % 13), costUsd: 1e-4 * i, ...(i % 97 === 0 ? { error: `boom ${i}` } : {}),
      ...(i % 41 === 0 ? { superstep: { scope: `run${i % 4}`, step: i % 6 } } : {}),
      // Left out (an older system), 0 (a tool agent or a failed call) or 1; an admission wait only under limits.
      ...(i % 3 === 0 ? {} : { llmCalls: i % 3 === 1 ? 0 : 1 }), ...(i % 4 === 0 ? { queuedMs: i / 8 } : {}),
    }));
    const log = ExecutionLog.from(records);
    expect(log.length).toBe(records.length);
    expect(log.toArray()).toEqual(records);
    expect(log.agents).toHaveLength(7);
    expect(log.inputCount(0)).toBe(2);
    expect(log.inputCount(1)).toBe(1);
    expect(log.correlationIdsOf(1)).toEqual(['c1']);
    expect(log.correlationIdsOf(0)).toEqual([]);
    // What the rows store: a count left out is one call; no wait is NULL.
    expect([log.llmCallsOf(0), log.llmCallsOf(1), log.llmCallsOf(2)]).toEqual([1, 0, 1]);
    expect([log.queuedMsOf(0), log.queuedMsOf(1), log.queuedMsOf(8)]).toEqual([0, null, 1]);
    expect(log.get(3)).not.toHaveProperty('llmCalls');
    expect(log.get(1)).not.toHaveProperty('queuedMs');
  });
});
