import { describe, expect, it } from 'vitest';
import { setTimeout as sleep } from 'node:timers/promises';
import { SimulatedLlm } from '../../llm/simulator.ts';
import { makeArtifact, type AgentRuntime, type ExecutionRecord } from '../../workloads/execute.ts';
import { multisetHash } from '../../core/canonical.ts';
import { ERROR_TYPE, type Artifact, type WorkloadSpec } from '../../workloads/spec.ts';
import { Blackboard, type SchedulingMode } from './orchestrator.ts';

const obj = { type: 'object' as const, properties: { text: { type: 'string' as const, minLength: 5 } }, required: ['text'] };

function spec(types: string[]): WorkloadSpec {
  return { name: 't', description: '', params: {}, types: types.map((name) => ({ name, schema: obj })), agents: [], tasks: [], arrival: { kind: 'all-at-once' } };
}

function runtime(w: WorkloadSpec, execs: ExecutionRecord[] = [], latencyScale = 0.001): AgentRuntime {
  const t0 = performance.now();
  return { workload: w, llm: new SimulatedLlm({ seed: 7, latencyScale }), seed: 7, clock: () => performance.now() - t0, onExecution: (r) => execs.push(r) };
}

function seed(type: string, key: string, payload: Record<string, unknown> = { text: `seed ${key}` }, correlationId = key): Artifact {
  return makeArtifact({ key, type, payload, producedBy: 'external', correlationId }, 0);
}

const modes: SchedulingMode[] = ['eager', 'deferred'];

