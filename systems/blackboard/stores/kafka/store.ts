// The blackboard store on Kafka: every artifact is a JSON record in its type's topic (layout in
// layout.ts). publish() goes through an idempotent producer (acks=all); reads go back to the
// log with read-committed isolation, so aborted transactional writes are never visible.
import { Admin, Consumer, Producer, kPerformWithRetry, stringDeserializers, stringSerializers } from '@platformatic/kafka';
import { randomUUID } from 'node:crypto';
import type { Artifact } from '../../../../workloads/spec.ts';
import { ERROR_TYPE } from '../../../../workloads/spec.ts';
import type { BlackboardStore, ConsumptionRecord } from '../../store.ts';
import { forceClose } from '../../../../harness/brokers/kafka.ts';
import { consumedTopic, dlqTopic, recordKey, tpKey, typeTopic } from './layout.ts';
import { withAbortedFilter } from './read-committed.ts';

export const READ_COMMITTED = 1;

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
}

export interface DlqRecord {
  error: string;
  agent?: string;
  origin?: { topic: string; partition: number; offset: string };
  raw?: string;
  atMs: number;
}

export function clientBase(bootstrap: string[], clientId: string, timeoutMs = 10_000) {
  // Short exponential backoff: after a transaction ends, AddPartitionsToTxn answers
  // CONCURRENT_TRANSACTIONS until the markers are written (a few ms); the client's default
  // 1 s retry delay would add a second to every transaction.
  return {
    clientId,
    bootstrapBrokers: bootstrap,
    // Also the transaction timeout of a transactional producer (InitProducerId sends it): a
    // transaction held open by a produce retrying a dead leader must outlive the restart, or
    // the coordinator aborts it and fences the producer. Chaos runs raise it (harness/chaos/run.ts).
    timeout: Number(process.env.FLOCKBENCH_KAFKA_CLIENT_TIMEOUT ?? timeoutMs),
    // Chaos runs raise it (harness/chaos/run.ts): this client retries a dead leader until the
    // retries run out instead of refreshing metadata, so the budget must outlast a broker restart.
    retries: Number(process.env.FLOCKBENCH_KAFKA_CLIENT_RETRIES ?? 12),
    retryDelay: (_c: unknown, _op: string, attempt: number) => Math.min(1000, 5 * 2 ** attempt),
  };
}

type Outgoing = { topic: string; key: string; value: string };


/**
 * Whether a client error means the partition leader is gone or moved: connection refused or
 * dropped, a stale-metadata answer (NOT_LEADER_OR_FOLLOWER, LEADER_NOT_AVAILABLE, ...), a request
 * timeout, or a leader missing from the broker list of freshly fetched metadata.
 */
export function leaderLost(e: unknown): boolean {
  const seen = new Set<unknown>();
  const walk = (x: unknown): boolean => {
    if (!x || typeof x !== 'object' || seen.has(x)) return false;
    seen.add(x);
    const g = x as { code?: string; hasStaleMetadata?: boolean; message?: string; errors?: unknown[]; cause?: unknown };
    if (g.hasStaleMetadata || g.code === 'PLT_KFK_NETWORK' || g.code === 'PLT_KFK_TIMEOUT') return true;
    if (typeof g.message === 'string' && /^Cannot find broker with node id/.test(g.message)) return true;
    // A response the client cannot parse ("Out of bounds." from its reader): seen, retried on the
    // same node until the retries ran out, from a restarted broker that no longer leads.
    if ((x as Error).name === 'OutOfBoundsError' || g.message === 'Out of bounds.') return true;
    return (g.errors ?? []).some(walk) || walk(g.cause);
  };
  return walk(e);
}

type FetchCallback = (e: unknown, r?: unknown) => void;
type Retrying = {
  [kPerformWithRetry]: (op: string, operation: unknown, cb: unknown, attempt?: number, errors?: unknown[], skip?: (e: unknown) => boolean) => unknown;
  fetch: (options: unknown, cb?: FetchCallback) => unknown;
  clearMetadata(): void;
  closed: boolean;
};

