// The CLI as a user meets it: a real child process, exit codes and one-line errors.
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ResultsDb } from '../harness/results/db.ts';

const dir = mkdtempSync(join(tmpdir(), 'fb-cli-'));
const cli = (...args: string[]) => spawnSync(process.execPath, ['bin/flockbench.mjs', ...args], { encoding: 'utf8', timeout: 120_000 });

function matrix(name: string, body: string): string {
  const p = join(dir, name);
  writeFileSync(p, body);
  return p;
}

describe('flockbench CLI', () => {
  it('lists systems and workloads', () => {
    const s = cli('systems');
    expect(s.status).toBe(0);
    expect(s.stdout).toMatch(/blackboard-eager/);
    const w = cli('workloads', '--params');
    expect(w.status).toBe(0);
    expect(w.stdout).toMatch(/review-analysis/);
    expect(w.stdout).toMatch(/analysts=8/);
  });

  it.each([
    ['unknown system', 'name: x\nsystems: [nope]\nworkloads: [{name: map}]\n', /unknown system 'nope'/],
    ['unknown workload', 'name: x\nsystems: [blackboard-eager]\nworkloads: [{name: nope}]\n', /unknown workload 'nope'/],
    ['malformed YAML', 'name: x\nsystems: [blackboard-eager\n', /malformed YAML/],
    ['bad workload param', 'name: x\nsystems: [blackboard-eager]\nworkloads: [{name: map, params: {tasks: -1}}]\n', /'tasks' must be an integer >= 1/],
    ['unknown param', 'name: x\nsystems: [blackboard-eager]\nworkloads: [{name: map, params: {itemz: 3}}]\n', /unknown parameter 'itemz'/],
  ])('%s: exit 2, one line, no rows', (_, body, msg) => {
    const db = join(dir, `${Math.random()}.duckdb`);
    const r = cli('run', matrix(`${Math.random()}.yaml`, body), '--db', db);
    expect(r.status).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(msg);
    expect(existsSync(db)).toBe(false);
  });

  it('bad flag and missing file: exit 2', () => {
    expect(cli('run', 'paper/experiments/quick.yaml', '--reps', 'zero').status).toBe(2);
    expect(cli('run', join(dir, 'missing.yaml')).status).toBe(2);
    expect(cli('frobnicate').status).toBe(2);
  });

  it('runs a matrix, stores it, reports it; bad input afterwards loses nothing', async () => {
    const db = join(dir, 'ok.duckdb');
    const m = matrix('ok.yaml', 'name: ok\nreps: 2\nlatencyScale: 0.002\nsystems: [blackboard-eager, blackboard-deferred]\nworkloads: [{name: map, params: {tasks: 4}}]\n');
    const r = cli('run', m, '--db', db, '--json');
    expect(r.status).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.ran).toBe(4);
    expect(out.summary).toHaveLength(2);
    const bad = cli('run', matrix('bad.yaml', 'name: ok\nsystems: [nope]\nworkloads: [{name: map}]\n'), '--db', db);
    expect(bad.status).toBe(2);
    const rep = cli('report', '--db', db, '--json');
    expect(rep.status).toBe(0);
    expect(JSON.parse(rep.stdout).map((x: { n: number }) => x.n)).toEqual([2, 2]);
    const handle = await ResultsDb.open(db, { readOnly: true });
    expect((await handle.query<{ n: number }>('SELECT count(*)::INT AS n FROM runs'))[0].n).toBe(4);
    handle.close();
  });

  it('report without a database: exit 2', () => {
    const r = cli('report', '--db', join(dir, 'none.duckdb'));
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/no results database/);
  });
});
