// The results schema, declared once: each table's columns (type, unit, meaning) give its DDL,
// its row type, its bulk insert (DuckDB Appender) and its reference documentation
// (results/README.md is generated from here and a test keeps it current). Views put the
// JSON extraction that notebooks, the paper and the figures need in one place.
import type { DuckDBAppender, DuckDBVector } from '@duckdb/node-api';
import { DuckDBDataChunk, DuckDBTimestampValue } from '@duckdb/node-api';
import { minSamplesFor } from '../../core/stats/percentile.ts';

type SqlType = 'VARCHAR' | 'INTEGER' | 'BIGINT' | 'DOUBLE' | 'BOOLEAN' | 'JSON' | 'TIMESTAMP';

interface ColumnDef<T extends SqlType = SqlType, N extends boolean = boolean> {
  type: T;
  doc: string;
  unit?: string;
  nullable: N;
  primaryKey?: boolean;
}

/** A column; nullable unless `notNull`. */
function col<T extends SqlType>(type: T, doc: string, o: { unit?: string; notNull?: false; primaryKey?: boolean }): ColumnDef<T, true>;
function col<T extends SqlType>(type: T, doc: string, o: { unit?: string; notNull: true; primaryKey?: boolean }): ColumnDef<T, false>;
function col<T extends SqlType>(type: T, doc: string): ColumnDef<T, true>;
function col<T extends SqlType>(type: T, doc: string, o: { unit?: string; notNull?: boolean; primaryKey?: boolean } = {}): ColumnDef<T, boolean> {
  return { type, doc, unit: o.unit, nullable: !(o.notNull || o.primaryKey), primaryKey: o.primaryKey };
}

type JsOf<T extends SqlType> = T extends 'VARCHAR' | 'JSON' | 'TIMESTAMP' ? string : T extends 'BOOLEAN' ? boolean : T extends 'BIGINT' ? bigint | number : number;

/** The row a table takes: one field per column, `null` allowed where the column is nullable. */
export type RowOf<C extends Record<string, ColumnDef>> = {
  [K in keyof C]: C[K] extends ColumnDef<infer T, infer N> ? (N extends true ? JsOf<T> | null : JsOf<T>) : never;
};

export interface TableDef<C extends Record<string, ColumnDef> = Record<string, ColumnDef>> {
  name: string;
  doc: string;
  columns: C;
}

const table = <C extends Record<string, ColumnDef>>(name: string, doc: string, columns: C): TableDef<C> => ({ name, doc, columns });

export const SCHEMA_VERSION = 5;

export const meta = table('meta', 'Key/value facts about the file: `schema_version`, `created_by` (marks a flockbench database).', {
  key: col('VARCHAR', 'name', { primaryKey: true }),
  value: col('VARCHAR', 'value'),
});

