// What one measured run produced: every metric the results store keeps, in memory. The runner
// fills it; the results store and the tracer read it (neither needs the runner).
import type { Artifact } from '../workloads/spec.ts';
import type { ExecutionRecord } from '../workloads/execute.ts';
import type { LlmStats } from '../llm/types.ts';
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
  lowerBoundMs: number;
  criticalPathMs: number;
  concurrencyBoundMs: number;
  efficiency: number;
  /** Tasks per second of makespan. */
  throughputTps: number;
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
  /** Terminal + error artifacts, as sorted content hashes (conformance). */
  finalHash: string[];
  artifacts: Artifact[];
  executions: ExecutionRecord[];
  samples: Sample[];
  taskLatencies: TaskLatency[];
  /** HdrHistogram of per-task latency in microseconds, compressed base64. */
  latencyHdr: string;
}
