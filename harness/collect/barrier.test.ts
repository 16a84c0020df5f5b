import { describe, expect, it } from 'vitest';
import { barrierAnalysis, replaySchedule, taskOf, type BarrierExecution } from './barrier.ts';

/** An execution of `agent` on `task`'s output of `from` (or the task's seed), producing `agent(task)`. */
const ex = (agent: string, task: string, startMs: number, endMs: number, scope?: string, step?: number, from?: string | string[]): BarrierExecution => ({
  agent, startMs, endMs, correlationIds: [task],
  inputKeys: from === undefined ? [task] : [from].flat().map((f) => `${f}(${task})`),
  outputKeys: [`${agent}(${task})`],
  ...(scope !== undefined ? { superstep: { scope, step: step! } } : {}),
});

describe('barrierAnalysis: waits at each superstep', () => {
  it('one graph run over two stories: each branch waits for the slowest, part of it for the other story', () => {
    const r = barrierAnalysis([
      ex('a1', 'A', 0, 10, 'run', 1), ex('a2', 'A', 0, 20, 'run', 1), ex('a1', 'B', 0, 30, 'run', 1), ex('a2', 'B', 0, 50, 'run', 1),
      ex('editor', 'A', 52, 60, 'run', 3, ['a1', 'a2']), ex('editor', 'B', 52, 70, 'run', 3, ['a1', 'a2']),
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
      ex('a1', 'A', 0, 10, 'A', 1), ex('a2', 'A', 0, 20, 'A', 1), ex('editor', 'A', 21, 30, 'A', 3, ['a1', 'a2']),
      ex('a1', 'B', 0, 50, 'B', 1), ex('a2', 'B', 0, 5, 'B', 1), ex('editor', 'B', 51, 90, 'B', 3, ['a1', 'a2']),
    ]);
    expect(r.summary).toMatchObject({ supersteps: 4, coupledSupersteps: 0, waitMs: 10 + 45, crossTaskWaitMs: 0 });
    expect(r.summary.replay!.lostMs).toBe(0);
  });

  it('executions without supersteps (the blackboard): no steps, nothing lost', () => {
    const r = barrierAnalysis([ex('a', 'A', 0, 10), ex('b', 'A', 10, 30, undefined, undefined, 'a'), ex('a', 'B', 0, 30)]);
    expect(r.steps).toEqual([]);
    expect(r.summary).toMatchObject({ supersteps: 0, branches: 0, waitMs: 0, lastEndMs: 30, replay: { barrierMs: 30, dataflowMs: 30, lostMs: 0, lostShare: 0 } });
  });

  it('without input/output keys there is no replay', () => {
    const r = barrierAnalysis([{ agent: 'a', startMs: 0, endMs: 1, correlationIds: ['A'], superstep: { scope: 'run', step: 1 } }]);
    expect(r.summary.supersteps).toBe(1);
    expect(r.summary.replay).toBeUndefined();
  });

  it('empty input', () => {
    expect(barrierAnalysis([]).summary).toMatchObject({ supersteps: 0, waitMs: 0, lastEndMs: 0 });
  });

  it('taskOf: one correlation key, or several joined in order', () => {
    expect(taskOf({ correlationIds: ['news-3'] })).toBe('news-3');
    expect(taskOf({ correlationIds: ['B', 'A'] })).toBe('A+B');
  });
});

describe('barrierAnalysis: makespan lost, by replaying the run with and without barriers', () => {
  it('a barrier that holds an agent queue: the fast story\'s editor could have run while the slow story\'s analyst did', () => {
    const execs = [
      ex('analyst', 'A', 0, 10, 'run', 1), ex('analyst', 'B', 0, 50, 'run', 1),
      ex('editor', 'A', 50, 90, 'run', 3, 'analyst'), ex('editor', 'B', 90, 130, 'run', 3, 'analyst'),
    ];
    const r = barrierAnalysis(execs, { limits: { analyst: 2, editor: 1 } });
    // Barrier: both editors ready at 50, one slot: 50-90, 90-130. Dataflow: A's editor 10-50, B's 50-90.
    expect(r.summary.replay).toEqual({ barrierMs: 130, dataflowMs: 90, lostMs: 40, lostShare: 40 / 130 });
    // A waits 40 ms at each step; that the first wait costs the makespan is the editor queue's doing.
    expect(r.summary.crossTaskWaitMs).toBe(80);
    // Without the editor limit the barrier costs nothing here: B is the critical story either way.
    expect(barrierAnalysis(execs).summary.replay!.lostMs).toBe(0);
  });

  it('a global batch after two stages: the barrier delays the slow first stage\'s successor and so the reducer', () => {
    const reducer: BarrierExecution = {
      agent: 'reducer', startMs: 100, endMs: 108, correlationIds: ['A', 'B'], inputKeys: ['w2(A)', 'w2(B)'], outputKeys: ['summary'], superstep: { scope: 'run', step: 5 },
    };
    const r = barrierAnalysis([
      ex('w1', 'A', 0, 10, 'run', 1), ex('w1', 'B', 0, 40, 'run', 1),
      ex('w2', 'A', 42, 100, 'run', 3, 'w1'), ex('w2', 'B', 42, 50, 'run', 3, 'w1'),
      reducer,
    ]);
    // Barrier: w2 at 40 (A ends 98), reducer 98-106. Dataflow: A's w2 10-68, reducer 68-76.
    expect(r.summary.replay).toMatchObject({ barrierMs: 106, dataflowMs: 76, lostMs: 30 });
    expect(r.steps.at(-1)).toMatchObject({ step: 5, branches: 1, tasks: 1, waitMs: 0, crossTaskWaitMs: 0 });
  });

  it('arrivals: a task cannot start before it arrives', () => {
    const execs = [ex('a', 'A', 0, 10), ex('a', 'B', 100, 110)];
    expect(replaySchedule(execs, { arrivalMs: (t) => (t === 'B' ? 100 : 0) }, false)).toBe(110);
    expect(replaySchedule(execs, {}, false)).toBe(10);
  });

  it('ready executions take a limited agent\'s slots in readiness order, ties in measured start order', () => {
    const execs = [ex('a', 'A', 5, 25), ex('a', 'B', 0, 10), ex('a', 'C', 1, 31)];
    // Limit 1: B (started first) 0-10, C 10-40, A 40-60.
    expect(replaySchedule(execs, { limits: { a: 1 } }, false)).toBe(60);
    expect(replaySchedule(execs, { limits: { a: 3 } }, false)).toBe(30);
  });
});