/**
 * Make a consumer follow partition leaders across broker failures (@platformatic/kafka 1.35).
 * The client's fetch retries the node it started with: a SIGKILLed leader is retried until the
 * retries run out (connection refused is not treated as stale metadata), a restarted one answers
 * NOT_LEADER_OR_FOLLOWER to every retry, and once fresh metadata drops the dead broker the fetch
 * fails with "Cannot find broker" (not retriable); each ends the MessagesStream with an error.
 * Here such a fetch fails at once, the cached metadata is dropped, and the stream gets an empty
 * response after a short pause: its next fetch looks the leaders up again. Offsets are
 * untouched (nothing was fetched). After `budgetMs` of failing fetches the error goes through.
 * Per instance; returns the consumer.
 */
export function followLeaders<C extends Consumer<string, string, string, string>>(consumer: C, budgetMs = 120_000, pauseMs = 200): C {
  const c = consumer as unknown as Retrying;
  const perform = c[kPerformWithRetry];
  c[kPerformWithRetry] = function (this: unknown, op, operation, cb, attempt = 0, errors = [], skip) {
    const s = op === 'fetch' ? (e: unknown) => Boolean(skip?.(e)) || leaderLost(e) : skip;
    return perform.call(this, op, operation, cb, attempt, errors, s);
  };
  const fetch = c.fetch.bind(consumer);
  let failingSince = 0;
  c.fetch = (options: unknown, cb?: FetchCallback) => {
    if (!cb) return fetch(options);
    return fetch(options, (e, r) => {
      if (e && leaderLost(e) && !c.closed) {
        failingSince ||= Date.now();
        if (Date.now() - failingSince < budgetMs) {
          c.clearMetadata();
          setTimeout(() => cb(null, { throttleTimeMs: 0, errorCode: 0, sessionId: 0, responses: [] }), pauseMs);
          return;
        }
      }
      if (!e) failingSince = 0;
      cb(e, r);
    });
  };
  return consumer;
}

/**
 * Every consumer the project makes goes through this: it follows partition leaders across broker
 * failures (followLeaders) and re-filters read-committed fetches, because the client's own
 * filter lets some aborted transactions through (read-committed.ts; read-uncommitted fetches
 * pass untouched). Returns the consumer.
 */
export function guardConsumer<C extends Consumer<string, string, string, string>>(consumer: C): C {
  return withAbortedFilter(followLeaders(consumer));
}

/**
 * Serialises sends on one idempotent producer, coalescing whatever queued up meanwhile into
 * one send() call. Needed for correctness, not only batching: with @platformatic/kafka 1.35.0,
 * concurrent send() calls on an idempotent producer to the same partition reuse sequence
 * numbers and the broker drops all but one as duplicates while every promise resolves
 * (50 concurrent sends -> 1 record; see store.kafka.test.ts).
 */
export class SerialSender {
  private queue: { msgs: Outgoing[]; resolve: () => void; reject: (e: unknown) => void }[] = [];
  private running = false;
  /** Records sent per send() call, for the batch-size figure. */
  readonly batchSizes: number[] = [];

  constructor(private readonly producer: () => Producer<string, string, string, string>, private readonly maxBatch = 500) {}

  send(msgs: Outgoing[]): Promise<void> {
    return new Promise((resolve, reject) => {
      this.queue.push({ msgs, resolve, reject });
      if (!this.running) void this.drain();
    });
  }

  private async drain(): Promise<void> {
    this.running = true;
    try {
      while (this.queue.length) {
        const batch: typeof this.queue = [];
        let n = 0;
        while (this.queue.length && (n === 0 || n + this.queue[0]!.msgs.length <= this.maxBatch)) {
          const item = this.queue.shift()!;
          n += item.msgs.length;
          batch.push(item);
        }
        try {
          await this.producer().send({ messages: batch.flatMap((b) => b.msgs) });
          this.batchSizes.push(n);
          for (const b of batch) b.resolve();
        } catch (e) {
          for (const b of batch) b.reject(e);
        }
      }
    } finally {
      this.running = false;
    }
  }
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