export const runs = table('runs', 'One row per run of a matrix cell: completed (with every metric) or failed (with its error; metrics NULL).', {
  run_id: col('VARCHAR', 'uuid', { primaryKey: true }),
  state: col('VARCHAR', '`completed` or `failed`', { notNull: true }),
  error: col('VARCHAR', 'why a failed run failed (one line); NULL when completed'),
  cell_id: col('VARCHAR', 'hash of the matrix cell (the resume key)', { notNull: true }),
  matrix: col('VARCHAR', 'matrix name'),
  session: col('VARCHAR', 'one `flockbench run` invocation (uuid): runs of one session share its machine conditions'),
  system: col('VARCHAR', 'system name', { notNull: true }),
  workload: col('VARCHAR', 'workload name', { notNull: true }),
  store: col('VARCHAR', '`memory`, `graph-state`, `kafka`, `flock-memory`, `python-graph-state`'),
  params: col('JSON', '`workload` (resolved workload params), `system` (resolved system params), `settings` (resolved at run time: versions, derived limits), `counters`, `setupMs` (provisioning excluded from makespan), `collectorsMs` (bookkeeping after the window: hashes, ideal replay, bound, task latencies), `broker` (JVM CPU/RSS), `llmTransport`, `tail`, `llmServer` (HTTP simulator counters)'),
  rep: col('INTEGER', 'repetition'),
  seed: col('BIGINT', 'seed of the rep (every system of a rep shares it: paired draws)'),
  latency_scale: col('DOUBLE', 'every simulated latency and timeout was multiplied by it', { unit: 'factor' }),
  llm_transport: col('VARCHAR', '`inprocess` or `http`'),
  tail: col('VARCHAR', '`calibrated` or `light`'),
  tasks: col('INTEGER', 'tasks (seed inputs) of the workload', { unit: 'count' }),
  makespan_ms: col('DOUBLE', 'measured window: from the first intended arrival to the system having drained', { unit: 'ms' }),
  lower_bound_ms: col('DOUBLE', 'release-aware lower bound from the realized draws: max(critical path, per agent max over release times t of t + work released at or after t / its concurrency limit)', { unit: 'ms' }),
  critical_path_ms: col('DOUBLE', 'longest dependency chain of waits from each task\'s arrival', { unit: 'ms' }),
  concurrency_bound_ms: col('DOUBLE', 'the per-agent part of the bound', { unit: 'ms' }),
  ideal_ms: col('DOUBLE', 'zero-overhead replay of the system\'s own scheduling policy (barriers, batching, limits) on the realized draws', { unit: 'ms' }),
  efficiency: col('DOUBLE', 'lower_bound_ms / makespan_ms', { unit: 'ratio' }),
  throughput_tps: col('DOUBLE', 'tasks / makespan', { unit: 'tasks/s' }),
  p50_ms: col('DOUBLE', 'task latency from intended arrival to its last execution, nearest-rank percentile of the run\'s exact latencies', { unit: 'ms' }),
  p95_ms: col('DOUBLE', 'as p50_ms; NULL with fewer than 20 tasks', { unit: 'ms' }),
  p99_ms: col('DOUBLE', 'as p50_ms; NULL with fewer than 100 tasks', { unit: 'ms' }),
  max_ms: col('DOUBLE', 'largest task latency (HdrHistogram, 3 significant digits: its bucket\'s upper edge)', { unit: 'ms' }),
  cpu_ms: col('DOUBLE', 'user + system CPU of the run\'s process and of the processes the system spawned, inside the measured window', { unit: 'ms' }),
  rss_peak_mb: col('DOUBLE', 'peak resident set of the run\'s process inside the measured window (sampled)', { unit: 'MiB' }),
  process_wall_ms: col('DOUBLE', 'whole run as the harness pays for it: from starting the run\'s process (fork; the cell itself with --no-isolate) to its rows being in the results transaction (warm-up, run, collectors, traces, row writing and import included; phases in params.harness)', { unit: 'ms' }),
  process_cpu_ms: col('DOUBLE', 'user + system CPU of the run\'s process over its whole life (not only the measured window)', { unit: 'ms' }),
  process_rss_peak_mb: col('DOUBLE', 'high-water mark of the run\'s process resident set over its whole life (VmHWM: heap, DuckDB buffers, everything; with --no-isolate, of the whole matrix process so far)', { unit: 'MiB' }),
  harness_overhead_ms: col('DOUBLE', 'process_wall_ms - makespan_ms - the settle wait (matrices with settleMaxS): what the harness costs around the measured window', { unit: 'ms' }),
  event_loop_p99_ms: col('DOUBLE', 'event-loop delay p99 of the run\'s process', { unit: 'ms' }),
  queue_peak: col('DOUBLE', 'peak pending work (queued executions, open batches, partial joins, consumer lag)', { unit: 'count' }),
  llm_calls: col('INTEGER', 'simulated LLM calls', { unit: 'count' }),
  tokens_in: col('BIGINT', 'prompt tokens', { unit: 'tokens' }),
  tokens_out: col('BIGINT', 'completion tokens', { unit: 'tokens' }),
  cost_usd: col('DOUBLE', 'at the model profile\'s prices', { unit: 'USD' }),
  cost_per_task_usd: col('DOUBLE', 'cost_usd / tasks', { unit: 'USD' }),
  llm_retries: col('INTEGER', 'HTTP transport: client retries', { unit: 'count' }),
  llm_rate_limited: col('INTEGER', 'HTTP transport: 429 answers', { unit: 'count' }),
  llm_failures: col('INTEGER', 'HTTP transport: calls that failed for good', { unit: 'count' }),
  errors: col('INTEGER', 'WorkflowError artifacts (agent failures, circuit breaker)', { unit: 'count' }),
  fairness: col('DOUBLE', 'Jain\'s index over tasks of (the task\'s own critical path / its latency): 1 = every task slowed alike', { unit: '0..1' }),
  final_hash: col('VARCHAR', 'hash of the sorted content hashes of terminal and error artifacts (conformance across systems)'),
  latency_hdr: col('VARCHAR', 'the task-latency HdrHistogram (µs), compressed base64'),
  started_at: col('TIMESTAMP', 'wall clock at start'),
  load_start: col('DOUBLE', '1-minute load average when the run started (all processes)'),
  load_end: col('DOUBLE', '1-minute load average when it ended'),
  cpus: col('INTEGER', 'CPUs the run\'s process could use (affinity)', { unit: 'count' }),
  cpu_list: col('VARCHAR', 'which CPUs (`--pin`), e.g. `1` or `0-1`'),
  env: col('JSON', 'node version, platform, CPU model, cores, memory, git sha, dirty flag, CI, broker pinning'),
  schema_version: col('INTEGER', 'schema of this row'),
});

