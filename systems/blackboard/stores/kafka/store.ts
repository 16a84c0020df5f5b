// The blackboard store on Kafka: every artifact is a JSON record in its type's topic (layout in
// layout.ts). publish() goes through an idempotent producer (acks=all); reads go back to the
// log with read-committed isolation, so aborted transactional writes are never visible.
import type { Artifact } from '../../../../workloads/spec.ts';
import { ERROR_TYPE } from '../../../../workloads/spec.ts';
import type { BlackboardStore, ConsumptionRecord } from '../../store.ts';
import { Admin, Producer, SerialSender, clientBase, listEnds, readTopicValues, stringSerializers, warmProducer } from '../../../../brokers/kafka/client.ts';
import { consumedTopic, dlqTopic, recordKey, typeTopic } from './layout.ts';
import type { RecordKeys } from '../keying.ts';

export interface KafkaStoreOptions {
  bootstrap: string[];
  runId: string;
  /** Artifact types of the workload; WorkflowError is always added. */
  types: string[];
  /** Partitions per type topic; default 4. */
  partitions?: number;
  /** Replication factor; default 1 (3 on a 3-node cluster). */
  replicas?: number;
  /** Client request timeout, ms; default 10_000. */
  timeoutMs?: number;
  /** How artifacts are keyed (keying.ts); default partitionKey ?? correlationId. */
  keys?: RecordKeys;
}

export interface DlqRecord {
  error: string;
  agent?: string;
  origin?: { topic: string; partition: number; offset: string };
  raw?: string;
  atMs: number;
}

export class KafkaBlackboardStore implements BlackboardStore {
  readonly kind = 'kafka';
  readonly partitions: number;
  readonly replicas: number;
  readonly types: string[];
  private producer?: Producer<string, string, string, string>;
  private readonly sender = new SerialSender(() => this.getProducer());
  private cache?: Artifact[];

  constructor(readonly opts: KafkaStoreOptions) {
    this.partitions = opts.partitions ?? 4;
    this.replicas = opts.replicas ?? 1;
    this.types = [...new Set([...opts.types, ERROR_TYPE])];
  }

  get runId(): string {
    return this.opts.runId;
  }

  topicOf(type: string): string {
    return typeTopic(this.opts.runId, type);
  }

  allTopics(): string[] {
    return [...this.types.map((t) => this.topicOf(t)), dlqTopic(this.opts.runId), consumedTopic(this.opts.runId)];
  }

  /** Create the run's topics (idempotent). */
  async init(): Promise<void> {
    const admin = new Admin(clientBase(this.opts.bootstrap, 'fb-store-admin', this.opts.timeoutMs));
    try {
      const existing = new Set(await admin.listTopics());
      const missing = this.allTopics().filter((t) => !existing.has(t));
      if (missing.length) await admin.createTopics({ topics: missing, partitions: this.partitions, replicas: this.replicas });
      // Wait until metadata shows leaders for every new partition (producers fail fast otherwise).
      for (let i = 0; i < 50; i++) {
        const md = await admin.metadata({ topics: this.allTopics(), forceUpdate: true });
        const ready = this.allTopics().every((t) => md.topics.get(t)?.partitions.every((p) => p && p.leader >= 0));
        if (ready) break;
        await new Promise((r) => setTimeout(r, 100));
      }
    } finally {
      await admin.close();
    }
  }

  private getProducer(): Producer<string, string, string, string> {
    this.producer ??= new Producer({
      ...clientBase(this.opts.bootstrap, `fb-store-${this.opts.runId.slice(0, 8)}`, this.opts.timeoutMs),
      serializers: stringSerializers,
      idempotent: true,
    });
    return this.producer;
  }

  /** Get the producer ready (id, metadata) before the measured window, so the first publish does not pay for it. */
  async warm(): Promise<void> {
    await warmProducer(this.getProducer(), this.types.map((t) => this.topicOf(t)));
  }

  async publish(a: Artifact): Promise<void> {
    this.cache = undefined;
    await this.sender.send([{ topic: this.topicOf(a.type), key: this.opts.keys?.keyOf(a) ?? recordKey(a), value: JSON.stringify(a) }]);
  }

  /** Test hook: append a raw record (e.g. a poison artifact) to a type topic. */
  async publishRaw(type: string, key: string, value: string): Promise<void> {
    this.cache = undefined;
    await this.sender.send([{ topic: this.topicOf(type), key, value }]);
  }

  async get(id: string): Promise<Artifact | undefined> {
    return (await this.all()).find((a) => a.id === id);
  }

  async byType(type: string): Promise<Artifact[]> {
    return (await this.readTopics([this.topicOf(type)])).map((r) => JSON.parse(r) as Artifact);
  }

  /** Every artifact, read back (read-committed) from all type topics, ordered by createdAtMs. */
  async all(): Promise<Artifact[]> {
    if (this.cache) return this.cache.slice();
    const raw = await this.readTopics(this.types.map((t) => this.topicOf(t)));
    const out: Artifact[] = [];
    for (const r of raw) {
      try {
        const a = JSON.parse(r) as Artifact;
        if (a && typeof a.id === 'string' && typeof a.type === 'string') out.push(a);
      } catch {
        // Poison records are not artifacts; they show up in the DLQ instead.
      }
    }
    out.sort((x, y) => x.createdAtMs - y.createdAtMs);
    this.cache = out;
    return out.slice();
  }

  async recordConsumption(records: readonly ConsumptionRecord[]): Promise<void> {
    if (!records.length) return;
    await this.sender.send(records.map((r) => ({ topic: consumedTopic(this.opts.runId), key: r.artifactId, value: JSON.stringify(r) })));
  }

  async consumptions(): Promise<ConsumptionRecord[]> {
    return (await this.readTopics([consumedTopic(this.opts.runId)])).map((r) => JSON.parse(r) as ConsumptionRecord);
  }

  async dlq(): Promise<DlqRecord[]> {
    return (await this.readTopics([dlqTopic(this.opts.runId)])).map((r) => JSON.parse(r) as DlqRecord);
  }

  /** Last stable offsets (read-committed end) of the given topics' partitions, keyed `topic:partition`. */
  async endOffsets(topics: string[]): Promise<Map<string, bigint>> {
    return listEnds(this.opts.bootstrap, topics, this.opts.timeoutMs);
  }

  /**
   * Read every committed record of `topics` from the beginning up to the current last stable
   * offsets. Uses a throwaway group that never commits.
   */
  async readTopics(topics: string[]): Promise<string[]> {
    return readTopicValues(this.opts.bootstrap, topics, 'read-committed', this.opts.timeoutMs);
  }

  async close(): Promise<void> {
    await this.producer?.close();
    this.producer = undefined;
  }

  /** Delete the run's topics (the broker keeps them otherwise). */
  async deleteTopics(): Promise<void> {
    const admin = new Admin(clientBase(this.opts.bootstrap, 'fb-store-admin', this.opts.timeoutMs));
    try {
      await admin.deleteTopics({ topics: this.allTopics() });
    } finally {
      await admin.close();
    }
  }
}
