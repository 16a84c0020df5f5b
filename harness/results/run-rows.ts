// A run's rows: its `runs` row and its samples, task latencies, executions and spans, appended
// through the declared tables' Appenders without building row arrays (a 1M-task run has 1M
// executions). The results store uses it for runs made in its own process; a run's own child
// process uses it to write a rows file that the store imports in one transaction (runner.ts),
// so no execution, span or artifact ever crosses IPC.
import { DuckDBInstance, type DuckDBAppender } from '@duckdb/node-api';
import type { RunOutcome } from '../outcome.ts';
import { createTableSql, executions, openAppender, runs, samples, SCHEMA_VERSION, spans, taskLatencies, type RunRow, type SpanRow, type TableDef } from './schema.ts';

/** The tables one run writes, in the order they are appended (`runs` last: it carries the run's cost). */
export const RUN_TABLES: TableDef[] = [samples, taskLatencies, executions, spans, runs];

/** What the store needs to know of a run besides its outcome. */
export interface RunMeta {
  cellId: string;
  matrix: string;
  session?: string;
  rep: number;
  env: Record<string, unknown>;
}

/** Spans of a run, pushed to a sink as they are made (none are held in memory). */
export type SpanSource = (sink: (row: SpanRow) => void) => Promise<void>;

/**
 * What the harness spent around a run (stored in params.harness; the process_* columns). Phases
 * in ms: warm-up run, the measured run with its collectors, spans, all rows, the store's import.
 */
export interface HarnessCost {
  traces: boolean;
  /** The run process's V8 old-space limit, MiB (isolated runs; the matrix's heapLimitMb). */
  heapLimitMb?: number;
  warmupMs?: number;
  /** Waited for the load average to settle before the measured run (matrices with `settleMaxS`); not harness overhead. */
  settleMs?: number;
  /** Whether that wait reached its target (false: it timed out and the run started anyway). */
  settleReached?: boolean;
  runMs?: number;
  spansMs?: number;
  rowsMs?: number;
  importMs?: number;
  processWallMs?: number;
  processCpuMs?: number;
  processRssPeakMb?: number;
}

/** The whole process's peak resident set so far (VmHWM), MiB. */
export function processRssPeakMb(): number {
  return process.resourceUsage().maxRSS / 1024;
}

export function runRow(r: RunOutcome, meta: RunMeta, cost?: HarnessCost): RunRow {
  const { processWallMs, processCpuMs, processRssPeakMb: rssPeak, ...phases } = cost ?? { traces: true };
  return {
    run_id: r.runId, state: 'completed', error: null, cell_id: meta.cellId, matrix: meta.matrix, session: meta.session ?? null,
    system: r.system, workload: r.workload, store: r.store, params: JSON.stringify(cost ? { ...r.params, harness: phases } : r.params), rep: meta.rep, seed: BigInt(r.seed),
    latency_scale: r.latencyScale, llm_transport: String(r.params.llmTransport), tail: String(r.params.tail), tasks: r.tasks,
    makespan_ms: r.makespanMs, lower_bound_ms: r.lowerBoundMs, critical_path_ms: r.criticalPathMs, concurrency_bound_ms: r.concurrencyBoundMs, ideal_ms: r.idealMs,
    efficiency: r.efficiency, throughput_tps: r.throughputTps, p50_ms: r.p50Ms, p95_ms: r.p95Ms, p99_ms: r.p99Ms, max_ms: r.maxMs,
    cpu_ms: r.cpuMs, rss_peak_mb: r.rssPeakMb,
    process_wall_ms: processWallMs ?? null, process_cpu_ms: processCpuMs ?? null, process_rss_peak_mb: rssPeak ?? null,
    harness_overhead_ms: processWallMs === undefined ? null : processWallMs - r.makespanMs - (phases.settleMs ?? 0),
    event_loop_p99_ms: r.eventLoopP99Ms, queue_peak: r.queuePeak,
    llm_calls: r.llm.calls, tokens_in: BigInt(r.llm.tokensIn), tokens_out: BigInt(r.llm.tokensOut), cost_usd: r.llm.costUsd,
    cost_per_task_usd: r.costPerTaskUsd, llm_retries: r.llm.retries, llm_rate_limited: r.llm.rateLimited, llm_failures: r.llm.failures,
    errors: r.errors, fairness: Number.isFinite(r.fairness) ? r.fairness : null,
    final_hash: r.finalDigest, latency_hdr: r.latencyHdr,
    started_at: r.startedAt, load_start: r.machine.loadStart, load_end: r.machine.loadEnd, cpus: r.machine.cpus, cpu_list: r.machine.cpuList,
    env: JSON.stringify(meta.env), schema_version: SCHEMA_VERSION,
  };
}