export const samples = table('samples', 'Time series sampled every 25 ms inside the measured window.', {
  run_id: col('VARCHAR', 'run', { notNull: true }),
  t_ms: col('DOUBLE', 'time since the window opened', { unit: 'ms', notNull: true }),
  metric: col('VARCHAR', '`rss_mb`, `heap_mb`, `queue_pending`, `queue_in_flight`, `broker_cpu_pct`, `broker_rss_mb`', { notNull: true }),
  value: col('DOUBLE', 'value in the metric\'s unit', { notNull: true }),
});

export const taskLatencies = table('task_latencies', 'One row per task of a completed run.', {
  run_id: col('VARCHAR', 'run', { notNull: true }),
  task: col('VARCHAR', 'the task\'s logical key', { notNull: true }),
  intended_at_ms: col('DOUBLE', 'its slot in the arrival schedule', { unit: 'ms', notNull: true }),
  published_at_ms: col('DOUBLE', 'when the harness handed it to the system (lateness is the harness\'s own)', { unit: 'ms' }),
  completed_at_ms: col('DOUBLE', 'end of its last execution', { unit: 'ms', notNull: true }),
  latency_ms: col('DOUBLE', 'completed_at_ms - intended_at_ms', { unit: 'ms', notNull: true }),
  task_class: col('VARCHAR', 'the task\'s class: `map`, `review-analysis` or `retrieval-summarization` in the mixed workload, else the workload\'s name (NULL in rows from schema 3)'),
});

export const executions = table('executions', 'One row per agent execution of a completed run.', {
  run_id: col('VARCHAR', 'run', { notNull: true }),
  agent: col('VARCHAR', 'agent name', { notNull: true }),
  identity: col('VARCHAR', 'agent and logical input keys (keys the latency draw)', { notNull: true }),
  start_ms: col('DOUBLE', 'on the run clock', { unit: 'ms', notNull: true }),
  end_ms: col('DOUBLE', 'on the run clock', { unit: 'ms', notNull: true }),
  drawn_latency_ms: col('DOUBLE', 'unscaled draw', { unit: 'ms' }),
  scaled_latency_ms: col('DOUBLE', 'draw x latency scale: what was waited', { unit: 'ms' }),
  tokens_in: col('INTEGER', 'prompt tokens', { unit: 'tokens' }),
  tokens_out: col('INTEGER', 'completion tokens', { unit: 'tokens' }),
  cost_usd: col('DOUBLE', 'simulated cost', { unit: 'USD' }),
  error: col('VARCHAR', 'agent failure, if any'),
  inputs: col('INTEGER', 'inputs consumed (a batch or a join has several; a coalesced batch makes one call for all of them)', { unit: 'count' }),
  llm_calls: col('INTEGER', 'LLM calls made: 0 for a tool agent or a failed call, else 1 (NULL in rows from schema 3)', { unit: 'count' }),
  queued_ms: col('DOUBLE', 'of scaled_latency_ms, the wait for admission under in-process provider limits', { unit: 'ms' }),
});

