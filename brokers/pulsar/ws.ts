// The Pulsar broker's WebSocket API (v2) on the `ws` package: producers, consumers, message ids
// and topic names. Part of the one door to Pulsar (brokers/pulsar/client.ts re-exports it). What
// the 4.0.7 WebSocket service does (read in pulsar-websocket-4.0.7 ProducerHandler and
// ConsumerHandler, and checked live) and what that implies:
//
// Producer  ws://host:web/ws/v2/producer/persistent/{tenant}/{ns}/{topic}
//   query: producerName, initialSequenceId, sendTimeoutMillis, messageRoutingMode, hashingScheme,
//          batchingEnabled (+ batchingMaxMessages, maxPendingMessages, batchingMaxPublishDelay are
//          only applied when batchingEnabled=true), compressionType, encryptionKeys.
//   frame:  {payload: base64, properties?, context?, key?, eventTime?, deliverAt?, deliverAfterMs?,
//            replicationClusters?}. The frame's `sequenceId` field exists in ProducerMessage but the
//          handler IGNORES it: the proxy's Java producer numbers messages itself, starting at
//          initialSequenceId+1 (or the broker's last persisted id + 1 for a known producerName).
//   reply:  {result: "ok", messageId, context} or {result: "send-error:<code>", errorMsg, context}.
//          A message the broker dropped as a duplicate is acked "ok" with messageId (-1:-1).
// Consumer ws://host:web/ws/v2/consumer/persistent/{tenant}/{ns}/{topic}/{subscription}
//   query: subscriptionType, subscriptionMode, subscriptionInitialPosition, receiverQueueSize (the
//          proxy caps it at 1000; it is also the max number of messages the proxy pushes that the
//          client has not yet acked/nacked), consumerName, priorityLevel, ackTimeoutMillis,
//          negativeAckRedeliveryDelay (ms), maxRedeliverCount, deadLetterTopic (default
//          {topic}-{subscription}-DLQ; only used when maxRedeliverCount is given), pullMode,
//          cryptoFailureAction.
//   frames in:  {messageId, payload: base64, properties, publishTime, redeliveryCount, eventTime?, key?}
//               and {endOfTopic} replies. Frames out: {messageId} = ack (no reply, so the client
//               never learns whether an ack was persisted), {type:"negativeAcknowledge", messageId},
//               {type:"permit", permitMessages} (pullMode), {type:"unsubscribe"}, {type:"isEndOfTopic"}.
//   An ack names a message id without its topic: on a partitioned topic the proxy can only ack
//   ids it delivered on the same connection (it looks them up in its per-connection cache).
//   No cumulative ack, no transactions, no retry-letter topic, no seek.
// Message ids are base64 of the protobuf MessageIdData (ledgerId, entryId, partition, batch_index, ...);
// decodeMessageId() parses them.
import WebSocket from 'ws';

// ---------------------------------------------------------------------------------------------
// Topic names
// ---------------------------------------------------------------------------------------------

export interface TopicRef {
  domain: 'persistent' | 'non-persistent';
  tenant: string;
  namespace: string;
  /** Local name; for a single partition `<name>-partition-<i>`. */
  topic: string;
}

/** Parses `persistent://t/ns/x`, `t/ns/x` or `x` (tenant public, namespace default). */
export function parseTopic(t: string | TopicRef): TopicRef {
  if (typeof t !== 'string') return t;
  let domain: TopicRef['domain'] = 'persistent';
  let rest = t;
  const m = /^(persistent|non-persistent):\/\/(.*)$/.exec(t);
  if (m) {
    domain = m[1] as TopicRef['domain'];
    rest = m[2]!;
  }
  const parts = rest.split('/');
  if (parts.length === 1) return { domain, tenant: 'public', namespace: 'default', topic: parts[0]! };
  if (parts.length === 3) return { domain, tenant: parts[0]!, namespace: parts[1]!, topic: parts[2]! };
  throw new Error(`bad topic name ${t}: expected persistent://tenant/ns/topic, tenant/ns/topic or topic`);
}

export function topicString(t: string | TopicRef): string {
  const r = parseTopic(t);
  return `${r.domain}://${r.tenant}/${r.namespace}/${r.topic}`;
}

/** `persistent/{tenant}/{ns}/{topic}` with each segment URL-encoded (used by /ws/v2 and /admin/v2). */
export function topicPath(t: string | TopicRef): string {
  const r = parseTopic(t);
  return [r.domain, r.tenant, r.namespace, r.topic].map(encodeURIComponent).join('/');
}

