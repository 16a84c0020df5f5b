// What one measured run produced: every metric the results store keeps, in memory. The runner
// fills it; the results store and the tracer read it (neither needs the runner).
import type { Artifact } from '../workloads/spec.ts';
import type { ExecutionRecord } from '../workloads/execute.ts';
import type { LlmStats } from '../llm/types.ts';
import type { ExecutionLog } from './collect/execution-log.ts';
import type { NativeSpan } from '../systems/types.ts';
import type { Sample } from './collect/sampler.ts';
import type { TaskLatency } from './collect/tasks.ts';

export interface RunOutcome {
  runId: string;
  system: string;
  workload: string;
  store: string;
  /** Workload params, resolved system params, run-time settings, counters, transport, tail. */
  params: Record<string, unknown>;
  seed: number;
  latencyScale: number;
  tasks: number;
  makespanMs: number;
  /** Release-aware lower bound (collect/lower-bound.ts). */
  lowerBoundMs: number;
  /** Zero-overhead replay of the system's own policy on the realized draws (collect/ideal.ts); NaN if unknown. */
  idealMs: number;
  criticalPathMs: number;
  concurrencyBoundMs: number;
  efficiency: number;
  /** Tasks per second of makespan. */
  throughputTps: number;
  /** Nearest-rank task-latency percentiles; NaN when the run has too few tasks (P95 < 20, P99 < 100). */
  p50Ms: number;
  p95Ms: number;
  p99Ms: number;
  maxMs: number;
  cpuMs: number;
  rssPeakMb: number;
  eventLoopP99Ms: number;
  queuePeak: number;
  /** Jain's index over per-task (ideal / measured latency); see collect/tasks.ts. */
  fairness: number;
  llm: LlmStats;
  costPerTaskUsd: number;
  errors: number;
  startedAt: string;
  /** Machine conditions: 1-minute load average at start and end, CPUs this process may use, its CPU list. */
  machine: { loadStart: number; loadEnd: number; cpus: number; cpuList: string };
  /** Terminal + error artifacts, as sorted content hashes (conformance); empty when the run was made with keepObjects: false. */
  finalHash: string[];
  /** sha256 over those sorted hashes joined by newlines (core/canonical.ts): the stored final_hash. */
  finalDigest: string;
  /** Every artifact the run ended with; empty when the run was made with keepObjects: false. */
  artifacts: Artifact[];
  /** Execution records as objects; empty when the run was made with keepObjects: false. */
  executions: ExecutionRecord[];
  /** Every execution, by column: what the collectors, traces and rows read. */
  executionLog: ExecutionLog;
  /** Spans the system's framework recorded itself (flock-real's auto-trace), stored with the run's. */
  nativeSpans?: NativeSpan[];
  samples: Sample[];
  taskLatencies: TaskLatency[];
  /** HdrHistogram of per-task latency in microseconds, compressed base64. */
  latencyHdr: string;
}
