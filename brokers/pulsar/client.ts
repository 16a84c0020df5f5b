// The one door to Pulsar: every producer, consumer and admin call the project makes comes from
// here (WebSocket API for data, admin REST for topics and stats), with the behaviour runs depend
// on: producers that survive a broker restart without duplicating (named, numbered, resending in
// order into broker-side deduplication), consumers that reconnect, key-to-partition routing, and
// reading a topic back from the start. Nothing else imports `ws` (scripts/layers.ts checks it).
//
// Delivery guarantees reachable from Node through this client (the WebSocket API has no
// transactions, no cumulative ack and no ack receipts; Pulsar transactions exist only in the
// Java/Go/.NET binary-protocol clients):
//   produce  idempotent per partition: a DedupProducer resends its unconfirmed suffix with the
//            same sequence ids after a reconnect, and the broker (brokerDeduplicationEnabled)
//            drops what it already stored;
//   consume  at-least-once: acks are fire-and-forget and the broker persists the cursor at most
//            about once a second, so an ack sent shortly before a broker crash can be lost and
//            its message is delivered again;
//   consume-transform-produce  NOT exactly-once: outputs are produced before the input is acked,
//            and a redelivered input is processed again with fresh sequence ids, so its outputs
//            can be stored twice. No atomic "produce + ack" exists in this API.
import { createHash } from 'node:crypto';
import { PulsarAdmin } from './admin.ts';
import {
  type ConsumerOptions,
  type OutgoingMessage,
  PulsarWsError,
  type ReceivedMessage,
  type SendReceipt,
  WsConsumer,
  WsProducer,
  partitionTopic,
  topicString,
} from './ws.ts';

export * from './admin.ts';
export * from './ws.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Handshake timeout of the reconnecting producers and consumers. The proxy creates its producer
 * or consumer while the upgrade request is pending. With a 10 s timeout, producers reconnecting
 * to a standalone that had just restarted on a loaded machine were refused for good with
 * "Producer with name ... is already connected": most likely the proxy finished creating the
 * producer of an upgrade the client had already abandoned, and nothing closes it. So do not
 * give up early: a broker that is down refuses the connection at once anyway.
 */
const CONNECT_TIMEOUT_MS = 300_000;

/**
 * Partition of `key` among `partitions`, as Pulsar's Java client routes keyed messages with its
 * default JavaStringHash: (String.hashCode(key) & 0x7fffffff) % partitions.
 */
export function keyPartition(key: string, partitions: number): number {
  let h = 0;
  for (let i = 0; i < key.length; i++) h = (Math.imul(h, 31) + key.charCodeAt(i)) | 0;
  return (h & 0x7fffffff) % partitions;
}

/** A short stable tag of a string (producer and subscription names stay readable and bounded). */
export function shortTag(s: string, n = 10): string {
  return createHash('sha256').update(s).digest('hex').slice(0, n);
}

// ---------------------------------------------------------------------------------------------
// Producer with deduplication across reconnects
// ---------------------------------------------------------------------------------------------

interface Entry {
  seq: number;
  msg: OutgoingMessage;
  confirmed: boolean;
  /** Connections it was written on. */
  writes: number;
  resolve: (r: SendReceipt) => void;
  reject: (e: Error) => void;
}

export interface DedupCounters {
  /** Connections opened after the first (broker restart, socket error, send error). */
  reconnects: number;
  /** Frames sent again after a reconnect. */
  resent: number;
  /** Receipts the broker marked as duplicates (-1:-1): a resend of something it had stored. */
  duplicates: number;
}

export interface DedupProducerOptions {
  /**
   * Producer name: unique among the producers connected to the partition. The broker keeps the
   * highest sequence id stored per (partition, name) and drops anything at or below it.
   */
  producerName: string;
  /** Give up (reject every unconfirmed send) after failing to reconnect this long, ms; default 300_000. */
  retryBudgetMs?: number;
  /** Frames in flight on one connection; default 500. */
  window?: number;
}

