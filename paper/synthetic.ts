// Synthetic rows for the paper's tests: a run row with only the columns verdicts, figures and
// the paper build read, so rules can be exercised on known numbers without running anything.
import type { ResultsDb } from '../harness/results/db.ts';

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
    workload: r.workloadParams ?? { analysts: 8, items: 4 },
    system: r.systemParams ?? {},
    counters: {},
    setupMs: 0,
    ...(r.broker ? { broker: r.broker } : {}),
    llm: 'inprocess',
    tail,
    latencyScale: 0.05,
    cell: { systemParams: r.systemParams ?? {} },
  };
  const tasks = r.tasks ?? 4;
  await db.conn.run(
    `INSERT INTO runs (run_id, cell_id, matrix, system, workload, store, params, rep, seed, latency_scale, llm, tasks,
                       makespan_ms, lower_bound_ms, efficiency, rps, p50_ms, p95_ms, p99_ms, max_ms, errors, started_at, env, schema_version)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 0.05, 'inprocess', ?, ?, ?, ?, ?, ?, ?, ?, ?, 0, ?, ?, 1)`,
    [
      id, id, r.matrix, r.system, r.workload ?? 'review-analysis', r.system === 'blackboard-kafka' ? 'kafka' : r.system.startsWith('langgraph') ? 'graph-state' : 'memory',
      JSON.stringify(params), r.rep, r.rep, tasks, r.makespanMs, r.makespanMs / 2, 0.5, tasks / (r.makespanMs / 1000),
      r.makespanMs / 2, r.p95Ms ?? r.makespanMs, r.p99Ms ?? r.makespanMs, r.makespanMs, `2026-01-01 00:00:${String(counter % 60).padStart(2, '0')}`,
      JSON.stringify({ node: 'v20.0.0', platform: 'test', cpuModel: 'test cpu', cores: 2, memGb: 4, gitSha: 'abc123', gitDirty: false }),
    ],
  );
}

/** Several reps of one system: makespans given explicitly. */
export async function insertReps(db: ResultsDb, base: Omit<SyntheticRun, 'rep' | 'makespanMs'>, makespansMs: number[]): Promise<void> {
  for (const [rep, m] of makespansMs.entries()) await insertRun(db, { ...base, rep, makespanMs: m });
}
