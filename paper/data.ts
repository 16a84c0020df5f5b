// The data the paper is built from. By default the reference runs shipped in the repository
// (results/reference/*.parquet, exported from the DuckDB that produced them), loaded into an
// in-memory results store, so a fresh clone regenerates paper.md and verdicts.json exactly;
// or any results DuckDB file (`--db`). `exportReference` writes the shipped form.
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from '../core/paths.ts';
import { UserError } from '../core/errors.ts';
import { openReadOnly } from '../harness/notebook.ts';
import { BENCH_COLUMNS_FROM_ENV, ResultsDb } from '../harness/results/db.ts';
import { TABLES } from '../harness/results/schema.ts';
import { EXECUTIONS_NEEDED } from './analysis.ts';

export const REFERENCE_DIR = join(REPO_ROOT, 'results', 'reference');

/** Tables shipped in full; executions only where the paper reads them, spans only for the runs the timeline figure draws. */
const SHIPPED = ['runs', 'task_latencies', 'chaos', 'faults', 'bench'] as const;

export async function openPaperData(dbPath?: string, referenceDir = REFERENCE_DIR): Promise<{ db: ResultsDb; source: string }> {
  if (dbPath) return { db: await openReadOnly(dbPath), source: dbPath };
  if (!existsSync(join(referenceDir, 'runs.parquet'))) throw new UserError(`no reference data in ${referenceDir}: pass --db <results.duckdb>`);
  const db = await ResultsDb.open(':memory:');
  for (const t of TABLES) {
    const file = join(referenceDir, `${t.name}.parquet`);
    if (!existsSync(file)) continue;
    const source = `read_parquet('${file.replace(/'/g, "''")}')`;
    // Data exported under an older schema lacks the columns added since: NULL there, as a
    // migration leaves old rows (and old bench rows get their state from env, as it does).
    const have = new Set((await db.query<{ column_name: string }>(`SELECT column_name FROM (DESCRIBE SELECT * FROM ${source})`)).map((c) => c.column_name));
    const cols = Object.keys(t.columns);
    await db.conn.run(`INSERT INTO ${t.name} (${cols.join(', ')}) SELECT ${cols.map((c) => (have.has(c) ? c : `NULL AS ${c}`)).join(', ')} FROM ${source}`);
    if (t.name === 'bench' && !have.has('state')) await db.conn.run(BENCH_COLUMNS_FROM_ENV);
  }
  return { db, source: 'results/reference/ (the runs shipped with the repository)' };
}

/**
 * Export the runs behind the paper from a results DB into `dir` as Parquet (zstd): every run,
 * task latency, chaos run and fault, and bench row, the executions of the closed-loop x1 runs, and
 * the spans of `timelineRuns`.
 */
export async function exportReference(dbPath: string, dir = REFERENCE_DIR, timelineRuns: readonly string[] = []): Promise<string[]> {
  const db = await openReadOnly(dbPath);
  // Written beside `dir` first and moved in only once every table is written: a failing export
  // leaves the shipped reference as it was.
  const tmp = `${dir}.export-${process.pid}`;
  try {
    rmSync(tmp, { recursive: true, force: true });
    mkdirSync(tmp, { recursive: true });
    const written: string[] = [];
    const copy = async (table: string, where = '') => {
      const t = TABLES.find((x) => x.name === table)!;
      const file = join(tmp, `${table}.parquet`);
      const order = Object.keys(t.columns).slice(0, 3).join(', ');
      // A DB from before a column existed exports it as NULL, as openPaperData reads it.
      const have = new Set((await db.query<{ column_name: string }>(`SELECT column_name FROM (DESCRIBE SELECT * FROM ${table})`)).map((c) => c.column_name));
      const cols = Object.entries(t.columns).map(([c, def]) => (have.has(c) ? c : `CAST(NULL AS ${def.type}) AS ${c}`));
      await db.conn.run(`COPY (SELECT ${cols.join(', ')} FROM ${table} ${where} ORDER BY ${order}) TO '${file.replace(/'/g, "''")}' (FORMAT PARQUET, COMPRESSION ZSTD)`);
      written.push(`${table}.parquet`);
    };
    for (const t of SHIPPED) await copy(t);
    // Executions of the runs the paper reads them for (analysis.ts EXECUTIONS_NEEDED).
    await copy('executions', `WHERE run_id IN (SELECT run_id FROM run_configs r WHERE ${EXECUTIONS_NEEDED})`);
    if (timelineRuns.length) {
      const where = `WHERE run_id IN (${timelineRuns.map((r) => `'${r.replace(/'/g, "''")}'`).join(', ')})`;
      await copy('spans', where);
    }
    mkdirSync(dir, { recursive: true });
    for (const f of readdirSync(dir)) if (f.endsWith('.parquet')) rmSync(join(dir, f));
    for (const f of written) renameSync(join(tmp, f), join(dir, f));
    return written.map((f) => join(dir, f));
  } finally {
    db.close();
    rmSync(tmp, { recursive: true, force: true });
  }
}
