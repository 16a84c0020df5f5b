import { describe, expect, it } from 'vitest';
import { executionIdentity } from '../../workloads/execute.ts';
import type { AgentSpec, WorkloadSpec } from '../../workloads/spec.ts';
import { barrierAnalysis, barrierCost, taskOf, type BarrierExecution } from './barrier.ts';

/** An execution of `agent` on `task`. */
const ex = (agent: string, task: string, startMs: number, endMs: number, scope?: string, step?: number): BarrierExecution => ({
  agent, startMs, endMs, correlationIds: [task],
  ...(scope !== undefined ? { superstep: { scope, step: step! } } : {}),
});

describe('barrierAnalysis: waits at each superstep', () => {
  it('one graph run over two stories: each branch waits for the slowest, part of it for the other story', () => {
    const r = barrierAnalysis([
      ex('a1', 'A', 0, 10, 'run', 1), ex('a2', 'A', 0, 20, 'run', 1), ex('a1', 'B', 0, 30, 'run', 1), ex('a2', 'B', 0, 50, 'run', 1),
      ex('editor', 'A', 52, 60, 'run', 3), ex('editor', 'B', 52, 70, 'run', 3),
    ]);
    expect(r.steps.map((s) => [s.step, s.branches, s.tasks, s.endMs, s.waitMs, s.maxWaitMs, s.crossTaskWaitMs])).toEqual([
      [1, 4, 2, 50, 40 + 30 + 20 + 0, 40, 30],
      [3, 2, 2, 70, 10, 10, 10],
    ]);
    expect(r.steps[0]!.waits.find((w) => w.agent === 'a1' && w.task === 'A')!.waitMs).toBe(40);
    expect(r.summary).toMatchObject({ supersteps: 2, branches: 6, coupledSupersteps: 2, waitMs: 100, crossTaskWaitMs: 40, maxTaskWaitMs: 40, lastEndMs: 70 });
  });

  it('one graph run per task (own scopes): waits for the own siblings only', () => {
    const r = barrierAnalysis([
      ex('a1', 'A', 0, 10, 'A', 1), ex('a2', 'A', 0, 20, 'A', 1), ex('editor', 'A', 21, 30, 'A', 3),
      ex('a1', 'B', 0, 50, 'B', 1), ex('a2', 'B', 0, 5, 'B', 1), ex('editor', 'B', 51, 90, 'B', 3),
    ]);
    expect(r.summary).toMatchObject({ supersteps: 4, coupledSupersteps: 0, waitMs: 10 + 45, crossTaskWaitMs: 0 });
  });

  it('executions without supersteps (the blackboard): no steps, nothing lost', () => {
    const r = barrierAnalysis([ex('a', 'A', 0, 10), ex('b', 'A', 10, 30), ex('a', 'B', 0, 30)]);
    expect(r.steps).toEqual([]);
    expect(r.summary).toMatchObject({ supersteps: 0, branches: 0, waitMs: 0, lastEndMs: 30 });
  });

  it('empty input', () => {
    expect(barrierAnalysis([]).summary).toMatchObject({ supersteps: 0, waitMs: 0, lastEndMs: 0 });
  });

  it('taskOf: one correlation key, or several joined in order', () => {
    expect(taskOf({ correlationIds: ['news-3'] })).toBe('news-3');
    expect(taskOf({ correlationIds: ['B', 'A'] })).toBe('A+B');
  });
});

describe('barrierCost: the ideal makespan under the superstep policy less the dataflow one', () => {
  const schema = { type: 'object' as const };
  const agent = (name: string, types: string[], publishes: string, maxConcurrency: number): AgentSpec => ({
    name, consumes: { types }, publishes, maxConcurrency, model: 'gpt-4.1-mini', promptTokens: 1, outputTokens: 1,
  });
  const stories = (editorLimit: number): WorkloadSpec => ({
    name: 'stories', description: '', params: {}, arrival: { kind: 'all-at-once' },
    types: [{ name: 'News', schema }, { name: 'Analysis', schema }, { name: 'Digest', schema }],
    agents: [agent('analyst', ['News'], 'Analysis', 2), agent('editor', ['Analysis'], 'Digest', editorLimit)],
    tasks: ['A', 'B'].map((k) => ({ type: 'News', key: k, correlationId: k, payload: {} })),
  });
  const d: Record<string, number> = { 'analyst(A)': 10, 'analyst(B)': 50, [executionIdentity('editor', ['analyst(A)'])]: 40, [executionIdentity('editor', ['analyst(B)'])]: 40 };
  const run = (w: WorkloadSpec) => ({ workload: w, arrivals: w.tasks.map((task, index) => ({ index, task, intendedAtMs: 0 })), durationOf: (id: string) => d[id] });

  it("a barrier that holds an agent queue: the fast story's editor could have run while the slow story's analyst did", () => {
    // Barrier: both editors ready at 50, one slot: 50-90, 90-130. Dataflow: A's editor 10-50, B's 50-90.
    expect(barrierCost(run(stories(1)), { kind: 'superstep' })).toEqual({ barrierMs: 130, dataflowMs: 90, lostMs: 40, lostShare: 40 / 130 });
    // Without the editor limit the barrier costs nothing here: B is the critical story either way.
    expect(barrierCost(run(stories(9)), { kind: 'superstep' })!.lostMs).toBe(0);
    // One graph run per story: no barrier between stories, nothing lost.
    expect(barrierCost(run(stories(1)), { kind: 'superstep-per-task' })!.lostMs).toBe(0);
  });

  it('is undefined for a dataflow policy, or when a draw is missing', () => {
    expect(barrierCost(run(stories(1)), { kind: 'dataflow' })).toBeUndefined();
    expect(barrierCost({ ...run(stories(1)), durationOf: () => undefined }, { kind: 'superstep' })).toBeUndefined();
  });
});
