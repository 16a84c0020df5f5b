// The blackboard's storage contract. Artifacts are append-only; consumption records say which
// agent consumed which artifact. In-memory, Kafka and Pulsar stores implement the same contract.
import type { Artifact } from '../../workloads/spec.ts';

export interface ConsumptionRecord {
  artifactId: string;
  agent: string;
  atMs: number;
}

export interface BlackboardStore {
  /** `memory`, `kafka`, `pulsar`: the `store` column of a run. */
  readonly kind: string;
  /** Append an artifact. Resolves when it is durable in this store's sense. */
  publish(artifact: Artifact): Promise<void>;
  get(id: string): Promise<Artifact | undefined>;
  byType(type: string): Promise<Artifact[]>;
  /** Every artifact in publication order. */
  all(): Promise<Artifact[]>;
  recordConsumption(records: readonly ConsumptionRecord[]): Promise<void>;
  consumptions(): Promise<ConsumptionRecord[]>;
  close(): Promise<void>;
  /**
   * Optional synchronous forms for stores that append in memory: the orchestrator then skips
   * two awaits per execution. Same semantics as publish/recordConsumption.
   */
  publishSync?(artifact: Artifact): void;
  recordConsumptionSync?(records: readonly ConsumptionRecord[]): void;
}

export class DuplicateArtifactError extends Error {}
