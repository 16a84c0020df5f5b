// Who runs a workload: every system (blackboard with any store, LangGraph, the real Flock)
// implements this one small interface, the way a benchmark driver does. The harness owns the
// arrivals and the measured window: a system starts (provisioning, not measured), accepts
// tasks when the harness publishes them, reports when it has drained, hands over what it
// produced and stops. No system drives arrivals or measures itself.
import type { LlmStats } from '../llm/types.ts';
import type { TailMode } from '../llm/profiles.ts';
import type { Arrival } from '../workloads/arrivals.ts';
import type { AgentRuntime, ExecutionRecord } from '../workloads/execute.ts';
import type { Artifact, WorkloadSpec } from '../workloads/spec.ts';
import type { ParamDefs, Resolved } from '../core/params.ts';
import { UserError } from '../core/errors.ts';

export type { Arrival, ExecutionRecord };

/** A workload shape a system cannot express (refused before the run, one line naming the fix). */
export class UnsupportedWorkloadError extends UserError {}

export interface QueueDepth {
  /** Artifacts/tasks waiting for an agent slot (incl. partially collected batches, consumer lag). */
  pending: number;
  /** Agent executions running now. */
  inFlight: number;
}

/**
 * Fault hooks the failure experiment hands to a system that can honour them. A system that
 * cannot must refuse the run rather than ignore them.
 */
export interface FaultHooks {
  /**
   * Crash after the outputs of a consumption were produced and before it was committed
   * (return true to crash). Exactly-once aborts; at-least-once redelivers from the committed offset.
   */
  afterProduce?(c: { attempt: number; inputKeys: string[] }): boolean;
  /**
   * True while faults are still scheduled (chaos runs): the session is not idle then, so a run
   * never ends before its fault schedule did and both delivery modes get all of it.
   */
  holdIdle?(): boolean;
}

/** How the run's LLM client was made, so a system that spawns processes can make the same one there. */
export interface LlmConfig {
  transport: 'inprocess' | 'http';
  tail?: TailMode;
  /** http: the simulator's base URL. */
  url?: string;
}

export interface RunContext<P = unknown> extends AgentRuntime {
  runId: string;
  latencyScale: number;
  /** System parameters, resolved against the system's declaration (defaults filled in). */
  params: P;
  /** Every arrival of the run, in schedule order (the harness publishes them; systems only read). */
  arrivals: readonly Arrival[];
  /** Aborted on the run's deadline or Ctrl-C. */
  signal: AbortSignal;
  llmConfig: LlmConfig;
  faults?: FaultHooks;
}

/** What a session hands back after draining. */
export interface SessionResult {
  /** Every artifact the run ended with, seeds included. */
  artifacts: Artifact[];
  /** Settings the system resolved at run time (versions, derived limits), stored with the run. */
  settings?: Record<string, unknown>;
  /** Counters (supersteps, invokes, transactions, dlq...). */
  counters?: Record<string, number>;
  /**
   * Spans the system's own framework recorded during the measured window (the real Flock's
   * auto-trace), in the `spans` table's row layout; stored beside the harness's spans.
   */
  spans?: NativeSpan[];
  /**
   * LLM usage, for systems whose calls do not go through ctx.llm (an out-of-process system
   * talking to its own simulator endpoint). Default: ctx.llm.stats().
   */
  llmStats?: LlmStats;
  /** CPU of processes the system spawned, within the measured window, ms (added to the run's). */
  helperCpuMs?: number;
  /** Peak RSS summed over those processes, MiB. */
  helperRssPeakMb?: number;
}

