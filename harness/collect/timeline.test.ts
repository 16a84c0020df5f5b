import { describe, expect, it } from 'vitest';
import { compile } from 'vega-lite';
import { runOnce } from '../runner/run-once.ts';
import { runSpans } from '../tracing/otel.ts';
import { buildWorkload } from '../../workloads/registry.ts';
import { barrierAnalysis, type BarrierExecution } from './barrier.ts';
import { executionsFromSpans, timelineRows, timelineSpec } from './timeline.ts';

const ex = (agent: string, task: string, startMs: number, endMs: number, step?: number): BarrierExecution => ({
  agent, startMs, endMs, correlationIds: [task], ...(step !== undefined ? { superstep: { scope: 'run', step } } : {}),
});

describe('timelineRows', () => {
  it('one row per execution in start order, with its task and superstep', () => {
    const rows = timelineRows([ex('editor', 'news-0', 30, 40, 3), ex('world_analyst', 'news-0', 0, 20, 1), ex('tech_analyst', 'news-1', 0, 25, 1)], 'langgraph-parallel');
    expect(rows).toEqual([
      { system: 'langgraph-parallel', agent: 'tech_analyst', task: 'news-1', startMs: 0, endMs: 25, durationMs: 25, step: 1, scope: 'run' },
      { system: 'langgraph-parallel', agent: 'world_analyst', task: 'news-0', startMs: 0, endMs: 20, durationMs: 20, step: 1, scope: 'run' },
      { system: 'langgraph-parallel', agent: 'editor', task: 'news-0', startMs: 30, endMs: 40, durationMs: 10, step: 3, scope: 'run' },
    ]);
    expect(timelineRows([{ agent: 'a', startMs: 1, endMs: 2, correlationIds: ['x'] }])).toEqual([{ agent: 'a', task: 'x', startMs: 1, endMs: 2, durationMs: 1 }]);
  });
});

describe('timelineSpec', () => {
  it('is a vega-lite Gantt (agents on y, time on x, tasks as colours) that compiles', () => {
    const rows = timelineRows([ex('a', 't0', 0, 10, 1), ex('b', 't1', 5, 12, 1)]);
    const spec = timelineSpec(rows, { title: 'one run', agentOrder: ['b', 'a'] });
    expect(spec).toMatchObject({
      title: 'one run', mark: { type: 'bar' },
      encoding: { x: { field: 'startMs' }, x2: { field: 'endMs' }, y: { field: 'agent', sort: ['b', 'a'] }, color: { field: 'task' } },
    });
    expect((spec.data as { values: unknown[] }).values).toHaveLength(2);
    // biome-ignore lint/suspicious/noExplicitAny: vega-lite's TopLevelSpec type is what compile checks at run time
    expect(() => compile(spec as any)).not.toThrow();
  });

  it('one panel per system when rows of several runs are drawn together', () => {
    const rows = [
      ...timelineRows([ex('a', 't0', 0, 10, 1)], 'langgraph-parallel'),
      ...timelineRows([ex('a', 't0', 0, 8)], 'blackboard-deferred'),
    ];
    const spec = timelineSpec(rows);
    expect(spec).toMatchObject({ facet: { row: { field: 'system', sort: ['langgraph-parallel', 'blackboard-deferred'] } }, spec: { mark: { type: 'bar' } } });
    // biome-ignore lint/suspicious/noExplicitAny: as above
    const vega = compile(spec as any).spec;
    expect(JSON.stringify(vega)).toContain('langgraph-parallel');
  });
});

describe('executionsFromSpans', () => {
  it('rebuilds a run\'s executions (times, tasks, supersteps) from its stored spans', async () => {
    const out = await runOnce({ system: 'langgraph-parallel', workload: buildWorkload('review-analysis', { analysts: 3, tasks: 2 }), seed: 5, latencyScale: 0.005 });
    const rebuilt = executionsFromSpans(await runSpans(out));
    expect(rebuilt).toHaveLength(out.executions.length);
    const key = (e: BarrierExecution) => `${e.agent}|${e.correlationIds.join(',')}`;
    const byKey = new Map(rebuilt.map((e) => [key(e), e]));
    for (const e of out.executions) {
      const r = byKey.get(key(e))!;
      expect(r.startMs).toBeCloseTo(e.startMs, 2);
      expect(r.endMs).toBeCloseTo(e.endMs, 2);
      expect(r.superstep).toEqual(e.superstep);
    }
    // The barrier analysis reads the same from spans as from the records.
    expect(barrierAnalysis(rebuilt).summary.coupledSupersteps).toBe(barrierAnalysis(out.executions).summary.coupledSupersteps);
    expect(barrierAnalysis(rebuilt).summary.crossTaskWaitMs).toBeCloseTo(barrierAnalysis(out.executions).summary.crossTaskWaitMs, 1);
  });

  it('a blackboard run has no supersteps in its spans', async () => {
    const out = await runOnce({ system: 'blackboard-deferred', workload: buildWorkload('map', { tasks: 3 }), seed: 5, latencyScale: 0.005 });
    const rebuilt = executionsFromSpans(await runSpans(out));
    expect(rebuilt).toHaveLength(3);
    expect(rebuilt.every((e) => e.superstep === undefined && e.correlationIds.length === 1)).toBe(true);
  });

  it('ignores a framework\'s own spans stored with the run (flock-real: Flock\'s `Agent.execute`, its own roots)', async () => {
    const out = await runOnce({ system: 'blackboard-deferred', workload: buildWorkload('map', { tasks: 3 }), seed: 5, latencyScale: 0.005 });
    const t = BigInt(Date.parse(out.startedAt)) * 1_000_000n;
    const foreign = (span_id: string, name: string, parent_id: string | null) => ({
      trace_id: 'f'.repeat(32), span_id, parent_id, name, service: name.split('.')[0]!, operation: name.split('.')[1]!, kind: 'INTERNAL',
      start_time: t, end_time: t + 1_000_000n, duration_ms: 1, status_code: 'UNSET', status_description: null,
      attributes: JSON.stringify({ 'agent.name': 'worker' }), events: '[]', links: '[]', resource: '{}',
    });
    out.nativeSpans = [foreign('a1', 'Flock.run', null), foreign('a2', 'Agent.execute', 'a1'), foreign('a3', 'Agent.execute', null)];
    const spans = await runSpans(out);
    expect(spans).toHaveLength(1 + 3 + 3);
    const rebuilt = executionsFromSpans([...spans].reverse());
    expect(rebuilt).toHaveLength(3);
    expect(rebuilt.every((e) => e.correlationIds.length === 1 && e.startMs >= 0)).toBe(true);
  });
});
