// `flockbench chaos` storing: one chaos row per mode and one faults row per fault event, through
// the declared schema, without a broker (the outcome is built by hand).
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ResultsDb } from '../harness/results/db.ts';
import { checkWorkload, expectedKeys } from '../harness/chaos/checker.ts';
import { faultSchedule, saveRunLog, type ChaosOutcome } from '../harness/chaos/run.ts';
import { buildWorkload } from '../workloads/registry.ts';
import { pulsarVerdict, storeChaos, verdict } from './chaos.ts';

function outcome(mode: ChaosOutcome['mode'], runId: string): ChaosOutcome {
  const w = buildWorkload('map', { tasks: 4, depth: 2 });
  // Exactly what the workload must produce, once each.
  const observed = [...expectedKeys(w)].flatMap(([type, keys]) => keys.map((key) => ({ type, key })));
  const check = checkWorkload(w, observed);
  return {
    runId, startedAt: '2026-11-30T04:00:00.000Z', mode, nodes: 3, tasks: 4, depth: 2, seed: 5, latencyScale: 0.05,
    kills: 1, schedule: faultSchedule(w, { kills: 1, workerCrashes: 1, seed: 5, nodes: 3 }), hitLimit: false, unresolvedPartitions: 0, dlq: 0,
    recoveries: 1, workerCrashes: 1, makespanMs: 1234, check, counters: { commits: 3 },
    events: [
      { atMs: 100, kind: 'worker-crash', detail: 'after producing, before commit', target: 'task-1', progress: 0.1 },
      { atMs: 200, kind: 'kill', detail: 'node 2 (SIGKILL)', target: '1', progress: 0.4 },
      { atMs: 2500, kind: 'restarted', detail: 'node 2, cluster healthy', target: '1', progress: 0.5 },
    ],
  };
}

describe('chaos results', () => {
  it('stores each mode as a chaos row and its faults as rows (time, kind, target), in order', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'fb-chaos-')), 'c.duckdb');
    await storeChaos(path, [outcome('exactly-once', 'eo-1')], { env: {} });
    await storeChaos(path, [outcome('at-least-once', 'al-1')], { env: {} });
    const db = await ResultsDb.open(path);
    try {
      const rows = await db.query<{ run_id: string; mode: string; kills: number; lost: number }>('SELECT run_id, mode, kills, lost FROM chaos ORDER BY run_id');
      expect(rows.map((r) => r.mode)).toEqual(['at-least-once', 'exactly-once']);
      const faults = await db.query<{ run_id: string; seq: number; at_ms: number; kind: string; target: string }>('SELECT run_id, seq, at_ms, kind, target FROM faults ORDER BY run_id, seq');
      expect(faults).toHaveLength(6);
      expect(faults.filter((f) => f.run_id === 'eo-1').map((f) => [f.seq, f.at_ms, f.kind, f.target])).toEqual([
        [0, 100, 'worker-crash', 'task-1'],
        [1, 200, 'kill', '1'],
        [2, 2500, 'restarted', '1'],
      ]);
    } finally {
      db.close();
    }
  });

  it('the verdict reports losses; a clean run says so', () => {
    const clean = outcome('exactly-once', 'x');
    expect(verdict(clean)).toMatch(/exactly once under 1 broker kill\(s\), 1 worker crash\(es\): 0 lost, 0 duplicated/);
  });
});

const pulsarOutcome = (lost: number, duplicated: number, runId = 'r'): ChaosOutcome => ({
  runId, startedAt: '2026-01-01T00:00:00Z', mode: 'at-least-once', nodes: 1, tasks: 100, depth: 2, seed: 1, latencyScale: 0.05,
  kills: 1, schedule: { kills: [{ afterMs: 1500, from: 'open', node: 0 }], crashKeys: [] }, hitLimit: false, unresolvedPartitions: 0, dlq: 0,
  recoveries: 1, workerCrashes: 0, makespanMs: 1000, counters: {},
  // As pulsar.ts records them: the standalone is node 0, and no progress is known mid-run.
  events: [
    { atMs: 1500, kind: 'kill', detail: 'standalone (SIGKILL): broker, bookie and WebSocket service', target: '0' },
    { atMs: 48_000, kind: 'restarted', detail: 'healthy after 45.0 s', target: '0' },
  ],
  check: { exact: lost === 0 && duplicated === 0, byType: [], totals: { expected: 300, observed: 300 - lost + duplicated, lost, duplicated, extraRecords: duplicated, unexpected: 0 } },
});

