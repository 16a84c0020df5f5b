import { describe, expect, it } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { validateMatrix, expandMatrix } from '../runner/matrix.ts';
import { runMatrix } from '../runner/runner.ts';
import { summarize } from '../report.ts';
import { DuckDBInstance } from '@duckdb/node-api';
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import { ResultsDb, SCHEMA_VERSION, checkDbPath } from './db.ts';
import { appendRows, bench, executions, runs, taskLatencies } from './schema.ts';

/** The version-2 DDL as it shipped, for the migration test. */
const V2_DDL = [
  `CREATE TABLE IF NOT EXISTS meta (key VARCHAR PRIMARY KEY, value VARCHAR)`,
  `CREATE TABLE IF NOT EXISTS runs (
    run_id VARCHAR PRIMARY KEY, cell_id VARCHAR NOT NULL, matrix VARCHAR, system VARCHAR NOT NULL,
    workload VARCHAR NOT NULL, store VARCHAR, params JSON, rep INTEGER, seed BIGINT,
    latency_scale DOUBLE, llm VARCHAR, tasks INTEGER, makespan_ms DOUBLE, lower_bound_ms DOUBLE,
    critical_path_ms DOUBLE, concurrency_bound_ms DOUBLE, efficiency DOUBLE, rps DOUBLE,
    p50_ms DOUBLE, p95_ms DOUBLE, p99_ms DOUBLE, max_ms DOUBLE, cpu_ms DOUBLE, rss_peak_mb DOUBLE,
    event_loop_p99_ms DOUBLE, queue_peak DOUBLE, llm_calls INTEGER, tokens_in BIGINT, tokens_out BIGINT,
    cost_usd DOUBLE, cost_per_task_usd DOUBLE, llm_retries INTEGER, llm_rate_limited INTEGER,
    llm_failures INTEGER, errors INTEGER, final_hash VARCHAR, latency_hdr VARCHAR,
    started_at TIMESTAMP, env JSON, schema_version INTEGER, fairness DOUBLE)`,
  `CREATE INDEX IF NOT EXISTS runs_cell ON runs(cell_id)`,
  `CREATE TABLE IF NOT EXISTS samples (run_id VARCHAR, t_ms DOUBLE, metric VARCHAR, value DOUBLE)`,
  `CREATE TABLE IF NOT EXISTS task_latencies (run_id VARCHAR, task VARCHAR, intended_at_ms DOUBLE, completed_at_ms DOUBLE, latency_ms DOUBLE)`,
  `CREATE TABLE IF NOT EXISTS executions (run_id VARCHAR, agent VARCHAR, identity VARCHAR, start_ms DOUBLE, end_ms DOUBLE,
    drawn_latency_ms DOUBLE, scaled_latency_ms DOUBLE, tokens_in INTEGER, tokens_out INTEGER, cost_usd DOUBLE, error VARCHAR)`,
  // OpenTelemetry spans, in the column layout of the real Flock's DuckDB trace exporter.
  `CREATE TABLE IF NOT EXISTS spans (trace_id VARCHAR, span_id VARCHAR PRIMARY KEY, parent_id VARCHAR, name VARCHAR,
    service VARCHAR, operation VARCHAR, kind VARCHAR, start_time BIGINT, end_time BIGINT, duration_ms DOUBLE,
    status_code VARCHAR, status_description VARCHAR, attributes JSON, events JSON, links JSON, resource JSON,
    created_at TIMESTAMP DEFAULT current_timestamp, run_id VARCHAR)`,
  // `flockbench chaos`: one row per delivery mode of a failure run (lost/duplicated by logical key).
  `CREATE TABLE IF NOT EXISTS chaos (run_id VARCHAR, started_at TIMESTAMP, mode VARCHAR, nodes INTEGER,
  items INTEGER, kills INTEGER, worker_crashes INTEGER, expected INTEGER, observed INTEGER, lost INTEGER,
  duplicated INTEGER, unexpected INTEGER, makespan_ms DOUBLE, env JSON)`,
  `CREATE TABLE IF NOT EXISTS bench (bench_id VARCHAR, started_at TIMESTAMP, system VARCHAR, case_name VARCHAR, n INTEGER,
    events INTEGER, samples INTEGER, mean_ms DOUBLE, p50_ms DOUBLE, p95_ms DOUBLE, p99_ms DOUBLE,
    per_event_us DOUBLE, ratio_to_blackboard DOUBLE, heap_mb_per_10k DOUBLE, env JSON)`,
];

