// Run a matrix: every cell once per rep, systems in a seeded shuffled order within a rep (so
// drift over time does not favour whoever runs first), each run in its own child process,
// each result written to DuckDB in one transaction as soon as it is done.
import { fork, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeError } from '../../core/errors.ts';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { keyedRng, shuffled } from '../../core/random.ts';
import { canonicalJson } from '../../core/canonical.ts';
import { environment } from '../env.ts';
import { onShutdown } from '../lifecycle.ts';
import { cellId, type ResultsDb, type RunMeta } from '../results/db.ts';
import { processRssPeakMb } from '../results/run-rows.ts';
import { settleLoad } from '../collect/machine.ts';
import { cellSpans, runCell } from './cell.ts';
import type { ChildReply, ChildRequest } from './child.ts';
import { systemEntry } from '../../systems/registry.ts';
import { DEFAULT_HEAP_LIMIT_MB, type Cell } from './matrix.ts';

export interface RunMatrixOptions {
  db: ResultsDb;
  /** CPU list for each run's child process (`taskset -c`), e.g. `1`. Needs isolation. */
  pin?: string;
  /** CPU list for the broker JVMs of kafka cells (`taskset -a -p -c`), e.g. `0`. */
  brokerPin?: string;
  /** This invocation's id (the `session` column); default a fresh uuid. */
  session?: string;
  /** Skip cells already stored (same cell id). */
  resume?: boolean;
  /** Run each cell in a child process (default true). */
  isolate?: boolean;
  /** The matrix file this invocation ran (stored in env, so the paper's reproduce commands name it). */
  matrixFile?: string;
  onProgress?(done: number, total: number, cell: Cell, status: 'ran' | 'skipped' | 'failed'): void;
}

export interface MatrixResult {
  ran: number;
  skipped: number;
  failed: { cell: Cell; error: string }[];
  runIds: string[];
  session: string;
}

export function cellKey(c: Cell) {
  return cellId({
    matrix: c.matrix, system: c.system, workload: c.workload, workloadParams: c.workloadParams,
    systemParams: c.systemParams, rep: c.rep, seed: c.seed, latencyScale: c.latencyScale, llm: c.llmTransport, tail: c.tail,
    // Limits, faults and retries change what is measured; absent when empty, so older keys still match.
    ...(Object.keys(c.llmOptions ?? {}).length ? { llmOptions: c.llmOptions } : {}),
  });
}

/** Interleave: within each (rep, workload params, tail) group, shuffle the system order. */
export function interleave(cells: Cell[], seed: number): Cell[] {
  const groups = new Map<string, Cell[]>();
  for (const c of cells) {
    const k = canonicalJson([c.rep, c.workload, c.workloadParams, c.tail]);
    let g = groups.get(k);
    if (!g) groups.set(k, (g = []));
    g.push(c);
  }
  return [...groups.entries()].flatMap(([k, g]) => shuffled(g, keyedRng(seed, 'order', k)));
}

/** The local Kafka cluster size a cell needs (blackboard-kafka `nodes`), or undefined for other stores. */
export function kafkaNodesOf(c: Cell): 1 | 3 | undefined {
  if (systemEntry(c.system).store !== 'kafka') return undefined;
  return Number(c.systemParams?.nodes ?? 1) === 3 ? 3 : 1;
}

/**
 * Cells in `ordered` grouped by the Kafka cluster size they need (1-node cells first), each
 * group in its interleaved order: the runner brings up one cluster size at a time, never both
 * at once (an idle second cluster would share the CPU with every run).
 */
export function byClusterSize(ordered: Cell[]): Cell[] {
  const rank = (c: Cell) => (kafkaNodesOf(c) === 3 ? 1 : 0);
  return ordered.map((c, i) => ({ c, i })).sort((a, b) => rank(a.c) - rank(b.c) || a.i - b.i).map((x) => x.c);
}

const tsxLoader = createRequire(import.meta.url).resolve('tsx');

/**
 * Young-generation semi-space of a run's process, MiB (V8's default is 16). A large run keeps
 * every artifact alive until it ends, so each scavenge of a small young generation copies
 * survivors and rescans a growing old one: at 300k map tasks scavenges took 37 s of pauses
 * with 16 MiB and 4.4 s with 64. 32, not 64: at 100k tasks 64 raised the peak RSS by ~150 MB
 * (past the issue's 600 MB) for no CPU saved at that size.
 */
const RUN_SEMI_SPACE_MB = 32;

