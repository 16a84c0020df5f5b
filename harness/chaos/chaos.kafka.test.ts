// Needs real brokers: starts its own 3-node KRaft cluster in .brokers/kafka-chaos (ports
// 19092/29092/39092, shifted by FLOCKBENCH_KAFKA_PORT_OFFSET, apart from `brokers up`) and
// stops it afterwards. Worker crashes only: broker kills complete through worker restarts
// (restartFailedWorkers, system.ts), but each adds 15-60 s on a loaded 2-core machine;
// `flockbench chaos --kills 2 --runs N` runs them.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { statusKafka, stopKafka } from '../../brokers/kafka/cluster.ts';
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

describe('chaos: an interrupted experiment', () => {
  it.each(['SIGINT', 'SIGTERM'] as const)('%s stops the command and the cluster it started', async (sig) => {
    await stopKafka(CHAOS_KAFKA_DIR);
    const db = join(mkdtempSync(join(tmpdir(), 'fb-chaos-sig-')), 'c.duckdb');
    const child = spawn(process.execPath, ['bin/flockbench.mjs', 'chaos', '--nodes', '1', '--tasks', '400', '--worker-crashes', '0', '--latency-scale', '0.2', '--db', db], { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr!.on('data', (b: Buffer) => { err += b.toString(); });
    const exited = new Promise<number | null>((r) => child.once('exit', (c) => r(c)));
    // Interrupt once the cluster is up (and a moment later, the first run under way).
    for (let i = 0; i < 900 && !statusKafka(CHAOS_KAFKA_DIR).nodes.some((n) => n.alive); i++) await new Promise((r) => setTimeout(r, 200));
    await new Promise((r) => setTimeout(r, 3000));
    const alive = statusKafka(CHAOS_KAFKA_DIR).nodes.filter((n) => n.alive).map((n) => n.pid);
    expect(alive.length, err).toBeGreaterThan(0);
    child.kill(sig);
    expect(await exited).toBe(sig === 'SIGINT' ? 130 : 143);
    expect(err).toMatch(new RegExp(`${sig}, stopping`));
    // The very processes that were running are gone, or zombies (dead, waiting to be reaped by
    // whoever inherited them; a container's PID 1 may never reap them), not only their pid files.
    const running = (pid: number) => /^[^Z]/.test(spawnSync('ps', ['-o', 'stat=', '-p', String(pid)], { encoding: 'utf8' }).stdout.trim());
    const pids = alive.filter((pid): pid is number => pid !== undefined);
    for (let i = 0; i < 50 && pids.some(running); i++) await new Promise((r) => setTimeout(r, 100));
    expect(pids.filter(running)).toEqual([]);
    expect(statusKafka(CHAOS_KAFKA_DIR).nodes.filter((n) => n.alive)).toEqual([]);
  }, 240_000);
});