/** One run of a system on one workload, between start() and stop(). */
export interface Session {
  /**
   * The measured window opens now (the run clock reads 0). For systems with helper processes
   * that must share the run clock or be told to go. Optional.
   */
  open?(): Promise<void>;
  /**
   * Tasks arriving now (all with the same intended time). The harness calls it at the
   * intended time and does not wait for it before the next arrival; a rejection fails the run.
   */
  publish(arrivals: readonly Arrival[]): Promise<void>;
  /**
   * Called once after the last publish: resolve when every published task is done and nothing
   * is pending. May return when the work really ended on the run clock (e.g. the last commit),
   * if that is earlier than the moment the system noticed it was idle.
   */
  // biome-ignore lint/suspicious/noConfusingVoidType: most systems return nothing; a void function must fit
  drain(): Promise<{ endMs?: number } | void>;
  /** What the run produced (outside the measured window). */
  collect(): Promise<SessionResult>;
  /** Current queue depth, sampled by the harness. Optional. */
  queueDepth?(): QueueDepth;
  /** Release everything: clients, child processes, topics. Always called, also after a failure. */
  stop(): Promise<void>;
}

export interface System<P = unknown> {
  name: string;
  /** Provision for one run (topics, consumer groups, compiled graph, child processes): not measured. */
  start(workload: WorkloadSpec, ctx: RunContext<P>): Promise<Session>;
}

/**
 * A system's scheduling policy, for the zero-overhead replay that gives a run's ideal makespan
 * (harness/collect/ideal.ts): dataflow (per-agent FIFO under its limit), superstep (one graph
 * run per publish, Pregel barriers), superstep-per-task (one graph run per task),
 * superstep-subgraph (one graph run per publish, each task in its own subgraph, global batches
 * after every subgraph), serial (one execution at a time). `maxConcurrency`: a graph's global
 * task window, or for dataflow the executions in flight over all agents;
 * `dispatchEveryMs`: a batch window (unscaled) that holds published tasks until its
 * next tick; `maxRuns`: graph runs in flight at once.
 */
export interface SchedulingPolicy {
  kind: 'dataflow' | 'superstep' | 'superstep-per-task' | 'superstep-subgraph' | 'serial';
  maxConcurrency?: number;
  maxRuns?: number;
  dispatchEveryMs?: number;
  /** Whether each agent's maxConcurrency holds (default true). */
  agentLimits?: boolean;
}

/** A system as the registry declares it: name, store, parameters, and how to load it. */
export interface SystemEntry<D extends ParamDefs = ParamDefs, P = Resolved<D>> {
  name: string;
  /** One line for `flockbench systems`. */
  description: string;
  /** `memory`, `kafka`, `graph-state`...: the `store` column of its runs. */
  store: string;
  /** Its parameters (matrix `systemParams.<name>`), declared once. */
  params: D;
  /** Its scheduling policy under these parameters (open: the run has open-loop arrivals). */
  policy(params: P, open: boolean): SchedulingPolicy;
  /**
   * Why it cannot run this workload with these (resolved) parameters: one line naming the fix,
   * or undefined. Decided from the spec alone, so a matrix or `conform` refuses the cell before
   * anything runs; start() refuses with the same line.
   */
  refuses?(w: WorkloadSpec, params: P): string | undefined;
  /** Constraints between parameters the declaration cannot express; throws BadParamError. */
  check?(params: P): void;
  /**
   * It starts its own LLM simulator (out-of-process runners) instead of calling the run's client:
   * a matrix's `llmOptions` (limits, faults, retries) would not apply, so the matrix refuses them.
   */
  ownLlmSimulator?: boolean;
  /** Loaded lazily, so listing systems never imports LangGraph or broker clients. */
  load(): Promise<System<P>>;
}

/** One span of a framework's own tracer, in the row layout of Flock's DuckDB trace exporter (epoch ns). */
export interface NativeSpan {
  trace_id: string;
  span_id: string;
  parent_id: string | null;
  name: string;
  service: string;
  operation: string;
  kind: string | null;
  start_time: bigint;
  end_time: bigint;
  duration_ms: number;
  status_code: string;
  status_description: string | null;
  attributes: string;
  events: string;
  links: string;
  resource: string;
}