export interface AppendRunOptions {
  /** The run's spans; none written when absent (traces off). */
  spans?: SpanSource;
  /** Called after every other table is appended, just before the `runs` row: the cost up to then. */
  cost?(phases: { spansMs: number; rowsMs: number }): HarnessCost;
}

/**
 * Append a run's rows to the five run tables of `conn`, `runs` last. No transaction here: the
 * store wraps it in one; a rows file needs none (it is discarded whole if anything fails).
 */
export async function appendRunRows(
  conn: { createAppender(table: string): Promise<DuckDBAppender> },
  r: RunOutcome,
  meta: RunMeta,
  o: AppendRunOptions = {},
): Promise<void> {
  const t0 = performance.now();
  const id = r.runId;
  const sa = await openAppender(conn, samples, { run_id: id });
  try {
    for (const s of r.samples) sa.add({ t_ms: s.tMs, metric: s.metric, value: s.value });
  } finally {
    sa.close();
  }
  const tl = await openAppender(conn, taskLatencies, { run_id: id });
  try {
    for (const t of r.taskLatencies) tl.add({ task: t.task, intended_at_ms: t.intendedAtMs, published_at_ms: t.publishedAtMs, completed_at_ms: t.completedAtMs, latency_ms: t.latencyMs, task_class: t.taskClass });
  } finally {
    tl.close();
  }
  const ex = await openAppender(conn, executions, { run_id: id });
  try {
    const log = r.executionLog;
    for (let i = 0; i < log.length; i++) {
      ex.add({
        agent: log.agent(i), identity: log.identity[i]!, start_ms: log.startMs[i]!, end_ms: log.endMs[i]!, drawn_latency_ms: log.drawnLatencyMs[i]!,
        scaled_latency_ms: log.scaledLatencyMs[i]!, tokens_in: log.tokensIn[i]!, tokens_out: log.tokensOut[i]!, cost_usd: log.costUsd[i]!, error: log.errors.get(i) ?? null,
        inputs: log.inputCount(i), llm_calls: log.llmCallsOf(i), queued_ms: log.queuedMsOf(i),
      });
    }
  } finally {
    ex.close();
  }
  let spansMs = 0;
  if (o.spans) {
    const s0 = performance.now();
    const sp = await openAppender(conn, spans, { run_id: id });
    try {
      await o.spans((row) => sp.add(row));
    } finally {
      sp.close();
    }
    spansMs = performance.now() - s0;
  }
  const cost = o.cost?.({ spansMs, rowsMs: performance.now() - t0 });
  const ru = await openAppender(conn, runs);
  try {
    ru.add(runRow(r, meta, cost));
  } finally {
    ru.close();
  }
}

/**
 * Write a run's rows into a fresh DuckDB file (the run tables, without keys: the store's import
 * checks them). Called in the run's own process; the store imports the file (ResultsDb.importRun).
 */
export async function writeRunFile(path: string, r: RunOutcome, meta: RunMeta, o: AppendRunOptions = {}): Promise<void> {
  const instance = await DuckDBInstance.create(path);
  const conn = await instance.connect();
  try {
    for (const t of RUN_TABLES) await conn.run(createTableSql(t, { constraints: false }));
    await appendRunRows(conn, r, meta, o);
  } finally {
    conn.closeSync();
    instance.closeSync();
  }
}
