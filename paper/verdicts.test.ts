import { describe, expect, it } from 'vitest';
import { ResultsDb } from '../harness/results/db.ts';
import { insertArm, insertRun, noise, seedEffect, type SyntheticRun } from './synthetic.ts';
import { checkReplication, computeVerdicts, toRecord, type Verdicts } from './verdicts.ts';

const seeds = (from: number, n: number) => Array.from({ length: n }, (_, i) => from + i);
const h1 = { matrix: 'h1', workloadParams: { analysts: 8, tasks: 4, arrival: 'all-at-once' } };
const family = (v: Verdicts, id: string) => v.families.find((f) => f.id === id)!;

async function db(fill: (db: ResultsDb) => Promise<void>): Promise<Verdicts> {
  const d = await ResultsDb.open(':memory:');
  try {
    await fill(d);
    return await computeVerdicts(d);
  } finally {
    d.close();
  }
}

describe('verdicts from paired runs', () => {
  it('H1: a clearly slower graph form is supported; an equivalent eager is refuted (equivalent); seeds pair across arms', async () => {
    const v = await db(async (d) => {
      const s = seeds(1, 10);
      await insertArm(d, { ...h1, system: 'blackboard-deferred' }, s, (x) => 1000 * seedEffect(x) * noise(x, 1));
      await insertArm(d, { ...h1, system: 'langgraph-per-item' }, s, (x) => 1300 * seedEffect(x) * noise(x, 2));
      await insertArm(d, { ...h1, system: 'blackboard-eager' }, s, (x) => 1000 * seedEffect(x) * noise(x, 3));
    });
    const perItem = family(v, 'H1 langgraph-per-item');
    expect(perItem.verdict).toBe('supported');
    const c = perItem.comparisons[0]!;
    expect(c).toMatchObject({ n: 10, sessions: 2, decided: true, decision: 'supported' });
    // The seed effect cancels in the pairs: a tight interval around 1.3.
    expect(c.estimate).toBeGreaterThan(1.28);
    expect(c.estimate).toBeLessThan(1.32);
    expect(c.ci[1] - c.ci[0]).toBeLessThan(0.05);
    const eager = family(v, 'H1b');
    expect(eager.comparisons[0]!.decision).toBe('refuted-equivalent');
    expect(eager.verdict).toBe('refuted');
  });

  it('decides only with enough pairs from more than one session; shows the rest', async () => {
    const v = await db(async (d) => {
      await insertArm(d, { ...h1, system: 'blackboard-deferred' }, seeds(1, 10), (x) => 1000 * seedEffect(x), 1);
      await insertArm(d, { ...h1, system: 'langgraph-parallel' }, seeds(1, 10), (x) => 1500 * seedEffect(x), 1);
      await insertArm(d, { ...h1, system: 'langgraph-stepwise' }, seeds(1, 5), (x) => 5000 * seedEffect(x), 2);
    });
    for (const id of ['H1 langgraph-parallel', 'H1 langgraph-stepwise']) {
      const f = family(v, id);
      expect(f.verdict).toBe('not decided');
      expect(f.comparisons[0]!.decided).toBe(false);
      expect(f.comparisons[0]!.reason).toMatch(/not decided: \d+ pair\(s\) from \d session/);
    }
  });

  it('never pools parameter sets: each is its own arm; a repeated seed is dropped and counted; loaded and erred runs are left out', async () => {
    const v = await db(async (d) => {
      const s = seeds(1, 10);
      await insertArm(d, { ...h1, system: 'langgraph-per-item' }, s, (x) => 1300 * seedEffect(x));
      await insertArm(d, { ...h1, system: 'blackboard-deferred', systemParams: { batchWindowMs: 0 } }, s, (x) => 1000 * seedEffect(x));
      await insertArm(d, { ...h1, system: 'blackboard-deferred', systemParams: { batchWindowMs: 2000 } }, s, (x) => 1400 * seedEffect(x));
      await insertRun(d, { ...h1, system: 'langgraph-per-item', seed: 1, session: 's3', makespanMs: 99, startedAt: '2026-02-01T00:00:00Z' });
      await insertRun(d, { ...h1, system: 'langgraph-per-item', seed: 11, session: 's2', makespanMs: 1300, loadStart: 9 });
      // A run whose agents failed finished fast because it did less: never compared.
      await insertRun(d, { ...h1, system: 'langgraph-per-item', seed: 12, session: 's2', makespanMs: 10, errors: 4 });
      await insertRun(d, { ...h1, system: 'blackboard-deferred', systemParams: { batchWindowMs: 0 }, seed: 12, session: 's2', makespanMs: 1000 });
    });
    const cs = family(v, 'H1 langgraph-per-item').comparisons;
    expect(cs.map((c) => c.den).sort()).toEqual(['blackboard-deferred', 'blackboard-deferred batchWindowMs=2000']);
    expect(cs.map((c) => c.decision).sort()).toEqual(['refuted', 'supported']);
    expect(cs.every((c) => c.duplicates === 1 && c.n === 10)).toBe(true);
    expect(v.loaded).toHaveLength(1);
    expect(v.erred.map((r) => [r.system, r.seed, r.errors])).toEqual([['langgraph-per-item', 12, 4]]);
    // Bonferroni over the two decided comparisons of the family.
    expect(family(v, 'H1 langgraph-per-item')).toMatchObject({ m: 2, level: 0.975, verdict: 'mixed' });
  });

  it('H2: efficiency against the in-memory blackboard at equal slots, paired by seed, per delivery and layout; balanced keys at latency x1 only', async () => {
    const k = (partitions: number, delivery: string, over: Record<string, unknown> = {}) => ({ matrix: 'h2', system: 'blackboard-kafka', workload: 'map', workloadParams: { tasks: 400, depth: 1 }, tasks: 400, systemParams: { partitions, consumers: partitions, processes: 0, delivery, keying: 'balanced', maxInFlight: 4, ...over } });
    const mem = (agentConcurrency: number) => ({ matrix: 'h2', system: 'blackboard-eager', workload: 'map', workloadParams: { tasks: 400, depth: 1 }, tasks: 400, systemParams: { agentConcurrency } });
    const v = await db(async (d) => {
      const s = seeds(1, 10);
      await insertArm(d, mem(4), s, (x) => 10_000 * seedEffect(x));
      await insertArm(d, mem(16), s, (x) => 2600 * seedEffect(x));
      // p x throughput(1) is not the decision's ideal any more: the p=1 arms are only shown.
      for (const delivery of ['at-least-once', 'exactly-once']) await insertArm(d, k(1, delivery), s, (x) => 10_500 * seedEffect(x));
      await insertArm(d, k(4, 'at-least-once'), s, (x) => (2600 / 0.92) * seedEffect(x) * noise(x, 4));
      await insertArm(d, k(4, 'exactly-once'), s, (x) => (2600 / 0.5) * seedEffect(x) * noise(x, 5));
      // Correlation keys (the old layout) are not judged.
      await insertArm(d, k(4, 'at-least-once', { keying: 'correlation' }), s, (x) => 2600 * 3 * seedEffect(x));
    });
    const alo = family(v, 'H2 at-least-once').comparisons;
    expect(alo).toHaveLength(1);
    expect(alo[0]!.den).toBe('blackboard-eager agentConcurrency=16');
    expect(alo[0]!.estimate).toBeCloseTo(0.92, 1);
    expect(alo[0]!.decision).toBe('supported');
    expect(family(v, 'H2 exactly-once').comparisons[0]!.decision).toBe('refuted');
  });

  it('H2 is not judged away from the decision latency', async () => {
    const at = (latencyScale: number, system: string, systemParams: Record<string, unknown>) => ({ matrix: 'h2', system, workload: 'map', workloadParams: { tasks: 400, depth: 1 }, tasks: 400, latencyScale, systemParams });
    const v = await db(async (d) => {
      const s = seeds(1, 10);
      await insertArm(d, at(0.05, 'blackboard-eager', { agentConcurrency: 16 }), s, (x) => 130 * seedEffect(x));
      await insertArm(d, at(0.05, 'blackboard-kafka', { partitions: 4, consumers: 4, processes: 0, delivery: 'at-least-once', keying: 'balanced', maxInFlight: 4 }), s, (x) => 200 * seedEffect(x));
    });
    expect(family(v, 'H2 at-least-once').comparisons).toHaveLength(0);
  });

  it('H3: batched (coalesceTasks N > 1) vs the same configuration with one call per task, per arm and load, on P95 and P99, open loop only', async () => {
    const open = (coalesceTasks: number, ratePerSec: number, coalesceWindowMs = 500) => ({ matrix: 'h3', workload: 'mixed', tasks: 300, workloadParams: { tasks: 300, coalesce: true, coalesceTasks, coalesceWindowMs, arrival: 'trace', ratePerSec } });
    // Tails scale with the seed effect; makespan does not matter to H3.
    const arm = async (d: ResultsDb, base: Omit<SyntheticRun, 'seed' | 'makespanMs' | 'session'>, factor: number, salt: number) => {
      for (const [i, seed] of seeds(1, 10).entries()) {
        const p95 = 4000 * factor * seedEffect(seed) * noise(seed, salt);
        await insertRun(d, { ...base, seed, session: `s${1 + (i % 2)}`, makespanMs: 100_000, p95Ms: p95, p99Ms: 1.5 * p95 });
      }
    };
    const v = await db(async (d) => {
      for (const system of ['blackboard-eager', 'blackboard-deferred']) {
        // Light load: batching only waits (its window). Past the limit: it cuts the tail by 30%.
        // Each unbatched twin has its own level, so a batched arm matched to the wrong twin shows.
        await arm(d, { ...open(1, 30.5), system }, 1, 1);
        await arm(d, { ...open(8, 30.5), system }, 1.25, 2);
        await arm(d, { ...open(1, 71), system }, 3, 3);
        await arm(d, { ...open(8, 71), system }, 2.1, 4);
      }
      // A batched configuration with no unbatched twin (another window there) is not compared; nor closed loop.
      await arm(d, { ...open(8, 50, 900), system: 'blackboard-eager' }, 0.5, 5);
      await arm(d, { ...h1, workloadParams: { ...h1.workloadParams, coalesceTasks: 1 }, system: 'blackboard-eager' }, 1, 6);
      await arm(d, { ...h1, workloadParams: { ...h1.workloadParams, coalesceTasks: 8 }, system: 'blackboard-eager' }, 0.5, 7);
    });
    for (const id of ['H3 p95', 'H3 p99']) {
      const f = family(v, id);
      // 2 loads x 2 arms, each batched arm against its own unbatched twin.
      expect(f.comparisons).toHaveLength(4);
      expect(f.comparisons.every((c) => c.num === `${c.den.replace(', coalesceTasks=1', '')}, batched` && c.n === 10 && c.decided)).toBe(true);
      for (const c of f.comparisons) {
        const heavy = /ratePerSec=71/.test(c.config);
        expect(c.decision).toBe(heavy ? 'supported' : 'refuted');
        expect(c.estimate).toBeCloseTo(heavy ? 0.7 : 1.25, 1);
      }
      expect(f).toMatchObject({ hypothesis: 'H3', m: 4, level: 0.9875, verdict: 'mixed' });
    }
  });

  it("the tutorial's parallel analysts: decided on Flock as shipped (engine dspy) from LLM time over the analyst phase, not from overlapping execution intervals", async () => {
    const analysts = ['world_analyst', 'technology_analyst', 'business_analyst', 'sports_analyst'];
    const wl = { workloadParams: { analysts: 4, tasks: 1, arrival: 'all-at-once' }, matrix: 'h1-shipped', tasks: 1 };
    const v = await db(async (d) => {
      for (const [i, seed] of seeds(1, 10).entries()) {
        const call = (j: number) => 1000 * seedEffect(seed + j);
        // As shipped: every execution starts at once (the blocked loop), the calls are served one by one.
        let t = 0;
        const serial = analysts.map((agent, j) => { t += call(j); return { agent, startMs: 0, endMs: t, llmMs: call(j) }; });
        await insertRun(d, { ...wl, system: 'flock-real', systemParams: { engine: 'dspy' }, seed, session: `s${1 + (i % 2)}`, makespanMs: t + 500, executions: serial });
        // Idealized: together. Shown in the table, not decided.
        const parallel = analysts.map((agent, j) => ({ agent, startMs: 5, endMs: 5 + call(j), llmMs: call(j) }));
        await insertRun(d, { ...wl, system: 'flock-real', systemParams: { engine: 'http' }, seed, session: `s${1 + (i % 2)}`, makespanMs: 1800, executions: parallel });
      }
    });
    const f = family(v, 'H1 tutorial');
    expect(f.comparisons).toHaveLength(1);
    const c = f.comparisons[0]!;
    expect(c.num).toMatch(/^flock-real engine=dspy: longest analyst LLM time$/);
    expect(c).toMatchObject({ n: 10, decided: true, decision: 'refuted' });
    expect(c.estimate).toBeGreaterThan(0.25);
    expect(c.estimate).toBeLessThan(0.4);
    expect(f.verdict).toBe('refuted');
  });

  it('H2 on Pulsar: the same efficiency rule per subscription type at consumers = partitions, and Shared with more consumers than partitions in a family of its own', async () => {
    const pl = (partitions: number, subscription: string, consumers = partitions, processes = 0) => ({ matrix: 'h2-pulsar', system: 'blackboard-pulsar', workload: 'map', workloadParams: { tasks: 400, depth: 1 }, tasks: 400, systemParams: { partitions, consumers, processes, subscription, keying: 'balanced', maxInFlight: 4 } });
    const mem = (agentConcurrency: number) => ({ matrix: 'h2-pulsar', system: 'blackboard-eager', workload: 'map', workloadParams: { tasks: 400, depth: 1 }, tasks: 400, systemParams: { agentConcurrency } });
    const v = await db(async (d) => {
      const s = seeds(1, 10);
      await insertArm(d, mem(16), s, (x) => 2600 * seedEffect(x));
      await insertArm(d, mem(64), s, (x) => 700 * seedEffect(x));
      for (const sub of ['Failover', 'Shared']) await insertArm(d, pl(1, sub), s, (x) => 10_000 * seedEffect(x));
      await insertArm(d, pl(4, 'Failover'), s, (x) => (2600 / 0.9) * seedEffect(x) * noise(x, 6));
      await insertArm(d, pl(16, 'Failover'), s, (x) => (700 / 0.4) * seedEffect(x) * noise(x, 7));
      await insertArm(d, pl(4, 'Shared'), s, (x) => (2600 / 0.95) * seedEffect(x) * noise(x, 8));
      // Worker-process layout: 4 processes x 1 consumer at p = 4: the same 16 slots.
      await insertArm(d, pl(4, 'Shared', 1, 4), s, (x) => (2600 / 0.85) * seedEffect(x) * noise(x, 9));
      // More consumers than partitions: judged by its own family, never by the p = consumers ones.
      await insertArm(d, pl(4, 'Shared', 16), s, (x) => 1000 * seedEffect(x));
      await insertArm(d, pl(1, 'Shared', 16), s, (x) => (700 / 0.95) * seedEffect(x) * noise(x, 10));
      // Failover with more consumers than partitions leaves the extra consumers idle: no family's.
      await insertArm(d, pl(1, 'Failover', 16), s, (x) => 10_000 * seedEffect(x));
      await insertArm(d, pl(4, 'Failover', 16), s, (x) => 2600 * seedEffect(x));
      // Shared beyond partitions in worker processes: not the family's claim (one process).
      await insertArm(d, pl(4, 'Shared', 4, 4), s, (x) => 700 * seedEffect(x));
    });
    const where = (c: { config: string }) => { const x = c.config.split(', '); return `${x.at(-3)}, ${x.at(-1)}`; };
    const failover = family(v, 'H2 pulsar Failover');
    // The idle-consumer Failover arm (4 partitions, 16 consumers) is in no family.
    expect(failover.comparisons.map((c) => [where(c), c.decision])).toEqual([['one-process, p=4', 'supported'], ['one-process, p=16', 'refuted']]);
    expect(failover.comparisons[0]!.estimate).toBeCloseTo(0.9, 1);
    expect(failover.verdict).toBe('mixed');
    const shared = family(v, 'H2 pulsar Shared');
    expect(shared.comparisons).toHaveLength(2);
    expect(shared.comparisons.every((c) => c.decision === 'supported')).toBe(true);
    expect(shared.comparisons.map((c) => c.config.split(', ').at(-3)).sort()).toEqual(['one-process', 'worker-processes']);
    // Shared beyond partitions: 16 consumers x 4 in flight against the in-memory blackboard at 64 slots, at p in {1, 4}.
    const beyond = family(v, 'H2 pulsar Shared beyond partitions');
    expect(beyond.comparisons.map((c) => [where(c), c.decision])).toEqual([['one-process, p=1', 'supported'], ['one-process, p=4', 'refuted']]);
    expect(beyond.comparisons[1]!.estimate).toBeCloseTo(0.7, 2);
    expect(beyond.comparisons.every((c) => c.den.includes('agentConcurrency=64'))).toBe(true);
    expect(beyond.verdict).toBe('mixed');
    // Kafka's families see none of it.
    expect(family(v, 'H2 at-least-once').comparisons).toHaveLength(0);
  });

  it('replication check: held decisions pass; a flip between supported and refuted fails; reused seeds fail', async () => {
    const fill = (from: number, n: number, factor: number, sessions = 2) => async (d: ResultsDb) => {
      await insertArm(d, { ...h1, system: 'blackboard-deferred' }, seeds(from, n), (x) => 1000 * seedEffect(x) * noise(x, 1), sessions);
      await insertArm(d, { ...h1, system: 'langgraph-per-item' }, seeds(from, n), (x) => 1000 * factor * seedEffect(x) * noise(x, 2), sessions);
    };
    const recorded = toRecord(await db(fill(1, 10, 1.3)));
    const fresh = async (from: number, factor: number) => {
      const d = await ResultsDb.open(':memory:');
      try {
        await fill(from, 4, factor, 1)(d);
        return await computeVerdicts(d, { minPairs: 3, minSessions: 1, recordedM: new Map(recorded.families.map((f) => [f.id, f.m])) });
      } finally {
        d.close();
      }
    };
    const held = checkReplication(recorded, await fresh(1_000_000, 1.3));
    expect(held.ok).toBe(true);
    expect(held.lines.find((l) => l.id.startsWith('H1 langgraph-per-item'))!.status).toBe('held');
    const flipped = checkReplication(recorded, await fresh(1_000_000, 0.7));
    expect(flipped.ok).toBe(false);
    expect(flipped.lines.find((l) => l.id.startsWith('H1 langgraph-per-item'))!.status).toBe('FLIPPED');
    const reused = checkReplication(recorded, await fresh(5, 1.3));
    expect(reused.ok).toBe(false);
    expect(reused.seedOverlap).toEqual([5, 6, 7, 8]);
  });
});
