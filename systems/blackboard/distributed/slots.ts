// What a partitioned blackboard tells the harness about where its executions could run (the
// partition-aware bound, harness/collect/ideal.ts `slotOf`) and when its work really ended.
// Shared by blackboard-kafka and blackboard-pulsar.
import type { Artifact } from '../../../workloads/spec.ts';
import type { ConsumerSlots } from '../../types.ts';
import type { RecordKeys } from '../stores/keying.ts';

/** One consumer's partitions as the measured window opens, as `topic:partition`. */
export type Ownership = readonly { agent: string; consumer: string; partitions: readonly string[] }[];

/**
 * The replay's view of the consumers: an input of `agent` goes to the consumer of that agent
 * owning `topicOf(input.type):partitionOf(input)`; each runs `limits.get(consumer)` at once.
 * Kafka's consumers do not share the agent's maxConcurrency (each has its own in-flight limit).
 */
export function consumerSlots(ownership: Ownership, limits: ReadonlyMap<string, number>, topicOf: (type: string) => string, keys: RecordKeys): ConsumerSlots {
  const owner = new Map<string, string>();
  for (const o of ownership) for (const tp of o.partitions) owner.set(`${o.agent}|${tp}`, o.consumer);
  return {
    consumerOf: (agent: string, input: Artifact) => owner.get(`${agent}|${topicOf(input.type)}:${keys.partitionOf(input)}`),
    limits,
    agentLimits: false,
  };
}

/**
 * Consumers that each take any message of their subscription (Pulsar Shared): one pool per
 * agent, its slots the sum of its consumers' in-flight limits.
 */
export function pooledSlots(consumers: readonly { agent: string; maxInFlight: number }[]): ConsumerSlots {
  const limits = new Map<string, number>();
  for (const c of consumers) limits.set(c.agent, (limits.get(c.agent) ?? 0) + c.maxInFlight);
  return { consumerOf: (agent: string) => (limits.has(agent) ? agent : undefined), limits, agentLimits: false };
}

/** The latest commit of any consumer on the run clock, or undefined when none committed. */
export function lastCommitAt(consumers: readonly { lastCommitAtMs?: number }[]): number | undefined {
  let last: number | undefined;
  for (const c of consumers) if (c.lastCommitAtMs !== undefined && (last === undefined || c.lastCommitAtMs > last)) last = c.lastCommitAtMs;
  return last;
}
