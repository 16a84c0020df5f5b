// The results store: one embedded DuckDB file, schema declared in schema.ts. A run is written in
// one transaction (Appender bulk inserts), so an interrupted matrix leaves only whole runs;
// failed runs are stored too, with their error. Cells are identified by a hash so `--resume`
// can skip what is stored. A file that is not a flockbench database is refused untouched.
import { DuckDBInstance, type DuckDBConnection, type DuckDBValue } from '@duckdb/node-api';
import { createHash } from 'node:crypto';
import { accessSync, constants, existsSync, mkdirSync, statSync } from 'node:fs';
import { basename, dirname } from 'node:path';
import { canonicalJson } from '../../core/canonical.ts';
import { UserError } from '../../core/errors.ts';
import type { RunOutcome } from '../outcome.ts';
import { appendRunRows, RUN_TABLES, type AppendRunOptions, type HarnessCost, type RunMeta } from './run-rows.ts';
import { SCHEMA_VERSION, TABLES, VIEWS, appendRows, createTableSql, runs, type RowOf, type SpanRow, type TableDef } from './schema.ts';

export { SCHEMA_VERSION };
export type { RunMeta, SpanRow };

export const DEFAULT_DB = 'results/flockbench.duckdb';

/**
 * Bench rows written before schema 5 kept their state and reason in env: fill the columns from
 * there (per-event medians follow from the run-time ones). Rows that have a state keep it. Used by
 * the 4 -> 5 migration and by reference data exported before it (paper/data.ts).
 */
export const BENCH_COLUMNS_FROM_ENV = `UPDATE bench SET family = regexp_replace(case_name, '-[0-9]+$', ''), state = coalesce(env->>'state', 'completed'), reason = env->>'reason',
  per_event_p50_us = p50_ms * 1000 / nullif(events, 0), per_event_p95_us = p95_ms * 1000 / nullif(events, 0)
  WHERE state IS NULL`;

/**
 * MIGRATIONS[v - 1] takes a database from version v to v + 1, additively: old rows keep their
 * values, new columns are NULL (or the stated default).
 */
const MIGRATIONS: string[][] = [
  // 1 -> 2: fairness (Jain's index over per-task ideal/measured latency).
  [`ALTER TABLE runs ADD COLUMN IF NOT EXISTS fairness DOUBLE`],
  // 2 -> 3: failed runs are stored (state, error); sessions; ideal makespan; machine load; one name per concept.
  [
    `DROP INDEX IF EXISTS runs_cell`,
    `ALTER TABLE runs RENAME COLUMN rps TO throughput_tps`,
    `ALTER TABLE runs RENAME COLUMN llm TO llm_transport`,
    `ALTER TABLE runs ADD COLUMN state VARCHAR DEFAULT 'completed'`,
    `ALTER TABLE runs ADD COLUMN error VARCHAR`,
    `ALTER TABLE runs ADD COLUMN session VARCHAR`,
    `ALTER TABLE runs ADD COLUMN tail VARCHAR`,
    `ALTER TABLE runs ADD COLUMN ideal_ms DOUBLE`,
    `ALTER TABLE runs ADD COLUMN load_start DOUBLE`,
    `ALTER TABLE runs ADD COLUMN load_end DOUBLE`,
    `ALTER TABLE runs ADD COLUMN cpus INTEGER`,
    `ALTER TABLE runs ADD COLUMN cpu_list VARCHAR`,
    `UPDATE runs SET tail = params->>'tail'`,
    `ALTER TABLE task_latencies ADD COLUMN published_at_ms DOUBLE`,
    `ALTER TABLE chaos RENAME COLUMN items TO tasks`,
  ],
  // 3 -> 4: task classes (the mixed workload); what an execution consumed and called (coalescing, tools, limits).
  [
    `ALTER TABLE task_latencies ADD COLUMN IF NOT EXISTS task_class VARCHAR`,
    `ALTER TABLE executions ADD COLUMN IF NOT EXISTS inputs INTEGER`,
    `ALTER TABLE executions ADD COLUMN IF NOT EXISTS llm_calls INTEGER`,
    `ALTER TABLE executions ADD COLUMN IF NOT EXISTS queued_ms DOUBLE`,
  ],
  // 4 -> 5: whole-process cost per run (wall, CPU, peak RSS, harness overhead); bench states,
  // per-event medians and budgets as columns (the scaling figure reads them). A file written by
  // the first cut of these columns says 4 without the 3 -> 4 columns above: they are added here
  // too (IF NOT EXISTS: a no-op on a real v4 file), and its bench states are kept.
  [
    `ALTER TABLE task_latencies ADD COLUMN IF NOT EXISTS task_class VARCHAR`,
    `ALTER TABLE executions ADD COLUMN IF NOT EXISTS inputs INTEGER`,
    `ALTER TABLE executions ADD COLUMN IF NOT EXISTS llm_calls INTEGER`,
    `ALTER TABLE executions ADD COLUMN IF NOT EXISTS queued_ms DOUBLE`,
    `ALTER TABLE runs ADD COLUMN IF NOT EXISTS process_wall_ms DOUBLE`,
    `ALTER TABLE runs ADD COLUMN IF NOT EXISTS process_cpu_ms DOUBLE`,
    `ALTER TABLE runs ADD COLUMN IF NOT EXISTS process_rss_peak_mb DOUBLE`,
    `ALTER TABLE runs ADD COLUMN IF NOT EXISTS harness_overhead_ms DOUBLE`,
    `ALTER TABLE bench ADD COLUMN IF NOT EXISTS family VARCHAR`,
    `ALTER TABLE bench ADD COLUMN IF NOT EXISTS state VARCHAR`,
    `ALTER TABLE bench ADD COLUMN IF NOT EXISTS reason VARCHAR`,
    `ALTER TABLE bench ADD COLUMN IF NOT EXISTS per_event_p50_us DOUBLE`,
    `ALTER TABLE bench ADD COLUMN IF NOT EXISTS per_event_p95_us DOUBLE`,
    `ALTER TABLE bench ADD COLUMN IF NOT EXISTS first_run_ms DOUBLE`,
    `ALTER TABLE bench ADD COLUMN IF NOT EXISTS case_wall_ms DOUBLE`,
    `ALTER TABLE bench ADD COLUMN IF NOT EXISTS rss_peak_mb DOUBLE`,
    `ALTER TABLE bench ADD COLUMN IF NOT EXISTS budget_ms DOUBLE`,
    `ALTER TABLE bench ADD COLUMN IF NOT EXISTS budget_mb DOUBLE`,
    BENCH_COLUMNS_FROM_ENV,
  ],
];

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
  llmOptions?: Record<string, unknown>;
}

