import { describe, expect, it } from 'vitest';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ResultsDb } from './results/db.ts';
import { formatTable, notebookHeader, runStatements, splitStatements } from './notebook.ts';

const NOTEBOOKS = join(import.meta.dirname, '..', 'notebooks');

describe('notebook', () => {
  it('splits on semicolons outside quotes and comments, names and documents statements', () => {
    const s = splitStatements(`-- file header\n-- more\n\n-- name: first\n-- what it does; really\nSELECT 'a;b' AS x;\n/* ; */ SELECT "c;d" FROM t -- trailing ;\n;`);
    expect(s.map((x) => x.name)).toEqual(['first', 'q2']);
    expect(s[0].doc).toBe('what it does; really');
    expect(s[0].sql).toBe(`SELECT 'a;b' AS x`);
    expect(s[1].sql).toContain('"c;d"');
    expect(notebookHeader('-- one\n-- two\n\nSELECT 1')).toBe('one\ntwo');
  });

  it('prints a table', async () => {
    const db = await ResultsDb.open(':memory:');
    try {
      const [r] = await runStatements(db, splitStatements(`-- name: t\nSELECT 1.5 AS x, 'a' AS y`));
      expect(formatTable(r)).toContain('-- t');
      expect(formatTable(r)).toContain('(1 row)');
    } finally {
      db.close();
    }
  });

  // Every notebook must be valid SQL against the current schema (empty tables are fine).
  for (const f of readdirSync(NOTEBOOKS).filter((x) => x.endsWith('.sql'))) {
    it(`${f} runs against the schema, with a header and named queries`, async () => {
      const text = readFileSync(join(NOTEBOOKS, f), 'utf8');
      expect(notebookHeader(text).length).toBeGreaterThan(40);
      const stmts = splitStatements(text);
      expect(stmts.length).toBeGreaterThanOrEqual(2);
      for (const s of stmts) expect(s.name).not.toMatch(/^q\d+$/);
      const db = await ResultsDb.open(':memory:');
      try {
        const res = await runStatements(db, stmts);
        expect(res).toHaveLength(stmts.length);
      } finally {
        db.close();
      }
    });
  }
});
