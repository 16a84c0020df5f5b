// The CLI as a user meets it: a real child process, exit codes and one-line errors.
import { beforeAll, describe, expect, it } from 'vitest';
import { spawn, spawnSync, type SpawnSyncOptions, type SpawnSyncReturns } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { ResultsDb } from '../harness/results/db.ts';

const dir = mkdtempSync(join(tmpdir(), 'fb-cli-'));
const cliAs = (o: SpawnSyncOptions, ...args: string[]) =>
  spawnSync(process.execPath, ['bin/flockbench.mjs', ...args], { timeout: 120_000, ...o, encoding: 'utf8' }) as SpawnSyncReturns<string>;
const cli = (...args: string[]) => cliAs({}, ...args);

/** A file as a refused command must leave it: same bytes, same mtime, no write-ahead log beside it. */
const snapshot = (p: string) => ({ sha: createHash('sha256').update(readFileSync(p)).digest('hex'), mtimeMs: statSync(p).mtimeMs, wal: existsSync(`${p}.wal`) });

/** Exit 2, exactly one line on stderr naming the fix, nothing on stdout. */
function expectRefused(r: SpawnSyncReturns<string>, msg: RegExp): void {
  expect(r.status, r.stderr).toBe(2);
  expect(r.stderr.trim().split('\n')).toHaveLength(1);
  expect(r.stderr).toMatch(msg);
  expect(r.stdout).toBe('');
}

