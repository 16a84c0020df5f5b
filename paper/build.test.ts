import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { ResultsDb } from '../harness/results/db.ts';
import { buildPaper, fillTemplate, runCheck } from './build.ts';
import { exportReference, openPaperData } from './data.ts';
import { insertArm, insertRun, noise, seedEffect } from './synthetic.ts';

const h1 = { matrix: 'h1', workloadParams: { analysts: 8, tasks: 4, arrival: 'all-at-once' } };
const seeds = (from: number, n: number) => Array.from({ length: n }, (_, i) => from + i);

async function fill(path: string, from: number, n: number, factor: number, sessions: number): Promise<void> {
  const db = await ResultsDb.open(path);
  try {
    await insertArm(db, { ...h1, system: 'blackboard-deferred' }, seeds(from, n), (x) => 1000 * seedEffect(x) * noise(x, 1), sessions);
    await insertArm(db, { ...h1, system: 'blackboard-eager' }, seeds(from, n), (x) => 1000 * seedEffect(x) * noise(x, 2), sessions);
    await insertArm(db, { ...h1, system: 'langgraph-per-item' }, seeds(from, n), (x) => 1000 * factor * seedEffect(x) * noise(x, 3), sessions);
    await insertArm(db, { ...h1, system: 'langgraph-stepwise' }, seeds(from, n), (x) => 4000 * seedEffect(x) * noise(x, 4), sessions);
    // The same configuration at another latency scale: the sensitivity figure, not a decision.
    await insertArm(db, { ...h1, latencyScale: 0.05, system: 'blackboard-deferred' }, seeds(from, n), (x) => 60 * seedEffect(x), sessions);
    await insertArm(db, { ...h1, latencyScale: 0.05, system: 'langgraph-per-item' }, seeds(from, n), (x) => 90 * seedEffect(x), sessions);
  } finally {
    db.close();
  }
}

