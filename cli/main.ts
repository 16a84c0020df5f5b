// The `flockbench` command line. Heavy modules (DuckDB, runners, systems) load inside the
// command that needs them, so `--help` and listings answer at once. Exit codes: 0 ok, 1 a run failed, 2 bad input (one line, no rows written).
import { setMaxListeners } from 'node:events';
import { availableParallelism } from 'node:os';
import { isAbsolute, relative, resolve } from 'node:path';
import { REPO_ROOT } from '../core/paths.ts';
import { Command, CommanderError, InvalidArgumentError } from 'commander';
import { UserError } from '../core/errors.ts';
import { formatParams } from '../core/params.ts';
import { installSignalHandlers } from '../harness/lifecycle.ts';
import { MAX_SEED, expandMatrix, loadMatrix } from '../harness/runner/matrix.ts';
import { progressBar } from './progress.ts';
import { registerConformCommand } from './conform.ts';
import { registerLlmCommands } from './llm.ts';
import { registerBenchCommand } from './bench.ts';
import { registerBrokerCommands } from './brokers.ts';
import { registerChaosCommand } from './chaos.ts';
import { registerSqlCommand } from './sql.ts';
import { registerPaperCommand } from './paper.ts';
import { SYSTEMS } from '../systems/registry.ts';
import { WORKLOADS } from '../workloads/registry.ts';

const positiveInt = (name: string) => (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError(`${name} must be a positive integer`);
  return n;
};
const seedArg = (name: string) => (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0 || n > MAX_SEED) throw new InvalidArgumentError(`${name} must be an integer from 0 to ${MAX_SEED}`);
  return n;
};
const cpuList = (name: string) => (v: string) => {
  if (!/^\d+(-\d+)?(,\d+(-\d+)?)*$/.test(v)) throw new InvalidArgumentError(`${name} takes a CPU list such as 1, 0-1 or 0,2`);
  const max = Math.max(...v.split(/[,-]/).map(Number));
  if (max >= availableParallelism()) throw new InvalidArgumentError(`${name} ${v}: this machine has CPUs 0-${availableParallelism() - 1}`);
  return v;
};
const positiveNumber = (name: string) => (v: string) => {
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError(`${name} must be a positive number`);
  return n;
};