/**
 * A producer on ONE partition (or non-partitioned topic) whose sends are idempotent across
 * reconnects. The WebSocket proxy numbers the frames of a connection itself: the n-th frame on a
 * connection opened with `initialSequenceId = s` gets sequence id s + 1 + n (the frame's own
 * sequenceId field is ignored). So this producer numbers messages 0, 1, 2... itself, writes them
 * strictly in that order, and after a reconnect opens the new connection at the first
 * unconfirmed id and writes everything from there again, in order (confirmed messages behind an
 * unconfirmed one included, so no id shifts). The broker drops the ones it had stored.
 *
 * Residual risk: if the proxy failed an earlier message while storing a later one on the same
 * connection, the resent earlier one sits below the broker's highest id and is dropped (lost).
 * The Java producer inside the proxy fails pending sends as a suffix (timeouts fail everything
 * pending), so this is not expected; it is why a send error is handled as a broken connection.
 */
export class DedupProducer {
  private nextSeq = 0;
  /** From the first unconfirmed message on, in sequence order. */
  private readonly entries: Entry[] = [];
  private conn?: WsProducer;
  /** entries[0 .. written) were written on `conn`. */
  private written = 0;
  private inFlight = 0;
  private reconnecting?: Promise<void>;
  private failingSince = 0;
  private connections = 0;
  private closed = false;
  private failure?: Error;
  readonly counters: DedupCounters = { reconnects: 0, resent: 0, duplicates: 0 };

  constructor(
    readonly wsUrl: string,
    /** Full topic name of the partition, e.g. persistent://public/flockbench/x-partition-3. */
    readonly topic: string,
    private readonly o: DedupProducerOptions,
  ) {}

  /** Messages not yet confirmed by the broker. */
  get pending(): number {
    return this.entries.filter((e) => !e.confirmed).length;
  }

  /** Connect now (setup), so the first send does not pay for it; a failure is retried like any. */
  async open(): Promise<void> {
    if (!this.conn) await this.reconnect();
    if (this.failure) throw this.failure;
  }

  /** Resolves with the broker's receipt: stored, or dropped as a duplicate of a stored resend. */
  send(msg: OutgoingMessage): Promise<SendReceipt> {
    if (this.failure) return Promise.reject(this.failure);
    if (this.closed) return Promise.reject(new PulsarWsError('producer closed', 'closed'));
    return new Promise<SendReceipt>((resolve, reject) => {
      this.entries.push({ seq: this.nextSeq++, msg, confirmed: false, writes: 0, resolve, reject });
      this.pump();
    });
  }

  private pump(): void {
    if (this.closed || this.failure) return;
    const c = this.conn;
    if (!c?.isOpen) {
      void this.reconnect();
      return;
    }
    const window = this.o.window ?? 500;
    while (this.written < this.entries.length && this.inFlight < window) {
      const e = this.entries[this.written++]!;
      this.inFlight++;
      if (e.writes++ > 0) this.counters.resent++;
      c.send(e.msg).then(
        (r) => this.onReceipt(c, e, r),
        (err: Error) => this.onError(c, err),
      );
    }
  }

  private onReceipt(c: WsProducer, e: Entry, r: SendReceipt): void {
    if (c !== this.conn) return;
    this.inFlight--;
    if (r.duplicate) this.counters.duplicates++;
    if (!e.confirmed) {
      e.confirmed = true;
      e.resolve(r);
    }
    // Only entries written on this connection leave: an entry confirmed on an earlier connection
    // but not yet rewritten here must still be written, or every later id would shift down.
    while (this.written > 0 && this.entries[0]!.confirmed) {
      this.entries.shift();
      this.written--;
    }
    this.failingSince = 0;
    this.pump();
  }