export function cellId(k: CellKey): string {
  return createHash('sha256').update(canonicalJson(k)).digest('hex').slice(0, 24);
}

/** A run that did not complete: enough of its cell to see what failed. */
export interface FailedRun {
  runId: string;
  system: string;
  workload: string;
  params: Record<string, unknown>;
  seed: number;
  latencyScale: number;
  llmTransport: string;
  tail: string;
  tasks?: number;
  startedAt: string;
  error: string;
}

/** Check a --db path before anything runs: one line naming the fix. Read-only: it must exist; otherwise it must be writable or creatable. */
export function checkDbPath(path: string, { readOnly = false } = {}): void {
  if (!path.trim()) throw new UserError(`--db must name a file (e.g. ${DEFAULT_DB})`);
  if (path === ':memory:') return;
  if (existsSync(path)) {
    if (statSync(path).isDirectory()) throw new UserError(`--db ${path} is a directory; name a .duckdb file in it`);
    if (readOnly) return;
    // Writing needs the file and its directory (DuckDB keeps its write-ahead log next to it):
    // refused here, or the first commit fails after the database was opened.
    try {
      accessSync(path, constants.W_OK);
    } catch {
      throw new UserError(`--db ${path} is read-only; make it writable or pick another --db`);
    }
    try {
      accessSync(dirname(path), constants.W_OK);
    } catch {
      throw new UserError(`cannot write to ${path}: its directory ${dirname(path)} is not writable (DuckDB keeps ${basename(path)}.wal there); pick another --db`);
    }
    return;
  }
  if (readOnly) throw new UserError(`no results database at ${path} (run \`flockbench run <matrix>\` first)`);
  let dir = dirname(path);
  while (!existsSync(dir)) dir = dirname(dir);
  try {
    accessSync(dir, constants.W_OK);
  } catch {
    throw new UserError(`cannot create ${path}: ${dir} is not writable; pick another --db`);
  }
}

export class ResultsDb {
  private constructor(private readonly instance: DuckDBInstance, readonly conn: DuckDBConnection, readonly path: string) {}

