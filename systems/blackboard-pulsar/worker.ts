// One consumer of an agent's subscription on Pulsar: it subscribes to the agent's type topics
// (one durable subscription per agent, of the run's subscription type), filters, batches and
// joins through workloads/routing.ts, runs the shared agent body, produces the outputs and
// consumption records through its process's deduplicating producers, and acks each input
// message once its outputs are stored. Delivery through the WebSocket API:
//   - at-least-once per input: the ack follows the outputs' receipts and is fire-and-forget, so
//     an input whose ack is lost (a broker crash within ~1 s of it) is delivered again and, if
//     it reaches a consumer that has not seen it, processed again: its outputs are stored twice;
//   - idempotent produce: a resend after a reconnect carries the same sequence id and the broker
//     drops it (brokers/pulsar/client.ts, DedupProducer);
//   - no exactly-once consume-transform-produce: the WebSocket API has no transactions.
// A message this consumer already holds (redelivered after a reconnect, or by a Failover
// rewind) is not processed twice: one it is working on is skipped, one it acked is acked again.
//
// Poison messages (not an artifact of the topic's type) take the dead-letter path:
//   Shared / Key_Shared: negative ack; the broker redelivers it after `nackDelayMs`, and after
//     `maxRedeliverCount` redeliveries the proxy's consumer moves it to the dead-letter topic;
//   Failover: a negative ack cannot name one message there (the client redelivers every unacked
//     message of the consumer) and the broker counts no redeliveries, so Pulsar's dead-letter
//     policy does not apply: the consumer writes the message to the same dead-letter topic
//     itself (deduplicating producer) and acks it.
import { type KeyedSender, type ReceivedMessage, ReconnectingConsumer, type SubscriptionType } from '../../brokers/pulsar/client.ts';
import { describeError } from '../../core/errors.ts';
import { type AgentRuntime, executeAgent } from '../../workloads/execute.ts';
import { accepts, realTimers, Router } from '../../workloads/routing.ts';
import type { AgentSpec, Artifact, WorkloadSpec } from '../../workloads/spec.ts';
import { parseArtifact } from '../blackboard/distributed/artifact.ts';
import type { RecordKeys } from '../blackboard/stores/keying.ts';
import { agentSubscription, pulsarConsumedTopic, pulsarDlqTopic, pulsarTypeTopic, recordKey } from '../blackboard/stores/pulsar/layout.ts';

export interface PulsarWorkerOptions {
  wsUrl: string;
  runId: string;
  agent: AgentSpec;
  /** Unique within the agent's subscription (consumer name `<agent>#<index>`). */
  index: number;
  workload: WorkloadSpec;
  runtime: AgentRuntime;
  /** Partitions of every type topic. */
  partitions: number;
  /** The subscription type this agent uses (params.ts: Shared becomes Key_Shared for batching/joining agents). */
  subscriptionType: SubscriptionType;
  /** Max agent executions running at once in this consumer; later inputs wait in order. */
  maxInFlight: number;
  /** Messages the broker may push to this consumer unacked (the WebSocket proxy caps it at 1000). */
  receiverQueueSize: number;
  /** Batch/join timeouts are multiplied by it. */
  latencyScale: number;
  /** Redeliveries of a poison message before it is dead-lettered. */
  maxRedeliverCount: number;
  /** Delay before a negatively acked message is delivered again, ms. */
  nackDelayMs: number;
  /** The process's producers (one per partition, deduplicating). */
  sender: KeyedSender;
  /** How outputs are keyed (../blackboard/stores/keying.ts); default partitionKey ?? correlationId. */
  keys?: RecordKeys;
}

export interface PulsarWorkerCounters {
  executions: number;
  /** Deliveries of a message this consumer already held or had acked (skipped, or acked again). */
  redelivered: number;
  /** Negative acks sent (poison messages, Shared / Key_Shared). */
  nacks: number;
  /** Messages dead-lettered: by the broker after the last nack, or written by this consumer (Failover). */
  dlq: number;
  filtered: number;
  peakInFlight: number;
  joinsExpired: number;
  /** Consumer connections re-opened (broker restart). */
  reconnects: number;
  /** Acks and nacks dropped because the connection that delivered the message had closed. */
  droppedAcks: number;
}

/** What the run's coordinator needs to know of one consumer (this process's or a worker process's). */
export interface PulsarConsumerView {
  readonly name: string;
  readonly agent: AgentSpec;
  readonly inFlight: number;
  /** Input messages of the executions running now. */
  readonly inFlightInputs: number;
  readonly counters: PulsarWorkerCounters;
  readonly failure?: unknown;
  /** When this consumer last acked an input whose outputs were stored, on the run clock (-1: never). */
  readonly lastDoneMs: number;
  /** Inputs received and not yet acked: waiting for a slot, in a batch or join, or running. */
  buffered(): number;
  busy(): boolean;
}