const matrix = validateMatrix({
  name: 'dbtest',
  reps: 2,
  seed: 9,
  latencyScale: 0.002,
  systems: ['blackboard-eager', 'blackboard-deferred'],
  workloads: [{ name: 'map', params: { tasks: [5, 10] } }],
});

describe('results store', () => {
  it('round-trips runs with their samples, latencies, executions and spans, and resumes', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'fb-')), 'r.duckdb');
    const cells = expandMatrix(matrix);
    expect(cells).toHaveLength(8);
    let db = await ResultsDb.open(path);
    const first = await runMatrix(cells.slice(0, 5), { db, isolate: false });
    expect(first).toMatchObject({ ran: 5, skipped: 0, failed: [] });
    db.close();

    // Re-open (as after an interruption) and resume: only the 3 missing cells run.
    db = await ResultsDb.open(path);
    const second = await runMatrix(cells, { db, isolate: false, resume: true });
    expect(second).toMatchObject({ ran: 3, skipped: 5, failed: [] });

    const [{ n }] = await db.query<{ n: number }>('SELECT count(*)::INT AS n FROM runs');
    expect(n).toBe(8);
    const runs = await db.query<{ run_id: string; tasks: number; llm_calls: number; schema_version: number; makespan_ms: number; lower_bound_ms: number; env: string }>('SELECT run_id, tasks, llm_calls, schema_version, makespan_ms, lower_bound_ms, CAST(env AS VARCHAR) AS env FROM runs');
    for (const r of runs) {
      expect(r.schema_version).toBe(SCHEMA_VERSION);
      expect(r.llm_calls).toBe(r.tasks);
      expect(r.lower_bound_ms).toBeLessThanOrEqual(r.makespan_ms);
      expect(JSON.parse(r.env).node).toBe(process.version);
      const [c] = await db.query<{ lat: number; ex: number; sp: number; sa: number }>(
        `SELECT (SELECT count(*) FROM task_latencies WHERE run_id = $1)::INT AS lat,
                (SELECT count(*) FROM executions WHERE run_id = $1)::INT AS ex,
                (SELECT count(*) FROM spans WHERE run_id = $1 AND name LIKE '%.execute')::INT AS sp,
                (SELECT count(*) FROM samples WHERE run_id = $1)::INT AS sa`, [r.run_id]);
      expect(c.lat).toBe(r.tasks);
      expect(c.ex).toBe(r.llm_calls);
      const [e] = await db.query<{ calls: number; inputs: number; classes: string }>(
        `SELECT (SELECT sum(llm_calls) FROM executions WHERE run_id = $1)::INT AS calls, (SELECT sum(inputs) FROM executions WHERE run_id = $1)::INT AS inputs,
                (SELECT string_agg(DISTINCT task_class, ',') FROM task_latencies WHERE run_id = $1) AS classes`, [r.run_id]);
      expect(e).toEqual({ calls: r.llm_calls, inputs: r.tasks, classes: 'map' });
      expect(c.sp).toBe(r.llm_calls);
      expect(c.sa).toBeGreaterThan(0);
    }
    // One class per run here: the per-class view's nearest-rank percentiles are the runs row's.
    const byClass = await db.query<{ same: boolean }>(
      `SELECT c.p50_ms IS NOT DISTINCT FROM r.p50_ms AND c.p95_ms IS NOT DISTINCT FROM r.p95_ms AND c.p99_ms IS NOT DISTINCT FROM r.p99_ms AS same
         FROM task_latency_by_class c JOIN runs r USING (run_id)`);
    expect(byClass).toHaveLength(8);
    expect(byClass.every((x) => x.same)).toBe(true);
    const summary = await summarize(db, { matrix: 'dbtest' });
    expect(summary).toHaveLength(4);
    expect(summary.every((s) => s.n === 2 && s.makespanCiMs[0] <= s.makespanMs && s.makespanMs <= s.makespanCiMs[1])).toBe(true);
    db.close();
  });

  it('appends a table of strings and numbers by data chunk: every row, NULLs and non-finite numbers as the row-wise path stores them', async () => {
    const db = await ResultsDb.open(':memory:');
    // More than two chunks of 2048, with a partial last one.
    const n = 5000;
    const rows = Array.from({ length: n }, (_, i) => ({
      run_id: 'r', agent: `a${i % 3}`, identity: `a(${i})`, start_ms: i / 7, end_ms: i, drawn_latency_ms: i % 5 ? i * 1.5 : NaN,
      scaled_latency_ms: Infinity, tokens_in: i, tokens_out: 2 * i, cost_usd: 1e-6 * i, error: i % 1000 ? null : `boom ${i}`,
      inputs: 1, llm_calls: i % 2 ? 1 : null, queued_ms: 0,
    }));
    expect(await appendRows(db.conn, executions, rows)).toBe(n);
    const [agg] = await db.query<Record<string, number>>(`SELECT count(*)::INT AS n, count(drawn_latency_ms)::INT AS drawn, count(scaled_latency_ms)::INT AS scaled,
      count(error)::INT AS errors, count(llm_calls)::INT AS calls, sum(tokens_out)::BIGINT::DOUBLE AS out, count(DISTINCT agent)::INT AS agents FROM executions`);
    expect(agg).toEqual({ n, drawn: n - n / 5, scaled: 0, errors: 5, calls: n / 2, out: n * (n - 1), agents: 3 });
    const [row] = await db.query<Record<string, unknown>>(`SELECT identity, start_ms, cost_usd, error FROM executions WHERE identity = 'a(4000)'`);
    expect(row).toEqual({ identity: 'a(4000)', start_ms: 4000 / 7, cost_usd: 1e-6 * 4000, error: 'boom 4000' });
    db.close();
  });

  it('migrates a version-2 database: rows kept, columns renamed and added, in the declared order', async () => {
    // The version-2 schema as it shipped (before failed runs, sessions and one-name-per-concept).
    const path = join(mkdtempSync(join(tmpdir(), 'fb-')), 'v2.duckdb');
    const inst = await DuckDBInstance.create(path);
    const c = await inst.connect();
    for (const sql of V2_DDL) await c.run(sql);
    await c.run(`INSERT INTO meta VALUES ('schema_version', '2')`);
    await c.run(`INSERT INTO runs (run_id, cell_id, matrix, system, workload, params, rep, seed, latency_scale, llm, tasks, makespan_ms, rps, schema_version, fairness)
                 VALUES ('old-1', 'c1', 'm', 'blackboard-eager', 'map', '{"tail":"light"}', 0, 1, 0.05, 'inprocess', 4, 100, 40, 2, 0.9)`);
    await c.run(`INSERT INTO chaos (run_id, mode, items, lost) VALUES ('ch-1', 'exactly-once', 300, 0)`);
    await c.run(`INSERT INTO bench (bench_id, system, case_name, n, events, p50_ms, p95_ms, env) VALUES ('b-1', 'blackboard-eager', 'items-100', 100, 100, 2, 4, '{"state":"completed"}'),
                 ('b-1', 'langgraph-stepwise', 'items-10000', 10000, 10000, NULL, NULL, '{"state":"skipped","reason":"predicted 99 s"}')`);
    c.closeSync();
    inst.closeSync();

    const db = await ResultsDb.open(path);
    const [v] = await db.query<{ value: string }>(`SELECT value FROM meta WHERE key = 'schema_version'`);
    expect(Number(v.value)).toBe(SCHEMA_VERSION);
    const [old] = await db.query<Record<string, unknown>>(`SELECT run_id, state, throughput_tps, llm_transport, tail, fairness FROM runs`);
    expect(old).toEqual({ run_id: 'old-1', state: 'completed', throughput_tps: 40, llm_transport: 'inprocess', tail: 'light', fairness: 0.9 });
    const [ch] = await db.query<{ tasks: number }>(`SELECT tasks FROM chaos`);
    expect(ch.tasks).toBe(300);
    // 4 -> 5: bench states and per-event medians become columns, filled from what old rows kept.
    expect(await db.query(`SELECT case_name, family, state, reason, per_event_p50_us, per_event_p95_us FROM bench ORDER BY n`)).toEqual([
      { case_name: 'items-100', family: 'items', state: 'completed', reason: null, per_event_p50_us: 20, per_event_p95_us: 40 },
      { case_name: 'items-10000', family: 'items', state: 'skipped', reason: 'predicted 99 s', per_event_p50_us: null, per_event_p95_us: null },
    ]);
    const [oldCost] = await db.query(`SELECT process_wall_ms, harness_overhead_ms FROM run_configs WHERE run_id = 'old-1'`);
    expect(oldCost).toEqual({ process_wall_ms: null, harness_overhead_ms: null });
    const cols = async (t: string) => (await db.query<{ name: string }>(`SELECT column_name AS name FROM information_schema.columns WHERE table_name = ? ORDER BY ordinal_position`, [t])).map((x) => x.name);
    for (const t of [runs, taskLatencies, executions, bench]) expect(await cols(t.name)).toEqual(Object.keys(t.columns));
    // New runs append into the migrated tables.
    await runMatrix(expandMatrix(matrix).slice(0, 1), { db, isolate: false });
    expect((await db.query<{ n: number }>(`SELECT count(*)::INT AS n FROM run_configs`))[0].n).toBe(2);
    db.close();
  });

  it('refuses a DuckDB file that is not a flockbench database, and leaves it untouched', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'fb-')), 'other.duckdb');
    const inst = await DuckDBInstance.create(path);
    const c = await inst.connect();
    await c.run('CREATE TABLE customers (id INTEGER)');
    c.closeSync();
    inst.closeSync();
    const before = readFileSync(path);
    await expect(ResultsDb.open(path)).rejects.toThrow(/not a flockbench results database/);
    expect(readFileSync(path).equals(before)).toBe(true);
  });

  it('names the fix for an empty path and an unwritable directory', async () => {
    expect(() => checkDbPath('')).toThrow(/--db must name a file/);
    const dir = mkdtempSync(join(tmpdir(), 'fb-ro-'));
    chmodSync(dir, 0o500);
    try {
      // root may write anyway; the check is only meaningful when the directory really is read-only.
      let writable = true;
      try { writeFileSync(join(dir, 'probe'), ''); } catch { writable = false; }
      if (!writable) expect(() => checkDbPath(join(dir, 'r.duckdb'))).toThrow(/is not writable; pick another --db/);
    } finally {
      chmodSync(dir, 0o700);
    }
  });

  it('stores a failed run with its error; resume runs it again', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'fb-')), 'r.duckdb');
    const db = await ResultsDb.open(path);
    const [cell] = expandMatrix(validateMatrix({ name: 'fail', systems: ['blackboard-eager'], workloads: [{ name: 'map', params: { tasks: 2 } }], timeoutMs: 1 }));
    const r = await runMatrix([cell!], { db, isolate: false });
    expect(r.failed).toHaveLength(1);
    const rows = await db.query<{ state: string; error: string; session: string }>(`SELECT state, error, session FROM runs`);
    expect(rows).toEqual([{ state: 'failed', error: expect.stringMatching(/run exceeded 1 ms/), session: r.session }]);
    expect((await db.query<{ n: number }>(`SELECT count(*)::INT AS n FROM failed_runs`))[0].n).toBe(1);
    const again = await runMatrix([cell!], { db, isolate: false, resume: true });
    expect(again.skipped).toBe(0);
    db.close();
  });

  it('refuses a database written by another schema version, touching nothing', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'fb-')), 'r.duckdb');
    const db = await ResultsDb.open(path);
    await db.conn.run(`UPDATE meta SET value = '999' WHERE key = 'schema_version'`);
    db.close();
    await expect(ResultsDb.open(path)).rejects.toThrow(/schema version 999/);
  });

  it('migrates a version-4 file that has the run-cost and bench columns but not the task class and execution counts', async () => {
    // What an earlier cut of version 4 wrote: its bench states live in columns, not in env.
    const path = join(mkdtempSync(join(tmpdir(), 'fb-')), 'v4.duckdb');
    const db0 = await ResultsDb.open(path);
    for (const v of ['run_configs', 'task_latency_by_class', 'failed_runs']) await db0.conn.run(`DROP VIEW IF EXISTS ${v}`);
    await db0.conn.run(`ALTER TABLE task_latencies DROP COLUMN task_class`);
    for (const c of ['inputs', 'llm_calls', 'queued_ms']) await db0.conn.run(`ALTER TABLE executions DROP COLUMN ${c}`);
    await db0.conn.run(`INSERT INTO bench (bench_id, system, case_name, family, n, events, state, reason, env) VALUES ('b-1', 'langgraph-stepwise', 'items-10000', 'items', 10000, 10000, 'over-budget', 'first run past 60 s', '{}')`);
    await db0.conn.run(`UPDATE meta SET value = '4' WHERE key = 'schema_version'`);
    db0.close();
    const db = await ResultsDb.open(path);
    const cols = async (t: string) => (await db.query<{ name: string }>(`SELECT column_name AS name FROM information_schema.columns WHERE table_name = ? ORDER BY ordinal_position`, [t])).map((x) => x.name);
    for (const t of [runs, taskLatencies, executions, bench]) expect(await cols(t.name)).toEqual(Object.keys(t.columns));
    expect(await db.query(`SELECT state, reason FROM bench`)).toEqual([{ state: 'over-budget', reason: 'first run past 60 s' }]);
    db.close();
  });
});

