// The blackboard store on Pulsar: every artifact is a JSON message in its type's partitioned
// topic (layout.ts), published through a deduplicating producer per partition (named, numbered:
// a resend after a reconnect is dropped by the broker, not stored twice). Reads go back to the
// topics from the start with a throwaway non-durable subscription.
import { KeyedSender, PulsarAdmin, readTopicValues } from '../../../../brokers/pulsar/client.ts';
import type { Artifact } from '../../../../workloads/spec.ts';
import { ERROR_TYPE } from '../../../../workloads/spec.ts';
import type { BlackboardStore, ConsumptionRecord } from '../../store.ts';
import type { RecordKeys } from '../keying.ts';
import { PULSAR_NAMESPACE, producerName, pulsarConsumedTopic, pulsarDlqTopic, pulsarTypeTopic, recordKey } from './layout.ts';

export interface PulsarStoreOptions {
  /** http://host:port of the broker's web service (admin REST). */
  webServiceUrl: string;
  /** ws://host:port (WebSocket API). */
  wsUrl: string;
  runId: string;
  /** Artifact types of the workload; WorkflowError is always added. */
  types: string[];
  /** Partitions per type topic; default 4. */
  partitions?: number;
  /** (consumed type, agent) pairs whose dead-letter topics the run may fill. */
  deadLetters?: { type: string; agent: string }[];
  /** How artifacts are keyed (../keying.ts); default partitionKey ?? correlationId. */
  keys?: RecordKeys;
}

/** A dead-lettered message as read back: its payload and the properties the dead-letter path set. */
export interface PulsarDlqRecord {
  topic: string;
  raw: string;
  properties: Record<string, string>;
}

export class PulsarBlackboardStore implements BlackboardStore {
  readonly kind = 'pulsar';
  readonly partitions: number;
  readonly types: string[];
  readonly admin: PulsarAdmin;
  /** The coordinator process's producers (seeds; also the outputs of consumers in this process). */
  readonly sender: KeyedSender;
  private cache?: Artifact[];

  constructor(readonly opts: PulsarStoreOptions) {
    this.partitions = opts.partitions ?? 4;
    this.types = [...new Set([...opts.types, ERROR_TYPE])];
    this.admin = new PulsarAdmin(opts.webServiceUrl, 15_000);
    this.sender = new KeyedSender(opts.wsUrl, producerName(opts.runId, 'coordinator'));
  }

  get runId(): string {
    return this.opts.runId;
  }

  topicOf(type: string): string {
    return pulsarTypeTopic(this.opts.runId, type);
  }

  /** Partitioned topics of the run: one per type, and the consumption records. */
  partitionedTopics(): string[] {
    return [...this.types.map((t) => this.topicOf(t)), pulsarConsumedTopic(this.opts.runId)];
  }

  dlqTopics(): string[] {
    return [...new Set((this.opts.deadLetters ?? []).map((d) => pulsarDlqTopic(this.opts.runId, d.type, d.agent)))];
  }

  /** Create the namespace and the run's topics (idempotent). */
  async init(): Promise<void> {
    await this.admin.createNamespace(PULSAR_NAMESPACE);
    for (const t of this.partitionedTopics()) await this.admin.createPartitionedTopic(t, this.partitions);
    // Created up front (non-partitioned, as Pulsar's dead-letter producer would create them) so
    // reading them back never depends on whether anything was dead-lettered.
    for (const t of this.dlqTopics()) await this.admin.createTopic(t);
  }

  async publish(a: Artifact): Promise<void> {
    this.cache = undefined;
    await this.sender.send({ topic: this.topicOf(a.type), partitions: this.partitions, key: this.opts.keys?.keyOf(a) ?? recordKey(a), value: JSON.stringify(a) });
  }

  /** Test hook: append a raw message (e.g. a poison artifact) to a type topic. */
  async publishRaw(type: string, key: string, value: string): Promise<void> {
    this.cache = undefined;
    await this.sender.send({ topic: this.topicOf(type), partitions: this.partitions, key, value });
  }

  async get(id: string): Promise<Artifact | undefined> {
    return (await this.all()).find((a) => a.id === id);
  }

  async byType(type: string): Promise<Artifact[]> {
    return (await this.read([this.topicOf(type)])).map((r) => JSON.parse(r) as Artifact);
  }

  /** Every artifact, read back from all type topics, ordered by createdAtMs. */
  async all(): Promise<Artifact[]> {
    if (this.cache) return this.cache.slice();
    const raw = await this.read(this.types.map((t) => this.topicOf(t)));
    const out: Artifact[] = [];
    for (const r of raw) {
      try {
        const a = JSON.parse(r) as Artifact;
        if (a && typeof a.id === 'string' && typeof a.type === 'string') out.push(a);
      } catch {
        // Poison messages are not artifacts; they show up in the dead-letter topics instead.
      }
    }
    out.sort((x, y) => x.createdAtMs - y.createdAtMs);
    this.cache = out;
    return out.slice();
  }

  async recordConsumption(records: readonly ConsumptionRecord[]): Promise<void> {
    await Promise.all(records.map((r) => this.sender.send({ topic: pulsarConsumedTopic(this.opts.runId), partitions: this.partitions, key: r.artifactId, value: JSON.stringify(r) })));
  }

  async consumptions(): Promise<ConsumptionRecord[]> {
    return (await this.read([pulsarConsumedTopic(this.opts.runId)])).map((r) => JSON.parse(r) as ConsumptionRecord);
  }

  /** Everything the run's agents dead-lettered. */
  async dlq(): Promise<PulsarDlqRecord[]> {
    const out: PulsarDlqRecord[] = [];
    for (const topic of this.dlqTopics()) {
      for (const m of await readTopicValues(this.opts.webServiceUrl, this.opts.wsUrl, [topic])) {
        out.push({ topic, raw: m.value, properties: m.properties });
      }
    }
    return out;
  }

  /** Values of every message of `topics`, from the start. */
  read(topics: string[]): Promise<string[]> {
    return readTopicValues(this.opts.webServiceUrl, this.opts.wsUrl, topics).then((ms) => ms.map((m) => m.value));
  }

  async close(): Promise<void> {
    await this.sender.close();
  }

  /** Delete the run's topics (the broker keeps them 24 h otherwise). */
  async deleteTopics(): Promise<void> {
    for (const t of [...this.partitionedTopics(), ...this.dlqTopics()]) await this.admin.deleteTopic(t, { force: true }).catch(() => {});
  }
}