/** A matrix that runs in well under a second; each bad case below changes one key (YAML text). */
const GOOD: Record<string, string> = { name: 'bad-input', reps: '1', latencyScale: '0.002', systems: '[blackboard-eager]', workloads: '[{name: map, params: {tasks: 2}}]' };
const yaml = (patch: Record<string, string>) => Object.entries({ ...GOOD, ...patch }).map(([k, v]) => `${k}: ${v}\n`).join('');

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

  // The bad inputs of the issue: each refused before anything runs or any broker starts, with
  // one line naming the YAML key (or the flag actually given), and an existing database left
  // byte for byte as it was.
  describe('bad input against an existing database', () => {
    const existing = join(dir, 'existing.duckdb');
    beforeAll(async () => {
      (await ResultsDb.open(existing)).close();
    });
    const ownsSimulator = (system: string) => ({ systems: `[${system}]`, workloads: '[{name: review-analysis, params: {analysts: 2, tasks: 1}}]', llmTransport: 'http', llmOptions: '{limits: {rpm: 100}}' });
    it.each<[string, Record<string, string>, string[], RegExp]>([
      ['1. --db ""', {}, ['--db', ''], /^flockbench: --db must name a file \(e\.g\. results\/flockbench\.duckdb\)$/m],
      ['2. reps: 1e9', { reps: '1e9' }, [], /1 cells x 1000000000 reps = 1000000000 runs exceeds 100000; lower 'reps' or the axes$/m],
      ['2. --reps 1000000000', {}, ['--reps', '1000000000'], /runs exceeds 100000; lower --reps or the axes$/m],
      ['3. a misspelt system parameter', { systemParams: '{blackboard-eager: {maxConcurency: 4}}' }, [], /systemParams\.blackboard-eager: unknown parameter 'maxConcurency'; known: maxAgentIterations$/m],
      ['3. a misspelt system parameter, with a near name', { systems: '[langgraph-parallel]', systemParams: '{langgraph-parallel: {maxConcurency: 4}}' }, [], /systemParams\.langgraph-parallel: unknown parameter 'maxConcurency' \(did you mean 'maxConcurrency'\?\)/],
      ['4. systemParams of a system not in the matrix', { systemParams: '{langgraph-parallel: {maxConcurrency: 4}}' }, [], /systemParams\.langgraph-parallel: 'langgraph-parallel' is not in the matrix's systems \(blackboard-eager\)$/m],
      ['5. llmOptions.limits.rpm: "lots"', { llmOptions: '{limits: {rpm: "lots"}}' }, [], /llmOptions\.limits: 'rpm' must be a number >= 1, got "lots"/],
      ['5. llmOptions.rpm (a limit outside limits)', { llmTransport: 'http', llmOptions: '{rpm: "lots"}' }, [], /llmOptions\.rpm belongs under llmOptions\.limits \(llmOptions: \{limits: \{rpm: \.\.\.\}\}\)$/m],
      ['5. llmOptions.maxRetries: -3', { llmTransport: 'http', llmOptions: '{maxRetries: -3}' }, [], /llmOptions: 'maxRetries' must be an integer >= 0, got -3/],
      ['6. a system listed twice', { systems: '[blackboard-eager, blackboard-eager]' }, [], /systems: "blackboard-eager" listed twice$/m],
      ['6. an axis value listed twice', { workloads: '[{name: map, params: {tasks: [4, 4]}}]' }, [], /workloads\[0\] \(map\)\.params\.tasks: value 4 listed twice/],
      ['8. seed: 2.5', { seed: '2.5' }, [], /'seed' must be an integer >= 0, got 2\.5$/m],
      ['8. seed: 1e20 (past 2^63: a BIGINT error after the run)', { seed: '1e20' }, [], /'seed' must be <= \d+, got 100000000000000000000$/m],
      ['8. --seed 2.5', {}, ['--seed', '2.5'], /--seed must be an integer from 0 to \d+$/m],
      ['8. --seed 1e19', {}, ['--seed', '1e19'], /--seed must be an integer from 0 to \d+$/m],
      ['9. reps: 0', { reps: '0' }, [], /'reps' must be an integer >= 1, got 0$/m],
      ['flock-real with llmOptions it does not honour', ownsSimulator('flock-real'), [], /flock-real starts its own simulator and does not honour 'llmOptions' .*: drop llmOptions or run flock-real in a matrix without them$/m],
      ['langgraph-py with llmOptions it does not honour', ownsSimulator('langgraph-py'), [], /langgraph-py starts its own simulator and does not honour 'llmOptions'/],
      ['timeoutMs: 3e9 (no Node timer holds it: every run would time out at once)', { timeoutMs: '3e9' }, [], /'timeoutMs' must be <= 2147483647, got 3000000000$/m],
    ])('%s: exit 2, one line naming the fix, the database untouched', (_, patch, args, msg) => {
      const before = snapshot(existing);
      const r = cli('run', matrix(`${Math.random()}.yaml`, yaml(patch)), ...(args.includes('--db') ? [] : ['--db', existing]), ...args);
      expectRefused(r, msg);
      // Never a flag it was not given.
      for (const flag of ['--reps', '--seed', '--latency-scale']) if (!args.includes(flag)) expect(r.stderr).not.toContain(flag);
      expect(snapshot(existing)).toEqual(before);
    });
  });

  it('10. a DuckDB file of something else, or no DuckDB file at all: refused, its content unchanged', async () => {
    const foreign = join(dir, 'customers.duckdb');
    const inst = await DuckDBInstance.create(foreign);
    const c = await inst.connect();
    await c.run(`CREATE TABLE customers (id INTEGER, name VARCHAR)`);
    await c.run(`INSERT INTO customers VALUES (1, 'a')`);
    c.closeSync();
    inst.closeSync();
    const text = join(dir, 'notes.duckdb');
    writeFileSync(text, 'not a database\n');
    const m = matrix('foreign.yaml', yaml({}));
    for (const [db, msg] of [[foreign, /customers\.duckdb is not a flockbench results database \(no meta table\); pick another --db$/m], [text, /cannot open .*notes\.duckdb as a DuckDB database: .*not a valid DuckDB database file/]] as const) {
      const before = snapshot(db);
      expectRefused(cli('run', m, '--db', db), msg);
      expect(snapshot(db)).toEqual(before);
    }
  });

  it('7. a database in a read-only directory, or a read-only database: exit 2 naming --db, nothing created or changed', async () => {
    // Root writes anywhere: as root, the command runs as nobody, to whom the directory really is read-only.
    const as: SpawnSyncOptions = process.getuid?.() === 0 ? { uid: 65534, gid: 65534 } : {};
    const base = mkdtempSync(join(tmpdir(), 'fb-cli-ro-'));
    chmodSync(base, 0o755);
    const m = join(base, 'm.yaml');
    writeFileSync(m, yaml({}), { mode: 0o644 });
    // A directory it cannot write, holding a database file it could write (all but the directory is writable).
    const ro = join(base, 'ro');
    mkdirSync(ro);
    const inRo = join(ro, 'r.duckdb');
    (await ResultsDb.open(inRo)).close();
    if (as.uid !== undefined) chownSync(inRo, as.uid, as.gid!);
    // A writable directory holding a database file it cannot write.
    const rw = join(base, 'rw');
    mkdirSync(rw);
    const roFile = join(rw, 'r.duckdb');
    (await ResultsDb.open(roFile)).close();
    chmodSync(roFile, 0o444);
    if (as.uid !== undefined) chownSync(rw, as.uid, as.gid!);
    chmodSync(ro, 0o555);
    try {
      const fresh = join(ro, 'new.duckdb');
      expectRefused(cliAs(as, 'run', m, '--db', fresh), /cannot create .*new\.duckdb: .*ro is not writable; pick another --db$/m);
      expect(existsSync(fresh)).toBe(false);
      let before = snapshot(inRo);
      expectRefused(cliAs(as, 'run', m, '--db', inRo), /cannot write to .*r\.duckdb: its directory .*ro is not writable \(DuckDB keeps r\.duckdb\.wal there\); pick another --db$/m);
      expect(snapshot(inRo)).toEqual(before);
      before = snapshot(roFile);
      expectRefused(cliAs(as, 'run', m, '--db', roFile), /--db .*r\.duckdb is read-only; make it writable or pick another --db$/m);
      expect(snapshot(roFile)).toEqual(before);
      // Reading needs no write access.
      expect(cliAs(as, 'report', '--db', inRo).status).toBe(0);
    } finally {
      chmodSync(ro, 0o755);
    }
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

  it.each(['SIGTERM', 'SIGINT'] as const)('%s stops the whole process tree: no orphan, the DB unlocked, only whole runs stored', async (sig) => {
    const db = join(dir, `signal-${sig}.duckdb`);
    const m = matrix(`long-${sig}.yaml`, 'name: long\nreps: 3\nlatencyScale: 1\nsystems: [blackboard-eager]\nworkloads: [{name: map, params: {tasks: 5, depth: 20}}]\n');
    const child = spawn(process.execPath, ['bin/flockbench.mjs', 'run', m, '--db', db], { stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    child.stderr.on('data', (b: Buffer) => { err += b.toString(); });
    // Wait until the first run's child process exists, then interrupt.
    const descendants = (): number[] => {
      const r = spawnSync('ps', ['-eo', 'pid,ppid'], { encoding: 'utf8' });
      const rows = r.stdout.trim().split('\n').slice(1).map((l) => l.trim().split(/\s+/).map(Number));
      const out: number[] = [];
      const walk = (p: number) => { for (const [pid, ppid] of rows) if (ppid === p) { out.push(pid!); walk(pid!); } };
      walk(child.pid!);
      return out;
    };
    let tree: number[] = [];
    for (let i = 0; i < 300 && tree.filter((p) => spawnSync('ps', ['-o', 'args=', '-p', String(p)], { encoding: 'utf8' }).stdout.includes('child.ts')).length === 0; i++) {
      await new Promise((r) => setTimeout(r, 100));
      tree = descendants();
    }
    expect(tree.length).toBeGreaterThan(0);
    const code = await new Promise<number | null>((resolve) => {
      child.once('exit', (c) => resolve(c));
      child.kill(sig);
    });
    expect(code).toBe(sig === 'SIGTERM' ? 143 : 130);
    expect(err).toMatch(new RegExp(`${sig}, stopping`));
    await new Promise((r) => setTimeout(r, 300));
    // Gone, or a zombie (dead; reaped by whoever inherits it): nothing of the run still runs.
    const running = (pid: number) => /^[^Z]/.test(spawnSync('ps', ['-o', 'stat=', '-p', String(pid)], { encoding: 'utf8' }).stdout.trim());
    for (const pid of tree) expect(running(pid), `process ${pid} outlived the command: ${spawnSync('ps', ['-o', 'args=', '-p', String(pid)], { encoding: 'utf8' }).stdout}`).toBe(false);
    // The database is not locked and holds no partial run.
    const handle = await ResultsDb.open(db);
    const [runs] = await handle.query<{ n: number; bad: number }>(`SELECT count(*)::INT AS n, count(*) FILTER (WHERE state = 'completed' AND makespan_ms IS NULL)::INT AS bad FROM runs`);
    expect(runs!.bad).toBe(0);
    handle.close();
  }, 120_000);

  it('a wrapper that dies without passing the signal on (npx: sh -c) still stops the command', async () => {
    const db = join(dir, 'orphan.duckdb');
    const m = matrix('long-orphan.yaml', 'name: long\nreps: 3\nlatencyScale: 1\nsystems: [blackboard-eager]\nworkloads: [{name: map, params: {tasks: 5, depth: 20}}]\n');
    // `; true` keeps sh from exec-ing node: sh is the parent, as under npx.
    const sh = spawn('sh', ['-c', `${process.execPath} bin/flockbench.mjs run ${m} --db ${db}; true`], { stdio: 'ignore' });
    const cliPid = async (): Promise<number | undefined> => {
      for (let i = 0; i < 300; i++) {
        const r = spawnSync('ps', ['-eo', 'pid,ppid,args'], { encoding: 'utf8' });
        const row = r.stdout.split('\n').map((l) => l.trim().split(/\s+/)).find((f) => Number(f[1]) === sh.pid && f.includes('bin/flockbench.mjs'));
        if (row) return Number(row[0]);
        await new Promise((r) => setTimeout(r, 100));
      }
      return undefined;
    };
    const pid = await cliPid();
    expect(pid).toBeDefined();
    await new Promise((r) => setTimeout(r, 1500));
    sh.kill('SIGKILL');
    let alive = true;
    for (let i = 0; i < 100 && alive; i++) {
      await new Promise((r) => setTimeout(r, 100));
      alive = /^[^Z]/.test(spawnSync('ps', ['-o', 'stat=', '-p', String(pid)], { encoding: 'utf8' }).stdout.trim());
    }
    expect(alive).toBe(false);
  }, 120_000);
});