  private onError(c: WsProducer, err: Error): void {
    if (c !== this.conn) return;
    // A send error or a lost socket: the outcome of everything in flight is unknown. Drop the
    // connection; the next one resends from the first unconfirmed id.
    this.conn = undefined;
    void c.close().catch(() => {});
    if (this.closed) return;
    this.failingSince ||= Date.now();
    if (!(err instanceof PulsarWsError) || !err.ambiguous) dbg(this.topic, this.o.producerName, 'send error', err.message);
    if (Date.now() - this.failingSince > (this.o.retryBudgetMs ?? 300_000)) {
      this.fail(new PulsarWsError(`producer ${this.o.producerName} on ${this.topic}: failing for ${Date.now() - this.failingSince} ms (${err.message})`, 'timeout', true));
      return;
    }
    void this.reconnect();
  }

  private reconnect(): Promise<void> {
    this.reconnecting ??= (async () => {
      try {
        for (let attempt = 0; !this.closed; attempt++) {
          // Back off, except for the first connection: a restarting broker refuses for a while.
          if (this.connections > 0 || attempt > 0) await sleep(Math.min(2000, 100 * 2 ** Math.min(attempt, 5)));
          if (this.closed) return;
          const base = this.entries[0]?.seq ?? this.nextSeq;
          try {
            const conn = await WsProducer.connect(this.wsUrl, this.topic, {
              producerName: this.o.producerName,
              initialSequenceId: base - 1,
              maxInFlight: Number.POSITIVE_INFINITY,
              connectTimeoutMs: CONNECT_TIMEOUT_MS,
            });
            if (this.closed) {
              await conn.close().catch(() => {});
              return;
            }
            if (this.connections++ > 0) this.counters.reconnects++;
            this.conn = conn;
            this.written = 0;
            this.inFlight = 0;
            return;
          } catch (e) {
            this.failingSince ||= Date.now();
            if (Date.now() - this.failingSince > (this.o.retryBudgetMs ?? 300_000)) {
              this.fail(new PulsarWsError(`producer ${this.o.producerName} on ${this.topic}: no connection for ${Date.now() - this.failingSince} ms (${(e as Error).message})`, 'timeout', true));
              return;
            }
          }
        }
      } finally {
        this.reconnecting = undefined;
        this.pump();
      }
    })();
    return this.reconnecting;
  }

  private fail(e: Error): void {
    this.failure ??= e;
    for (const x of this.entries.splice(0)) if (!x.confirmed) x.reject(e);
  }

  async close(): Promise<void> {
    this.closed = true;
    const c = this.conn;
    this.conn = undefined;
    await c?.close().catch(() => {});
    for (const x of this.entries.splice(0)) if (!x.confirmed) x.reject(new PulsarWsError('producer closed', 'closed', true));
  }
}

// ---------------------------------------------------------------------------------------------
// Keyed sender over partitioned topics
// ---------------------------------------------------------------------------------------------

export interface KeyedMessage {
  /** Partitioned topic (full name or tenant/ns/name). */
  topic: string;
  /** Its partition count; 0 for a non-partitioned topic. */
  partitions: number;
  /** Routes to a partition (keyPartition) and is the message key (Key_Shared hashes it). */
  key: string;
  value: string;
  properties?: Record<string, string>;
}

/**
 * One DedupProducer per partition a process writes to, opened on first use and named
 * `<name>` on every partition (names are unique per partition, so one name per process).
 * Routing is client-side: the broker keeps deduplication state per (partition, producer name),
 * so the producer that numbers a message must be the one of its partition.
 */
export class KeyedSender {
  private readonly producers = new Map<string, DedupProducer>();
  private closed = false;

  constructor(
    readonly wsUrl: string,
    readonly producerName: string,
    private readonly o: Omit<DedupProducerOptions, 'producerName'> = {},
  ) {}

  send(m: KeyedMessage): Promise<SendReceipt> {
    if (this.closed) return Promise.reject(new PulsarWsError('sender closed', 'closed'));
    const t = m.partitions > 0 ? topicString(partitionTopic(m.topic, keyPartition(m.key, m.partitions))) : topicString(m.topic);
    return this.producer(t).send({ payload: m.value, key: m.key, properties: m.properties });
  }

