// Synthetic runs for the paper's tests: rows with the columns the verdicts, figures and the build
// read, so rules can be exercised on known numbers without running anything.
import { SCHEMA_VERSION, type ResultsDb } from '../harness/results/db.ts';
import { executions, runs } from '../harness/results/schema.ts';

export interface SyntheticRun {
  matrix: string;
  system: string;
  workload?: string;
  workloadParams?: Record<string, unknown>;
  systemParams?: Record<string, unknown>;
  tail?: string;
  latencyScale?: number;
  seed: number;
  session?: string;
  makespanMs: number;
  idealMs?: number;
  /** Task-latency tails (NULL when absent). */
  p95Ms?: number;
  p99Ms?: number;
  tasks?: number;
  /** 1-minute load average at start (cpus is 2): above 3 the run is flagged as loaded. */
  loadStart?: number;
  /** Failed agent executions (default 0). */
  errors?: number;
  startedAt?: string;
  /** The matrix file the session recorded (env.matrixFile); absent in sessions from before it was. */
  matrixFile?: string;
  /** Partitioned systems: the replay under the run's own partition -> consumer slots, ms. */
  partitionAwareMs?: number;
  /** Whole-process cost (the scale matrix): wall from fork to import, and peak RSS; none when absent. */
  process?: { wallMs: number; rssPeakMb: number; cpuMs: number; rowsMs: number; importMs: number; collectorsMs?: number };
  /** Agent executions to store with the run (run clock, ms; llmMs = scaled LLM time). */
  executions?: { agent: string; startMs: number; endMs: number; llmMs: number }[];
}

let counter = 0;

export async function insertRun(db: ResultsDb, r: SyntheticRun): Promise<void> {
  const id = `syn-${++counter}-${r.system}-${r.seed}`;
  const tail = r.tail ?? 'calibrated';
  const params = {
    workload: r.workloadParams ?? { analysts: 8, tasks: 4, arrival: 'all-at-once' }, system: r.systemParams ?? {}, settings: {}, counters: {}, setupMs: 0, llmTransport: 'inprocess', tail,
    ...(r.process?.collectorsMs !== undefined ? { collectorsMs: r.process.collectorsMs } : {}),
    ...(r.partitionAwareMs !== undefined ? { bounds: { partitionAwareMs: r.partitionAwareMs } } : {}),
    ...(r.process ? { harness: { traces: false, rowsMs: r.process.rowsMs, importMs: r.process.importMs } } : {}),
  };
  const tasks = r.tasks ?? 4;
  await db.append([[runs, [{
    run_id: id, state: 'completed', cell_id: id, matrix: r.matrix, session: r.session ?? 's1', system: r.system, workload: r.workload ?? 'review-analysis',
    store: r.system === 'blackboard-kafka' ? 'kafka' : r.system.startsWith('langgraph') ? 'graph-state' : 'memory',
    params: JSON.stringify(params), rep: 0, seed: r.seed, latency_scale: r.latencyScale ?? 1, llm_transport: 'inprocess', tail, tasks,
    makespan_ms: r.makespanMs, lower_bound_ms: r.makespanMs / 2, ideal_ms: r.idealMs ?? r.makespanMs * 0.9, efficiency: 0.5, throughput_tps: tasks / (r.makespanMs / 1000),
    p50_ms: r.makespanMs / 2, p95_ms: r.p95Ms ?? null, p99_ms: r.p99Ms ?? null, max_ms: r.makespanMs, cpu_ms: 100, errors: r.errors ?? 0,
    ...(r.process ? { process_wall_ms: r.process.wallMs, process_cpu_ms: r.process.cpuMs, process_rss_peak_mb: r.process.rssPeakMb, harness_overhead_ms: r.process.wallMs - r.makespanMs } : {}),
    started_at: r.startedAt ?? `2026-01-01T00:${String(Math.floor(counter / 60) % 60).padStart(2, '0')}:${String(counter % 60).padStart(2, '0')}Z`,
    load_start: r.loadStart ?? 0.5, load_end: 0.5, cpus: 2, cpu_list: '0-1',
    env: JSON.stringify({ node: 'v20.0.0', platform: 'test', cpuModel: 'test cpu', cores: 2, memGb: 4, gitSha: 'abc123', gitDirty: false, ...(r.matrixFile ? { matrixFile: r.matrixFile } : {}) }),
    schema_version: SCHEMA_VERSION,
  }]]]);
  if (r.executions?.length) {
    await db.append([[executions, r.executions.map((e, i) => ({
      run_id: id, agent: e.agent, identity: `${e.agent}-${i}`, start_ms: e.startMs, end_ms: e.endMs, drawn_latency_ms: e.llmMs / (r.latencyScale ?? 1),
      scaled_latency_ms: e.llmMs, tokens_in: 0, tokens_out: 0, cost_usd: 0, error: null, inputs: 1, llm_calls: 1, queued_ms: 0,
    }))]]);
  }
}

/** One arm over seeds: `base * factor(seed)` with a shared per-seed effect, in `sessions` sessions. */
export async function insertArm(db: ResultsDb, base: Omit<SyntheticRun, 'seed' | 'makespanMs' | 'session'>, seeds: number[], makespan: (seed: number) => number, sessions = 2): Promise<void> {
  for (const [i, seed] of seeds.entries()) await insertRun(db, { ...base, seed, session: `s${1 + (i % sessions)}`, makespanMs: makespan(seed) });
}

/** A deterministic per-seed effect in [0.8, 1.2]: what every system of a rep shares. */
export const seedEffect = (seed: number) => 0.8 + ((seed * 7919) % 97) / 242.5;
/** Small per-run noise in [-1%, +1%], different per system. */
export const noise = (seed: number, salt: number) => 1 + ((((seed + 1) * (salt + 3) * 104_729) % 201) - 100) / 10_000;