/** The run's child process, if any: a shutdown kills it (its own children watch their IPC channel). */
let current: ChildProcess | undefined;
onShutdown(() => current?.kill('SIGKILL'));

/** Run a cell in its own process, which writes the run's rows to `rowsFile`; resolves with its summary. */
function runIsolated(req: ChildRequest, pin?: string): Promise<Extract<ChildReply, { ok: true }>> {
  return new Promise((resolve, reject) => {
    const script = fileURLToPath(new URL('./child.ts', import.meta.url));
    // The matrix's memory budget: V8 stops a run past it (the run is then stored as failed).
    const heapLimitMb = req.cell.heapLimitMb ?? DEFAULT_HEAP_LIMIT_MB;
    // --expose-gc: the run hands the system's memory back before its own bookkeeping (reclaim(), run-once.ts).
    const nodeArgs = ['--import', tsxLoader, `--max-old-space-size=${heapLimitMb}`, `--max-semi-space-size=${RUN_SEMI_SPACE_MB}`, '--expose-gc', script];
    const options = { serialization: 'advanced' as const, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] as ('ignore' | 'inherit' | 'ipc')[] };
    // Pinned: the child runs under taskset on the chosen CPUs (recorded by the child itself).
    const child = pin ? spawn('taskset', ['-c', pin, process.execPath, ...nodeArgs], options) : fork(script, [], { ...options, execArgv: nodeArgs.slice(0, -1) });
    current = child;
    let settled = false;
    child.once('message', (m: ChildReply) => {
      settled = true;
      if (m.ok) resolve(m);
      else reject(new Error(m.error));
    });
    child.once('exit', (code, sig) => {
      if (current === child) current = undefined;
      if (!settled) reject(new Error(`run process exited with ${sig ?? code} before reporting (heap limit ${heapLimitMb} MiB)`));
    });
    child.send(req);
  });
}