describe('runs in their own process', () => {
  it('store the settle wait of a matrix with settleMaxS, and leave it out of the harness overhead', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'fb-')), 'r.duckdb');
    const db = await ResultsDb.open(path);
    const m = validateMatrix({ name: 'settle', reps: 1, latencyScale: 0.002, systems: ['blackboard-eager'], workloads: [{ name: 'map', params: { tasks: 5 } }], warmup: false, traces: false, settleMaxS: 1 });
    expect((await runMatrix(expandMatrix(m), { db })).ran).toBe(1);
    const [r] = await db.query<{ wall: number; makespan: number; settle: number; reached: boolean; overhead: number }>(
      `SELECT process_wall_ms AS wall, makespan_ms AS makespan, harness_settle_ms AS settle, harness_settle_reached AS reached, harness_overhead_ms AS overhead FROM run_configs`);
    // Whatever this machine's load: the wait is bounded by the matrix (1 s plus one poll) and stored with its outcome.
    expect(r!.settle).toBeGreaterThanOrEqual(0);
    expect(r!.settle).toBeLessThan(2500);
    expect(typeof r!.reached).toBe('boolean');
    expect(r!.overhead).toBeCloseTo(r!.wall - r!.makespan - r!.settle, 6);
    db.close();
  });

  it('write their rows to a file the store imports in one transaction: rows, cost and phases stored, no spans when traces are off', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'fb-')), 'r.duckdb');
    const db = await ResultsDb.open(path);
    const m = validateMatrix({ name: 'iso', reps: 1, latencyScale: 0.002, systems: ['blackboard-eager'], workloads: [{ name: 'map', params: { tasks: 20 } }], warmup: false });
    const traced = await runMatrix(expandMatrix(m), { db });
    const untraced = await runMatrix(expandMatrix({ ...m, traces: false }, { seed: 2 }), { db });
    expect([traced.ran, untraced.ran, traced.failed.length + untraced.failed.length]).toEqual([1, 1, 0]);
    const rows = await db.query<Record<string, number | boolean | string>>(`SELECT run_id, tasks, makespan_ms, process_wall_ms, process_cpu_ms, process_rss_peak_mb, harness_overhead_ms,
        harness_run_ms, harness_rows_ms, harness_import_ms, traces,
        (SELECT count(*) FROM executions e WHERE e.run_id = c.run_id)::INT AS ex,
        (SELECT count(*) FROM task_latencies t WHERE t.run_id = c.run_id)::INT AS lat,
        (SELECT count(*) FROM spans s WHERE s.run_id = c.run_id)::INT AS sp
      FROM run_configs c ORDER BY seed`);
    expect(rows.map((r) => [r.run_id, r.traces, r.ex, r.lat, r.sp])).toEqual([
      [traced.runIds[0], true, 20, 20, 21],
      [untraced.runIds[0], false, 20, 20, 0],
    ]);
    // The columns of schema 4 come through the rows file too.
    const counts = await db.query<{ inputs: number; calls: number; classes: string }>(
      `SELECT (SELECT sum(inputs) FROM executions)::INT AS inputs, (SELECT sum(llm_calls) FROM executions)::INT AS calls,
              (SELECT string_agg(DISTINCT task_class, ',') FROM task_latencies) AS classes`);
    expect(counts).toEqual([{ inputs: 40, calls: 40, classes: 'map' }]);
    for (const r of rows) {
      expect(r.process_wall_ms as number).toBeGreaterThan((r.harness_run_ms as number) + (r.harness_rows_ms as number));
      expect(r.harness_overhead_ms).toBeCloseTo((r.process_wall_ms as number) - (r.makespan_ms as number), 6);
      expect(r.process_cpu_ms as number).toBeGreaterThan(0);
      expect(r.process_rss_peak_mb as number).toBeGreaterThan(20);
      expect(r.harness_import_ms as number).toBeGreaterThanOrEqual(0);
    }
    db.close();
  });

  it('an import that fails leaves nothing of the run: all tables or none', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fb-'));
    const db = await ResultsDb.open(join(dir, 'r.duckdb'));
    const { runCell } = await import('../runner/cell.ts');
    const [cell] = expandMatrix(validateMatrix({ name: 'atomic', reps: 1, latencyScale: 0.002, systems: ['blackboard-eager'], workloads: [{ name: 'map', params: { tasks: 5 } }] }));
    const outcome = await runCell(cell!);
    const meta = { cellId: 'c', matrix: 'atomic', rep: 0, env: {} };
    const file = join(dir, 'rows.duckdb');
    const { writeRunFile } = await import('./run-rows.ts');
    // The same span twice: the store's primary key refuses it after the other tables went in.
    await writeRunFile(file, outcome, meta, { spans: async (sink) => { for (let i = 0; i < 2; i++) sink({ trace_id: 't', span_id: 'same', parent_id: null, name: 'x', service: 's', operation: 'o', kind: 'INTERNAL', start_time: 0n, end_time: 1n, duration_ms: 0, status_code: 'OK', status_description: null, attributes: '{}', events: '[]', links: '[]', resource: '{}' }); } });
    const cost = () => ({ processWallMs: 1, processCpuMs: 1, processRssPeakMb: 1 });
    await expect(db.importRun(file, outcome.runId, cost)).rejects.toThrow(/constraint|duplicate/i);
    await expect(db.importRun(file, 'another-run', cost)).rejects.toThrow(/expected another-run/);
    for (const t of ['runs', 'samples', 'task_latencies', 'executions', 'spans']) {
      expect((await db.query<{ n: number }>(`SELECT count(*)::INT AS n FROM ${t}`))[0]!.n).toBe(0);
    }
    db.close();
  });
});