export function buildProgram(): Command {
  const program = new Command('flockbench')
    .description('Blackboard vs graph orchestration of LLM agents: run experiment matrices, store results in DuckDB, report')
    .option('--verbose', 'print stack traces on errors')
    .showHelpAfterError(false)
    .exitOverride();

  program
    .command('run')
    .description('run an experiment matrix and store every run in DuckDB')
    .argument('<matrix>', 'matrix YAML, e.g. paper/experiments/quick.yaml')
    .option('--db <path>', 'DuckDB results file', 'results/flockbench.duckdb')
    .option('--reps <n>', 'repetitions per cell (overrides the matrix)', positiveInt('--reps'))
    .option('--seed <s>', 'base seed (rep r uses seed + r)', seedArg('--seed'))
    .option('--latency-scale <x>', 'multiply all simulated latencies and timeouts', positiveNumber('--latency-scale'))
    .option('--resume', 'skip cells already stored in the DB')
    .option('--no-isolate', 'run cells in this process instead of one child process each')
    .option('--pin <cpus>', 'run each cell\'s process on these CPUs (taskset list, e.g. 1); recorded per run', cpuList('--pin'))
    .option('--broker-pin <cpus>', 'move the broker JVMs of kafka cells onto these CPUs (e.g. 0)', cpuList('--broker-pin'))
    .option('--json', 'print the summary as JSON')
    .action(async (matrixPath: string, o) => {
      const m = loadMatrix(matrixPath);
      const cells = expandMatrix(m, { reps: o.reps, seed: o.seed, latencyScale: o.latencyScale });
      if (o.pin && o.isolate === false) throw new UserError('--pin needs each cell in its own process: drop --no-isolate');
      const { checkDbPath } = await import('../harness/results/db.ts');
      checkDbPath(o.db);
      const { ResultsDb } = await import('../harness/results/db.ts');
      const { runMatrix } = await import('../harness/runner/runner.ts');
      const { formatSummary, summarize } = await import('../harness/report.ts');
      const db = await ResultsDb.open(o.db);
      try {
        const bar = progressBar(!o.json && process.stderr.isTTY);
        const res = await runMatrix(cells, {
          db,
          resume: o.resume,
          isolate: o.isolate,
          pin: o.pin,
          brokerPin: o.brokerPin,
          matrixFile: repoPath(matrixPath),
          onProgress: (d, t, c, s) => bar(d, t, `${c.system} ${c.workload} rep ${c.rep} ${s}`),
        });
        const rows = await summarize(db, { matrix: m.name });
        if (o.json) process.stdout.write(JSON.stringify({ matrix: m.name, ran: res.ran, skipped: res.skipped, failed: res.failed, summary: rows }, null, 2) + '\n');
        else {
          process.stdout.write(formatSummary(rows) + '\n');
          process.stdout.write(`${res.ran} runs stored in ${o.db}, ${res.skipped} skipped (already stored), ${res.failed.length} failed\n`);
        }
        for (const f of res.failed) process.stderr.write(`failed: ${f.cell.system} ${f.cell.workload} ${JSON.stringify(f.cell.workloadParams)} rep ${f.cell.rep}: ${f.error}\n`);
        if (res.failed.length) process.exitCode = 1;
      } finally {
        db.close();
      }
    });

  program
    .command('report')
    .description('summarize the runs stored in DuckDB')
    .option('--db <path>', 'DuckDB results file', 'results/flockbench.duckdb')
    .option('--matrix <name>', 'only runs of this matrix')
    .option('--json', 'print JSON')
    .action(async (o) => {
      const { existsSync } = await import('node:fs');
      if (!existsSync(o.db)) throw new UserError(`no results database at ${o.db} (run \`flockbench run <matrix>\` first)`);
      const { ResultsDb } = await import('../harness/results/db.ts');
      const { formatSummary, summarize } = await import('../harness/report.ts');
      const db = await ResultsDb.open(o.db, { readOnly: true });
      try {
        const rows = await summarize(db, { matrix: o.matrix });
        process.stdout.write(o.json ? JSON.stringify(rows, null, 2) + '\n' : formatSummary(rows) + '\n');
      } finally {
        db.close();
      }
    });

  program
    .command('systems')
    .description('list registered systems and their parameters')
    .option('-v, --params', 'show parameters (matrix systemParams.<system>) with type, default, unit')
    .action((o) => {
      const w = Math.max(...SYSTEMS.map((s) => s.name.length));
      for (const s of SYSTEMS) {
        process.stdout.write(`${s.name.padEnd(w)}  [${s.store}] ${s.description}\n`);
        if (o.params) for (const line of formatParams(s.params, ' '.repeat(w + 2))) process.stdout.write(`${line}\n`);
      }
    });

  program
    .command('workloads')
    .description('list registered workloads and their parameters')
    .option('-v, --params', 'show parameters with defaults')
    .action((o) => {
      const w = Math.max(...WORKLOADS.map((x) => x.name.length));
      for (const x of WORKLOADS) {
        process.stdout.write(`${x.name.padEnd(w)}  ${x.description}\n`);
        if (o.params) for (const line of formatParams(x.params, ' '.repeat(w + 2))) process.stdout.write(`${line}\n`);
      }
    });

  registerConformCommand(program);
  registerLlmCommands(program);
  registerBenchCommand(program);
  registerBrokerCommands(program);
  registerChaosCommand(program);
  registerSqlCommand(program);
  registerPaperCommand(program);
  return program;
}

/** A file's path as the paper prints it: relative to the checkout, absolute when outside it. */
function repoPath(file: string): string {
  const abs = resolve(file);
  const rel = relative(REPO_ROOT, abs);
  return rel.startsWith('..') || isAbsolute(rel) ? abs : rel;
}

export async function main(argv = process.argv, { parentPid = process.ppid } = {}): Promise<number> {
  // LangGraph adds one abort listener per running task to an internal signal (removed after).
  setMaxListeners(0);
  installSignalHandlers(undefined, undefined, parentPid);
  const program = buildProgram();
  program.configureOutput({ writeErr: (s) => process.stderr.write(s) });
  const verbose = argv.includes('--verbose');
  try {
    await program.parseAsync(argv);
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (e) {
    if (e instanceof CommanderError) {
      if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version' || e.code === 'commander.help') return 0;
      return 2; // commander already printed its one-line reason
    }
    if (e instanceof UserError) {
      process.stderr.write(`flockbench: ${e.message}\n`);
      return 2;
    }
    process.stderr.write(`flockbench: ${e instanceof Error ? e.message : String(e)}\n`);
    if (verbose && e instanceof Error) process.stderr.write(`${e.stack}\n`);
    return 1;
  }
}

if (import.meta.url === `file://${process.argv[1]}` || process.argv[1]?.endsWith('cli/main.ts')) {
  main().then((code) => process.exit(code));
}
