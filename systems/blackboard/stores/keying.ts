// How a broker-backed blackboard keys its records, which decides their partitions (Kafka and
// Pulsar share it; each passes its client's own key -> partition function).
//   correlation  key = partitionKey ?? correlationId (the original layout). A correlation's
//                artifacts share a partition, but which partition is the hash's: 400 map tasks
//                `task-0..399` land [89, 125, 98, 88] on 4 Kafka partitions, and the busiest
//                consumer sets the makespan (issue 15).
//   balanced     the same locality (every artifact of a correlation gets one key, so batches and
//                joins by correlation stay in one consumer), but the key is chosen so that the
//                j-th correlation of the workload (task order) lands on partition j mod p:
//                `<correlationId>` itself if it already hashes there, else the first
//                `<correlationId>~<n>` that does. An explicit partitionKey is never rewritten.
export type Keying = 'correlation' | 'balanced';
export const KEYINGS = ['correlation', 'balanced'] as const;

/** The client's own mapping of a record key to a partition. */
export type Partitioner = (key: string, partitions: number) => number;

/** Balanced keys are searched up to this many suffixes (p tries on average; 64 x p is never reached in practice). */
const MAX_TRIES_PER_PARTITION = 64;

export class RecordKeys {
  private readonly ordinal = new Map<string, number>();
  private readonly chosen = new Map<string, string>();

  /**
   * @param correlations the workload's correlation ids in task order (duplicates keep their first place)
   */
  constructor(readonly keying: Keying, readonly partitions: number, correlations: readonly string[], readonly partitioner: Partitioner) {
    for (const c of correlations) if (!this.ordinal.has(c)) this.ordinal.set(c, this.ordinal.size);
  }

  /** The record key of an artifact. */
  keyOf(a: { partitionKey?: string; correlationId: string }): string {
    if (a.partitionKey !== undefined || this.keying === 'correlation') return a.partitionKey ?? a.correlationId;
    return this.balancedKey(a.correlationId);
  }

  /** The partition the client sends an artifact's record to. */
  partitionOf(a: { partitionKey?: string; correlationId: string }): number {
    return this.partitioner(this.keyOf(a), this.partitions);
  }

  private balancedKey(correlationId: string): string {
    const known = this.chosen.get(correlationId);
    if (known !== undefined) return known;
    const j = this.ordinal.get(correlationId);
    // A correlation the workload does not list (none today) keeps its own key.
    if (j === undefined || this.partitions <= 1) return correlationId;
    const target = j % this.partitions;
    let key = correlationId;
    for (let n = 1; this.partitioner(key, this.partitions) !== target; n++) {
      if (n > MAX_TRIES_PER_PARTITION * this.partitions) throw new Error(`no balanced key for ${correlationId} on partition ${target} of ${this.partitions}`);
      key = `${correlationId}~${n}`;
    }
    this.chosen.set(correlationId, key);
    return key;
  }
}

/** Records per partition (index = partition) that these artifacts were sent as. */
export function partitionCounts(keys: RecordKeys, artifacts: readonly { partitionKey?: string; correlationId: string }[]): number[] {
  const out = new Array<number>(keys.partitions).fill(0);
  for (const a of artifacts) out[keys.partitionOf(a)]!++;
  return out;
}