export async function runMatrix(cells: Cell[], o: RunMatrixOptions): Promise<MatrixResult> {
  const res: MatrixResult = { ran: 0, skipped: 0, failed: [], runIds: [], session: o.session ?? randomUUID() };
  const ordered = byClusterSize(interleave(cells, cells[0]?.seed ?? 1));
  let done = 0;
  // A cell on a broker-backed store brings its broker up if none is running (and takes it down after).
  const needsKafka = ordered.some((c) => systemEntry(c.system).store === 'kafka');
  const kafka = needsKafka ? await import('../../brokers/kafka/cluster.ts') : undefined;
  const firstNodes = ordered.map(kafkaNodesOf).find((n) => n !== undefined);
  let startedKafka = kafka ? (await kafka.startKafka({ nodes: firstNodes })).started : false;
  let kafkaNodes = firstNodes;
  // Brokers this run started must not outlive an interrupted run.
  const unregister = kafka ? onShutdown(() => { if (startedKafka) kafka.killKafka(); }) : undefined;
  if (kafka && o.brokerPin) pinProcesses(kafka.kafkaPids(), o.brokerPin);
  // Pulsar likewise. Its kill is registered before the start, which takes tens of seconds: a
  // signal during the start must not leave a standalone behind either.
  // A broker named by FLOCKBENCH_PULSAR_URL is someone else's to run.
  const needsPulsar = !process.env.FLOCKBENCH_PULSAR_URL && ordered.some((c) => systemEntry(c.system).store === 'pulsar' && !c.systemParams?.url);
  const pulsar = needsPulsar ? await import('../../brokers/pulsar/standalone.ts') : undefined;
  const pulsarWasRunning = pulsar ? pulsar.statusPulsar().running : true;
  let unregisterPulsar = pulsarWasRunning ? undefined : onShutdown(() => pulsar!.killPulsar().catch(() => {}));
  let startedPulsar = false;
  try {
    startedPulsar = pulsar ? (await pulsar.startPulsar({ timeoutMs: 600_000 })).started : false;
  } catch (e) {
    unregisterPulsar?.();
    if (startedKafka) await kafka!.stopKafka();
    throw e;
  }
  if (!startedPulsar) {
    unregisterPulsar?.();
    unregisterPulsar = undefined;
  }
  if (pulsar && o.brokerPin) pinProcesses(pulsar.pulsarPids(), o.brokerPin);
  const env = { ...environment(), pin: { run: o.pin ?? null, broker: o.brokerPin ?? null }, ...(o.matrixFile ? { matrixFile: o.matrixFile } : {}) };
  // Isolated runs write their rows here, one file per run, removed once imported.
  const rowsDir = o.isolate === false ? undefined : mkdtempSync(join(tmpdir(), 'flockbench-rows-'));
  // A signal exits without reaching the finally below: the rows directory goes with the run's process.
  const unregisterRows = rowsDir ? onShutdown(() => rmSync(rowsDir, { recursive: true, force: true })) : undefined;
  try {
    await runCells();
  } finally {
    unregister?.();
    unregisterPulsar?.();
    unregisterRows?.();
    if (rowsDir) rmSync(rowsDir, { recursive: true, force: true });
    if (startedKafka) await kafka!.stopKafka();
    if (startedPulsar) await pulsar!.stopPulsar();
  }
  return res;

  /** Run one cell and store it in one transaction; returns its run id. */
  async function runAndStore(cell: Cell, meta: RunMeta): Promise<string> {
    const t0 = performance.now();
    if (o.isolate === false) {
      const settle = cell.settleMaxS ? await settleLoad(cell.settleMaxS * 1000) : undefined;
      const cpu0 = process.cpuUsage();
      const r0 = performance.now();
      const outcome = await runCell(cell);
      const runMs = performance.now() - r0;
      await o.db.writeRun(outcome, meta, {
        spans: cellSpans(cell, outcome),
        cost: ({ spansMs, rowsMs }) => {
          const cpu = process.cpuUsage(cpu0);
          return { traces: cell.traces !== false, settleMs: settle?.waitedMs, settleReached: settle?.reached, runMs, spansMs, rowsMs, processWallMs: performance.now() - t0, processCpuMs: (cpu.user + cpu.system) / 1000, processRssPeakMb: processRssPeakMb() };
        },
      });
      return outcome.runId;
    }
    const rowsFile = join(rowsDir!, `${meta.cellId}-${randomUUID()}.duckdb`);
    try {
      const s = await runIsolated({ cell, meta, rowsFile }, o.pin);
      await o.db.importRun(rowsFile, s.runId, () => ({ processWallMs: performance.now() - t0, processCpuMs: s.processCpuMs, processRssPeakMb: s.processRssPeakMb }));
      return s.runId;
    } finally {
      rmSync(rowsFile, { force: true });
      rmSync(`${rowsFile}.wal`, { force: true });
    }
  }

  async function runCells() {
  for (const cell of ordered) {
    const id = cellKey(cell);
    // The next cluster size (cells are grouped by it): a cluster this matrix started is replaced;
    // one someone else started is left alone and startKafka refuses with the fix.
    const needs = kafkaNodesOf(cell);
    if (kafka && needs !== undefined && needs !== kafkaNodes && !(o.resume && (await o.db.hasCell(id)))) {
      if (startedKafka) await kafka.stopKafka();
      startedKafka = (await kafka.startKafka({ nodes: needs })).started;
      kafkaNodes = needs;
      if (o.brokerPin) pinProcesses(kafka.kafkaPids(), o.brokerPin);
    }
    if (o.resume && (await o.db.hasCell(id))) {
      res.skipped++;
      o.onProgress?.(++done, ordered.length, cell, 'skipped');
      continue;
    }
    const meta: RunMeta = { cellId: id, matrix: cell.matrix, session: res.session, rep: cell.rep, env };
    const startedAt = new Date().toISOString();
    let runId: string;
    try {
      runId = await runAndStore(cell, meta);
    } catch (e) {
      const error = describeError(e);
      res.failed.push({ cell, error });
      // A failed run is data: stored with its error, never silently dropped.
      await o.db.writeFailedRun({
        runId: randomUUID(), system: cell.system, workload: cell.workload, params: { workload: cell.workloadParams, system: cell.systemParams, llmTransport: cell.llmTransport, tail: cell.tail },
        seed: cell.seed, latencyScale: cell.latencyScale, llmTransport: cell.llmTransport, tail: cell.tail, startedAt, error,
      }, meta);
      o.onProgress?.(++done, ordered.length, cell, 'failed');
      continue;
    }
    res.ran++;
    res.runIds.push(runId);
    o.onProgress?.(++done, ordered.length, cell, 'ran');
  }
  }
}

/** Move running processes (every thread) onto a CPU list. */
function pinProcesses(pids: readonly number[], cpus: string): void {
  for (const pid of pids) {
    const r = spawnSync('taskset', ['-a', '-p', '-c', cpus, String(pid)], { stdio: 'ignore' });
    if (r.status !== 0) throw new Error(`taskset could not pin process ${pid} to CPUs ${cpus}`);
  }
}