  private producer(t: string): DedupProducer {
    let p = this.producers.get(t);
    if (!p) this.producers.set(t, (p = new DedupProducer(this.wsUrl, t, { ...this.o, producerName: this.producerName })));
    return p;
  }

  /** Open the producers of every partition of `topic` now (setup, not the measured window). */
  async prepare(topic: string, partitions: number): Promise<void> {
    const names = partitions > 0 ? Array.from({ length: partitions }, (_, i) => topicString(partitionTopic(topic, i))) : [topicString(topic)];
    await Promise.all(names.map((t) => this.producer(t).open()));
  }

  /** Sends not yet confirmed, over every partition. */
  pending(): number {
    let n = 0;
    for (const p of this.producers.values()) n += p.pending;
    return n;
  }

  counters(): DedupCounters & { producers: number } {
    const out = { reconnects: 0, resent: 0, duplicates: 0, producers: this.producers.size };
    for (const p of this.producers.values()) {
      out.reconnects += p.counters.reconnects;
      out.resent += p.counters.resent;
      out.duplicates += p.counters.duplicates;
    }
    return out;
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.all([...this.producers.values()].map((p) => p.close()));
  }
}

// ---------------------------------------------------------------------------------------------
// Consumer that reconnects
// ---------------------------------------------------------------------------------------------

export interface ReconnectingConsumerOptions extends ConsumerOptions {
  /** Fail (onFail) after failing to reconnect this long, ms; default 300_000. */
  retryBudgetMs?: number;
}

/**
 * A subscription's consumer that reconnects when its socket closes (broker restart), with the
 * same subscription, name and settings; unacked messages then come again from the broker. An
 * ack or nack names a message of the connection that delivered it: on a partitioned topic the
 * proxy cannot ack an id it did not deliver on that connection, so acks for messages of a closed
 * connection are dropped (the broker redelivers those messages, and the caller acks them again).
 */
export class ReconnectingConsumer {
  private conn?: WsConsumer;
  private readonly origin = new WeakMap<ReceivedMessage, WsConsumer>();
  private closed = false;
  private failingSince = 0;
  /** Connections opened after the first. */
  reconnects = 0;
  /** Acks and nacks dropped because their connection had closed. */
  droppedAcks = 0;

  private constructor(
    readonly wsUrl: string,
    readonly topic: string,
    readonly subscription: string,
    private readonly o: ReconnectingConsumerOptions,
    private readonly handler: (m: ReceivedMessage, via: ReconnectingConsumer) => void,
    /** Called once when reconnecting failed for the whole budget. */
    private readonly onFail: (e: Error) => void,
  ) {}

  static async connect(wsUrl: string, topic: string, subscription: string, o: ReconnectingConsumerOptions, handler: (m: ReceivedMessage, via: ReconnectingConsumer) => void, onFail: (e: Error) => void): Promise<ReconnectingConsumer> {
    const c = new ReconnectingConsumer(wsUrl, topic, subscription, o, handler, onFail);
    await c.open();
    return c;
  }

  get isOpen(): boolean {
    return Boolean(this.conn?.isOpen);
  }

  private async open(): Promise<void> {
    // Messages can arrive while connect() is still resolving; they are handed on once this
    // connection is the current one, so an immediate ack of them is not dropped.
    let ready = false;
    const early: ReceivedMessage[] = [];
    const conn = await WsConsumer.connect(this.wsUrl, this.topic, this.subscription, { connectTimeoutMs: CONNECT_TIMEOUT_MS, ...this.o }, (m, c) => {
      this.origin.set(m, c);
      if (ready) this.handler(m, this);
      else early.push(m);
    });
    this.conn = conn;
    conn.onClose = () => {
      if (this.conn !== conn || this.closed) return;
      this.conn = undefined;
      void this.reconnect();
    };
    ready = true;
    for (const m of early) this.handler(m, this);
  }

