// Needs real brokers: starts its own 3-node KRaft cluster in .brokers/kafka-chaos (ports
// 19092/29092/39092, shifted by FLOCKBENCH_KAFKA_PORT_OFFSET, apart from `brokers up`) and
// stops it afterwards. Worker crashes only: broker kills complete through worker restarts
// (restartFailedWorkers, system.ts), but each adds 15-60 s on a loaded 2-core machine;
// `flockbench chaos --kills 2 --runs N` runs them.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stopKafka } from '../../brokers/kafka/cluster.ts';
import { CHAOS_KAFKA_DIR, runChaos, startChaosCluster } from './run.ts';

beforeAll(async () => {
  await startChaosCluster(3);
}, 180_000);
afterAll(async () => {
  await stopKafka(CHAOS_KAFKA_DIR);
}, 60_000);

// Three crashes per mode, so one partition's log holds several aborted transactions of one
// producer: the case the client's own read-committed filter leaks (read-committed.ts).
const base = { tasks: 60, kills: 0, workerCrashes: 3, seed: 3, latencyScale: 0.02, timeoutMs: 60_000 } as const;

describe('chaos: a worker crash between produce and commit', () => {
  it('exactly-once: nothing lost, nothing duplicated (the aborted outputs stay in the log, invisible)', async () => {
    const r = await runChaos({ ...base, mode: 'exactly-once' });
    expect(r.error).toBeUndefined();
    // Every crash key crashes exactly once, whatever batch it shares: the schedule's count.
    expect(r.workerCrashes).toBe(3);
    expect(r.schedule.crashKeys).toHaveLength(3);
    expect(r.check.totals).toMatchObject({ expected: 180, lost: 0, duplicated: 0, unexpected: 0 });
    expect(r.uncommitted!.observed).toBeGreaterThan(r.check.totals.observed);
  }, 90_000);

  it('at-least-once: the checker reports the reprocessed outputs as duplicates', async () => {
    const r = await runChaos({ ...base, mode: 'at-least-once' });
    expect(r.error).toBeUndefined();
    expect(r.workerCrashes).toBe(3);
    expect(r.counters.producedNotCommitted).toBeGreaterThanOrEqual(3);
    expect(r.check.totals.lost).toBe(0);
    // The negative control is deterministic: every crash re-sends outputs already in the log,
    // at least the crash key's own output among them.
    expect(r.check.totals.duplicated).toBeGreaterThanOrEqual(3);
    expect(r.check.exact).toBe(false);
  }, 90_000);
});