/** Name of partition `i` of a partitioned topic. */
export function partitionTopic(t: string | TopicRef, i: number): TopicRef {
  const r = parseTopic(t);
  return { ...r, topic: `${r.topic}-partition-${i}` };
}

// ---------------------------------------------------------------------------------------------
// Message ids
// ---------------------------------------------------------------------------------------------

export interface MessageIdParts {
  ledgerId: bigint;
  entryId: bigint;
  /** -1 for a non-partitioned topic. */
  partition: number;
  /** -1 unless the message came in a batch. */
  batchIndex: number;
  batchSize?: number;
}

function readVarint(buf: Buffer, pos: number): [bigint, number] {
  let result = 0n;
  let shift = 0n;
  for (;;) {
    if (pos >= buf.length) throw new Error('truncated varint in message id');
    const b = buf[pos++]!;
    result |= BigInt(b & 0x7f) << shift;
    if ((b & 0x80) === 0) break;
    shift += 7n;
    if (shift > 63n) throw new Error('varint too long in message id');
  }
  return [BigInt.asIntN(64, result), pos];
}

/** Decodes the base64 MessageIdData the WebSocket API uses for `messageId`. */
export function decodeMessageId(b64: string): MessageIdParts {
  const buf = Buffer.from(b64, 'base64');
  const out: MessageIdParts = { ledgerId: -1n, entryId: -1n, partition: -1, batchIndex: -1 };
  let pos = 0;
  while (pos < buf.length) {
    const [tag, p1] = readVarint(buf, pos);
    pos = p1;
    const field = Number(tag >> 3n);
    const wire = Number(tag & 7n);
    if (wire === 0) {
      const [v, p2] = readVarint(buf, pos);
      pos = p2;
      if (field === 1) out.ledgerId = v;
      else if (field === 2) out.entryId = v;
      else if (field === 3) out.partition = Number(BigInt.asIntN(32, v));
      else if (field === 4) out.batchIndex = Number(BigInt.asIntN(32, v));
      else if (field === 6) out.batchSize = Number(v);
    } else if (wire === 2) {
      const [len, p2] = readVarint(buf, pos);
      pos = p2 + Number(len); // ack_set (5), first_chunk_message_id (7): skipped
    } else if (wire === 1) pos += 8;
    else if (wire === 5) pos += 4;
    else throw new Error(`unsupported wire type ${wire} in message id`);
  }
  return out;
}

/** `ledger:entry:partition:batchIndex`, the form Pulsar's MessageIdImpl.toString() prints (plus batch). */
export function formatMessageId(id: MessageIdParts): string {
  return `${id.ledgerId}:${id.entryId}:${id.partition}:${id.batchIndex}`;
}

/** Order within one partition (ledger, entry, batch index). */
export function compareMessageIds(a: MessageIdParts, b: MessageIdParts): number {
  if (a.ledgerId !== b.ledgerId) return a.ledgerId < b.ledgerId ? -1 : 1;
  if (a.entryId !== b.entryId) return a.entryId < b.entryId ? -1 : 1;
  return a.batchIndex - b.batchIndex;
}

// ---------------------------------------------------------------------------------------------
// Errors and connection helpers
// ---------------------------------------------------------------------------------------------

export class PulsarWsError extends Error {
  override name = 'PulsarWsError';
  constructor(
    message: string,
    /** `send-error:<n>` from the proxy, `http-<status>` on a refused upgrade, or `closed`/`timeout`. */
    readonly code: string,
    /** True when the outcome of the operation is unknown (connection lost after the frame left). */
    readonly ambiguous = false,
  ) {
    super(message);
  }
}