export const spans = table('spans', 'OpenTelemetry spans (one `<system>.run` root, one `<agent>.execute` per execution), in the column layout of the real Flock\'s DuckDB trace exporter, plus `run_id`.', {
  trace_id: col('VARCHAR', 'trace'),
  span_id: col('VARCHAR', 'span', { primaryKey: true }),
  parent_id: col('VARCHAR', 'parent span'),
  name: col('VARCHAR', 'span name'),
  service: col('VARCHAR', 'service (system)'),
  operation: col('VARCHAR', 'operation'),
  kind: col('VARCHAR', 'span kind'),
  start_time: col('BIGINT', 'epoch', { unit: 'ns' }),
  end_time: col('BIGINT', 'epoch', { unit: 'ns' }),
  duration_ms: col('DOUBLE', 'duration', { unit: 'ms' }),
  status_code: col('VARCHAR', 'OK / ERROR'),
  status_description: col('VARCHAR', 'status message'),
  attributes: col('JSON', 'span attributes'),
  events: col('JSON', 'span events'),
  links: col('JSON', 'span links'),
  resource: col('JSON', 'resource attributes'),
  created_at: col('TIMESTAMP', 'row written'),
  run_id: col('VARCHAR', 'run'),
});

export const chaos = table('chaos', '`flockbench chaos`: one row per delivery mode of a failure run; `lost`/`duplicated` count logical artifact keys a read-committed reader of every output topic sees, against what the workload must produce.', {
  run_id: col('VARCHAR', 'run', { notNull: true }),
  started_at: col('TIMESTAMP', 'wall clock at start'),
  mode: col('VARCHAR', 'delivery mode'),
  nodes: col('INTEGER', 'brokers in the cluster', { unit: 'count' }),
  tasks: col('INTEGER', 'map tasks', { unit: 'count' }),
  kills: col('INTEGER', 'broker kills executed', { unit: 'count' }),
  worker_crashes: col('INTEGER', 'consumer crashes between produce and commit', { unit: 'count' }),
  expected: col('INTEGER', 'artifacts the workload must produce', { unit: 'count' }),
  observed: col('INTEGER', 'records seen', { unit: 'count' }),
  lost: col('INTEGER', 'expected keys never seen', { unit: 'count' }),
  duplicated: col('INTEGER', 'keys seen more than once', { unit: 'count' }),
  unexpected: col('INTEGER', 'keys the workload does not produce', { unit: 'count' }),
  makespan_ms: col('DOUBLE', 'measured window', { unit: 'ms' }),
  env: col('JSON', 'environment, seed, options, events, counters, error'),
});

export const faults = table('faults', '`flockbench chaos`: one row per fault event of a chaos row (broker kill, restart, failed restart, worker crash), in the order they happened. Both modes of one seed get the same planned faults.', {
  run_id: col('VARCHAR', 'the chaos row (`chaos.run_id`)', { notNull: true }),
  seq: col('INTEGER', 'order within the run', { unit: 'count', notNull: true }),
  at_ms: col('DOUBLE', 'time since the run started', { unit: 'ms', notNull: true }),
  kind: col('VARCHAR', '`kill`, `restarted`, `restart-failed` or `worker-crash`', { notNull: true }),
  target: col('VARCHAR', 'node index (0-based) for kills and restarts; the crashed seed key for worker crashes'),
  progress: col('DOUBLE', 'fraction of the agent executions that had reached their commit point; null on Pulsar (its executions are reported only at the end)', { unit: '0..1' }),
  detail: col('VARCHAR', 'one line, as printed'),
});