  static async open(path = DEFAULT_DB, { readOnly = false } = {}): Promise<ResultsDb> {
    checkDbPath(path, { readOnly });
    const exists = path !== ':memory:' && existsSync(path);
    // An existing file is inspected read-only first: a foreign or newer database is refused
    // before anything could write to it.
    if (exists && !readOnly) {
      const probe = await ResultsDb.connect(path, true);
      try {
        await probe.check();
      } finally {
        probe.close();
      }
    }
    if (!exists && path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
    const db = await ResultsDb.connect(path, readOnly);
    try {
      if (readOnly) await db.check();
      else await db.migrate(exists);
    } catch (e) {
      db.close();
      throw e;
    }
    return db;
  }

  private static async connect(path: string, readOnly: boolean): Promise<ResultsDb> {
    let instance: DuckDBInstance;
    try {
      instance = await DuckDBInstance.create(path, readOnly ? { access_mode: 'READ_ONLY' } : undefined);
    } catch (e) {
      const m = (e as Error).message;
      if (/lock/i.test(m)) throw new UserError(`${path} is in use by another process (${m.split('\n')[0]}); wait for it or pick another --db`);
      throw new UserError(`cannot open ${path} as a DuckDB database: ${m.split('\n')[0]}`);
    }
    return new ResultsDb(instance, await instance.connect(), path);
  }

  /** Is this a flockbench database this version can read? Throws a UserError otherwise. */
  private async check(): Promise<number | undefined> {
    const tables = (await this.query<{ name: string }>(`SELECT table_name AS name FROM information_schema.tables WHERE table_schema = 'main'`)).map((t) => t.name);
    if (!tables.length) return undefined;
    if (!tables.includes('meta')) throw new UserError(`${this.path} is not a flockbench results database (no meta table); pick another --db`);
    const rows = await this.query<{ value: string }>(`SELECT value FROM meta WHERE key = 'schema_version'`);
    const version = rows.length ? Number(rows[0]!.value) : NaN;
    if (!(Number.isInteger(version) && version >= 1 && version <= SCHEMA_VERSION)) {
      throw new UserError(`${this.path} has schema version ${rows[0]?.value ?? 'none'}, this flockbench writes ${SCHEMA_VERSION}: use another --db`);
    }
    return version;
  }

  private async migrate(existed: boolean): Promise<void> {
    let version = existed ? await this.check() : undefined;
    if (version === undefined) {
      await this.conn.run('BEGIN TRANSACTION');
      for (const t of TABLES) await this.conn.run(createTableSql(t));
      await this.conn.run(`INSERT INTO meta VALUES ('schema_version', '${SCHEMA_VERSION}'), ('created_by', 'flockbench')`);
      await this.conn.run('COMMIT');
      version = SCHEMA_VERSION;
    }
    const from = version;
    while (version < SCHEMA_VERSION) {
      await this.conn.run('BEGIN TRANSACTION');
      try {
        for (const v of VIEWS) await this.conn.run(`DROP VIEW IF EXISTS ${v.name}`);
        for (const sql of MIGRATIONS[version - 1]!) await this.conn.run(sql);
        await this.conn.run(`UPDATE meta SET value = '${version + 1}' WHERE key = 'schema_version'`);
        await this.conn.run('COMMIT');
      } catch (e) {
        await this.conn.run('ROLLBACK');
        throw e;
      }
      version++;
    }
    if (from < SCHEMA_VERSION) await this.reorderColumns();
    // Tables added since (CREATE IF NOT EXISTS), the index, and the views as this version defines them.
    for (const t of TABLES) await this.conn.run(createTableSql(t));
    await this.conn.run(`CREATE INDEX IF NOT EXISTS runs_cell ON runs(cell_id)`);
    for (const v of VIEWS) await this.conn.run(`CREATE OR REPLACE VIEW ${v.name} AS ${v.sql}`);
  }

  /**
   * Migrated tables get added columns at the end; the Appender writes by position, so every
   * table whose columns differ from its declaration is rebuilt in the declared order.
   */
  private async reorderColumns(): Promise<void> {
    await this.conn.run('BEGIN TRANSACTION');
    try {
      await this.conn.run(`DROP INDEX IF EXISTS runs_cell`);
      for (const t of TABLES) {
        const have = (await this.query<{ name: string }>(`SELECT column_name AS name FROM information_schema.columns WHERE table_name = ? ORDER BY ordinal_position`, [t.name])).map((c) => c.name);
        const want = Object.keys(t.columns);
        if (!have.length || have.join(',') === want.join(',')) continue;
        await this.conn.run(`ALTER TABLE ${t.name} RENAME TO ${t.name}__old`);
        await this.conn.run(createTableSql(t));
        await this.conn.run(`INSERT INTO ${t.name} SELECT ${want.map((c) => (have.includes(c) ? c : `NULL AS ${c}`)).join(', ')} FROM ${t.name}__old`);
        await this.conn.run(`DROP TABLE ${t.name}__old`);
      }
      await this.conn.run('COMMIT');
    } catch (e) {
      await this.conn.run('ROLLBACK');
      throw e;
    }
  }

  async query<T = Record<string, unknown>>(sql: string, values?: DuckDBValue[]): Promise<T[]> {
    const r = await this.conn.runAndReadAll(sql, values);
    return r.getRowObjectsJson() as unknown as T[];
  }

  /** A completed run of this cell is stored (failed ones are run again on --resume). */
  async hasCell(id: string): Promise<boolean> {
    const r = await this.query(`SELECT 1 FROM runs WHERE cell_id = ? AND state = 'completed' LIMIT 1`, [id]);
    return r.length > 0;
  }

  /** Run `f` in one transaction: committed whole or rolled back whole. */
  private async transaction<T>(f: () => Promise<T>): Promise<T> {
    await this.conn.run('BEGIN TRANSACTION');
    try {
      const out = await f();
      await this.conn.run('COMMIT');
      return out;
    } catch (e) {
      await this.conn.run('ROLLBACK');
      throw e;
    }
  }

  /** Rows of declared tables in one transaction. */
  async append(batches: [TableDef, Iterable<Record<string, unknown>>][]): Promise<void> {
    await this.transaction(async () => {
      for (const [t, rows] of batches) await appendRows(this.conn, t, rows as Iterable<Partial<RowOf<typeof t.columns>>>);
    });
  }

  /** Write a run made in this process (samples, task latencies, executions, spans, the run) in one transaction. */
  async writeRun(r: RunOutcome, meta: RunMeta, o: AppendRunOptions = {}): Promise<void> {
    await this.transaction(() => appendRunRows(this.conn, r, meta, o));
  }

  /**
   * Import the rows file a run's own process wrote (appendRunRows into a fresh DuckDB file) in
   * one transaction: every table with INSERT ... SELECT, `runs` last with the cost known only
   * here (`cost` gets the import time so far). The file must hold exactly the run `runId`.
   */
  async importRun(file: string, runId: string, cost: (importMs: number) => Required<Pick<HarnessCost, 'processWallMs' | 'processCpuMs' | 'processRssPeakMb'>>): Promise<void> {
    await this.conn.run(`ATTACH '${file.replaceAll("'", "''")}' AS run_rows (READ_ONLY)`);
    try {
      const ids = await this.query<{ run_id: string }>(`SELECT run_id FROM run_rows.runs`);
      if (ids.length !== 1 || ids[0]!.run_id !== runId) throw new Error(`rows file ${file} holds runs [${ids.map((x) => x.run_id).join(', ')}], expected ${runId}`);
      await this.transaction(async () => {
        const t0 = performance.now();
        for (const t of RUN_TABLES) {
          if (t === runs) continue;
          const cols = Object.keys(t.columns).join(', ');
          await this.conn.run(`INSERT INTO ${t.name} (${cols}) SELECT ${cols} FROM run_rows.${t.name}`);
        }
        const importMs = performance.now() - t0;
        const c = cost(importMs);
        const patched: Record<string, string> = {
          process_wall_ms: '$1::DOUBLE', process_cpu_ms: '$2::DOUBLE', process_rss_peak_mb: '$3::DOUBLE',
          harness_overhead_ms: `$1::DOUBLE - makespan_ms - coalesce(CAST(params->>'$.harness.settleMs' AS DOUBLE), 0)`, params: 'json_merge_patch(params, $4::JSON)',
        };
        const cols = Object.keys(runs.columns);
        await this.conn.run(
          `INSERT INTO runs (${cols.join(', ')}) SELECT ${cols.map((n) => patched[n] ?? n).join(', ')} FROM run_rows.runs`,
          [c.processWallMs, c.processCpuMs, c.processRssPeakMb, JSON.stringify({ harness: { importMs } })],
        );
      });
    } finally {
      await this.conn.run(`DETACH run_rows`);
    }
  }

  /** Store a run that failed, with its error (metrics NULL): failures are data too. */
  async writeFailedRun(f: FailedRun, meta: RunMeta): Promise<void> {
    await this.append([[runs, [{
      run_id: f.runId, state: 'failed', error: f.error.split('\n')[0]!.slice(0, 2000), cell_id: meta.cellId, matrix: meta.matrix, session: meta.session ?? null,
      system: f.system, workload: f.workload, params: JSON.stringify(f.params), rep: meta.rep, seed: BigInt(f.seed), latency_scale: f.latencyScale,
      llm_transport: f.llmTransport, tail: f.tail, tasks: f.tasks ?? null, started_at: f.startedAt, env: JSON.stringify(meta.env), schema_version: SCHEMA_VERSION,
    }]]]);
  }

  close(): void {
    this.conn.closeSync();
    this.instance.closeSync();
  }
}