export function qs(params: Record<string, string | number | boolean | undefined>): string {
  const e = Object.entries(params).filter(([, v]) => v !== undefined) as [string, string | number | boolean][];
  return e.length ? `?${e.map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(String(v))}`).join('&')}` : '';
}

interface ConnectOpts {
  connectTimeoutMs?: number;
  /** Client ping interval (keeps the session from hitting webSocketSessionIdleTimeoutMillis); 0 = off. Default 30 s. */
  pingIntervalMs?: number;
}

/** Frames that arrived before the owner of a socket took it over (see openSocket). */
const early = new WeakMap<WebSocket, { frames: string[]; listener: (d: WebSocket.RawData) => void }>();

/**
 * Attach the socket's frame handler, first replaying frames that came with or right after the
 * upgrade: the proxy starts pushing messages as soon as the socket opens, and frames that arrive
 * in the same read as the upgrade response are emitted before an awaiting caller resumes.
 */
function takeOver(ws: WebSocket, onFrame: (text: string) => void): void {
  const e = early.get(ws);
  if (e) {
    ws.off('message', e.listener);
    early.delete(ws);
  }
  ws.on('message', (data) => onFrame(data.toString()));
  for (const f of e?.frames ?? []) onFrame(f);
}

/** Opens a WebSocket; a refused upgrade (the proxy could not create the producer/consumer) rejects with its HTTP status and body. */
function openSocket(url: string, opts: ConnectOpts): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { perMessageDeflate: false, handshakeTimeout: opts.connectTimeoutMs ?? 30_000 });
    const buffered = { frames: [] as string[], listener: (d: WebSocket.RawData) => buffered.frames.push(d.toString()) };
    early.set(ws, buffered);
    ws.on('message', buffered.listener);
    let settled = false;
    const fail = (e: PulsarWsError) => {
      if (settled) return;
      settled = true;
      ws.removeAllListeners();
      ws.on('error', () => {});
      ws.terminate();
      reject(e);
    };
    ws.once('unexpected-response', (_req, res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => fail(new PulsarWsError(`${url}: HTTP ${res.statusCode} ${body.trim().slice(0, 300)}`, `http-${res.statusCode}`)));
      res.on('error', () => fail(new PulsarWsError(`${url}: HTTP ${res.statusCode}`, `http-${res.statusCode}`)));
    });
    ws.once('error', (e) => fail(new PulsarWsError(`${url}: ${e.message}`, 'connect')));
    ws.once('open', () => {
      if (settled) return;
      settled = true;
      ws.removeAllListeners('unexpected-response');
      ws.removeAllListeners('error');
      const every = opts.pingIntervalMs ?? 30_000;
      if (every > 0) {
        const t = setInterval(() => {
          if (ws.readyState === WebSocket.OPEN) ws.ping();
        }, every);
        t.unref();
        ws.once('close', () => clearInterval(t));
      }
      resolve(ws);
    });
  });
}

function closeSocket(ws: WebSocket, timeoutMs = 5000): Promise<void> {
  return new Promise((resolve) => {
    if (ws.readyState === WebSocket.CLOSED) return resolve();
    const t = setTimeout(() => {
      ws.terminate();
      resolve();
    }, timeoutMs);
    ws.once('close', () => {
      clearTimeout(t);
      resolve();
    });
    ws.on('error', () => {});
    if (ws.readyState === WebSocket.CONNECTING) ws.terminate();
    else ws.close(1000);
  });
}

// ---------------------------------------------------------------------------------------------
// Producer
// ---------------------------------------------------------------------------------------------

export interface ProducerOptions extends ConnectOpts {
  /**
   * Fixed producer name. With broker deduplication on, the broker keeps the highest sequence id
   * persisted per (topic partition, producerName) and drops anything at or below it.
   */
  producerName?: string;
  /**
   * Sequence id of the message *before* the first one this connection sends: the connection's
   * n-th send (0-based) gets sequence id initialSequenceId + 1 + n. Without it a named producer
   * continues after the broker's last persisted id (so a resend is NOT recognised as a duplicate).
   */
  initialSequenceId?: number;
  /** Proxy-side send timeout, ms (Java client default 30 000; 0 = none). */
  sendTimeoutMillis?: number;
  messageRoutingMode?: 'SinglePartition' | 'RoundRobinPartition';
  hashingScheme?: 'JavaStringHash' | 'Murmur3_32Hash';
  batchingEnabled?: boolean;
  batchingMaxMessages?: number;
  batchingMaxPublishDelay?: number;
  compressionType?: 'NONE' | 'LZ4' | 'ZLIB' | 'ZSTD' | 'SNAPPY';
  /** Client-side cap on sends awaiting a receipt; send() waits for room. Default 1000. */
  maxInFlight?: number;
}

export interface OutgoingMessage {
  payload: Buffer | Uint8Array | string;
  key?: string;
  properties?: Record<string, string>;
  /** Event time (ms since epoch or Date); sent as ISO-8601. */
  eventTime?: number | Date;
  deliverAfterMs?: number;
  deliverAt?: number;
}

export interface SendReceipt {
  /** Base64 MessageIdData as the broker returned it. */
  messageId: string;
  id: MessageIdParts;
  context: string;
  /** True when the broker dropped the message as a duplicate (deduplication on; receipt id -1:-1). */
  duplicate: boolean;
}

interface PendingSend {
  resolve: (r: SendReceipt) => void;
  reject: (e: Error) => void;
}

export class WsProducer {
  private readonly pending = new Map<string, PendingSend>();
  private nextContext = 0;
  private waiters: (() => void)[] = [];
  private closedError: PulsarWsError | undefined;
  /** Sends the proxy received over this connection (= next sequence id offset when initialSequenceId is set). */
  sent = 0;

  private constructor(
    private readonly ws: WebSocket,
    readonly topic: string,
    private readonly maxInFlight: number,
  ) {
    takeOver(ws, (text) => this.onFrame(text));
    ws.on('close', (code, reason) => this.failAll(new PulsarWsError(`producer socket closed (${code} ${reason.toString()})`, 'closed', true)));
    ws.on('error', (e) => this.failAll(new PulsarWsError(`producer socket error: ${e.message}`, 'closed', true)));
  }

  /** Opens a producer; rejects with PulsarWsError(code http-4xx/5xx) when the broker refuses it. */
  static async connect(wsBase: string, topic: string | TopicRef, opts: ProducerOptions = {}): Promise<WsProducer> {
    const url =
      `${wsBase}/ws/v2/producer/${topicPath(topic)}` +
      qs({
        producerName: opts.producerName,
        initialSequenceId: opts.initialSequenceId,
        sendTimeoutMillis: opts.sendTimeoutMillis,
        messageRoutingMode: opts.messageRoutingMode,
        hashingScheme: opts.hashingScheme,
        batchingEnabled: opts.batchingEnabled,
        batchingMaxMessages: opts.batchingMaxMessages,
        batchingMaxPublishDelay: opts.batchingMaxPublishDelay,
        compressionType: opts.compressionType,
      });
    const ws = await openSocket(url, opts);
    return new WsProducer(ws, topicString(topic), opts.maxInFlight ?? 1000);
  }

  get inFlight(): number {
    return this.pending.size;
  }

  get isOpen(): boolean {
    return !this.closedError && this.ws.readyState === WebSocket.OPEN;
  }

  private onFrame(text: string): void {
    let r: { result?: string; messageId?: string; context?: string; errorMsg?: string };
    try {
      r = JSON.parse(text);
    } catch {
      return;
    }
    const p = r.context !== undefined ? this.pending.get(r.context) : undefined;
    if (!p) return;
    this.pending.delete(r.context!);
    this.wake();
    if (r.result === 'ok' && r.messageId) {
      const id = decodeMessageId(r.messageId);
      p.resolve({ messageId: r.messageId, id, context: r.context!, duplicate: id.ledgerId === -1n && id.entryId === -1n });
    } else {
      p.reject(new PulsarWsError(`send failed: ${r.result} ${r.errorMsg ?? ''}`.trim(), r.result ?? 'send-error'));
    }
  }

  private wake(): void {
    const w = this.waiters.shift();
    if (w) w();
  }

  private failAll(e: PulsarWsError): void {
    if (!this.closedError) this.closedError = e;
    for (const p of this.pending.values()) p.reject(e);
    this.pending.clear();
    for (const w of this.waiters.splice(0)) w();
  }

  /** Sends one message and resolves with the broker's receipt (persisted, or dropped as duplicate). */
  async send(msg: OutgoingMessage): Promise<SendReceipt> {
    while (this.pending.size >= this.maxInFlight && !this.closedError) await new Promise<void>((r) => this.waiters.push(r));
    if (this.closedError) throw this.closedError;
    const context = String(this.nextContext++);
    const payload = typeof msg.payload === 'string' ? Buffer.from(msg.payload, 'utf8') : Buffer.from(msg.payload);
    const frame: Record<string, unknown> = { payload: payload.toString('base64'), context };
    if (msg.key !== undefined) frame.key = msg.key;
    if (msg.properties) frame.properties = msg.properties;
    if (msg.eventTime !== undefined) frame.eventTime = new Date(msg.eventTime).toISOString();
    if (msg.deliverAfterMs) frame.deliverAfterMs = msg.deliverAfterMs;
    if (msg.deliverAt) frame.deliverAt = msg.deliverAt;
    const p = new Promise<SendReceipt>((resolve, reject) => this.pending.set(context, { resolve, reject }));
    this.sent++;
    this.ws.send(JSON.stringify(frame), (err) => {
      if (err && this.pending.has(context)) {
        this.pending.get(context)!.reject(new PulsarWsError(`write failed: ${err.message}`, 'closed', true));
        this.pending.delete(context);
      }
    });
    return p;
  }

  /** JSON-encodes `value` as the payload. */
  sendJson(value: unknown, extra: Omit<OutgoingMessage, 'payload'> = {}): Promise<SendReceipt> {
    return this.send({ ...extra, payload: JSON.stringify(value) });
  }

  /** Waits until every send has a receipt (or the socket closed). */
  async flush(): Promise<void> {
    while (this.pending.size > 0 && !this.closedError) await new Promise<void>((r) => this.waiters.push(r));
  }

  async close(): Promise<void> {
    await closeSocket(this.ws);
    this.failAll(new PulsarWsError('producer closed', 'closed', true));
  }
}

// ---------------------------------------------------------------------------------------------
// Consumer
// ---------------------------------------------------------------------------------------------

export type SubscriptionType = 'Exclusive' | 'Failover' | 'Shared' | 'Key_Shared';

export interface ConsumerOptions extends ConnectOpts {
  subscriptionType?: SubscriptionType;
  /** Durable (default) keeps the cursor in the broker; NonDurable is a reader-like cursor. */
  subscriptionMode?: 'Durable' | 'NonDurable';
  /** Where a NEW subscription starts; default Latest (Pulsar's default). */
  subscriptionInitialPosition?: 'Latest' | 'Earliest';
  /** Proxy consumer's receiver queue AND the max unacked messages pushed to this socket; capped at 1000 by the proxy. */
  receiverQueueSize?: number;
  consumerName?: string;
  priorityLevel?: number;
  /** Redeliver messages not acked within this time, ms (0/undefined = off). */
  ackTimeoutMillis?: number;
  /** Delay before a negatively acked message is redelivered, ms (Java client default 60 000). */
  negativeAckRedeliveryDelay?: number;
  /** After this many redeliveries the next nack/ack-timeout sends the message to the dead-letter topic. */
  maxRedeliverCount?: number;
  /** Dead-letter topic (needs maxRedeliverCount); default `{topic}-{subscription}-DLQ`. */
  deadLetterTopic?: string;
  /** Pull mode: nothing is pushed until permit(n). */
  pullMode?: boolean;
}

export interface ReceivedMessage {
  messageId: string;
  id: MessageIdParts;
  payload: Buffer;
  key?: string;
  properties: Record<string, string>;
  publishTime: string;
  eventTime?: string;
  redeliveryCount: number;
  /** performance.now() when the frame arrived. */
  receivedAt: number;
}

export function messageText(m: ReceivedMessage): string {
  return m.payload.toString('utf8');
}

export function messageJson<T = unknown>(m: ReceivedMessage): T {
  return JSON.parse(m.payload.toString('utf8')) as T;
}

export type MessageHandler = (m: ReceivedMessage, c: WsConsumer) => void;

export class WsConsumer {
  private readonly queue: ReceivedMessage[] = [];
  private readonly waiters: ((m: ReceivedMessage | undefined) => void)[] = [];
  private endOfTopicWaiters: ((v: boolean) => void)[] = [];
  private closed = false;
  /** Called when the socket closes (broker restart, idle timeout, close()). */
  onClose?: (code: number, reason: string) => void;

  private constructor(
    private readonly ws: WebSocket,
    readonly topic: string,
    readonly subscription: string,
    private handler: MessageHandler | undefined,
  ) {
    takeOver(ws, (text) => this.onFrame(text));
    ws.on('close', (code, reason) => {
      this.closed = true;
      for (const w of this.waiters.splice(0)) w(undefined);
      for (const w of this.endOfTopicWaiters.splice(0)) w(false);
      this.onClose?.(code, reason.toString());
    });
    ws.on('error', () => {});
  }

  /**
   * Subscribes. The subscription exists on the broker when this resolves (the proxy subscribes
   * before it accepts the upgrade). With `handler`, every message is passed to it; otherwise
   * messages queue for receive().
   */
  static async connect(wsBase: string, topic: string | TopicRef, subscription: string, opts: ConsumerOptions = {}, handler?: MessageHandler): Promise<WsConsumer> {
    if (opts.deadLetterTopic && opts.maxRedeliverCount === undefined) {
      throw new Error('deadLetterTopic needs maxRedeliverCount (the proxy would use max redeliveries 0)');
    }
    const url =
      `${wsBase}/ws/v2/consumer/${topicPath(topic)}/${encodeURIComponent(subscription)}` +
      qs({
        subscriptionType: opts.subscriptionType,
        subscriptionMode: opts.subscriptionMode,
        subscriptionInitialPosition: opts.subscriptionInitialPosition,
        receiverQueueSize: opts.receiverQueueSize,
        consumerName: opts.consumerName,
        priorityLevel: opts.priorityLevel,
        ackTimeoutMillis: opts.ackTimeoutMillis,
        negativeAckRedeliveryDelay: opts.negativeAckRedeliveryDelay,
        maxRedeliverCount: opts.maxRedeliverCount,
        deadLetterTopic: opts.deadLetterTopic ? topicString(opts.deadLetterTopic) : undefined,
        pullMode: opts.pullMode,
      });
    const ws = await openSocket(url, opts);
    return new WsConsumer(ws, topicString(topic), subscription, handler);
  }

  get isOpen(): boolean {
    return !this.closed && this.ws.readyState === WebSocket.OPEN;
  }

  /** Messages received and not yet taken by receive(). */
  get queued(): number {
    return this.queue.length;
  }

  setHandler(h: MessageHandler | undefined): void {
    this.handler = h;
    if (h) for (const m of this.queue.splice(0)) h(m, this);
  }

  private onFrame(text: string): void {
    let f: {
      messageId?: string;
      payload?: string;
      properties?: Record<string, string>;
      publishTime?: string;
      eventTime?: string;
      redeliveryCount?: number;
      key?: string;
      endOfTopic?: boolean;
    };
    try {
      f = JSON.parse(text);
    } catch {
      return;
    }
    if (f.messageId === undefined) {
      if (typeof f.endOfTopic === 'boolean') for (const w of this.endOfTopicWaiters.splice(0, 1)) w(f.endOfTopic);
      return;
    }
    const m: ReceivedMessage = {
      messageId: f.messageId,
      id: decodeMessageId(f.messageId),
      payload: Buffer.from(f.payload ?? '', 'base64'),
      key: f.key,
      properties: f.properties ?? {},
      publishTime: f.publishTime ?? '',
      eventTime: f.eventTime,
      redeliveryCount: f.redeliveryCount ?? 0,
      receivedAt: performance.now(),
    };
    if (this.handler) this.handler(m, this);
    else {
      const w = this.waiters.shift();
      if (w) w(m);
      else this.queue.push(m);
    }
  }

  /** Next message, or undefined on timeout / closed socket. */
  receive(timeoutMs = 10_000): Promise<ReceivedMessage | undefined> {
    const m = this.queue.shift();
    if (m) return Promise.resolve(m);
    if (this.closed) return Promise.resolve(undefined);
    return new Promise((resolve) => {
      const w = (x: ReceivedMessage | undefined) => {
        clearTimeout(t);
        resolve(x);
      };
      const t = setTimeout(() => {
        const i = this.waiters.indexOf(w);
        if (i >= 0) this.waiters.splice(i, 1);
        resolve(undefined);
      }, timeoutMs);
      this.waiters.push(w);
    });
  }

  private sendFrame(frame: object): void {
    if (this.ws.readyState !== WebSocket.OPEN) throw new PulsarWsError('consumer socket is not open', 'closed', true);
    this.ws.send(JSON.stringify(frame));
  }

  /** Individual ack. Fire-and-forget: the proxy never confirms it (the Java client groups acks for 100 ms). */
  ack(m: ReceivedMessage | string): void {
    this.sendFrame({ messageId: typeof m === 'string' ? m : m.messageId });
  }

  /** Negative ack: redelivered after negativeAckRedeliveryDelay; to the DLQ once redeliveryCount reached maxRedeliverCount. */
  nack(m: ReceivedMessage | string): void {
    this.sendFrame({ type: 'negativeAcknowledge', messageId: typeof m === 'string' ? m : m.messageId });
  }

  /** Pull mode: allow `n` more messages. */
  permit(n: number): void {
    this.sendFrame({ type: 'permit', permitMessages: n });
  }

  /** Deletes the subscription (the proxy's consumer.unsubscribe()); the socket stays open until close(). */
  unsubscribe(): void {
    this.sendFrame({ type: 'unsubscribe' });
  }

  isEndOfTopic(timeoutMs = 5000): Promise<boolean> {
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new PulsarWsError('isEndOfTopic timed out', 'timeout')), timeoutMs);
      this.endOfTopicWaiters.push((v) => {
        clearTimeout(t);
        resolve(v);
      });
      this.sendFrame({ type: 'isEndOfTopic' });
    });
  }

  async close(): Promise<void> {
    await closeSocket(this.ws);
  }
}
