import { describe, expect, it } from 'vitest';
import { barrierAnalysis, taskOf, type BarrierExecution } from './barrier.ts';

const ex = (agent: string, task: string | string[], startMs: number, endMs: number, scope?: string, step?: number): BarrierExecution => ({
  agent, startMs, endMs, correlationIds: [task].flat(), ...(scope !== undefined ? { superstep: { scope, step: step! } } : {}),
});

describe('barrierAnalysis', () => {
  it('one graph run over two stories: branch waits, cross-task waits, no loss when the slow story is the critical one', () => {
    const r = barrierAnalysis([
      ex('a1', 'A', 0, 10, 'run', 1), ex('a2', 'A', 0, 20, 'run', 1), ex('a1', 'B', 0, 30, 'run', 1), ex('a2', 'B', 0, 50, 'run', 1),
      ex('editor', 'A', 52, 60, 'run', 3), ex('editor', 'B', 52, 70, 'run', 3),
    ]);
    expect(r.steps.map((s) => [s.step, s.branches, s.tasks, s.endMs, s.waitMs, s.maxWaitMs, s.crossTaskWaitMs])).toEqual([
      [1, 4, 2, 50, 40 + 30 + 20 + 0, 40, 30],
      [3, 2, 2, 70, 10, 10, 10],
    ]);
    expect(r.steps[0]!.waits.find((w) => w.agent === 'a1' && w.task === 'A')!.waitMs).toBe(40);
    // A waited 30 ms at step 1 but B (the slowest story) ends the run either way.
    expect(r.summary).toMatchObject({ supersteps: 2, branches: 6, coupledSupersteps: 2, waitMs: 100, crossTaskWaitMs: 40, maxTaskDelayMs: 30, lastEndMs: 70, lostMs: 0, lostShare: 0 });
  });

  it('one graph run: a fast story held at the barrier behind a slow editor loses makespan', () => {
    const r = barrierAnalysis([
      ex('a', 'A', 0, 50, 'run', 1), ex('a', 'B', 0, 10, 'run', 1),
      ex('editor', 'A', 52, 60, 'run', 3), ex('editor', 'B', 52, 100, 'run', 3),
    ], 125);
    // B's editor could have started at ~10 instead of 52: 40 ms of the run lost.
    expect(r.summary.lostMs).toBe(40);
    expect(r.summary.lostShare).toBeCloseTo(40 / 125, 12);
    expect(r.summary.maxTaskDelayMs).toBe(40);
    // A's 40 ms wait at step 3 comes after its last execution: not a delay of A.
    expect(r.summary.crossTaskWaitMs).toBe(80);
  });

  it('one graph run per task (own scopes): waits for the own siblings only, nothing lost', () => {
    const r = barrierAnalysis([
      ex('a1', 'A', 0, 10, 'A', 1), ex('a2', 'A', 0, 20, 'A', 1), ex('editor', 'A', 21, 30, 'A', 3),
      ex('a1', 'B', 0, 50, 'B', 1), ex('a2', 'B', 0, 5, 'B', 1), ex('editor', 'B', 51, 90, 'B', 3),
    ]);
    expect(r.summary).toMatchObject({ supersteps: 4, coupledSupersteps: 0, waitMs: 10 + 45, crossTaskWaitMs: 0, lostMs: 0 });
  });

  it('executions without supersteps (the blackboard): no steps, nothing lost', () => {
    const r = barrierAnalysis([ex('a', 'A', 0, 10), ex('b', 'B', 0, 30)], 31);
    expect(r.steps).toEqual([]);
    expect(r.summary).toMatchObject({ supersteps: 0, branches: 0, waitMs: 0, lostMs: 0, lostShare: 0, lastEndMs: 30 });
  });

  it('a global batch after the barrier: shifted by its tasks\' delays', () => {
    const r = barrierAnalysis([
      ex('w1', 'A', 0, 10, 'run', 1), ex('w1', 'B', 0, 40, 'run', 1),
      ex('w2', 'A', 42, 100, 'run', 3), ex('w2', 'B', 42, 50, 'run', 3),
      ex('reducer', ['B', 'A'], 102, 110, 'run', 5),
    ]);
    // A's second stage could have started at 10 (30 ms sooner), so could the reducer.
    expect(r.summary.lostMs).toBe(30);
    expect(taskOf({ correlationIds: ['B', 'A'] })).toBe('A+B');
    // The reducer alone in its step waits for nobody.
    expect(r.steps.at(-1)).toMatchObject({ step: 5, branches: 1, tasks: 1, waitMs: 0, crossTaskWaitMs: 0 });
  });

  it('a global batch right after the last stage loses nothing when the slowest task is unblocked', () => {
    const r = barrierAnalysis([
      ex('w1', 'A', 0, 10, 'run', 1), ex('w1', 'B', 0, 50, 'run', 1),
      ex('reducer', ['A', 'B'], 52, 60, 'run', 3),
    ]);
    expect(r.summary.lostMs).toBe(0);
  });

  it('empty input', () => {
    expect(barrierAnalysis([]).summary).toMatchObject({ supersteps: 0, lostMs: 0, lostShare: 0, lastEndMs: 0 });
  });
});