  private async reconnect(): Promise<void> {
    this.failingSince = Date.now();
    for (let attempt = 0; !this.closed; attempt++) {
      await sleep(Math.min(2000, 100 * 2 ** Math.min(attempt, 5)));
      if (this.closed) return;
      try {
        await this.open();
        this.reconnects++;
        if (this.closed) await this.conn?.close();
        return;
      } catch (e) {
        if (Date.now() - this.failingSince > (this.o.retryBudgetMs ?? 300_000)) {
          this.onFail(new Error(`consumer ${this.subscription} on ${this.topic}: no connection for ${Date.now() - this.failingSince} ms (${(e as Error).message})`));
          return;
        }
      }
    }
  }

  private viaCurrent(m: ReceivedMessage): WsConsumer | undefined {
    const c = this.origin.get(m);
    if (c && c === this.conn && c.isOpen) return c;
    this.droppedAcks++;
    return undefined;
  }

  ack(m: ReceivedMessage): void {
    this.viaCurrent(m)?.ack(m);
  }

  nack(m: ReceivedMessage): void {
    this.viaCurrent(m)?.nack(m);
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.conn?.close().catch(() => {});
  }
}

// ---------------------------------------------------------------------------------------------
// Reading topics back
// ---------------------------------------------------------------------------------------------

/**
 * Every message of `topics` from the beginning to the moment the read catches up, as values.
 * One NonDurable subscription per topic at the earliest position (it leaves no trace); done when
 * nothing arrived for a moment and the broker reports no backlog for it (everything delivered
 * and acked). Needs the messages retained (the standalone keeps them 24 h: standalone.conf).
 */
export interface ReadMessage {
  value: string;
  key?: string;
  properties: Record<string, string>;
}

export async function readTopicValues(webServiceUrl: string, wsUrl: string, topics: readonly string[], o: { timeoutMs?: number } = {}): Promise<ReadMessage[]> {
  const timeoutMs = o.timeoutMs ?? 120_000;
  const admin = new PulsarAdmin(webServiceUrl, 10_000);
  const out: ReadMessage[][] = [];
  const readOne = async (topic: string): Promise<ReadMessage[]> => {
    const values: ReadMessage[] = [];
    const sub = `fb-reader-${shortTag(`${topic}${Math.random()}${Date.now()}`)}`;
    let lastAt = performance.now();
    const c = await WsConsumer.connect(wsUrl, topic, sub, {
      subscriptionType: 'Exclusive',
      subscriptionMode: 'NonDurable',
      subscriptionInitialPosition: 'Earliest',
      receiverQueueSize: 1000,
    }, (m, cc) => {
      values.push({ value: m.payload.toString('utf8'), key: m.key, properties: m.properties });
      lastAt = performance.now();
      cc.ack(m);
    });
    const deadline = Date.now() + timeoutMs;
    try {
      for (;;) {
        if (Date.now() > deadline) throw new Error(`reading ${topic} timed out after ${timeoutMs} ms (${values.length} read)`);
        if (!c.isOpen) throw new Error(`reading ${topic}: the connection closed (${values.length} read)`);
        await sleep(150);
        if (performance.now() - lastAt < 300) continue;
        const stats = await admin.topicStats(topic);
        const s = stats.subscriptions?.[sub];
        if (s && s.msgBacklog === 0) return values;
      }
    } finally {
      await c.close().catch(() => {});
    }
  };
  const queue = [...topics];
  await Promise.all(Array.from({ length: Math.min(4, queue.length) }, async () => {
    for (let t = queue.shift(); t !== undefined; t = queue.shift()) out.push(await readOne(t));
  }));
  return out.flat();
}

const dbg = (...a: unknown[]) => {
  if (process.env.FLOCKBENCH_DEBUG_PULSAR) console.error('[pulsar-client]', ...a);
};
