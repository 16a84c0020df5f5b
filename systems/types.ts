// Who runs a workload: every system (blackboard with any store, LangGraph, the real Flock)
// implements this one small interface, the way a benchmark driver does.
import type { TailMode } from '../llm/profiles.ts';
import type { LlmClient, LlmStats } from '../llm/types.ts';
import type { AgentRuntime, ExecutionRecord } from '../workloads/execute.ts';
import type { Artifact, SeedInput, WorkloadSpec } from '../workloads/spec.ts';

/** A seed input and the time it is meant to arrive (ms since run start). */
export interface Arrival {
  index: number;
  input: SeedInput;
  intendedAtMs: number;
}

export interface QueueDepth {
  /** Artifacts/tasks waiting for an agent slot (incl. partially collected batches). */
  pending: number;
  /** Agent executions running now. */
  inFlight: number;
}

export interface RunContext extends AgentRuntime {
  runId: string;
  latencyScale: number;
  /** System parameters from the matrix cell (e.g. maxConcurrency, partitions). */
  systemParams: Record<string, unknown>;
  /** Seed inputs with intended arrival times; all 0 for `all-at-once`. */
  arrivals: Arrival[];
  /** A system registers how to read its queue depth; the harness samples it. */
  setQueueProbe(probe: () => QueueDepth): void;
  /** Stop signal (deadline or Ctrl-C). */
  signal: AbortSignal;
  /**
   * Systems with setup that a deployed system would have done once (topics, consumer groups)
   * call this when setup is over: the clock, CPU and samples restart there, so makespan and
   * task latencies measure the workload, not the provisioning. Call before publishing seeds.
   */
  markMeasureStart?(): void;
  /**
   * Systems with teardown a deployed system would not pay per workload (reading the log back,
   * closing clients, deleting topics) call this when the workload is done: makespan and CPU
   * stop there. Default: the end of run().
   */
  markMeasureEnd?(): void;
  /** How ctx.llm was made, so a system that spawns worker processes can make the same client there. */
  llmConfig?: { transport: 'inprocess' | 'http'; tail?: TailMode; url?: string };
}

export interface SystemRunResult {
  /** Every artifact the run ended with, seeds included. */
  artifacts: Artifact[];
  /** Resolved system settings to store with the run (versions, modes, limits). */
  params: Record<string, unknown>;
  /** Extra counters (e.g. supersteps, invokes, dlq) stored in the run's params. */
  counters?: Record<string, number>;
  /**
   * LLM usage, for systems whose calls do not go through ctx.llm (an out-of-process system
   * talking to its own simulator endpoint). Default: ctx.llm.stats().
   */
  llmStats?: LlmStats;
  /**
   * CPU time of processes the system spawned (worker processes) within the measured window,
   * ms. Added to the run's cpuMs, which otherwise counts only the run's own process.
   */
  helperCpuMs?: number;
}

export interface System {
  name: string;
  /** One line for `flockbench systems`. */
  description: string;
  /** Store backing the system, for the `store` column (`memory`, `kafka`, `graph-state`...). */
  store: string;
  run(workload: WorkloadSpec, ctx: RunContext): Promise<SystemRunResult>;
  /** Release external resources (brokers clients, child processes). */
  close?(): Promise<void>;
}

export type { ExecutionRecord };