export const bench = table('bench', '`flockbench bench`: per-event engine overhead with zero-latency agents.', {
  bench_id: col('VARCHAR', 'one bench invocation', { notNull: true }),
  started_at: col('TIMESTAMP', 'wall clock at start'),
  system: col('VARCHAR', 'system'),
  case_name: col('VARCHAR', 'case (fan-out-8, chain-10, ...)'),
  family: col('VARCHAR', 'case family: the case name without its size (`items`, `fan-out`, `chain`, `batch`, `join`): the series of the scaling figure'),
  n: col('INTEGER', 'case size', { unit: 'count' }),
  events: col('INTEGER', 'agent executions per run', { unit: 'count' }),
  state: col('VARCHAR', '`completed`; `over-budget` (stopped by the time or memory budget: the size where the system stops being practical); `skipped` (a smaller size of the family was over budget, or the size is predicted to be); `errored`'),
  reason: col('VARCHAR', 'why a case did not complete (one line)'),
  samples: col('INTEGER', 'timed runs', { unit: 'count' }),
  mean_ms: col('DOUBLE', 'mean run time', { unit: 'ms' }),
  p50_ms: col('DOUBLE', 'median run time', { unit: 'ms' }),
  p95_ms: col('DOUBLE', 'run time p95', { unit: 'ms' }),
  p99_ms: col('DOUBLE', 'run time p99', { unit: 'ms' }),
  per_event_us: col('DOUBLE', 'mean run time / events', { unit: 'µs' }),
  per_event_p50_us: col('DOUBLE', 'median run time / events: the headline (the mean is noise-dominated below ~10 µs)', { unit: 'µs' }),
  per_event_p95_us: col('DOUBLE', 'run time p95 / events', { unit: 'µs' }),
  ratio_to_blackboard: col('DOUBLE', 'per_event_p50_us / blackboard-eager\'s on the same case (medians; before schema 5, means)', { unit: 'ratio' }),
  heap_mb_per_10k: col('DOUBLE', 'retained heap per 10k tasks', { unit: 'MiB' }),
  first_run_ms: col('DOUBLE', 'the first (warm-up) run, or how long it ran before the budget stopped it', { unit: 'ms' }),
  case_wall_ms: col('DOUBLE', 'the whole case in its own process: first run and timed runs', { unit: 'ms' }),
  rss_peak_mb: col('DOUBLE', 'peak resident set of the case\'s process', { unit: 'MiB' }),
  budget_ms: col('DOUBLE', 'time budget of one run in force (the first run is stopped when it exceeds it)', { unit: 'ms' }),
  budget_mb: col('DOUBLE', 'memory budget of the case\'s process in force (resident set)', { unit: 'MiB' }),
  env: col('JSON', 'environment, agent body cost'),
});

export const TABLES: TableDef[] = [meta, runs, samples, taskLatencies, executions, spans, chaos, faults, bench];

export type RunRow = RowOf<typeof runs.columns>;
export type SampleRow = RowOf<typeof samples.columns>;
export type TaskLatencyRow = RowOf<typeof taskLatencies.columns>;
export type ExecutionRow = RowOf<typeof executions.columns>;
export type SpanRow = Omit<RowOf<typeof spans.columns>, 'run_id' | 'created_at'>;
export type ChaosRow = RowOf<typeof chaos.columns>;
export type FaultRow = RowOf<typeof faults.columns>;
export type BenchRow = RowOf<typeof bench.columns>;

/** DDL of a declared table; `constraints: false` for scratch copies (a run's rows file) that need no keys. */
export function createTableSql(t: TableDef, { constraints = true } = {}): string {
  const cols = Object.entries(t.columns).map(([name, c]) => `${name} ${c.type}${!constraints ? '' : c.primaryKey ? ' PRIMARY KEY' : c.nullable ? '' : ' NOT NULL'}`);
  return `CREATE TABLE IF NOT EXISTS ${t.name} (${cols.join(', ')})`;
}

/** Views: what notebooks, the paper and the figures read (JSON extraction written once). */
/**
 * Nearest-rank percentile in SQL, as core/stats/percentile.ts tailPercentile: the value at rank
 * ceil(q n), 1-based; NULL below minSamplesFor(q) values (where it would be the maximum).
 */
function nearestRank(col: string, q: number): string {
  return `CASE WHEN count(*) >= ${minSamplesFor(q)} THEN list_sort(list(${col}))[greatest(1, ceil(${q} * count(*) * (1 - 1e-12))::BIGINT)] END`;
}

