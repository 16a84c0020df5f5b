import { describe, expect, it } from 'vitest';
import type { Arrival } from '../../workloads/arrivals.ts';
import { executionIdentity } from '../../workloads/execute.ts';
import type { AgentSpec, WorkloadSpec } from '../../workloads/spec.ts';
import { idealMakespan, replayReadsArtifacts, type SchedulingPolicy } from './ideal.ts';

const schema = { type: 'object' as const };
const agent = (name: string, types: string[], publishes: string, maxConcurrency: number, over: Partial<AgentSpec> = {}): AgentSpec => ({
  name, consumes: { types }, publishes, maxConcurrency, model: 'gpt-4.1-mini', promptTokens: 1, outputTokens: 1, ...over,
});

/** Two stories, two analysts each, an editor batching a story's analyses. */
function stories(): WorkloadSpec {
  return {
    name: 'stories', description: '', params: {}, arrival: { kind: 'all-at-once' },
    types: [{ name: 'News', schema }, { name: 'Analysis', schema }, { name: 'Digest', schema }],
    agents: [
      agent('a1', ['News'], 'Analysis', 9),
      agent('a2', ['News'], 'Analysis', 9),
      agent('editor', ['Analysis'], 'Digest', 9, { consumes: { types: ['Analysis'], batch: { size: 2, timeoutMs: 1e6, by: 'correlationId' } } }),
    ],
    tasks: [
      { type: 'News', key: 'A', correlationId: 'A', payload: {} },
      { type: 'News', key: 'B', correlationId: 'B', payload: {} },
    ],
  };
}

const at = (w: WorkloadSpec, times: number[]): Arrival[] => w.tasks.map((task, index) => ({ index, task, intendedAtMs: times[index] ?? 0 }));
const editorOf = (story: string) => executionIdentity('editor', [`a1(${story})`, `a2(${story})`]);

function run(policy: SchedulingPolicy, w: WorkloadSpec, arrivals: Arrival[], d: Record<string, number>, extra = {}) {
  return idealMakespan({ policy, workload: w, arrivals, durationOf: (id) => d[id], ...extra })?.idealMs;
}

