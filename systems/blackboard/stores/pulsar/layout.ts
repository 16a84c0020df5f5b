// Pure naming for the Pulsar blackboard (no client, unit-tested).
//
// Topics of one run `<run>` (run prefix as on Kafka, in namespace public/flockbench):
//   fb.<run>.<Type>               partitioned, one per artifact type (incl. WorkflowError); key =
//                                 partitionKey ?? correlationId, routed to a partition by the key's
//                                 hash, so a correlation's artifacts share a partition; value = Artifact JSON
//   fb.<run>.__consumed           partitioned: consumption records {artifactId, agent, atMs}
//   fb.<run>.<Type>-<agent>-DLQ   non-partitioned: what agent <agent> dead-lettered from <Type>
// Subscription of agent A on each topic it consumes: fb.<run>.<A>. Producer names:
// fb.<run>.<role> (one per process: `coordinator`, `worker-<k>`), unique per partition.
import { runPrefix, sanitizeName } from '../kafka/layout.ts';

export { recordKey } from '../kafka/layout.ts';

/** The namespace every run's topics live in (created on first use). */
export const PULSAR_NAMESPACE = 'public/flockbench';

const topic = (local: string) => `persistent://${PULSAR_NAMESPACE}/${local}`;

export function pulsarTypeTopic(runId: string, type: string): string {
  return topic(`${runPrefix(runId)}.${sanitizeName(type)}`);
}

export function pulsarConsumedTopic(runId: string): string {
  return topic(`${runPrefix(runId)}.__consumed`);
}

export function pulsarDlqTopic(runId: string, type: string, agent: string): string {
  return `${pulsarTypeTopic(runId, type)}-${sanitizeName(agent)}-DLQ`;
}

export function agentSubscription(runId: string, agent: string): string {
  return `${runPrefix(runId)}.${sanitizeName(agent)}`;
}

export function producerName(runId: string, role: string): string {
  return `${runPrefix(runId)}.${sanitizeName(role)}`;
}