/** A consumer's state at one instant (sent from worker processes to the coordinator). */
export interface PulsarConsumerSnapshot {
  name: string;
  agent: string;
  inFlight: number;
  inFlightInputs: number;
  counters: PulsarWorkerCounters;
  failure?: string;
  lastDoneMs: number;
  buffered: number;
  busy: boolean;
}

interface Input {
  m: ReceivedMessage;
  consumer: ReconnectingConsumer;
  type: string;
  artifact?: Artifact;
}

export class PulsarAgentWorker implements PulsarConsumerView {
  readonly counters: PulsarWorkerCounters = { executions: 0, redelivered: 0, nacks: 0, dlq: 0, filtered: 0, peakInFlight: 0, joinsExpired: 0, reconnects: 0, droppedAcks: 0 };
  private readonly consumers: ReconnectingConsumer[] = [];
  private readonly router: Router<Input>;
  /**
   * Message ids this consumer holds (received, not acked), with their latest delivery: a message
   * redelivered after a reconnect must be acked on the connection that redelivered it (the
   * proxy drops an ack for a message of a closed connection, and the broker would wait for it).
   */
  private readonly held = new Map<string, Input>();
  /** Message ids this consumer acked. */
  private readonly acked = new Set<string>();
  private readonly waiting: Input[][] = [];
  inFlight = 0;
  inFlightInputs = 0;
  private pendingOps = 0;
  lastDoneMs = -1;
  failure?: unknown;
  measuring = false;
  private closed = false;

  constructor(readonly o: PulsarWorkerOptions) {
    // Inputs that never execute (a partial join that expired, a second artifact of a type a
    // partial join already holds) are consumed without outputs, as the in-memory orchestrator drops them.
    this.router = new Router<Input>(o.agent, (x) => x.artifact!, {
      ready: (inputs) => this.schedule(inputs),
      expired: (inputs) => {
        this.counters.joinsExpired++;
        for (const x of inputs) this.ack(x);
      },
      dropped: (x) => this.ack(x),
    }, realTimers, o.latencyScale);
  }

  get name(): string {
    return `${this.o.agent.name}#${this.o.index}`;
  }

  get agent(): AgentSpec {
    return this.o.agent;
  }

  get subscription(): string {
    return agentSubscription(this.o.runId, this.o.agent.name);
  }

  async start(): Promise<void> {
    // Producers first (one per partition, shared by the process's consumers): connecting them
    // is setup, not part of the measured run.
    await this.o.sender.prepare(pulsarTypeTopic(this.o.runId, this.o.agent.publishes), this.o.partitions);
    await this.o.sender.prepare(pulsarConsumedTopic(this.o.runId), this.o.partitions);
    const shared = this.o.subscriptionType === 'Shared' || this.o.subscriptionType === 'Key_Shared';
    for (const type of new Set(this.o.agent.consumes.types)) {
      const topic = pulsarTypeTopic(this.o.runId, type);
      const c = await ReconnectingConsumer.connect(this.o.wsUrl, topic, this.subscription, {
        subscriptionType: this.o.subscriptionType,
        subscriptionInitialPosition: 'Earliest',
        consumerName: this.name,
        receiverQueueSize: this.o.receiverQueueSize,
        ...(shared ? {
          negativeAckRedeliveryDelay: this.o.nackDelayMs,
          maxRedeliverCount: this.o.maxRedeliverCount,
          deadLetterTopic: pulsarDlqTopic(this.o.runId, type, this.o.agent.name),
        } : {}),
      }, (m, via) => this.onMessage({ m, consumer: via, type }), (e) => this.fail(e));
      this.consumers.push(c);
    }
  }

  /** Everything PulsarConsumerView exposes, taken synchronously (one consistent instant). */
  snapshot(describe: (e: unknown) => string): PulsarConsumerSnapshot {
    this.syncCounters();
    return {
      name: this.name,
      agent: this.o.agent.name,
      inFlight: this.inFlight,
      inFlightInputs: this.inFlightInputs,
      counters: { ...this.counters },
      failure: this.failure === undefined ? undefined : describe(this.failure),
      lastDoneMs: this.lastDoneMs,
      buffered: this.buffered(),
      busy: this.busy(),
    };
  }

  private syncCounters(): void {
    this.counters.reconnects = this.consumers.reduce((s, c) => s + c.reconnects, 0);
    this.counters.droppedAcks = this.consumers.reduce((s, c) => s + c.droppedAcks, 0);
  }

  buffered(): number {
    return this.held.size;
  }