export const VIEWS: { name: string; doc: string; sql: string }[] = [
  {
    name: 'run_configs',
    doc: 'Completed runs with their configuration as columns: the workload and system parameters that define a cell (NULL where a system has no such parameter); `overhead` = makespan / ideal (the engine\'s own cost), `policy_ratio` = bound / ideal (what the policy costs), `loaded` = the 1-minute load average at start exceeded the run\'s CPUs + 1 (heavy external load: flagged, excluded from decisions).',
    sql: `SELECT r.*,
      params->'workload' AS workload_params, params->'system' AS system_params,
      CAST(params->>'$.workload.tasks' AS INTEGER) AS wl_tasks,
      CAST(params->>'$.workload.analysts' AS INTEGER) AS wl_analysts,
      CAST(params->>'$.workload.depth' AS INTEGER) AS wl_depth,
      CAST(params->>'$.workload.join' AS BOOLEAN) AS wl_join,
      params->>'$.workload.model' AS wl_model,
      params->>'$.workload.arrival' AS wl_arrival,
      CAST(params->>'$.workload.ratePerSec' AS DOUBLE) AS wl_rate_per_sec,
      CAST(params->>'$.workload.maxConcurrency' AS INTEGER) AS wl_max_concurrency,
      params->>'$.system.delivery' AS sys_delivery,
      CAST(params->>'$.system.partitions' AS INTEGER) AS sys_partitions,
      CAST(params->>'$.system.consumers' AS INTEGER) AS sys_consumers,
      CAST(params->>'$.system.processes' AS INTEGER) AS sys_processes,
      CASE WHEN params->>'$.system.processes' IS NULL THEN NULL WHEN CAST(params->>'$.system.processes' AS INTEGER) = 0 THEN 'one-process' ELSE 'worker-processes' END AS sys_layout,
      CAST(params->>'$.system.maxInFlight' AS INTEGER) AS sys_max_in_flight,
      CAST(params->>'$.system.batchWindowMs' AS DOUBLE) AS sys_batch_window_ms,
      CAST(params->>'$.system.maxConcurrency' AS INTEGER) AS sys_max_concurrency,
      CAST(params->>'$.setupMs' AS DOUBLE) AS setup_ms,
      CAST(params->>'$.system.dispatchChunk' AS INTEGER) AS sys_dispatch_chunk,
      CAST(params->>'$.harness.warmupMs' AS DOUBLE) AS harness_warmup_ms,
      CAST(params->>'$.harness.settleMs' AS DOUBLE) AS harness_settle_ms,
      CAST(params->>'$.harness.heapLimitMb' AS INTEGER) AS harness_heap_limit_mb,
      CAST(params->>'$.harness.settleReached' AS BOOLEAN) AS harness_settle_reached,
      CAST(params->>'$.harness.runMs' AS DOUBLE) AS harness_run_ms,
      CAST(params->>'$.harness.rowsMs' AS DOUBLE) AS harness_rows_ms,
      CAST(params->>'$.harness.spansMs' AS DOUBLE) AS harness_spans_ms,
      CAST(params->>'$.harness.importMs' AS DOUBLE) AS harness_import_ms,
      CAST(params->>'$.harness.traces' AS BOOLEAN) AS traces,
      CAST(params->>'$.broker.cpuPctMean' AS DOUBLE) AS broker_cpu_pct_mean,
      CAST(params->>'$.broker.rssPeakMb' AS DOUBLE) AS broker_rss_peak_mb,
      makespan_ms / ideal_ms AS overhead,
      lower_bound_ms / ideal_ms AS policy_ratio,
      cpu_ms / tasks AS cpu_ms_per_task,
      coalesce(load_start > cpus + 1, false) AS loaded,
      params->>'$.workload.trace' AS wl_trace,
      CAST(params->>'$.workload.k' AS INTEGER) AS wl_k,
      CAST(params->>'$.workload.chunks' AS INTEGER) AS wl_chunks,
      CAST(params->>'$.workload.coalesce' AS BOOLEAN) AS wl_coalesce,
      CAST(params->>'$.workload.coalesceTasks' AS INTEGER) AS wl_coalesce_tasks,
      CAST(params->>'$.workload.coalesceWindowMs' AS DOUBLE) AS wl_coalesce_window_ms,
      CAST(params->>'$.llmLimiter.waitMsTotal' AS DOUBLE) AS llm_queued_ms_total,
      CAST(params->>'$.llmLimiter.blockedMs.tokens' AS DOUBLE) AS llm_blocked_tokens_ms,
      CAST(params->>'$.llmLimiter.blockedMs.requests' AS DOUBLE) AS llm_blocked_requests_ms
    FROM runs r WHERE state = 'completed'`,
  },
  {
    name: 'task_latency_by_class',
    doc: 'Per completed run and task class: tasks and task-latency percentiles over the run\'s tasks of that class, nearest rank (x at rank ceil(q n), the definition of the runs row\'s p50/p95/p99; p95 NULL below 20 tasks, p99 below 100).',
    sql: `SELECT t.run_id, r.matrix, r.system, r.workload, r.rep, r.seed, COALESCE(t.task_class, r.workload) AS task_class,
      count(*) AS tasks,
      ${nearestRank('t.latency_ms', 0.5)} AS p50_ms, ${nearestRank('t.latency_ms', 0.95)} AS p95_ms,
      ${nearestRank('t.latency_ms', 0.99)} AS p99_ms, max(t.latency_ms) AS max_ms
    FROM task_latencies t JOIN runs r USING (run_id) WHERE r.state = 'completed'
    GROUP BY ALL`,
  },
  {
    name: 'agent_spans',
    doc: 'One row per agent execution span, from either tracer: the harness names it `<agent>.execute` (attribute `flockbench.agent`), the real Flock\'s auto-trace `Agent.execute` with the agent in `agent.name`; `name` here is `<agent>.execute` for both, so the tutorial\'s query (`WHERE name LIKE \'%_analyst.execute\'`) reads either. `source`: `flockbench` or `flock`.',
    sql: `SELECT run_id, source, agent, agent || '.execute' AS name, start_time, end_time, duration_ms, status_code, span_id, trace_id
    FROM (SELECT s.*, CASE WHEN s.name = 'Agent.execute' THEN 'flock' ELSE 'flockbench' END AS source,
            COALESCE(s.attributes->>'$."agent.name"', s.attributes->>'$."flockbench.agent"') AS agent
          FROM spans s WHERE s.name LIKE '%.execute')
    WHERE agent IS NOT NULL`,
  },
  {
    name: 'failed_runs',
    doc: 'Runs that failed, with their cell and error.',
    sql: `SELECT run_id, matrix, session, system, workload, rep, seed, latency_scale, error, params, started_at FROM runs WHERE state = 'failed'`,
  },
];