describe('flockbench chaos --broker pulsar', () => {
  it('labels the row at-least-once and never reads a clean run as exactly-once', () => {
    const clean = pulsarVerdict(pulsarOutcome(0, 0));
    expect(clean).toMatch(/^pulsar at-least-once \(no transactions/);
    expect(clean).not.toMatch(/exactly once/);
    expect(clean).toMatch(/allows but does not promise/);
    expect(pulsarVerdict(pulsarOutcome(0, 4))).toMatch(/0 lost, 4 duplicated/);
  });

  it('a run at its time limit, or with dead-lettered inputs, says so', () => {
    const r = { ...pulsarOutcome(2, 0), hitLimit: true, dlq: 3, error: 'run exceeded 900000 ms' };
    expect(pulsarVerdict(r)).toMatch(/AT ITS TIME LIMIT: 2 lost, 0 duplicated, 0 unexpected \(run failed: run exceeded 900000 ms\); 3 dead-lettered$/);
    expect(pulsarVerdict({ ...pulsarOutcome(0, 0), error: 'boom' })).not.toMatch(/allows but does not promise/);
  });

  it('stores the row with its timed schedule and its faults as rows (target node 0, no progress)', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'fb-chaos-')), 'c.duckdb');
    await storeChaos(path, [pulsarOutcome(0, 2, 'pulsar-1')], { env: {}, broker: 'pulsar' });
    const db = await ResultsDb.open(path);
    try {
      const [row] = await db.query<{ mode: string; env: string }>('SELECT mode, CAST(env AS VARCHAR) AS env FROM chaos');
      expect(row!.mode).toBe('at-least-once');
      const env = JSON.parse(row!.env) as { broker: string; schedule: unknown; dlq: number; unresolvedPartitions: number };
      expect(env).toMatchObject({ broker: 'pulsar', dlq: 0, unresolvedPartitions: 0, schedule: { kills: [{ afterMs: 1500, from: 'open', node: 0 }] } });
      const faults = await db.query<{ seq: number; kind: string; target: string; progress: number | null }>('SELECT seq, kind, target, progress FROM faults ORDER BY seq');
      expect(faults.map((f) => [f.seq, f.kind, f.target, f.progress])).toEqual([[0, 'kill', '0', null], [1, 'restarted', '0', null]]);
    } finally {
      db.close();
    }
  });
});

describe('flockbench chaos --keep-evidence', () => {
  const cli = (...args: string[]) => spawnSync(process.execPath, ['bin/flockbench.mjs', 'chaos', ...args], { encoding: 'utf8', timeout: 60_000 });

  // Refusals raised in the action, not by an option parser: they printed nothing before (exit 2, empty stderr).
  it.each([
    ['--keep-evidence with --broker pulsar', ['--broker', 'pulsar', '--kills', '1', '--keep-evidence', 'ev'], /--keep-evidence needs a directory and --broker kafka/],
    ['--keep-evidence with an empty directory', ['--keep-evidence', ''], /--keep-evidence needs a directory and --broker kafka/],
    ['an unknown --mode', ['--mode', 'nope'], /--mode must be both\|exactly-once\|at-least-once/],
    ['--nodes 2', ['--nodes', '2'], /--nodes must be 1 or 3/],
  ])('%s: exit 2, one line naming the fix, before any broker starts or anything is stored', (_, args, msg) => {
    const db = join(mkdtempSync(join(tmpdir(), 'fb-chaos-ev-')), 'c.duckdb');
    const r = cli(...args, '--db', db);
    expect(r.status).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(msg);
    expect(existsSync(db)).toBe(false);
  });
});

describe('saveRunLog', () => {
  it('copies every node\'s partitions of the run and the transaction and offset logs, not other runs', () => {
    const base = mkdtempSync(join(tmpdir(), 'fb-chaos-dir-'));
    const dest = mkdtempSync(join(tmpdir(), 'fb-chaos-ev-'));
    for (const node of ['node-1', 'node-2']) {
      for (const d of ['fb.run1.Stage1-0', 'fb.run1.Stage1-1', 'fb.run2.Stage1-0', '__transaction_state-3', '__consumer_offsets-7']) {
        mkdirSync(join(base, node, 'data', d), { recursive: true });
        writeFileSync(join(base, node, 'data', d, '00000000000000000000.log'), d);
      }
    }
    const w = buildWorkload('map', { tasks: 1, depth: 1 });
    const dir = saveRunLog(base, { runId: 'run1', topics: ['fb.run1.Stage1'], check: checkWorkload(w, []) }, dest);
    expect(dir).toBe(join(dest, 'run1'));
    expect(readdirSync(join(dir, 'node-2')).sort()).toEqual(['__consumer_offsets-7', '__transaction_state-3', 'fb.run1.Stage1-0', 'fb.run1.Stage1-1']);
    expect(readFileSync(join(dir, 'node-1', 'fb.run1.Stage1-1', '00000000000000000000.log'), 'utf8')).toBe('fb.run1.Stage1-1');
    expect(JSON.parse(readFileSync(join(dir, 'check.json'), 'utf8')).check.totals.lost).toBeGreaterThan(0);
  });
});