  async publish(a: Artifact): Promise<void> {
    this.cache = undefined;
    await this.sender.send([{ topic: this.topicOf(a.type), key: recordKey(a), value: JSON.stringify(a) }]);
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

/**
 * End offsets of every partition of `topics`: read-committed (the LSO, default) or, with
 * `isolation: 'read-uncommitted'`, the high watermarks (aborted records included).
 */
export async function listEnds(
  bootstrap: string[],
  topics: string[],
  timeoutMs = 10_000,
  admin?: Admin,
  isolation: 'read-committed' | 'read-uncommitted' = 'read-committed',
): Promise<Map<string, bigint>> {
  const own = !admin;
  const a = admin ?? new Admin(clientBase(bootstrap, 'fb-store-offsets', timeoutMs));
  try {
    const md = await a.metadata({ topics });
    const res = await a.listOffsets({
      isolationLevel: isolation === 'read-committed' ? READ_COMMITTED : 0,
      topics: topics.map((t) => ({
        name: t,
        partitions: Array.from({ length: md.topics.get(t)?.partitionsCount ?? 0 }, (_, i) => ({ partitionIndex: i, timestamp: -1n })),
      })),
    } as Parameters<Admin['listOffsets']>[0]);
    const out = new Map<string, bigint>();
    for (const t of res) for (const p of t.partitions) out.set(tpKey(t.name, p.partitionIndex), p.offset);
    return out;
  } finally {
    if (own) await a.close();
  }
}

/**
 * Values of every record of `topics` from the beginning up to their current ends: the last
 * stable offsets read-committed, the high watermarks read-uncommitted (aborted records included).
 * A throwaway consumer group that never commits.
 */
export async function readTopicValues(
  bootstrap: string[],
  topics: string[],
  isolation: 'read-committed' | 'read-uncommitted' = 'read-committed',
  clientTimeoutMs?: number,
  readTimeoutMs = 60_000,
): Promise<string[]> {
  const ends = await listEnds(bootstrap, topics, clientTimeoutMs, undefined, isolation);
  const remaining = new Map([...ends].filter(([, e]) => e > 0n));
  if (!remaining.size) return [];
  const consumer = new Consumer({
    ...clientBase(bootstrap, 'fb-store-reader', clientTimeoutMs),
    groupId: `fb-reader-${randomUUID()}`,
    deserializers: stringDeserializers,
    isolationLevel: isolation === 'read-committed' ? READ_COMMITTED : 0,
    maxWaitTime: 100,
  });
  guardConsumer(consumer);
  const values: string[] = [];
  try {
    const stream = await consumer.consume({ topics, mode: 'earliest', autocommit: false, sessionTimeout: 10_000, heartbeatInterval: 1000 });
    await new Promise<void>((resolve, reject) => {
      const check = () => {
        // Positions include transaction markers, which never arrive as messages.
        for (const [tp, end] of [...remaining]) {
          const pos = stream.offsetsToFetch.get(tp);
          if (pos !== undefined && pos >= end) remaining.delete(tp);
        }
        if (!remaining.size) finish();
      };
      const timer = setInterval(check, 20);
      const deadline = setTimeout(() => finish(new Error(`reading ${topics.length} topic(s) timed out after ${readTimeoutMs} ms`)), readTimeoutMs);
      const finish = (e?: Error) => {
        clearInterval(timer);
        clearTimeout(deadline);
        if (e) reject(e);
        else resolve();
      };
      stream.on('data', (m) => {
        const end = ends.get(tpKey(m.topic, m.partition));
        if (end !== undefined && m.offset < end && m.value !== undefined) values.push(m.value);
      });
      stream.on('error', (e) => finish(e));
    });
    await stream.close().catch(() => {});
  } finally {
    await forceClose(consumer);
  }
  return values;
}
