// `flockbench chaos`: the failure experiment from the command line. Starts its own Kafka
// cluster (apart from `brokers up`), runs both delivery modes with the same seed and fault
// schedule, prints a table per mode, stores one row per mode in DuckDB (table `chaos`), and
// exits 1 when exactly-once lost or duplicated anything. `--broker pulsar` runs the same
// experiment on a Pulsar standalone (broker kills only), in the one mode Pulsar has from Node:
// at-least-once (the WebSocket API has no transactions).
import { randomUUID } from 'node:crypto';
import { InvalidArgumentError, type Command } from 'commander';
import type { ChaosOutcome } from '../harness/chaos/run.ts';

// The `chaos` table is part of the results schema (harness/results/db.ts).


const int = (name: string, min: number) => (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) throw new InvalidArgumentError(`${name} must be an integer >= ${min}`);
  return n;
};

/** One row per mode, as printed. */
export function formatChaos(rows: ChaosOutcome[]): string {
  const head = ['seed', 'mode', 'expected', 'observed', 'lost', 'duplicated', 'extra', 'unexpected', 'kills', 'recoveries', 'crashes', 'at_limit', 'open_tx', 'dlq', 'restarts', 'produced_not_committed', 'makespan_s', 'run'];
  const body = rows.map((r) => [
    r.seed, r.mode, r.check.totals.expected, r.check.totals.observed, r.check.totals.lost, r.check.totals.duplicated, r.check.totals.extraRecords,
    r.check.totals.unexpected, r.kills, r.recoveries, r.workerCrashes, r.hitLimit ? 'YES' : 'no', r.unresolvedPartitions, r.dlq,
    r.counters.workerRestarts ?? '-', r.counters.producedNotCommitted ?? '-', (r.makespanMs / 1000).toFixed(1), r.error ? `FAILED: ${r.error}` : 'completed',
  ].map(String));
  const w = head.map((h, i) => Math.max(h.length, ...body.map((b) => (i === head.length - 1 ? 0 : b[i]!.length))));
  const line = (cells: string[]) => cells.map((c, i) => (i === cells.length - 1 ? c : c.padStart(w[i]!))).join('  ');
  return [line(head), ...body.map(line)].join('\n');
}

/** The plain-language verdict, one line per mode. */
export function verdict(r: ChaosOutcome): string {
  const t = r.check.totals;
  const faults = `${r.kills} broker kill(s), ${r.workerCrashes} worker crash(es)${r.hitLimit ? ', AT ITS TIME LIMIT' : ''}`;
  if (r.check.exact && !r.error) return `${r.mode}: exactly once under ${faults}: 0 lost, 0 duplicated`;
  const dupKeys = r.check.byType.flatMap((x) => x.duplicated.map((d) => `${d.key} x${d.count}`)).slice(0, 3).join(', ');
  const lostKeys = r.check.byType.flatMap((x) => x.lost).slice(0, 3).join(', ');
  return `${r.mode}: NOT exactly once under ${faults}: ${t.lost} lost${lostKeys ? ` (e.g. ${lostKeys})` : ''}, ${t.duplicated} duplicated${dupKeys ? ` (e.g. ${dupKeys})` : ''}, ${t.unexpected} unexpected`;
}

/** Refuse a --db that cannot hold the rows (unwritable, foreign) before any broker starts. */
async function prepareDb(dbPath: string): Promise<void> {
  const { ResultsDb, checkDbPath } = await import('../harness/results/db.ts');
  checkDbPath(dbPath);
  (await ResultsDb.open(dbPath)).close();
}

export async function storeChaos(dbPath: string, rows: ChaosOutcome[], env: Record<string, unknown>): Promise<void> {
  const { ResultsDb } = await import('../harness/results/db.ts');
  const { chaos, faults } = await import('../harness/results/schema.ts');
  const db = await ResultsDb.open(dbPath);
  try {
    await db.append([[chaos, rows.map((r) => ({
      run_id: r.runId, started_at: r.startedAt, mode: r.mode, nodes: r.nodes, tasks: r.tasks, kills: r.kills, worker_crashes: r.workerCrashes,
      expected: r.check.totals.expected, observed: r.check.totals.observed, lost: r.check.totals.lost, duplicated: r.check.totals.duplicated,
      unexpected: r.check.totals.unexpected, makespan_ms: r.makespanMs,
      env: JSON.stringify({
        ...env, seed: r.seed, depth: r.depth, latencyScale: r.latencyScale, recoveries: r.recoveries, error: r.error ?? null,
        hitLimit: r.hitLimit, unresolvedPartitions: r.unresolvedPartitions, dlq: r.dlq, extraRecords: r.check.totals.extraRecords,
        lostKeys: r.check.byType.flatMap((t) => t.lost.map((k) => `${t.type}:${k}`)).slice(0, 100),
        duplicatedKeys: r.check.byType.flatMap((t) => t.duplicated.map((d) => `${t.type}:${d.key} x${d.count}`)).slice(0, 100),
        uncommitted: r.uncommitted ?? null, counters: r.counters, schedule: r.schedule,
      }),
    }))], [faults, rows.flatMap((r) => r.events.map((e, seq) => ({
      run_id: r.runId, seq, at_ms: e.atMs, kind: e.kind, target: e.target ?? null, progress: e.progress ?? null, detail: e.detail,
    })))]]);
  } finally {
    db.close();
  }
}

