import { describe, expect, it } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { validateMatrix, expandMatrix } from '../runner/matrix.ts';
import { runMatrix } from '../runner/runner.ts';
import { summarize } from '../report.ts';
import { ResultsDb, SCHEMA_VERSION } from './db.ts';

const matrix = validateMatrix({
  name: 'dbtest',
  reps: 2,
  seed: 9,
  latencyScale: 0.002,
  systems: ['blackboard-eager', 'blackboard-deferred'],
  workloads: [{ name: 'map', params: { items: [5, 10] } }],
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
      expect(c.sp).toBe(r.llm_calls);
      expect(c.sa).toBeGreaterThan(0);
    }
    const summary = await summarize(db, { matrix: 'dbtest' });
    expect(summary).toHaveLength(4);
    expect(summary.every((s) => s.n === 2 && s.makespanCiMs[0] <= s.makespanMs && s.makespanMs <= s.makespanCiMs[1])).toBe(true);
    db.close();
  });

  it('migrates a version-1 database additively: old rows kept, new column added', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'fb-')), 'r.duckdb');
    let db = await ResultsDb.open(path);
    await runMatrix(expandMatrix(matrix).slice(0, 1), { db, isolate: false });
    await db.conn.run('DROP INDEX runs_cell'); // DuckDB cannot drop a column of an indexed table
    await db.conn.run('ALTER TABLE runs DROP COLUMN fairness');
    await db.conn.run(`UPDATE meta SET value = '1' WHERE key = 'schema_version'`);
    db.close();
    db = await ResultsDb.open(path);
    const [v] = await db.query<{ value: string }>(`SELECT value FROM meta WHERE key = 'schema_version'`);
    expect(Number(v.value)).toBe(SCHEMA_VERSION);
    const rows = await db.query<{ n: number; f: number | null }>('SELECT count(*)::INT AS n, max(fairness) AS f FROM runs');
    expect(rows[0]).toEqual({ n: 1, f: null });
    await runMatrix(expandMatrix(matrix).slice(1, 2), { db, isolate: false });
    const [after] = await db.query<{ f: number }>('SELECT max(fairness) AS f FROM runs');
    expect(after.f).toBeGreaterThan(0);
    expect(after.f).toBeLessThanOrEqual(1);
    db.close();
  });

  it('refuses a database written by another schema version, touching nothing', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'fb-')), 'r.duckdb');
    const db = await ResultsDb.open(path);
    await db.conn.run(`UPDATE meta SET value = '999' WHERE key = 'schema_version'`);
    db.close();
    await expect(ResultsDb.open(path)).rejects.toThrow(/schema version 999/);
  });
});