describe('paper build', () => {
  let dir: string;
  let dbPath: string;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'flockbench-paper-'));
    dbPath = join(dir, 'ref.duckdb');
    await fill(dbPath, 1, 10, 1.25, 2);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('fills every placeholder, records the decisions, and is byte-for-byte deterministic', async () => {
    const out = join(dir, 'out');
    const res = await buildPaper({ dbPath, outDir: out });
    const md = readFileSync(res.paperPath, 'utf8');
    expect(md).not.toContain('{{');
    expect(md).not.toContain('<!--');
    expect(md).toMatch(/\| H1 vs langgraph-per-item \| \*\*supported\*\* \|/);
    expect(md).toMatch(/\| H1b: deferred vs eager on the same blackboard \| \*\*refuted\*\* \|/);
    expect(md).toContain('figures/h1-forest.svg');
    expect(md).toContain('figures/h1-ratio-vs-scale.svg');
    expect(existsSync(join(out, 'figures/h1-forest.vl.json'))).toBe(true);
    const rec = JSON.parse(readFileSync(join(out, 'verdicts.json'), 'utf8'));
    expect(rec.comparisons.filter((c: { decided: boolean }) => c.decided).length).toBeGreaterThan(0);
    const again = await buildPaper({ dbPath, outDir: join(dir, 'out2') });
    expect(readFileSync(again.paperPath, 'utf8')).toBe(md);
    expect(readFileSync(join(dir, 'out2', 'verdicts.json'), 'utf8')).toBe(readFileSync(join(out, 'verdicts.json'), 'utf8'));
  });

  it('prints one reproduce command per session, naming the matrix file the session recorded', async () => {
    const path = join(dir, 'reproduce.duckdb');
    const db = await ResultsDb.open(path);
    const map = { matrix: 'h2-decide', workload: 'map', workloadParams: { tasks: 256, depth: 1 }, tasks: 256 };
    await insertRun(db, { ...map, system: 'blackboard-eager', seed: 2, session: 'a', makespanMs: 1000 });
    await insertRun(db, { ...map, system: 'blackboard-kafka', seed: 2, session: 'b', makespanMs: 1000, matrixFile: 'paper/experiments/h2-decide-p1.yaml' });
    db.close();
    const md = readFileSync((await buildPaper({ dbPath: path, outDir: join(dir, 'reproduce-out') })).paperPath, 'utf8');
    expect(md).toContain('flockbench run paper/experiments/h2-decide.yaml --seed 2 --reps 1 --latency-scale 1   # 1 runs');
    expect(md).toContain('flockbench run paper/experiments/h2-decide-p1.yaml --seed 2 --reps 1 --latency-scale 1   # 1 runs');
  });

  it("charges a broker arm's own cost against its partition-aware bound, not the slot-free ideal, and leaves out broker runs without one", async () => {
    const path = join(dir, 'efficiency.duckdb');
    const db = await ResultsDb.open(path);
    const map = { matrix: 'h2-decide', workload: 'map', workloadParams: { tasks: 256, depth: 1 }, tasks: 256 };
    // A p = 1 arm: 10x the slot-free ideal, 1.01x its own slots' replay.
    for (const seed of [2, 3, 4]) await insertRun(db, { ...map, system: 'blackboard-kafka', seed, makespanMs: 10_000, idealMs: 1000, partitionAwareMs: 10_000 / 1.01 });
    // Pulsar Failover: no partition-aware bound, so no engine-cost figure.
    await insertRun(db, { ...map, system: 'blackboard-pulsar', seed: 2, makespanMs: 10_000, idealMs: 1000 });
    await insertRun(db, { ...map, system: 'blackboard-eager', seed: 2, makespanMs: 1100, idealMs: 1000 });
    db.close();
    const md = readFileSync((await buildPaper({ dbPath: path, outDir: join(dir, 'efficiency-out') })).paperPath, 'utf8');
    const table = md.slice(md.indexOf('| system | runs | overhead = makespan / ideal'), md.indexOf('**The tutorial'));
    expect(table).toContain('| blackboard-kafka | 3 | 1.01 [');
    expect(table).toContain('| blackboard-eager | 1 | 1.10 [');
    expect(table).not.toContain('blackboard-pulsar');
  });

  it('shows the harness at scale from stored whole-process cost: wall, makespan and their difference per system and size', async () => {
    const path = join(dir, 'scale.duckdb');
    await fill(path, 1, 4, 1.25, 1);
    const db = await ResultsDb.open(path);
    const scale = { matrix: 'scale', workload: 'map', latencyScale: 0.001, tasks: 100_000, workloadParams: { tasks: 100_000, depth: 1, maxConcurrency: 1000 } };
    for (const [seed, wallMs] of [[17, 9000], [18, 9400], [19, 9800]] as const) {
      await insertRun(db, { ...scale, system: 'blackboard-eager', seed, makespanMs: 3000, process: { wallMs, rssPeakMb: 500, cpuMs: 8000, rowsMs: 700, importMs: 300, collectorsMs: 1200 } });
    }
    db.close();
    const md = readFileSync((await buildPaper({ dbPath: path, outDir: join(dir, 'scale-out') })).paperPath, 'utf8');
    expect(md).toContain('### The harness at scale');
    expect(md).toContain('| blackboard-eager | 100000 | n/a | 3 (0) | 3.0 | 9.4 | 6.4 | 1.2 | 1.0 | 8.0 | 500 |');
    // Without such runs the section says so.
    const plain = readFileSync((await buildPaper({ dbPath, outDir: join(dir, 'plain-out') })).paperPath, 'utf8');
    expect(plain).toContain('_No run of `paper/experiments/scale.yaml` with its whole-process cost is stored._');
  });

  it('rebuilds the same paper from the exported reference data (what a fresh clone does)', async () => {
    const ref = join(dir, 'reference');
    await exportReference(dbPath, ref);
    const fromDb = readFileSync((await buildPaper({ dbPath, outDir: join(dir, 'a') })).paperPath, 'utf8');
    const { db } = await openPaperData(undefined, ref);
    db.close();
    const fromRef = readFileSync((await buildPaper({ referenceDir: ref, outDir: join(dir, 'b') })).paperPath, 'utf8');
    // Only the source line differs.
    const body = (s: string) => s.split('\n').filter((l) => !l.startsWith('*Generated by')).join('\n');
    expect(body(fromRef)).toBe(body(fromDb));
  });

  it('an export that fails leaves the reference it would replace untouched', async () => {
    const ref = join(dir, 'reference-kept');
    await exportReference(dbPath, ref);
    const before = readdirSync(ref).sort().map((f) => [f, readFileSync(join(ref, f)).length]);
    // A results file without a table the export needs.
    const broken = join(dir, 'broken.duckdb');
    const inst = await DuckDBInstance.create(broken);
    const c = await inst.connect();
    await c.run('CREATE TABLE runs (run_id VARCHAR)');
    c.closeSync();
    await expect(exportReference(broken, ref)).rejects.toThrow();
    expect(readdirSync(ref).sort().map((f) => [f, readFileSync(join(ref, f)).length])).toEqual(before);
    expect(readdirSync(dir).filter((f) => f.includes('.export-'))).toEqual([]);
  });

  it('reads reference data exported under an older schema: the shipped files, and columns added since left NULL', async () => {
    const shipped = await openPaperData();
    expect((await shipped.db.query<{ n: number }>(`SELECT count(*)::INT AS n FROM runs`))[0]!.n).toBeGreaterThan(0);
    shipped.db.close();
    const ref = join(dir, 'reference-old');
    await exportReference(dbPath, ref);
    const inst = await DuckDBInstance.create(':memory:');
    const c = await inst.connect();
    const runsFile = join(ref, 'runs.parquet');
    await c.run(`CREATE TABLE r AS SELECT * EXCLUDE (process_wall_ms, process_cpu_ms, process_rss_peak_mb, harness_overhead_ms) FROM read_parquet('${runsFile}')`);
    await c.run(`COPY r TO '${runsFile}' (FORMAT PARQUET)`);
    // A bench row as schema 4 kept it: its state and reason in env.
    await c.run(`COPY (SELECT 'b-1' AS bench_id, 'langgraph-stepwise' AS system, 'items-10000' AS case_name, 10000 AS n, 10000 AS events, NULL::DOUBLE AS p50_ms,
                   '{"state":"skipped","reason":"predicted 99 s"}' AS env) TO '${join(ref, 'bench.parquet')}' (FORMAT PARQUET)`);
    c.closeSync();
    inst.closeSync();
    const { db } = await openPaperData(undefined, ref);
    expect(await db.query(`SELECT count(*)::INT AS n, count(process_wall_ms)::INT AS cost FROM runs`)).toEqual([{ n: expect.any(Number), cost: 0 }]);
    expect(await db.query(`SELECT family, state, reason FROM bench`)).toEqual([{ family: 'items', state: 'skipped', reason: 'predicted 99 s' }]);
    db.close();
  });

  it('--check passes on a fresh replication with the same effect and fails when a decided verdict flips', async () => {
    const out = join(dir, 'out3');
    await buildPaper({ dbPath, outDir: out });
    const held = join(dir, 'rep-held.duckdb');
    await fill(held, 1_000_000, 4, 1.25, 1);
    const ok = await runCheck(held, join(out, 'verdicts.json'));
    expect(ok.ok).toBe(true);
    expect(ok.lines.some((l) => l.status === 'held')).toBe(true);
    const flipped = join(dir, 'rep-flip.duckdb');
    await fill(flipped, 1_000_000, 4, 0.7, 1);
    const bad = await runCheck(flipped, join(out, 'verdicts.json'));
    expect(bad.ok).toBe(false);
    expect(bad.lines.some((l) => l.status === 'FLIPPED')).toBe(true);
    // A replication that re-decides nothing (another configuration) checks nothing: it fails.
    const elsewhere = join(dir, 'rep-elsewhere.duckdb');
    const e = await ResultsDb.open(elsewhere);
    await insertArm(e, { matrix: 'h1', workloadParams: { analysts: 2, tasks: 4, arrival: 'all-at-once' }, system: 'blackboard-deferred' }, seeds(1_000_000, 4), (x) => 1000 * seedEffect(x), 1);
    await insertArm(e, { matrix: 'h1', workloadParams: { analysts: 2, tasks: 4, arrival: 'all-at-once' }, system: 'langgraph-per-item' }, seeds(1_000_000, 4), (x) => 1250 * seedEffect(x), 1);
    e.close();
    const none = await runCheck(elsewhere, join(out, 'verdicts.json'));
    expect(none).toMatchObject({ ok: false, replicated: 0 });
    // A tampered record is caught the same way.
    const p = join(out, 'verdicts.json');
    const rec = JSON.parse(readFileSync(p, 'utf8'));
    for (const c of rec.comparisons) if (c.decided && c.decision === 'supported') c.decision = 'refuted';
    writeFileSync(p, JSON.stringify(rec));
    expect((await runCheck(held, p)).ok).toBe(false);
    // A record from an older paper (no comparisons) is refused with the fix, not a crash.
    writeFileSync(p, JSON.stringify({ note: 'old', hypotheses: [] }));
    await expect(runCheck(held, p)).rejects.toThrow(/no recorded comparisons.*regenerate it with `flockbench paper`/);
  });

  it('the Failure section counts a run at its limit as a failure, shows the negative control and the commands', async () => {
    const path = join(dir, 'chaos.duckdb');
    await fill(path, 1, 10, 1.25, 2);
    const db = await ResultsDb.open(path);
    const { chaos } = await import('../harness/results/schema.ts');
    const row = (seed: number, mode: string, lost: number, duplicated: number, error: string | null, readFilter: string | null = 'raw-fetch') => ({
      run_id: `${mode}-${seed}`, started_at: new Date(Date.UTC(2026, 0, 1, 0, seed)).toISOString(), mode, nodes: 3, tasks: 300, kills: 2, worker_crashes: 0,
      expected: 900, observed: 900 - lost + duplicated, lost, duplicated, unexpected: 0, makespan_ms: 60_000,
      env: JSON.stringify({ seed, latencyScale: 0.05, error, ...(readFilter ? { readFilter, loadStart: seed % 2 ? 1 : 3 } : {}), schedule: { kills: [{ atProgress: 0.3, node: 1 }, { atProgress: 0.6, node: 2 }], crashKeys: [] } }),
    });
    const pulsarRow = (seed: number, duplicated: number) => ({
      ...row(seed, 'at-least-once', 0, duplicated, null), run_id: `pulsar-${seed}`, nodes: 1, worker_crashes: 0,
      env: JSON.stringify({ broker: 'pulsar', seed, latencyScale: 0.05, error: null, schedule: { kills: [{ atMs: 5000 }], crashKeys: [] }, invocation: { id: 'p1', runLimitS: 900, runs: 3 } }),
    });
    await db.append([[chaos, [
      row(1001, 'exactly-once', 0, 0, null), row(1001, 'at-least-once', 0, 40, null),
      row(1002, 'exactly-once', 406, 0, 'run limit of 180 s reached'), row(1002, 'at-least-once', 0, 0, null),
      pulsarRow(7, 3), pulsarRow(8, 0),
      // Stored before the reader was recorded: the old filter, reported beside, never decisive.
      row(900, 'exactly-once', 30, 0, null, null),
    ]]]);
    const { faults } = await import('../harness/results/schema.ts');
    const fault = (run: string, seq: number, atMs: number, kind: string, target: string) => ({ run_id: run, seq, at_ms: atMs, kind, target, progress: null, detail: null });
    await db.append([[faults, [
      // 1001: down 4 s then 1 s (5 s); 1002: node 1 down 15 s, node 2 from 15 s to the run's end (60 s): 45 s more.
      fault('exactly-once-1001', 0, 1000, 'kill', '0'), fault('exactly-once-1001', 1, 5000, 'restarted', '0'),
      fault('exactly-once-1001', 2, 6000, 'kill', '1'), fault('exactly-once-1001', 3, 7000, 'restarted', '1'),
      fault('exactly-once-1002', 0, 10_000, 'kill', '0'), fault('exactly-once-1002', 1, 12_000, 'worker-crash', 'k'),
      fault('exactly-once-1002', 2, 25_000, 'restarted', '0'), fault('exactly-once-1002', 3, 15_000, 'kill', '1'),
    ]]]);
    db.close();
    const md = readFileSync((await buildPaper({ dbPath: path, outDir: join(dir, 'chaos-out') })).paperPath, 'utf8');
    expect(md).toContain('| kafka | raw-fetch | exactly-once | 2, 0 (3 node(s), 300 tasks) | 2 | 1 | 1 | 0 | 0 | 1 | 4 |');
    expect(md).toContain('| kafka | raw-fetch | at-least-once | 2, 0 (3 node(s), 300 tasks) | 2 | 1 | 0 | 1 | 40 | 0 | 4 |');
    expect(md).toContain('| kafka | client-then-refilter | exactly-once | 2, 0 (3 node(s), 300 tasks) | 1 | 0 | 1 | 0 | 0 | 0 | 2 |');
    expect(md).toContain(`With the \`raw-fetch\` filter, 1 of 2 exactly-once runs were not clean: exactly-once did not hold (0 completed run(s) with loss or duplicates; 1 run(s) failed or stopped at the time limit, whose missing outputs count as lost, unfinished work included). Safety alone: none of the 1 completed runs lost or duplicated anything; the 95% upper confidence bound on a completed run's probability of loss or duplication is 95% (exact binomial). The runs at their limit are liveness failures: their start load is in the table below. Through the older \`client-then-refilter\` filter, 1 of 1 exactly-once runs were not clean.`);
    // Each unclean run shows the load it started under (seed 1002: 3).
    expect(md).toMatch(/\| kafka \| raw-fetch \| 1002 \| 2, 0 \| 406 \| 0 \|.*\| 3(\.0+)? \| 60(\.0+)? \| run limit of 180 s reached \|/);
    expect(md).toMatch(/\| kafka \| client-then-refilter \| 900 \| 2, 0 \| 30 \|/);
    // The load the runs started under: the median per row, n/a where it was not recorded.
    // Time with a broker down: seed 1002's kill at 10 s came back at 25 s, its second never (to the run's end, 60 s).
    expect(md).toMatch(/\| kafka \| raw-fetch \| exactly-once \| 2, 0 .*\| 60\.0 \| 32\.5 \| 2(\.0+)? \|/);
    expect(md).toMatch(/\| kafka \| client-then-refilter \| exactly-once \| 2, 0 .*\| 60\.0 \| n\/a \| n\/a \|/);
    expect(md).toContain('the checker counted duplicates in 1 of 2 at-least-once runs (Kafka).');
    expect(md).toContain('flockbench chaos --runs 2 --kills 2 --worker-crashes 0 --tasks 300 --seed 1001');
    // Pulsar rows are Pulsar's: their own table row and command, outside Kafka's sentences.
    expect(md).toContain('| pulsar | n/a | at-least-once | 1, 0 (1 node(s), 300 tasks) | 2 | 1 | 0 | 1 | 3 | 0 |');
    // Its invocation asked for 3 runs and stored 2: the command says so.
    expect(md).toContain('flockbench chaos --broker pulsar --runs 3 --kills 1 --tasks 300 --seed 7 --run-limit-s 900   # ended early: 2 of 3 run(s) stored');
  });

  it('rejects unknown placeholders instead of leaving them in', () => {
    expect(fillTemplate('a {{x}} b', { x: '1' })).toBe('a 1 b');
    expect(() => fillTemplate('a {{nope}}', {})).toThrow(/unknown placeholders: nope/);
  });
});