describe('ideal makespan: zero-overhead replays of each policy on known schedules', () => {
  const w = stories();
  // Story A: analysts 10 and 50, editor 5. Story B: analysts 20 and 30, editor 40.
  const d = { 'a1(A)': 10, 'a2(A)': 50, 'a1(B)': 20, 'a2(B)': 30, [editorOf('A')]: 5, [editorOf('B')]: 40 };

  it('dataflow: each story moves on when its own analyses are in (B: 30 + 40)', () => {
    expect(run('dataflow', w, at(w, [0, 0]), d)).toBe(70);
  });

  it('superstep, one graph run: every editor waits for the slowest analyst of any story (50 + 40)', () => {
    expect(run('superstep', w, at(w, [0, 0]), d)).toBe(90);
  });

  it('superstep per task: the barrier is per story again (70)', () => {
    expect(run('superstep-per-task', w, at(w, [0, 0]), d)).toBe(70);
  });

  it('serial: one execution at a time (the sum, 155)', () => {
    expect(run('serial', w, at(w, [0, 0]), d)).toBe(155);
  });

  it('consumer slots (the partition-aware bound): each input waits for the consumer owning its partition', () => {
    const m: WorkloadSpec = { ...w, agents: [agent('x', ['News'], 'Digest', 2)], tasks: ['p', 'q', 'r', 's'].map((k) => ({ type: 'News', key: k, correlationId: k, payload: {} })) };
    const draws = { 'x(p)': 10, 'x(q)': 20, 'x(r)': 30, 'x(s)': 40 };
    // p, q on consumer c1 and r, s on c2, one in flight each: c1 ends at 30, c2 at 70.
    const owner: Record<string, string> = { p: 'c1', q: 'c1', r: 'c2', s: 'c2' };
    const slotOf = (_a: AgentSpec, inputs: readonly { correlationId: string }[]) => ({ consumer: owner[inputs[0]!.correlationId]!, limit: 1 });
    expect(run('dataflow', m, at(m, [0, 0, 0, 0]), draws, { slotOf })).toBe(70);
    // The same with the agent limit lifted (Kafka consumers do not share one): still 70, the busier consumer sets it.
    expect(run('dataflow', m, at(m, [0, 0, 0, 0]), draws, { slotOf, agentLimits: false })).toBe(70);
    // Two slots per consumer and no agent limit: each consumer runs both at once (c2: 40).
    expect(run('dataflow', m, at(m, [0, 0, 0, 0]), draws, { slotOf: (x: AgentSpec, i: readonly { correlationId: string }[]) => ({ ...slotOf(x, i), limit: 2 }), agentLimits: false })).toBe(40);
  });

  it('a per-agent limit queues FIFO: 4 tasks of 10, 20, 30, 40 ms on 2 slots end at 60', () => {
    const m: WorkloadSpec = { ...w, agents: [agent('x', ['News'], 'Digest', 2)], tasks: ['p', 'q', 'r', 's'].map((k) => ({ type: 'News', key: k, correlationId: k, payload: {} })) };
    expect(run('dataflow', m, at(m, [0, 0, 0, 0]), { 'x(p)': 10, 'x(q)': 20, 'x(r)': 30, 'x(s)': 40 })).toBe(60);
  });

  it('arrival times and a batch window delay the start; a batch timeout flushes a partial batch', () => {
    expect(run('dataflow', w, at(w, [0, 100]), d)).toBe(170);
    // Deferred with a 25 ms window: arrivals at 0 and 100 dispatch at 25 and 125.
    expect(run('dataflow', w, at(w, [0, 100]), d, { dispatchEveryMs: 25 })).toBe(195);
    const lone = { ...w, tasks: [w.tasks[0]!], agents: [w.agents[0]!, { ...w.agents[2]!, consumes: { types: ['Analysis'], batch: { size: 3, timeoutMs: 1000 } } }] };
    expect(run('dataflow', lone, at(lone, [0]), { 'a1(A)': 10, 'editor(a1(A))': 7 }, { latencyScale: 0.1 })).toBe(10 + 100 + 7);
  });

  it('superstep runs share per-agent semaphores and honour the global task window', () => {
    const m: WorkloadSpec = { ...w, agents: [agent('x', ['News'], 'Digest', 1)], tasks: ['p', 'q'].map((k) => ({ type: 'News', key: k, correlationId: k, payload: {} })) };
    expect(run('superstep-per-task', m, at(m, [0, 0]), { 'x(p)': 10, 'x(q)': 10 })).toBe(20);
    const wide = { ...m, agents: [agent('x', ['News'], 'Digest', 9)] };
    expect(run('superstep', wide, at(wide, [0, 0]), { 'x(p)': 10, 'x(q)': 10 }, { maxConcurrency: 1 })).toBe(20);
    expect(run('superstep', wide, at(wide, [0, 0]), { 'x(p)': 10, 'x(q)': 10 }, { maxConcurrency: 2 })).toBe(10);
  });

  it('superstep runs: at most maxRuns graph runs in flight, FIFO (A: 50 + 5, then B: 30 + 40)', () => {
    expect(run('superstep-per-task', w, at(w, [0, 0]), d, { maxRuns: 1 })).toBe(125);
    expect(run('superstep-per-task', w, at(w, [0, 0]), d, { maxRuns: 2 })).toBe(70);
  });

  it('superstep subgraph: per-task loops as per task; a global batch runs after every subgraph ended', () => {
    expect(run('superstep-subgraph', w, at(w, [0, 0]), d)).toBe(70);
    const g: WorkloadSpec = {
      ...w,
      agents: [agent('x', ['News'], 'Analysis', 9), agent('all', ['Analysis'], 'Digest', 9, { consumes: { types: ['Analysis'], batch: { size: 2, timeoutMs: 1e6 } } })],
    };
    const dg = { 'x(A)': 10, 'x(B)': 30, [executionIdentity('all', ['x(A)', 'x(B)'])]: 5, [executionIdentity('all', ['x(B)', 'x(A)'])]: 5 };
    expect(run('superstep-subgraph', g, at(g, [0, 0]), dg)).toBe(35);
    // The outer superstep's task window bounds the subgraphs at once: one at a time.
    expect(run('superstep-subgraph', g, at(g, [0, 0]), dg, { maxConcurrency: 1 })).toBe(45);
  });

  it('dataflow under a global limit: one execution at a time, yet batch timeouts still flush', () => {
    expect(run('dataflow', w, at(w, [0, 0]), d, { maxConcurrency: 1 })).toBe(155);
    // Two slots, FIFO: a1(A) 0-10 and a2(A) 0-50, a1(B) 10-30, a2(B) 30-60, editors 50-55, 60-100.
    expect(run('dataflow', w, at(w, [0, 0]), d, { maxConcurrency: 2 })).toBe(100);
    // Story A's editor batches 2 analyses within 25 ms of the first: a1 ends at 10, a2 (one slot)
    // at 60, so the timeout (35) flushes editor(a1) alone, which waits for the slot until 60;
    // a2's analysis opens a new batch, flushed at 85. Serial knows no timeouts: both in one batch.
    const timed = { ...w, tasks: [w.tasks[0]!], agents: [w.agents[0]!, w.agents[1]!, { ...w.agents[2]!, consumes: { types: ['Analysis'], batch: { size: 2, timeoutMs: 25, by: 'correlationId' as const } } }] };
    const dd = { 'a1(A)': 10, 'a2(A)': 50, 'editor(a1(A))': 5, 'editor(a2(A))': 7 };
    expect(run('dataflow', timed, at(timed, [0]), dd, { maxConcurrency: 1 })).toBe(85 + 7);
    expect(run('serial', timed, at(timed, [0]), dd)).toBeUndefined();
  });

  it('is undefined when the run lacks a draw the replay needs', () => {
    expect(run('dataflow', w, at(w, [0, 0]), { 'a1(A)': 10 })).toBeUndefined();
  });
});

