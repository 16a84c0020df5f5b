// What is run: a workload is plain data — artifact types, agents and their subscriptions,
// seed inputs and an arrival process. Every system (blackboard, graph, broker-backed) reads
// the same spec, so none of them has a hand-written pipeline.

import type { JsonSchema } from '../core/schema.ts';

export type { JsonSchema };

export interface ArtifactTypeSpec {
  name: string;
  schema: JsonSchema;
}

/** Data-only predicate on a payload field, so graph compilers can evaluate it too. */
export interface WhereSpec {
  field: string;
  equals?: string | number | boolean;
  in?: (string | number | boolean)[];
}

/**
 * Collect artifacts before the agent fires. Flushes when `size` artifacts are collected or
 * `timeoutMs` (unscaled, multiplied by the run's latency scale) after the first one arrived.
 * `by: 'correlationId'` keeps one batch per correlation key (default: one global batch).
 */
export interface BatchSpec {
  size: number;
  timeoutMs: number;
  by?: 'correlationId';
  /**
   * Coalesce: one LLM call for the whole batch, publishing one output per input. The agent's
   * own prompt is paid once, the inputs' tokens and their target outputs add, and there is one
   * TTFT and one request against the provider's limits. Each output is keyed and correlated as
   * if its input had run alone, so the final artifacts are the same with or without coalescing.
   * Needs an LLM agent with fanOut 1. Without it, a batch is one execution with one output.
   */
  coalesce?: boolean;
}

/**
 * AND gate over several types: fires once one artifact of each consumed type with the same
 * correlation key is present. `withinMs` (unscaled) drops a partial group that waits too long.
 */
export interface JoinSpec {
  by: 'correlationId';
  withinMs?: number;
}

export interface SubscriptionSpec {
  /** One type, or several with a `join` (AND gate). */
  types: string[];
  where?: WhereSpec;
  batch?: BatchSpec;
  join?: JoinSpec;
}

/**
 * A non-LLM agent: a deterministic function from the tool registry (workloads/tools.ts), run
 * in the process that executes the agent (real CPU, no LLM call, no tokens). Data only, so a
 * spec still crosses process boundaries; `args` are the tool's own parameters.
 */
export interface ToolSpec {
  name: string;
  args: Record<string, unknown>;
}

export interface AgentSpec {
  name: string;
  description?: string;
  consumes: SubscriptionSpec;
  /** Type published by every execution. */
  publishes: string;
  /** Artifacts published per execution (default 1). */
  fanOut?: number;
  /** Per-agent concurrency limit (Flock's default is 2). */
  maxConcurrency: number;
  /** Simulated model profile id, e.g. `gpt-4.1-mini`. */
  model: string;
  /** Set: a tool agent (no LLM call; `model`, `promptTokens` and `outputTokens` are not used). */
  tool?: ToolSpec;
  promptTokens: number;
  outputTokens: number;
  /** Fixed payload fields of every output (e.g. an analyst's category). */
  outputFields?: Record<string, unknown>;
  /** Let the agent consume artifacts it published itself (Flock's prevent_self_trigger is on by default). */
  allowSelfTrigger?: boolean;
  /** Test hook: executions whose input key matches fail (error artifact, others continue). */
  failWhen?: { inputKeyIncludes: string };
}

/** One task: a seed input published from outside; everything derived from it shares its correlation id. */
export interface Task {
  type: string;
  /** Deterministic logical key, unique in the workload (e.g. `news-3`). */
  key: string;
  correlationId: string;
  payload: Record<string, unknown>;
  /** Task class, for per-class latency (the mixed workload); default: the workload's name. */
  class?: string;
}

/**
 * Payload fields that give an input's size instead of its text (e.g. a request taken from a
 * real trace): `prompt_tokens` counts in place of the payload's own length in the consuming
 * call's prompt, `output_tokens` is the target output of the call on it. A workload opts in by
 * declaring them in its seed type's schema; trace arrivals fill them (workloads/arrivals.ts).
 */
export const SIZE_FIELDS = { promptTokens: 'prompt_tokens', outputTokens: 'output_tokens' } as const;

/** How seed inputs arrive. `all-at-once`: published together at t=0 (closed batch). */
export type ArrivalSpec =
  | { kind: 'all-at-once' }
  | { kind: 'poisson'; ratePerSec: number }
  | { kind: 'uniform'; ratePerSec: number }
  | TraceArrivalSpec;

/**
 * Replay of the Azure LLM inference trace 2023 (workloads/trace.ts): `tasks` consecutive
 * requests from a seeded offset, every gap scaled by one factor to the target mean rate.
 */
export interface TraceArrivalSpec {
  kind: 'trace';
  ratePerSec: number;
  /** Which service's requests: `conv` (conversation) or `code` (coding assistant). */
  trace: 'conv' | 'code';
  /** `window`: the replayed requests span exactly (tasks-1)/rate s; `trace`: gaps scaled by the whole trace's mean rate. */
  normalize: 'window' | 'trace';
  /** Cap each raw trace gap (trace ms) before scaling; absent: no cap. */
  maxGapMs?: number;
  /** Use the trace's prompt/output token counts as the tasks' sizes where the seed type declares SIZE_FIELDS. */
  sizes: boolean;
}

export interface WorkloadSpec {
  /** Registered workload name, e.g. `review-analysis`. */
  name: string;
  description: string;
  params: Record<string, unknown>;
  types: ArtifactTypeSpec[];
  agents: AgentSpec[];
  /** The seed inputs, one per task. */
  tasks: Task[];
  arrival: ArrivalSpec;
  /** Types that end a task (no agent consumes them). Derived if omitted. */
  terminalTypes?: string[];
  /**
   * Agents whose batches gather whichever inputs arrive first across tasks, so which inputs
   * share an execution depends on completion order (e.g. the tutorial's unkeyed editor with
   * several stories). Conformance then compares what they consumed, not what they made of it.
   */
  orderDependent?: string[];
}

/** An artifact on the blackboard. `key` is deterministic across systems; `id` is per run. */
export interface Artifact {
  id: string;
  key: string;
  type: string;
  payload: Record<string, unknown>;
  producedBy: string;
  correlationId: string;
  partitionKey?: string;
  tags: string[];
  createdAtMs: number;
  version: number;
}

export const ERROR_TYPE = 'WorkflowError';

/** Does the agent's batch gather artifacts of several tasks (one global batch, not per correlation key)? */
export function batchSpansTasks(a: AgentSpec): boolean {
  return !!a.consumes.batch && a.consumes.batch.by !== 'correlationId';
}

export function terminalTypes(w: WorkloadSpec): string[] {
  if (w.terminalTypes) return w.terminalTypes;
  const consumed = new Set(w.agents.flatMap((a) => a.consumes.types));
  const published = new Set(w.agents.map((a) => a.publishes));
  return [...published].filter((t) => !consumed.has(t));
}

/** Agents in topological order of the type graph (consumers after producers). */
export function topoAgents(w: WorkloadSpec): AgentSpec[] {
  const seedTypes = new Set(w.tasks.map((i) => i.type));
  const available = new Set(seedTypes);
  const out: AgentSpec[] = [];
  const left = [...w.agents];
  while (left.length) {
    const i = left.findIndex((a) => a.consumes.types.every((t) => available.has(t)));
    if (i < 0) throw new Error(`workload ${w.name}: agents ${left.map((a) => a.name).join(', ')} consume types nothing publishes (or a cycle)`);
    const [a] = left.splice(i, 1);
    out.push(a);
    available.add(a.publishes);
  }
  return out;
}
