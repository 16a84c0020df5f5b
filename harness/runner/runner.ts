// Run a matrix: every cell once per rep, systems in a seeded shuffled order within a rep (so
// drift over time does not favour whoever runs first), each run in its own child process,
// each result written to DuckDB in one transaction as soon as it is done.
import { fork } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { describeError } from '../../core/errors.ts';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { keyedRng, shuffled } from '../../core/random.ts';
import { canonicalJson } from '../../core/canonical.ts';
import { environment } from '../env.ts';
import { cellId, type ResultsDb, type SpanRow } from '../results/db.ts';
import { runCell } from './cell.ts';
import { systemEntry } from '../../systems/registry.ts';
import type { Cell } from './matrix.ts';
import type { RunOutcome } from './run-once.ts';

export interface RunMatrixOptions {
  db: ResultsDb;
  /** This invocation's id (the `session` column); default a fresh uuid. */
  session?: string;
  /** Skip cells already stored (same cell id). */
  resume?: boolean;
  /** Run each cell in a child process (default true). */
  isolate?: boolean;
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

const tsxLoader = createRequire(import.meta.url).resolve('tsx');

function runIsolated(cell: Cell): Promise<{ outcome: RunOutcome; spans: SpanRow[] }> {
  return new Promise((resolve, reject) => {
    const child = fork(fileURLToPath(new URL('./child.ts', import.meta.url)), [], {
      execArgv: ['--import', tsxLoader, '--max-old-space-size=4096'],
      serialization: 'advanced',
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    let settled = false;
    child.once('message', (m: { ok: boolean; error?: string; outcome?: RunOutcome; spans?: SpanRow[] }) => {
      settled = true;
      if (m.ok) resolve({ outcome: m.outcome!, spans: m.spans! });
      else reject(new Error(m.error));
    });
    child.once('exit', (code, sig) => {
      if (!settled) reject(new Error(`worker exited with ${sig ?? code} before reporting`));
    });
    child.send(cell);
  });
}

export async function runMatrix(cells: Cell[], o: RunMatrixOptions): Promise<MatrixResult> {
  const res: MatrixResult = { ran: 0, skipped: 0, failed: [], runIds: [], session: o.session ?? randomUUID() };
  const ordered = interleave(cells, cells[0]?.seed ?? 1);
  const env = environment();
  let done = 0;
  // A cell on a broker-backed store brings its broker up if none is running (and takes it down after).
  const needsKafka = ordered.some((c) => systemEntry(c.system).store === 'kafka');
  const kafka = needsKafka ? await import('../../brokers/kafka/cluster.ts') : undefined;
  const startedKafka = kafka ? (await kafka.startKafka()).started : false;
  try {
    await runCells();
  } finally {
    if (startedKafka) await kafka!.stopKafka();
  }
  return res;

  async function runCells() {
  for (const cell of ordered) {
    const id = cellKey(cell);
    if (o.resume && (await o.db.hasCell(id))) {
      res.skipped++;
      o.onProgress?.(++done, ordered.length, cell, 'skipped');
      continue;
    }
    const meta = { cellId: id, matrix: cell.matrix, session: res.session, rep: cell.rep, env };
    const startedAt = new Date().toISOString();
    let outcome: RunOutcome;
    let spans: SpanRow[];
    try {
      ({ outcome, spans } = o.isolate === false ? await runCell(cell) : await runIsolated(cell));
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
    await o.db.writeRun(outcome, meta, spans);
    res.ran++;
    res.runIds.push(outcome.runId);
    o.onProgress?.(++done, ordered.length, cell, 'ran');
  }
  }
}
