// Synthetic rows for the paper's tests: a run row with only the columns verdicts, figures and
// the paper build read, so rules can be exercised on known numbers without running anything.
import { SCHEMA_VERSION, type ResultsDb } from '../harness/results/db.ts';
import { runs } from '../harness/results/schema.ts';

export interface SyntheticRun {
  matrix: string;
  system: string;
  workload?: string;
  workloadParams?: Record<string, unknown>;
  systemParams?: Record<string, unknown>;
  tail?: string;
  rep: number;
  makespanMs: number;
  tasks?: number;
  p95Ms?: number;
  p99Ms?: number;
  broker?: { cpuPctMean: number; rssPeakMb: number };
}

let counter = 0;

export async function insertRun(db: ResultsDb, r: SyntheticRun): Promise<void> {
  const id = `syn-${++counter}-${r.system}-${r.rep}`;
  const tail = r.tail ?? 'calibrated';
  const params = {
    workload: r.workloadParams ?? { analysts: 8, tasks: 4 },
    system: r.systemParams ?? {},
    counters: {},
    setupMs: 0,
    ...(r.broker ? { broker: r.broker } : {}),
    llmTransport: 'inprocess',
    tail,
  };
  const tasks = r.tasks ?? 4;
  await db.append([[runs, [{
    run_id: id, state: 'completed', cell_id: id, matrix: r.matrix, system: r.system, workload: r.workload ?? 'review-analysis',
    store: r.system === 'blackboard-kafka' ? 'kafka' : r.system.startsWith('langgraph') ? 'graph-state' : 'memory',
    params: JSON.stringify(params), rep: r.rep, seed: r.rep, latency_scale: 0.05, llm_transport: 'inprocess', tail, tasks,
    makespan_ms: r.makespanMs, lower_bound_ms: r.makespanMs / 2, efficiency: 0.5, throughput_tps: tasks / (r.makespanMs / 1000),
    p50_ms: r.makespanMs / 2, p95_ms: r.p95Ms ?? r.makespanMs, p99_ms: r.p99Ms ?? r.makespanMs, max_ms: r.makespanMs, errors: 0,
    started_at: `2026-01-01T00:00:${String(counter % 60).padStart(2, '0')}Z`,
    env: JSON.stringify({ node: 'v20.0.0', platform: 'test', cpuModel: 'test cpu', cores: 2, memGb: 4, gitSha: 'abc123', gitDirty: false }),
    schema_version: SCHEMA_VERSION,
  }]]]);
}

/** Several reps of one system: makespans given explicitly. */
export async function insertReps(db: ResultsDb, base: Omit<SyntheticRun, 'rep' | 'makespanMs'>, makespansMs: number[]): Promise<void> {
  for (const [rep, m] of makespansMs.entries()) await insertRun(db, { ...base, rep, makespanMs: m });
}