export function registerChaosCommand(program: Command): void {
  program
    .command('chaos')
    .description('kill brokers and crash workers mid-run; count lost and duplicated artifacts per delivery mode (starts its own Kafka cluster)')
    .option('--mode <mode>', 'both | exactly-once | at-least-once', 'both')
    .option('--nodes <n>', 'Kafka cluster size, 1 or 3 (RF 3, min.insync.replicas 2)', '3')
    .option('--tasks <n>', 'map tasks (depth 2)', int('--tasks', 1), 300)
    .option('--kills <k>', 'broker SIGKILL + restart cycles per mode', int('--kills', 0), 0)
    .option('--worker-crashes <n>', 'worker crashes between produce and commit per mode', int('--worker-crashes', 0), 3)
    .option('--seed <s>', 'seed of the simulated LLM and the fault schedule (first run)', int('--seed', 0), 1)
    .option('--runs <n>', 'runs per mode, seeds seed, seed+1, ... (one cluster for all)', int('--runs', 1), 1)
    .option('--run-limit-s <s>', 'time limit of one run; a run at its limit is a failure (pulsar: default 900, its restarts take minutes here)', int('--run-limit-s', 10), 180)
    .option('--latency-scale <x>', 'simulated latency multiplier', (v) => Number(v), 0.05)
    .option('--broker <kind>', 'kafka | pulsar (pulsar: at-least-once only, broker kills only (at least 1), one standalone)', 'kafka')
    .option('--json', 'print the outcomes as JSON')
    .option('--db <path>', 'DuckDB results file', 'results/flockbench.duckdb')
    .action(async (o, cmd: Command) => {
      if (o.broker === 'pulsar') return chaosPulsar({ ...o, runLimitS: cmd.getOptionValueSource('runLimitS') === 'default' ? undefined : o.runLimitS });
      if (o.broker !== 'kafka') throw new InvalidArgumentError('--broker must be kafka|pulsar');
      const modes = o.mode === 'both' ? ['exactly-once', 'at-least-once'] : [o.mode];
      if (!modes.every((m: string) => m === 'exactly-once' || m === 'at-least-once')) throw new InvalidArgumentError(`--mode must be both|exactly-once|at-least-once`);
      const nodes = Number(o.nodes);
      if (nodes !== 1 && nodes !== 3) throw new InvalidArgumentError('--nodes must be 1 or 3');
      await prepareDb(o.db);
      const { runChaos, withChaosCluster } = await import('../harness/chaos/run.ts');
      const { environment } = await import('../harness/env.ts');
      const log = o.json ? () => {} : (l: string) => process.stderr.write(l + '\n');
      // One invocation: its id and flags, so the paper can print the command that made each row.
      const env = { env: environment(), broker: 'kafka', invocation: { id: randomUUID(), nodes, mode: o.mode, runs: o.runs, kills: o.kills, workerCrashes: o.workerCrashes, tasks: o.tasks, seed: o.seed, runLimitS: o.runLimitS, latencyScale: o.latencyScale } };
      const rows = await withChaosCluster(nodes as 1 | 3, async () => {
        const out: ChaosOutcome[] = [];
        for (let run = 0; run < o.runs; run++) {
          for (const mode of modes) {
            const r = await runChaos({ mode, nodes: nodes as 1 | 3, tasks: o.tasks, kills: o.kills, workerCrashes: o.workerCrashes, seed: o.seed + run, latencyScale: o.latencyScale, timeoutMs: o.runLimitS * 1000, log });
            out.push(r);
            // Stored as soon as the mode finished: a later failure must not lose it.
            await storeChaos(o.db, [r], env);
            if (!o.json) process.stderr.write(`${formatChaos([r]).split('\n')[1]}\n`);
          }
        }
        return out;
      });
      if (o.json) process.stdout.write(JSON.stringify(rows, null, 2) + '\n');
      else {
        process.stdout.write(formatChaos(rows) + '\n');
        for (const r of rows) process.stdout.write(verdict(r) + '\n');
        process.stdout.write(`${rows.length} row(s) stored in ${o.db} (table chaos)\n`);
      }
      const bad = rows.filter((r) => r.mode === 'exactly-once' && (r.check.totals.lost > 0 || r.check.totals.duplicated > 0 || r.check.totals.unexpected > 0 || r.error));
      for (const eo of bad) {
        process.stderr.write(`finding: exactly-once seed ${eo.seed} ${eo.error ? `run failed (${eo.error}); ` : ''}lost ${eo.check.totals.lost}, duplicated ${eo.check.totals.duplicated}\n`);
      }
      if (bad.length) process.exitCode = 1;
    });
}

