// The results store: one embedded DuckDB file. A run is written in one transaction, so an
// interrupted matrix leaves only whole runs; cells are identified by a hash so `--resume`
// can skip what is stored. Schema documented in results/README.md; bump SCHEMA_VERSION on change.
import { DuckDBInstance, type DuckDBConnection, type DuckDBValue } from '@duckdb/node-api';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { createHash } from 'node:crypto';
import { canonicalJson } from '../../core/canonical.ts';
import { UserError } from '../../core/errors.ts';
import type { RunOutcome } from '../outcome.ts';

export const SCHEMA_VERSION = 2;
export const DEFAULT_DB = 'results/flockbench.duckdb';

const DDL = [
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

/** MIGRATIONS[v - 1] takes a database from version v to v + 1. */
const MIGRATIONS: string[][] = [
  // 1 -> 2: fairness (Jain's index over per-task ideal/measured latency).
  [`ALTER TABLE runs ADD COLUMN IF NOT EXISTS fairness DOUBLE`],
];

const RUN_COLUMNS = `run_id, cell_id, matrix, system, workload, store, params, rep, seed, latency_scale, llm, tasks,
  makespan_ms, lower_bound_ms, critical_path_ms, concurrency_bound_ms, efficiency, rps, p50_ms, p95_ms, p99_ms, max_ms,
  cpu_ms, rss_peak_mb, event_loop_p99_ms, queue_peak, llm_calls, tokens_in, tokens_out, cost_usd, cost_per_task_usd,
  llm_retries, llm_rate_limited, llm_failures, errors, final_hash, latency_hdr, started_at, env, schema_version, fairness`;

export interface CellKey {
  matrix: string;
  system: string;
  workload: string;
  workloadParams: Record<string, unknown>;
  systemParams: Record<string, unknown>;
  rep: number;
  seed: number;
  latencyScale: number;
  llm: string;
  tail: string;
}

export function cellId(k: CellKey): string {
  return createHash('sha256').update(canonicalJson(k)).digest('hex').slice(0, 24);
}

export class ResultsDb {
  private constructor(private readonly instance: DuckDBInstance, readonly conn: DuckDBConnection, readonly path: string) {}

  static async open(path = DEFAULT_DB, { readOnly = false } = {}): Promise<ResultsDb> {
    if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
    const instance = await DuckDBInstance.create(path, readOnly ? { access_mode: 'READ_ONLY' } : undefined);
    const conn = await instance.connect();
    const db = new ResultsDb(instance, conn, path);
    if (!readOnly) await db.migrate();
    return db;
  }

  private async migrate(): Promise<void> {
    for (const s of DDL) await this.conn.run(s);
    const rows = await this.query<{ value: string }>(`SELECT value FROM meta WHERE key = 'schema_version'`);
    let version = rows.length ? Number(rows[0].value) : SCHEMA_VERSION;
    if (!(Number.isInteger(version) && version >= 1 && version <= SCHEMA_VERSION)) {
      throw new UserError(`${this.path} has schema version ${rows[0].value}, this flockbench writes ${SCHEMA_VERSION}: use another --db`);
    }
    // Additive migrations, in one transaction each: old rows keep their values, new columns are NULL.
    while (version < SCHEMA_VERSION) {
      await this.conn.run('BEGIN TRANSACTION');
      for (const sql of MIGRATIONS[version - 1]) await this.conn.run(sql);
      await this.conn.run(`UPDATE meta SET value = '${version + 1}' WHERE key = 'schema_version'`);
      await this.conn.run('COMMIT');
      version++;
    }
    if (!rows.length) await this.conn.run(`INSERT INTO meta VALUES ('schema_version', '${SCHEMA_VERSION}')`);
  }

  async query<T = Record<string, unknown>>(sql: string, values?: DuckDBValue[]): Promise<T[]> {
    const r = await this.conn.runAndReadAll(sql, values);
    return r.getRowObjectsJson() as unknown as T[];
  }

  async hasCell(id: string): Promise<boolean> {
    const r = await this.query(`SELECT 1 FROM runs WHERE cell_id = ? LIMIT 1`, [id]);
    return r.length > 0;
  }

  /** Write a run with its samples, task latencies, executions and spans in one transaction. */
  async writeRun(
    r: RunOutcome,
    meta: { cellId: string; matrix: string; rep: number; env: Record<string, unknown> },
    spans: SpanRow[] = [],
  ): Promise<void> {
    await this.conn.run('BEGIN TRANSACTION');
    try {
      const finalHash = createHash('sha256').update(r.finalHash.join('\n')).digest('hex');
      await this.conn.run(
        `INSERT INTO runs (${RUN_COLUMNS}) VALUES (${Array.from({ length: 41 }, () => '?').join(',')})`,
        [
          r.runId, meta.cellId, meta.matrix, r.system, r.workload, r.store, JSON.stringify(r.params), meta.rep, BigInt(r.seed),
          r.latencyScale, String(r.params.llm), r.tasks, r.makespanMs, r.lowerBoundMs, r.criticalPathMs, r.concurrencyBoundMs,
          r.efficiency, r.rps, r.p50Ms, r.p95Ms, r.p99Ms, r.maxMs, r.cpuMs, r.rssPeakMb, r.eventLoopP99Ms, r.queuePeak,
          r.llm.calls, BigInt(r.llm.tokensIn), BigInt(r.llm.tokensOut), r.llm.costUsd, r.costPerTaskUsd, r.llm.retries,
          r.llm.rateLimited, r.llm.failures, r.errors, finalHash, r.latencyHdr, r.startedAt, JSON.stringify(meta.env), SCHEMA_VERSION,
          Number.isFinite(r.fairness) ? r.fairness : null,
        ] as DuckDBValue[],
      );
      await this.insertMany('samples', 4, r.samples.map((s) => [r.runId, s.tMs, s.metric, s.value]));
      await this.insertMany('task_latencies', 5, r.taskLatencies.map((t) => [r.runId, t.task, t.intendedAtMs, t.completedAtMs, t.latencyMs]));
      await this.insertMany('executions', 11, r.executions.map((e) => [r.runId, e.agent, e.identity, e.startMs, e.endMs, e.drawnLatencyMs, e.scaledLatencyMs, e.tokensIn, e.tokensOut, e.costUsd, e.error ?? null]));
      await this.insertMany('spans(trace_id, span_id, parent_id, name, service, operation, kind, start_time, end_time, duration_ms, status_code, status_description, attributes, events, links, resource, run_id)', 17, spans.map((s) => [s.trace_id, s.span_id, s.parent_id, s.name, s.service, s.operation, s.kind, s.start_time, s.end_time, s.duration_ms, s.status_code, s.status_description, s.attributes, s.events, s.links, s.resource, r.runId]));
      await this.conn.run('COMMIT');
    } catch (e) {
      await this.conn.run('ROLLBACK');
      throw e;
    }
  }

  /** Multi-row INSERT in chunks with bound parameters. */
  async insertMany(table: string, cols: number, rows: DuckDBValue[][]): Promise<void> {
    const chunk = Math.max(1, Math.floor(2000 / cols));
    for (let i = 0; i < rows.length; i += chunk) {
      const part = rows.slice(i, i + chunk);
      const ph = `(${Array.from({ length: cols }, () => '?').join(',')})`;
      await this.conn.run(`INSERT INTO ${table} VALUES ${part.map(() => ph).join(',')}`, part.flat());
    }
  }

  close(): void {
    this.conn.closeSync();
    this.instance.closeSync();
  }
}

export interface SpanRow {
  trace_id: string;
  span_id: string;
  parent_id: string | null;
  name: string;
  service: string;
  operation: string;
  kind: string;
  start_time: bigint;
  end_time: bigint;
  duration_ms: number;
  status_code: string;
  status_description: string | null;
  attributes: string;
  events: string;
  links: string;
  resource: string;
}