describe.each(modes)('blackboard (%s)', (mode) => {
  it('fans one artifact out to every subscriber', async () => {
    const w = spec(['News', 'Analysis']);
    const bb = new Blackboard({ mode, runtime: runtime(w) });
    for (const n of ['a', 'b', 'c']) bb.agent(n).consumes('News').publishes('Analysis').build();
    await bb.publish(seed('News', 'n0'));
    await bb.runUntilIdle();
    const out = await bb.store.byType('Analysis');
    expect(out.map((a) => a.producedBy).sort()).toEqual(['a', 'b', 'c']);
  });

  it('chains through types, each stage consuming the previous output', async () => {
    const w = spec(['A', 'B', 'C', 'D']);
    const bb = new Blackboard({ mode, runtime: runtime(w) });
    bb.agent('ab').consumes('A').publishes('B').build();
    bb.agent('bc').consumes('B').publishes('C').build();
    bb.agent('cd').consumes('C').publishes('D').build();
    await bb.publish(seed('A', 'x'));
    await bb.runUntilIdle();
    const [d] = await bb.store.byType('D');
    expect(d.key).toBe('cd(bc(ab(x)))');
    expect(d.correlationId).toBe('x');
  });

  it('applies where predicates', async () => {
    const w = spec(['News', 'Out']);
    const bb = new Blackboard({ mode, runtime: runtime(w) });
    bb.agent('quick').consumes('News', { where: { field: 'priority', equals: 'breaking' } }).publishes('Out').build();
    bb.agent('deep').consumes('News', { where: { field: 'priority', in: ['investigative'] } }).publishes('Out').build();
    await bb.publish(seed('News', 'n1', { text: 'aaaaa', priority: 'breaking' }));
    await bb.publish(seed('News', 'n2', { text: 'bbbbb', priority: 'investigative' }));
    await bb.publish(seed('News', 'n3', { text: 'ccccc', priority: 'other' }));
    await bb.runUntilIdle();
    expect((await bb.store.byType('Out')).map((a) => a.key).sort()).toEqual(['deep(n2)', 'quick(n1)']);
  });

  it('flushes a batch on size, keyed by correlation id', async () => {
    const w = spec(['Item', 'Sum']);
    const bb = new Blackboard({ mode, runtime: runtime(w) });
    bb.agent('sum').consumes('Item', { batch: { size: 3, timeoutMs: 60_000, by: 'correlationId' } }).publishes('Sum').build();
    for (let i = 0; i < 6; i++) await bb.publish(seed('Item', `i${i}`, undefined, i % 2 ? 'odd' : 'even'));
    await bb.runUntilIdle();
    expect(bb.counters.batchesBySize).toBe(2);
    expect(bb.counters.batchesByTimeout).toBe(0);
    const sums = await bb.store.byType('Sum');
    expect(sums.map((s) => s.correlationId).sort()).toEqual(['even', 'odd']);
  });

  it('flushes a partial batch on timeout, and runUntilIdle waits for it', async () => {
    const w = spec(['Item', 'Sum']);
    const bb = new Blackboard({ mode, latencyScale: 1, runtime: runtime(w) });
    bb.agent('sum').consumes('Item', { batch: { size: 10, timeoutMs: 30 } }).publishes('Sum').build();
    for (let i = 0; i < 4; i++) await bb.publish(seed('Item', `i${i}`));
    await bb.runUntilIdle();
    expect(bb.counters.batchesByTimeout).toBe(1);
    const consumed = await bb.store.consumptions();
    expect(consumed.filter((c) => c.agent === 'sum')).toHaveLength(4);
    expect(await bb.store.byType('Sum')).toHaveLength(1);
  });

  it('joins one artifact of each type by correlation key (AND gate)', async () => {
    const w = spec(['Left', 'Right', 'Pair']);
    const bb = new Blackboard({ mode, runtime: runtime(w) });
    bb.agent('pair').consumes(['Left', 'Right'], { join: { by: 'correlationId' } }).publishes('Pair').build();
    await bb.publish(seed('Left', 'l1', undefined, 'k1'));
    await bb.publish(seed('Left', 'l2', undefined, 'k2'));
    await bb.publish(seed('Right', 'r1', undefined, 'k1'));
    await bb.runUntilIdle();
    const pairs = await bb.store.byType('Pair');
    expect(pairs).toHaveLength(1);
    expect(pairs[0].correlationId).toBe('k1');
    expect(bb.queueDepth().pending).toBe(1); // l2 still waits for its Right
  });

  it('never runs more than maxConcurrency executions of an agent at once', async () => {
    const w = spec(['Job', 'Done']);
    const bb = new Blackboard({ mode, runtime: runtime(w) });
    bb.agent('worker').consumes('Job').publishes('Done').maxConcurrency(3).build();
    let running = 0, peak = 0;
    bb.setHandler(async (agent, inputs) => {
      running++;
      peak = Math.max(peak, running);
      await sleep(2);
      running--;
      return [makeArtifact({ key: `d(${inputs[0].key})`, type: 'Done', payload: { text: 'done!' }, producedBy: agent.name, correlationId: inputs[0].correlationId }, 0)];
    });
    for (let i = 0; i < 20; i++) await bb.publish(seed('Job', `j${i}`));
    await bb.runUntilIdle();
    expect(peak).toBe(3);
    expect(bb.peakRunning().worker).toBe(3);
    expect(await bb.store.byType('Done')).toHaveLength(20);
  });

  it('trips the circuit breaker on runaway self-triggering', async () => {
    const w = spec(['Loop']);
    const bb = new Blackboard({ mode, maxAgentIterations: 25, runtime: runtime(w, [], 0) });
    bb.agent('looper').consumes('Loop').publishes('Loop').allowSelfTrigger().build();
    await bb.publish(seed('Loop', 'start'));
    await bb.runUntilIdle();
    expect(bb.counters.circuitBreaks).toBe(1);
    expect(bb.counters.executions).toBe(25);
    const errs = await bb.store.byType(ERROR_TYPE);
    expect(errs.map((e) => e.key)).toEqual(['circuit-breaker:looper']);
  });

  it('does not self-trigger by default', async () => {
    const w = spec(['Loop']);
    const bb = new Blackboard({ mode, runtime: runtime(w, [], 0) });
    bb.agent('looper').consumes('Loop').publishes('Loop').build();
    await bb.publish(seed('Loop', 'start'));
    await bb.runUntilIdle();
    expect(bb.counters.executions).toBe(1);
  });

  it('turns an agent failure into a WorkflowError artifact and lets the rest continue', async () => {
    const w = spec(['Job', 'Done']);
    w.agents = [];
    const bb = new Blackboard({ mode, runtime: runtime(w) });
    bb.addAgent({ name: 'worker', consumes: { types: ['Job'] }, publishes: 'Done', maxConcurrency: 2, model: 'gpt-4.1-mini', promptTokens: 10, outputTokens: 10, failWhen: { inputKeyIncludes: 'j2' } });
    for (let i = 0; i < 5; i++) await bb.publish(seed('Job', `j${i}`));
    await bb.runUntilIdle();
    expect(await bb.store.byType('Done')).toHaveLength(4);
    const errs = await bb.store.byType(ERROR_TYPE);
    expect(errs).toHaveLength(1);
    expect(errs[0].payload.error).toMatch(/simulated failure/);
  });
});