describe('ideal makespan: H3 agents', () => {
  const w0 = stories();
  const coalescing: WorkloadSpec = {
    ...w0,
    agents: [
      agent('a1', ['News'], 'Analysis', 9),
      agent('editor', ['Analysis'], 'Digest', 9, { consumes: { types: ['Analysis'], batch: { size: 2, timeoutMs: 1e6, coalesce: true } } }),
      agent('final', ['Digest'], 'Done', 9),
    ],
  };

  it('a coalescing batch is one execution whose outputs are keyed per input, as lone executions', () => {
    // One editor call over both analyses (40), then one final per story on its own output.
    const d = { 'a1(A)': 10, 'a1(B)': 20, [executionIdentity('editor', ['a1(A)', 'a1(B)'])]: 40, 'final(editor(a1(A)))': 5, 'final(editor(a1(B)))': 7 };
    expect(run('dataflow', coalescing, at(coalescing, [0, 0]), d)).toBe(20 + 40 + 7);
  });

  it("takes a tool agent's output keys from the run", () => {
    const tool: WorkloadSpec = { ...w0, agents: [agent('t', ['News'], 'Analysis', 9, { fanOut: 2 }), agent('s', ['Analysis'], 'Digest', 9)] };
    const keys: Record<string, string[]> = { 't(A)': ['t(A)#x', 't(A)#y'], 't(B)': ['t(B)#x', 't(B)#y'] };
    const artifacts = new Map(Object.values(keys).flat().map((key) => [key, { id: key, key, type: 'Analysis', payload: {}, producedBy: 't', correlationId: key[2]!, tags: [], createdAtMs: 0, version: 1 }]));
    const d = { 't(A)': 0, 't(B)': 0, 's(t(A)#x)': 3, 's(t(A)#y)': 9, 's(t(B)#x)': 4, 's(t(B)#y)': 2 };
    const extra = { outputKeysOf: (id: string) => keys[id], artifactOf: (k: string) => artifacts.get(k) };
    expect(run('dataflow', tool, at(tool, [0, 0]), d, extra)).toBe(9);
    // Without the run's keys the replay cannot know the tool's suffixes.
    expect(run('dataflow', tool, at(tool, [0, 0]), d)).toBeUndefined();
  });
});

describe('replayReadsArtifacts', () => {
  it('is false only for a dataflow replay whose outputs no agent consumes', () => {
    const single: WorkloadSpec = { ...stories(), agents: [agent('a1', ['News'], 'Analysis', 9)] };
    expect(replayReadsArtifacts('dataflow', single)).toBe(false);
    expect(replayReadsArtifacts('dataflow', stories())).toBe(true);
    expect(replayReadsArtifacts('superstep', single)).toBe(true);
  });
  it('a dataflow replay of terminal outputs needs no artifacts: the same ideal without them', () => {
    const single: WorkloadSpec = { ...stories(), agents: [agent('a1', ['News'], 'Analysis', 1)] };
    const durationOf = (id: string) => (id.endsWith('(A)') ? 3 : 5);
    const arrivals = at(single, [0, 1]);
    const without = idealMakespan({ policy: 'dataflow', workload: single, arrivals, durationOf });
    const withThem = idealMakespan({ policy: 'dataflow', workload: single, arrivals, durationOf, artifactOf: () => undefined, outputKeysOf: () => ['x'] });
    expect(without).toEqual({ idealMs: 8, executions: 2 });
    expect(withThem).toEqual(without);
  });
});