type Appendable = string | number | bigint | boolean | null | undefined;

/** One column's append, chosen once per appender (not a type switch per value). */
function valueWriter(a: DuckDBAppender, type: SqlType): (v: Appendable) => void {
  const orNull = (f: (v: NonNullable<Appendable>) => void) => (v: Appendable) => {
    if (v === null || v === undefined || (typeof v === 'number' && !Number.isFinite(v))) a.appendNull();
    else f(v);
  };
  if (type === 'VARCHAR' || type === 'JSON') return orNull((v) => a.appendVarchar(String(v)));
  if (type === 'INTEGER') return orNull((v) => a.appendInteger(Number(v)));
  if (type === 'BIGINT') return orNull((v) => a.appendBigInt(BigInt(v)));
  if (type === 'DOUBLE') return orNull((v) => a.appendDouble(Number(v)));
  if (type === 'BOOLEAN') return orNull((v) => a.appendBoolean(Boolean(v)));
  // Timestamps repeat (created_at of a whole batch): parse each distinct string once.
  let last: string | undefined;
  let value: DuckDBTimestampValue | undefined;
  return orNull((v) => {
    const str = String(v);
    if (str !== last) { last = str; value = new DuckDBTimestampValue(BigInt(Date.parse(str)) * 1000n); }
    a.appendTimestamp(value!);
  });
}

/** Rows of a declared table through one Appender, added one at a time (rows produced while appending: spans). */
export interface RowAppender<C extends Record<string, ColumnDef>> {
  add(row: Partial<RowOf<C>>): void;
  /** Flush and close; returns the rows added. */
  close(): number;
}

/**
 * Open an Appender on a declared table (inside the caller's transaction, if any). A column a row
 * leaves undefined takes its value from `defaults` (e.g. the run id of every row); `created_at`
 * defaults to now.
 */
