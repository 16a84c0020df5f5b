// Headless SQL notebooks: a .sql file is a few named statements (`-- name: <id>` above each)
// run read-only against the results DB and printed as tables; `flockbench sql` is the CLI.
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UserError } from '../core/errors.ts';
import type { ResultsDb } from './results/db.ts';

// Kept light for the CLI's --help: DuckDB loads inside openReadOnly.
const DEFAULT_DB = 'results/flockbench.duckdb';

export interface NotebookStatement {
  /** From a `-- name: <id>` line above the statement; `q<N>` (1-based) when absent. */
  name: string;
  /** The comment lines directly above the statement (without `--`), name line excluded. */
  doc: string;
  sql: string;
}

export interface QueryResult {
  name: string;
  doc: string;
  columns: string[];
  rows: Record<string, unknown>[];
}

/**
 * Split SQL text into statements on `;`, ignoring semicolons inside quotes and comments.
 * Comments directly above a statement become its doc; `-- name: x` names it.
 */
export function splitStatements(text: string): NotebookStatement[] {
  const out: NotebookStatement[] = [];
  let buf = '';
  let i = 0;
  const flush = () => {
    const raw = buf;
    buf = '';
    const lines = raw.split('\n');
    let name = '';
    const doc: string[] = [];
    const body: string[] = [];
    for (const line of lines) {
      const t = line.trim();
      if (!body.length && t.startsWith('--')) {
        const m = /^--\s*name:\s*([\w.-]+)/.exec(t);
        if (m) name = m[1];
        else doc.push(t.replace(/^--\s?/, ''));
      } else if (!body.length && !t) doc.length = 0; // a blank line ends a comment block (file header)
      else body.push(line);
    }
    const sql = body.join('\n').trim();
    if (!sql) return;
    out.push({ name: name || `q${out.length + 1}`, doc: doc.join('\n').trim(), sql });
  };
  while (i < text.length) {
    const c = text[i];
    if (c === "'" || c === '"') {
      const end = text.indexOf(c, i + 1);
      const j = end < 0 ? text.length : end + 1;
      buf += text.slice(i, j);
      i = j;
    } else if (c === '-' && text[i + 1] === '-') {
      const end = text.indexOf('\n', i);
      const j = end < 0 ? text.length : end + 1;
      buf += text.slice(i, j);
      i = j;
    } else if (c === '/' && text[i + 1] === '*') {
      const end = text.indexOf('*/', i + 2);
      const j = end < 0 ? text.length : end + 2;
      buf += text.slice(i, j);
      i = j;
    } else if (c === ';') {
      flush();
      i++;
    } else {
      buf += c;
      i++;
    }
  }
  flush();
  return out;
}

/** The file's header: leading `--` lines up to the first blank line. */
export function notebookHeader(text: string): string {
  const lines: string[] = [];
  for (const line of text.split('\n')) {
    const t = line.trim();
    if (!t.startsWith('--')) break;
    lines.push(t.replace(/^--\s?/, ''));
  }
  return lines.join('\n').trim();
}

/**
 * Open the results DB read-only. DuckDB allows one writer per file and a writer's lock also
 * blocks readers in other processes; with `snapshot` (default) a locked file is copied (with
 * its WAL) to a temp dir and the copy is opened, so analyses never wait on a running matrix.
 */
export async function openReadOnly(path = DEFAULT_DB, { snapshot = true } = {}): Promise<ResultsDb> {
  const { ResultsDb } = await import('./results/db.ts');
  if (path !== ':memory:' && !existsSync(path)) throw new UserError(`no results database at ${path} (run \`flockbench run <matrix>\` first)`);
  try {
    return await ResultsDb.open(path, { readOnly: true });
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e);
    if (!snapshot || !/lock/i.test(msg)) throw e;
    const dir = mkdtempSync(join(tmpdir(), 'flockbench-snap-'));
    const copy = join(dir, 'snapshot.duckdb');
    copyFileSync(path, copy);
    if (existsSync(`${path}.wal`)) copyFileSync(`${path}.wal`, `${copy}.wal`);
    try {
      // Not read-only: replaying a copied WAL needs a writable file (it is our private copy).
      const db = await ResultsDb.open(copy);
      const close = db.close.bind(db);
      db.close = () => { close(); rmSync(dir, { recursive: true, force: true }); };
      return db;
    } catch (e2) {
      throw new UserError(`${path} is locked by a writer and a snapshot copy failed (${e2 instanceof Error ? e2.message : e2}); retry when the run ends`);
    }
  }
}

export async function runStatements(db: ResultsDb, stmts: NotebookStatement[]): Promise<QueryResult[]> {
  const out: QueryResult[] = [];
  for (const s of stmts) {
    let r: Awaited<ReturnType<typeof db.conn.runAndReadAll>>;
    try {
      r = await db.conn.runAndReadAll(s.sql);
    } catch (e) {
      throw new UserError(`query '${s.name}' failed: ${e instanceof Error ? e.message.split('\n')[0] : e}`);
    }
    out.push({ name: s.name, doc: s.doc, columns: r.columnNames(), rows: r.getRowObjectsJson() as Record<string, unknown>[] });
  }
  return out;
}

/** `path.sql` -> its statements; anything else is taken as SQL text. */
export function loadNotebook(fileOrSql: string): { header: string; statements: NotebookStatement[] } {
  const isFile = /\.sql$/i.test(fileOrSql.trim());
  if (isFile && !existsSync(fileOrSql)) throw new UserError(`no such SQL file: ${fileOrSql}`);
  const text = isFile ? readFileSync(fileOrSql, 'utf8') : fileOrSql;
  return { header: isFile ? notebookHeader(text) : '', statements: splitStatements(text) };
}

const cell = (v: unknown): string => {
  if (v === null || v === undefined) return '';
  if (typeof v === 'number') return Number.isInteger(v) ? String(v) : Math.abs(v) >= 100 ? v.toFixed(1) : v.toPrecision(4);
  if (typeof v === 'object') return JSON.stringify(v);
  return String(v);
};

/** Fixed-width text table; numbers right-aligned. */
export function formatTable(r: QueryResult, maxRows = 200): string {
  const body = r.rows.slice(0, maxRows).map((row) => r.columns.map((c) => cell(row[c])));
  // BIGINT comes back as a decimal string: still a number for alignment.
  const isNum = (v: unknown) => v === null || typeof v === 'number' || (typeof v === 'string' && /^-?\d+$/.test(v));
  const numeric = r.columns.map((c) => r.rows.length > 0 && r.rows.every((row) => isNum(row[c])));
  const widths = r.columns.map((c, i) => Math.max(c.length, ...body.map((b) => b[i].length)));
  const line = (cells: string[]) => '  ' + cells.map((x, i) => (numeric[i] ? x.padStart(widths[i]) : x.padEnd(widths[i]))).join('  ').trimEnd();
  const out = [`-- ${r.name}${r.doc ? ': ' + r.doc.split('\n')[0] : ''}`, line(r.columns), '  ' + widths.map((w) => '-'.repeat(w)).join('  ')];
  for (const b of body) out.push(line(b));
  out.push(`  (${r.rows.length} row${r.rows.length === 1 ? '' : 's'}${r.rows.length > maxRows ? `, first ${maxRows} shown` : ''})`);
  return out.join('\n');
}
