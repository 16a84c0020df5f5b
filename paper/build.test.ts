import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ResultsDb } from '../harness/results/db.ts';
import { insertReps } from './synthetic.ts';
import { buildPaper, fillTemplate, runCheck } from './build.ts';

describe('paper build', () => {
  let dir: string;
  let dbPath: string;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'flockbench-paper-'));
    dbPath = join(dir, 'small.duckdb');
    const db = await ResultsDb.open(dbPath);
    await insertReps(db, { matrix: 'quick', system: 'blackboard-deferred' }, [1000, 1010, 990]);
    await insertReps(db, { matrix: 'quick', system: 'blackboard-eager' }, [1200, 1210, 1190]);
    await insertReps(db, { matrix: 'quick', system: 'langgraph-stepwise' }, [4000, 4100, 3900]);
    await insertReps(db, { matrix: 'quick', system: 'langgraph-parallel' }, [1400, 1390, 1410]);
    db.close();
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('fills every placeholder and records the verdicts', async () => {
    const out = join(dir, 'out');
    const res = await buildPaper({ dbPath, outDir: out });
    const md = readFileSync(res.paperPath, 'utf8');
    expect(md).not.toContain('{{');
    expect(md).not.toContain('<!--');
    expect(md).toContain('| H1 langgraph-stepwise | **supported** |');
    expect(md).toContain('figures/headline-makespan.svg');
    expect(md).toContain('not drawn');
    expect(existsSync(join(out, 'figures/headline-makespan.vl.json'))).toBe(true);
    const rec = JSON.parse(readFileSync(join(out, 'verdicts.json'), 'utf8'));
    expect(rec.configurations.filter((c: { robust: boolean }) => c.robust).length).toBeGreaterThan(0);
    // The build is deterministic: same DB, same paper.
    const again = await buildPaper({ dbPath, outDir: join(dir, 'out2') });
    expect(readFileSync(again.paperPath, 'utf8')).toBe(md);
    // --check against its own record passes.
    const check = await runCheck(dbPath, join(out, 'verdicts.json'), 'quick');
    expect(check.ok).toBe(true);
    expect(check.checked.every((c) => c.same)).toBe(true);
  });

  it('check fails when a recorded verdict differs', async () => {
    const out = join(dir, 'out3');
    await buildPaper({ dbPath, outDir: out });
    const p = join(out, 'verdicts.json');
    const rec = JSON.parse(readFileSync(p, 'utf8'));
    for (const c of rec.configurations) if (c.robust) c.verdict = c.verdict === 'supported' ? 'refuted' : 'supported';
    writeFileSync(p, JSON.stringify(rec));
    expect((await runCheck(dbPath, p, 'quick')).ok).toBe(false);
  });

  it('rejects unknown placeholders instead of leaving them in', () => {
    expect(fillTemplate('a {{x}} b', { x: '1' })).toBe('a 1 b');
    expect(() => fillTemplate('a {{nope}}', {})).toThrow(/unknown placeholders: nope/);
  });
});