export async function openAppender<C extends Record<string, ColumnDef>>(
  conn: { createAppender(table: string): Promise<DuckDBAppender> },
  t: TableDef<C>,
  defaults: Partial<RowOf<C>> = {},
): Promise<RowAppender<C>> {
  const a = await conn.createAppender(t.name);
  const fallback: Record<string, Appendable> = { created_at: new Date().toISOString(), ...(defaults as Record<string, Appendable>) };
  if (Object.values(t.columns).every((c) => CHUNKED.has(c.type))) return chunkAppender(a, t, fallback);
  const writers = Object.entries(t.columns).map(([name, c]) => [name, valueWriter(a, c.type), fallback[name]] as const);
  let n = 0;
  let closed = false;
  return {
    add(row) {
      const r = row as Record<string, Appendable>;
      for (const [name, write, d] of writers) {
        const v = r[name];
        write(v === undefined ? d : v);
      }
      a.endRow();
      n++;
    },
    close() {
      if (closed) return n;
      closed = true;
      try {
        a.flushSync();
      } finally {
        a.closeSync();
      }
      return n;
    },
  };
}

/** Column types a data chunk takes as plain JS values (strings and numbers). */
const CHUNKED = new Set<SqlType>(['VARCHAR', 'JSON', 'INTEGER', 'DOUBLE']);
/** Rows per data chunk: DuckDB's vector size. */
const CHUNK_ROWS = 2048;

/**
 * Rows of a table of strings and numbers, appended a data chunk at a time: numbers go into the
 * chunk's typed arrays in JS, and only strings cross into DuckDB one by one. Per value, the
 * row-wise Appender made one native call (a 1M-task run: ~25M of them for its executions and
 * task latencies). Same values and NULLs as the row-wise path (a non-finite number is NULL).
 */
function chunkAppender<C extends Record<string, ColumnDef>>(a: DuckDBAppender, t: TableDef<C>, fallback: Record<string, Appendable>): RowAppender<C> {
  const cols = Object.entries(t.columns).map(([name, c]) => ({ name, text: c.type === 'VARCHAR' || c.type === 'JSON', d: fallback[name] }));
  const types = cols.map((_, i) => a.columnType(i));
  let chunk: DuckDBDataChunk | undefined;
  let vectors: DuckDBVector[] = [];
  let row = 0;
  let n = 0;
  let closed = false;
  const flush = () => {
    if (!chunk || !row) return;
    for (const v of vectors) v.flush();
    chunk.rowCount = row;
    a.appendDataChunk(chunk);
    chunk = undefined;
    row = 0;
  };
  return {
    add(r0) {
      const r = r0 as Record<string, Appendable>;
      if (!chunk) {
        chunk = DuckDBDataChunk.create(types, CHUNK_ROWS);
        vectors = cols.map((_, i) => chunk!.getColumnVector(i));
      }
      for (let i = 0; i < cols.length; i++) {
        const c = cols[i]!;
        const x = r[c.name];
        const v = x === undefined ? c.d : x;
        if (v === null || v === undefined || (typeof v === 'number' && !Number.isFinite(v))) vectors[i]!.setItem(row, null);
        else vectors[i]!.setItem(row, c.text ? String(v) : Number(v));
      }
      n++;
      if (++row === CHUNK_ROWS) flush();
    },
    close() {
      if (closed) return n;
      closed = true;
      try {
        flush();
        a.flushSync();
      } finally {
        a.closeSync();
      }
      return n;
    },
  };
}

/** Append rows to a declared table through one Appender (inside the caller's transaction, if any). */
export async function appendRows<C extends Record<string, ColumnDef>>(
  conn: { createAppender(table: string): Promise<DuckDBAppender> },
  t: TableDef<C>,
  rows: Iterable<Partial<RowOf<C>>>,
): Promise<number> {
  const a = await openAppender(conn, t);
  try {
    for (const row of rows) a.add(row);
  } finally {
    a.close();
  }
  return a.close();
}

/** The schema as Markdown (the reference part of results/README.md). */
export function schemaMarkdown(): string {
  const out: string[] = [`Schema version: **${SCHEMA_VERSION}**.`, ''];
  for (const t of TABLES) {
    out.push(`### \`${t.name}\``, '', t.doc, '', '| column | type | unit | meaning |', '|---|---|---|---|');
    for (const [name, c] of Object.entries(t.columns)) out.push(`| \`${name}\` | ${c.type}${c.nullable ? '' : ' not null'} | ${c.unit ?? ''} | ${c.doc} |`);
    out.push('');
  }
  out.push('### Views', '');
  for (const v of VIEWS) out.push(`- \`${v.name}\`: ${v.doc}`);
  return out.join('\n');
}