interface PulsarChaosCli {
  mode: string;
  tasks: number;
  kills: number;
  workerCrashes: number;
  seed: number;
  runs: number;
  /** Only when given: Pulsar's own default (900 s) covers its slow restarts. */
  runLimitS?: number;
  latencyScale: number;
  json?: boolean;
  db: string;
}

/** The failure experiment on Pulsar: one at-least-once row per run (there is no exactly-once to compare); its faults as rows, as Kafka's. */
async function chaosPulsar(o: PulsarChaosCli): Promise<void> {
  await prepareDb(o.db);
  const log = o.json ? () => {} : (l: string) => process.stderr.write(l + '\n');
  if (o.mode !== 'at-least-once') log('pulsar: exactly-once is not reachable from Node (the WebSocket API has no transactions); running at-least-once only');
  log('pulsar: broker kills only (worker crashes between produce and commit are the Kafka experiment\'s)');
  const { runPulsarChaos, withPulsarChaosBroker, CHAOS_PULSAR_DIR } = await import('../harness/chaos/pulsar.ts');
  const { killPulsar } = await import('../brokers/pulsar/standalone.ts');
  const { onShutdown } = await import('../harness/lifecycle.ts');
  const { environment } = await import('../harness/env.ts');
  // The standalone must not outlive an interrupted experiment (it is registered before it starts).
  const unregister = onShutdown(() => killPulsar(CHAOS_PULSAR_DIR).catch(() => {}));
  const env = { env: environment(), broker: 'pulsar', invocation: { id: randomUUID(), runs: o.runs, kills: Math.max(1, o.kills), tasks: o.tasks, seed: o.seed, runLimitS: o.runLimitS ?? null, latencyScale: o.latencyScale } };
  let rows: ChaosOutcome[];
  try {
    rows = await withPulsarChaosBroker(async () => {
      const out: ChaosOutcome[] = [];
      for (let run = 0; run < o.runs; run++) {
        const r = await runPulsarChaos({ tasks: o.tasks, kills: Math.max(1, o.kills), seed: o.seed + run, latencyScale: o.latencyScale, timeoutMs: o.runLimitS === undefined ? undefined : o.runLimitS * 1000, log });
        out.push(r);
        // Stored as soon as the run finished: a later failure must not lose it.
        await storeChaos(o.db, [r], env);
        if (!o.json) process.stderr.write(`${formatChaos([r]).split('\n')[1]}\n`);
      }
      return out;
    });
  } finally {
    unregister();
  }
  if (o.json) process.stdout.write(JSON.stringify(rows, null, 2) + '\n');
  else {
    process.stdout.write(formatChaos(rows) + '\n');
    for (const r of rows) process.stdout.write(pulsarVerdict(r) + '\n');
    process.stdout.write(`${rows.length} row(s) stored in ${o.db} (table chaos, env.broker = pulsar; faults in table faults)\n`);
  }
  const bad = rows.filter((r) => r.check.totals.lost > 0 || r.error);
  for (const r of bad) {
    process.stderr.write(`finding: pulsar at-least-once seed ${r.seed} ${r.error ? `run failed (${r.error}); ` : ''}lost ${r.check.totals.lost}\n`);
  }
  if (bad.length) process.exitCode = 1;
}

/** Pulsar's line: what this run showed, never read as a guarantee (at-least-once has no exactly-once claim to pass). */
export function pulsarVerdict(r: ChaosOutcome): string {
  const t = r.check.totals;
  const faults = `${r.kills} broker kill(s)${r.hitLimit ? ', AT ITS TIME LIMIT' : ''}`;
  const shown = t.lost === 0 && t.duplicated === 0 && t.unexpected === 0 && !r.error
    ? 'this run stored every artifact once, which at-least-once allows but does not promise'
    : `${t.lost} lost, ${t.duplicated} duplicated, ${t.unexpected} unexpected${r.error ? ` (run failed: ${r.error})` : ''}`;
  const dlq = r.dlq > 0 ? `; ${r.dlq} dead-lettered` : r.dlq < 0 ? '; dead-letter topics unreadable' : '';
  return `pulsar at-least-once (no transactions over the WebSocket API) under ${faults}: ${shown}${dlq}`;
}