  busy(): boolean {
    return this.held.size > 0 || this.inFlight > 0 || this.pendingOps > 0 || this.router.openBatches() > 0;
  }

  private fail(e: unknown): void {
    if (this.closed) return;
    this.failure ??= e;
  }

  private onMessage(x: Input): void {
    const id = x.m.messageId;
    if (this.held.has(id)) {
      // Redelivered while we work on it (reconnect, Failover rewind): its ack comes when it is
      // done, on the connection of this delivery.
      this.counters.redelivered++;
      this.held.set(id, x);
      return;
    }
    if (this.acked.has(id)) {
      // We acked it and the ack was lost: ack again, do not process again.
      this.counters.redelivered++;
      x.consumer.ack(x.m);
      return;
    }
    this.held.set(id, x);
    const r = parseArtifact(this.o.workload, x.type, x.m.payload.toString('utf8'));
    if ('invalid' in r) {
      this.reject(x, r.invalid);
      return;
    }
    x.artifact = r.artifact;
    if (!accepts(this.o.agent, r.artifact)) {
      this.counters.filtered++;
      this.ack(x);
      return;
    }
    this.router.offer(x);
  }

  private ack(x: Input): void {
    const id = x.m.messageId;
    const latest = this.held.get(id) ?? x;
    this.held.delete(id);
    this.acked.add(id);
    latest.consumer.ack(latest.m);
  }

  private reject(x: Input, why: string): void {
    if (this.o.subscriptionType === 'Shared' || this.o.subscriptionType === 'Key_Shared') {
      // The broker delivers it again; the delivery after the last allowed one goes to the DLQ.
      const latest = this.held.get(x.m.messageId) ?? x;
      this.held.delete(x.m.messageId);
      this.counters.nacks++;
      if (x.m.redeliveryCount >= this.o.maxRedeliverCount) this.counters.dlq++;
      dbg(this.name, 'nack', x.m.messageId, `redelivery ${x.m.redeliveryCount}`, why);
      latest.consumer.nack(latest.m);
      return;
    }
    this.pendingOps++;
    this.counters.dlq++;
    this.o.sender
      .send({
        topic: pulsarDlqTopic(this.o.runId, x.type, this.o.agent.name),
        partitions: 0,
        key: x.m.key ?? '',
        value: x.m.payload.toString('utf8'),
        properties: { ...x.m.properties, REAL_TOPIC: pulsarTypeTopic(this.o.runId, x.type), REAL_SUBSCRIPTION: this.subscription, ORIGIN_MESSAGE_ID: x.m.messageId, ERROR: why },
      })
      .then(() => this.ack(x), (e) => this.fail(e))
      .finally(() => this.pendingOps--);
  }

  /** Execute now if a slot is free, else wait in arrival order. */
  private schedule(inputs: Input[]): void {
    if (this.inFlight < this.o.maxInFlight) this.run(inputs);
    else this.waiting.push(inputs);
  }

  private run(inputs: Input[]): void {
    this.inFlight++;
    this.inFlightInputs += inputs.length;
    this.counters.executions++;
    if (this.inFlight > this.counters.peakInFlight) this.counters.peakInFlight = this.inFlight;
    const artifacts = inputs.map((x) => x.artifact!);
    const rt = this.o.runtime;
    void executeAgent(this.o.agent, artifacts, rt)
      .then(async (outs) => {
        const at = rt.clock();
        const sends = [
          ...outs.map((a) => this.o.sender.send({ topic: pulsarTypeTopic(this.o.runId, a.type), partitions: this.o.partitions, key: this.o.keys?.keyOf(a) ?? recordKey(a), value: JSON.stringify(a) })),
          ...artifacts.map((a) => this.o.sender.send({
            topic: pulsarConsumedTopic(this.o.runId),
            partitions: this.o.partitions,
            key: a.id,
            value: JSON.stringify({ artifactId: a.id, agent: this.o.agent.name, atMs: at }),
          })),
        ];
        // At-least-once: the inputs are acked only once every output is stored.
        await Promise.all(sends);
        for (const x of inputs) this.ack(x);
        this.lastDoneMs = rt.clock();
      })
      .catch((e) => this.fail(e))
      .finally(() => {
        this.inFlight--;
        this.inFlightInputs -= inputs.length;
        const next = this.waiting.shift();
        if (next) this.run(next);
      });
  }

  async close(): Promise<void> {
    this.closed = true;
    this.router.clear();
    await Promise.all(this.consumers.map((c) => c.close()));
  }
}

const dbg = (...a: unknown[]) => {
  if (process.env.FLOCKBENCH_DEBUG_PULSAR) console.error('[pulsar-worker]', ...a.map((x) => (x instanceof Error ? describeError(x) : x)));
};
