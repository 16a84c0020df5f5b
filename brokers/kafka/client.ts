// The one door to the Kafka client library (@platformatic/kafka): every producer, consumer and
// admin the project makes comes from here, with the settings and the client-bug workarounds
// that runs depend on. Nothing else imports the library, so a client upgrade touches this folder.
import { randomUUID } from 'node:crypto';
import { Admin, Consumer, Producer, kPerformWithRetry, murmur2, stringDeserializers, stringSerializers } from '@platformatic/kafka';
import './client-guard.ts';
import { withAbortedFilter } from './read-committed.ts';

export { Admin, Consumer, Producer, stringDeserializers, stringSerializers };
export type { Message, MessagesStream } from '@platformatic/kafka';

/** `topic:partition`, the key of every per-partition map. */
export function tpKey(topic: string, partition: number): string {
  return `${topic}:${partition}`;
}

export const READ_COMMITTED = 1;

/**
 * Partition of a keyed record among `partitions`, exactly as this client's default partitioner
 * places it: unsigned murmur2 of the key's UTF-8 bytes, modulo the partition count (the Java
 * client masks the sign bit instead, so some keys land elsewhere there).
 */
export function keyPartition(key: string, partitions: number): number {
  return (murmur2(Buffer.from(key)) >>> 0) % partitions;
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

/**
 * @platformatic/kafka 1.35 sends InitProducerId with producerId 0 / epoch 0 unless told
 * otherwise. For a transactional id that already exists the broker then either fences the
 * producer (its pid != 0) or, when its pid happens to be 0 (the first pid a fresh cluster
 * hands out), treats the call as a retry and returns the *current* epoch, so sequences restart
 * at 0 and the broker silently drops the new records as duplicates. -1/-1 means "no previous
 * producer" (KIP-360) and makes every InitProducerId bump the epoch. Pass to every
 * transactional Producer constructor.
 */
export const TRANSACTIONAL_INIT = { producerId: -1n, producerEpoch: -1 } as const;


/** Force-close a client, ignoring errors (the callback overload; `close(true)` types as void). */
export function forceClose(c: { close(force: boolean, cb: (e?: Error | null) => void): void } | undefined): Promise<void> {
  return new Promise((r) => (c ? c.close(true, () => r()) : r()));
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
  [kPerformWithRetry]: (op: string, operation: unknown, cb: unknown, attempt?: number, errors?: unknown[], skip?: (e: unknown) => boolean, ...rest: unknown[]) => unknown;
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
  // Trailing arguments pass through (2.x adds a retry limit after `skip`).
  c[kPerformWithRetry] = function (this: unknown, op, operation, cb, attempt = 0, errors = [], skip, ...rest) {
    const s = op === 'fetch' ? (e: unknown) => Boolean(skip?.(e)) || leaderLost(e) : skip;
    return perform.call(this, op, operation, cb, attempt, errors, s, ...rest);
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
 * Make an idempotent producer ready to send before a measured window: its producer id
 * (InitProducerId) and the topics' metadata. Left lazy, the first send of a run pays both (and
 * the connection), and every record published behind it waits. Best effort: on a 3-node
 * cluster a broker may not know a just-created topic yet ("Unknown topic"), so it retries for
 * about 2 s and then leaves the rest to the first send, as before.
 */
export async function warmProducer(producer: Producer<string, string, string, string>, topics: string[], attempts = 20): Promise<void> {
  for (let i = 0; i < attempts; i++) {
    try {
      if (producer.producerId === undefined) await producer.initIdempotentProducer({});
      await producer.metadata({ topics, forceUpdate: true });
      return;
    } catch {
      await new Promise((r) => setTimeout(r, 100));
    }
  }
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