describe('eager vs deferred', () => {
  it('deferred publish does not start work before runUntilIdle; eager does', async () => {
    const w = spec(['Job', 'Done']);
    for (const mode of modes) {
      const bb = new Blackboard({ mode, runtime: runtime(w) });
      bb.agent('worker').consumes('Job').publishes('Done').build();
      await bb.publish(seed('Job', 'j'));
      expect(bb.queueDepth().inFlight).toBe(mode === 'eager' ? 1 : 0);
      await bb.runUntilIdle();
      expect(bb.queueDepth()).toEqual({ pending: 0, inFlight: 0 });
    }
  });

  it('reach the same final artifacts', async () => {
    const w = spec(['A', 'B', 'C']);
    const finals: string[][] = [];
    for (const mode of modes) {
      const bb = new Blackboard({ mode, runtime: runtime(w) });
      bb.agent('x').consumes('A').publishes('B').maxConcurrency(4).build();
      bb.agent('y').consumes('A').publishes('B').build();
      bb.agent('z').consumes('B', { batch: { size: 2, timeoutMs: 60_000, by: 'correlationId' } }).publishes('C').build();
      for (let i = 0; i < 10; i++) await bb.publish(seed('A', `a${i}`));
      await bb.runUntilIdle();
      finals.push(multisetHash(await bb.store.byType('C')));
    }
    expect(finals[0]).toHaveLength(10);
    expect(finals[0]).toEqual(finals[1]);
  });
});

describe('deferred dispatch in bounded windows (dispatchChunk)', () => {
  it('keeps running + queued executions under the chunk and reaches the same final artifacts', async () => {
    const w = spec(['A', 'B', 'C']);
    const run = async (dispatchChunk?: number) => {
      const bb = new Blackboard({ mode: 'deferred', dispatchChunk, runtime: runtime(w) });
      bb.agent('x').consumes('A').publishes('B').maxConcurrency(1000).build();
      bb.agent('y').consumes('B').publishes('C').maxConcurrency(3).build();
      let outstanding = 0;
      const inner = (bb as unknown as { handler: (a: never, i: never) => Promise<Artifact[]> }).handler;
      bb.setHandler(async (agent, inputs) => {
        const d = bb.queueDepth();
        outstanding = Math.max(outstanding, d.inFlight);
        return inner(agent as never, inputs as never);
      });
      for (let i = 0; i < 200; i++) await bb.publish(seed('A', `a${i}`));
      await bb.runUntilIdle();
      return { finals: multisetHash(await bb.store.byType('C')), peak: bb.counters.peakInFlight, outstanding, dispatches: bb.counters.dispatchBatches };
    };
    const unbounded = await run();
    const chunked = await run(10);
    expect(unbounded.finals).toHaveLength(200);
    expect(chunked.finals).toEqual(unbounded.finals);
    // Unbounded starts every x at once (maxConcurrency 1000 > 200 tasks); the chunk caps it.
    expect(unbounded.peak).toBeGreaterThanOrEqual(200);
    // A finishing x starts its y before its own slot is released: the bound is chunk + fan-out (1).
    expect(chunked.peak).toBeLessThanOrEqual(11);
    expect(chunked.outstanding).toBeLessThanOrEqual(11);
    expect(chunked.dispatches).toBe(1);
  });
});
