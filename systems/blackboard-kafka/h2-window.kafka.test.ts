// Needs a real broker: starts a single-node KRaft cluster unless one is up (see useKafka).
// What H2 measures (issue 15): balanced keys, the per-partition record counts the run reports,
// the partition-aware bound, a window that opens only once every consumer can fetch (no start
// race) and ends at the last commit (no idle-poll tail).
import { cpus, loadavg } from 'node:os';
import { describe, expect, it } from 'vitest';
import { useKafka } from '../../brokers/kafka/testing.ts';
import { listEnds } from '../../brokers/kafka/client.ts';
import { runOnce } from '../../harness/runner/run-once.ts';
import { buildWorkload } from '../../workloads/registry.ts';
import { typeTopic } from '../blackboard/stores/kafka/layout.ts';
import { blackboardKafkaSystem, type KafkaRunHandle } from './system.ts';

const kafka = useKafka();
const SCALE = 0.02;
/**
 * The first execution starts within this of the window opening: publish (one produce round
 * trip) plus one fetch (maxWaitTime 50 ms), with room for a loaded 2-core machine; the start
 * race it guards against kept consumers idle for 350-480 ms.
 */
const FIRST_START_BOUND_MS = 250;
/**
 * On a machine loaded far past its cores (other suites, soaks) a 250 ms timing is noise; the
 * bound is then relaxed to this (still catching a consumer that never started fetching), and
 * the deterministic check (every consumer's fetch positions cover its partitions when the
 * window opens) carries the test.
 */
const FIRST_START_BOUND_LOADED_MS = 1500;

async function run(systemParams: Record<string, unknown>, tasks = 64, seed = 7) {
  let handle: KafkaRunHandle | undefined;
  let topic = '';
  /** At the window's opening: consumers that own a partition without a fetch position for it. */
  const unpositioned: string[] = [];
  const sys = blackboardKafkaSystem('blackboard-kafka', {
    onStarted: (h) => {
      handle = h;
      topic = typeTopic(h.store.runId, 'Task');
      for (const x of [...h.workers, ...h.processes.flatMap((p) => p.consumers)]) {
        const pos = x.positions();
        for (const tp of x.assigned()) if (!pos.has(tp)) unpositioned.push(`${x.name} ${tp}`);
      }
    },
  });
  const w = buildWorkload('map', { tasks, depth: 1, maxConcurrency: 64 });
  const out = await runOnce({ system: sys, workload: w, seed, latencyScale: SCALE, timeoutMs: 90_000, systemParams: { bootstrap: kafka.bootstrap(), maxInFlight: 4, deleteTopics: false, ...systemParams } });
  const ends = await listEnds(kafka.bootstrap(), [topic]);
  await handle!.store.deleteTopics().catch(() => {});
  return { out, handle: handle!, unpositioned, ends: [...ends].filter(([tp]) => tp.startsWith(`${topic}:`)).sort().map(([tp, e]) => [Number(tp.slice(topic.length + 1)), Number(e)] as const) };
}

describe('blackboard-kafka H2 measurement', () => {
  it('balanced keying: equal records per partition, reported as the broker holds them', async () => {
    for (const keying of ['correlation', 'balanced']) {
      const { out, ends } = await run({ partitions: 4, consumers: 4, keying }, 64);
      const settings = out.params.settings as { keying: string; partitionRecords: Record<string, number[]> };
      expect(settings.keying).toBe(keying);
      const counts = settings.partitionRecords.Task!;
      expect(counts.reduce((s, x) => s + x, 0)).toBe(64);
      // The reported counts are the broker's (at-least-once: one offset per record).
      const broker = new Array(4).fill(0);
      for (const [p, e] of ends) broker[p] = e;
      expect(counts).toEqual(broker);
      if (keying === 'balanced') expect(counts).toEqual([16, 16, 16, 16]);
    }
  }, 180_000);

  it('the window opens when every consumer can fetch and closes at the last commit; the partition-aware bound is stored', async () => {
    for (const [i, params] of [
      { partitions: 16, consumers: 16, processes: 0, keying: 'balanced' },
      { partitions: 16, consumers: 16, processes: 0, keying: 'balanced', delivery: 'exactly-once' },
      { partitions: 8, consumers: 2, processes: 2, keying: 'balanced' },
    ].entries()) {
      const loaded = loadavg()[0]! > 2 * cpus().length;
      const { out, handle, unpositioned } = await run(params, 96, 11 + i);
      expect(unpositioned).toEqual([]);
      const firstStart = Math.min(...out.executions.map((e) => e.startMs));
      expect(firstStart).toBeGreaterThanOrEqual(0);
      if (loaded) console.warn(`machine loaded (load1 ${loadavg()[0]!.toFixed(1)} on ${cpus().length} CPUs): first start ${firstStart.toFixed(0)} ms checked against ${FIRST_START_BOUND_LOADED_MS} ms`);
      expect(firstStart).toBeLessThan(loaded ? FIRST_START_BOUND_LOADED_MS : FIRST_START_BOUND_MS);
      const lastEnd = Math.max(...out.executions.map((e) => e.endMs));
      if (handle.workers.length) {
        // In-process consumers: the window's end is exactly the latest commit of any of them.
        const lastCommit = Math.max(...handle.workers.map((x) => x.lastCommitAtMs ?? -1));
        expect(out.makespanMs).toBe(lastCommit);
      } else {
        const lastCommit = Math.max(...handle.processes.flatMap((p) => p.consumers.map((x) => x.lastCommitAtMs ?? -1)));
        expect(out.makespanMs).toBe(lastCommit);
      }
      // The last commit follows the last execution. How closely is a matter of linger and round
      // trips (an exactly-once commit took 738 ms beside a test suite): timed in benchmarks, not here.
      expect(out.makespanMs).toBeGreaterThanOrEqual(lastEnd);
      const bound = (out.params.bounds as { partitionAwareMs: number }).partitionAwareMs;
      // The bound holds the replay to 4 in flight per consumer: never below the plain ideal
      // (64 slots pooled), and the run cannot beat it.
      expect(bound).toBeGreaterThanOrEqual(out.idealMs - 1e-9);
      expect(out.makespanMs).toBeGreaterThanOrEqual(bound);
    }
  }, 300_000);
});
