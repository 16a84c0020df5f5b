// One consumer of an agent's consumer group: reads the agent's subscribed type topics
// (read-committed), filters, batches/joins by correlation, runs the shared agent body and
// publishes the outputs. Delivery:
//   at-least-once — idempotent producer sends outputs, then the consumer commits offsets;
//   exactly-once  — outputs, consumption records, DLQ records and the input offsets go in ONE
//                   transaction (KIP-447: TxnOffsetCommit carries the group generation).
// Offsets are committed only up to the first record still being worked on, and in
// exactly-once mode a transaction only covers completions below that point, so a committed
// offset always matches exactly the outputs already committed.
import { executeAgent, type AgentRuntime } from '../../workloads/execute.ts';
import { ERROR_TYPE, type AgentSpec, type Artifact, type WorkloadSpec } from '../../workloads/spec.ts';
import { accepts, realTimers, Router } from '../../workloads/routing.ts';
import { parseArtifact } from '../blackboard/distributed/artifact.ts';
import type { RecordKeys } from '../blackboard/stores/keying.ts';
import { OffsetTracker, consumedTopic, dlqTopic, parseTp, recordKey, tpKey, transactionalId, typeTopic } from '../blackboard/stores/kafka/layout.ts';
import type { DlqRecord } from '../blackboard/stores/kafka/store.ts';
import { describeError } from '../../core/errors.ts';
import { Consumer, Producer, stringDeserializers, stringSerializers, type Message, type MessagesStream, TRANSACTIONAL_INIT, forceClose, READ_COMMITTED, clientBase, guardConsumer, warmProducer } from '../../brokers/kafka/client.ts';

export type DeliveryMode = 'at-least-once' | 'exactly-once';

export interface WorkerOptions {
  bootstrap: string[];
  runId: string;
  groupId: string;
  index: number;
  agent: AgentSpec;
  workload: WorkloadSpec;
  runtime: AgentRuntime;
  mode: DeliveryMode;
  /** Max agent executions running at once in this consumer; the stream is paused at the limit. */
  maxInFlight: number;
  /** Max completions per transaction / offset commit. */
  batchSize: number;
  /** Wait this long for more completions before a commit, ms. */
  lingerMs: number;
  /** Batch/join timeouts are multiplied by it. */
  latencyScale: number;
  /** Executions of one input before it goes to the DLQ. */
  maxAttempts: number;
  /** Fetch response size limit, bytes (Kafka's fetch.max.bytes); default the client's 10 MB. */
  fetchMaxBytes?: number;
  /**
   * Fault hook (tests, chaos runs): return true to crash after the outputs were produced and
   * before the commit. Exactly-once aborts the transaction; at-least-once skips the offset
   * commit and reprocesses the inputs, as a restarted consumer would from the committed offset.
   */
  faultAfterProduce?: (c: { attempt: number; inputKeys: string[] }) => boolean;
  /**
   * This consumer is its group's only member: a re-join (e.g. after the group coordinator
   * failed over) gives it back the same partitions, so it is counted, not fatal.
   */
  allowRejoin?: boolean;
  /** How outputs are keyed (../blackboard/stores/keying.ts); default partitionKey ?? correlationId. */
  keys?: RecordKeys;
}

interface InputRef {
  tp: string;
  offset: bigint;
  artifact?: Artifact;
}

interface Completion {
  inputs: InputRef[];
  outputs: { topic: string; key: string; value: string }[];
  attempt: number;
  /** Re-run the agent on these inputs (after an injected crash). */
  retry?: () => void;
}

/** How one commit attempt ended. */
type CommitOutcome =
  /** Outputs and offsets are committed. */
  | 'committed'
  /** The fault hook crashed the worker between produce and commit: the inputs are reprocessed. */
  | 'crashed'
  /** A broker, coordinator or network error aborted it: nothing is visible; commit the same completions again. */
  | 'failed';

/**
 * Whether a client error means this consumer is no longer a member of its group's current
 * generation (UNKNOWN_MEMBER_ID, ILLEGAL_GENERATION, REBALANCE_IN_PROGRESS, MEMBER_ID_REQUIRED)
 * or its producer was fenced (a newer instance with its transactional id exists). Retrying
 * the same transaction cannot succeed then; the consumer must be replaced.
 */
export function membershipLost(e: unknown): boolean {
  const seen = new Set<unknown>();
  const walk = (x: unknown): boolean => {
    if (!x || typeof x !== 'object' || seen.has(x)) return false;
    seen.add(x);
    const g = x as { needsRejoin?: boolean; producerFenced?: boolean; apiId?: string; id?: string; errors?: unknown[]; cause?: unknown };
    if (g.needsRejoin || g.producerFenced) return true;
    const id = g.apiId ?? g.id;
    if (id && ['UNKNOWN_MEMBER_ID', 'ILLEGAL_GENERATION', 'REBALANCE_IN_PROGRESS', 'MEMBER_ID_REQUIRED', 'FENCED_INSTANCE_ID', 'PRODUCER_FENCED', 'INVALID_PRODUCER_EPOCH'].includes(id)) return true;
    return (g.errors ?? []).some(walk) || walk(g.cause);
  };
  return walk(e);
}

export interface WorkerCounters {
  executions: number;
  reprocessed: number;
  dlq: number;
  filtered: number;
  /** Transactions begun (exactly-once). */
  transactions: number;
  /** Transactions aborted or offset commits skipped: injected crashes plus failed commits. */
  aborts: number;
  /** Commit attempts that failed on a broker/coordinator error and were retried with the same completions. */
  failedCommits: number;
  /** At-least-once: outputs were produced but the offset commit after them failed or was skipped (a reprocess after it duplicates). */
  producedNotCommitted: number;
  producerRecreations: number;
  /** Successful commits (transactions committed, or offset commits at-least-once). */
  commits: number;
  peakInFlight: number;
  pauses: number;
  rebalances: number;
  joinsExpired: number;
}

/**
 * What the run's coordinator needs to know of one consumer: its group and assignment, fetch
 * positions and whether it holds work. AgentWorker is one in this process; RemoteConsumer
 * (worker-pool.ts) mirrors one living in a worker process.
 */
export interface ConsumerView {
  readonly name: string;
  readonly groupId: string;
  readonly agent: AgentSpec;
  readonly inFlight: number;
  readonly counters: WorkerCounters;
  readonly failure?: unknown;
  /** Run-clock time of this consumer's last successful commit (transaction or offset commit), ms; undefined before the first. */
  readonly lastCommitAtMs?: number;
  assigned(): string[];
  positions(): Map<string, bigint>;
  buffered(): number;
  busy(): boolean;
}

/** A consumer's state at one instant (sent from worker processes to the coordinator). */
export interface ConsumerSnapshot {
  name: string;
  groupId: string;
  agent: string;
  inFlight: number;
  counters: WorkerCounters;
  failure?: string;
  lastCommitAtMs?: number;
  assigned: string[];
  positions: [string, bigint][];
  buffered: number;
  busy: boolean;
}

export class AgentWorker implements ConsumerView {
  readonly counters: WorkerCounters = {
    executions: 0, reprocessed: 0, dlq: 0, filtered: 0, transactions: 0, aborts: 0, failedCommits: 0, producedNotCommitted: 0, producerRecreations: 0, commits: 0, peakInFlight: 0, pauses: 0, rebalances: 0, joinsExpired: 0,
  };
  consumer!: Consumer<string, string, string, string>;
  stream?: MessagesStream<string, string, string, string>;
  private producer?: Producer<string, string, string, string>;
  private readonly tracker = new OffsetTracker();
  private readonly completions: Completion[] = [];
  /** Batches and joins of the agent's subscription (workloads/routing.ts, as everywhere). */
  private readonly router: Router<InputRef>;
  inFlight = 0;
  private paused = false;
  private committing = false;
  private commitTimer?: NodeJS.Timeout;
  private closed = false;
  /** Consecutive failed commit attempts (backoff). */
  private failedInARow = 0;
  /** Last successful heartbeat, ms (Date.now()); see start(). */
  private lastHeartbeat = Date.now();
  private heartbeatWatch?: NodeJS.Timeout;
  failure?: unknown;
  /** Set once the group is stable and seeds are about to be published. */
  measuring = false;
  /** Run-clock time of the last successful commit, ms (the run's work ends there, not at an idle poll). */
  lastCommitAtMs?: number;
  private readonly typeTopics: Map<string, string>;

  constructor(readonly o: WorkerOptions) {
    this.typeTopics = new Map(o.agent.consumes.types.map((t) => [typeTopic(o.runId, t), t]));
    // Inputs that never execute (a partial join that expired, a second artifact of a type a
    // partial join already holds) are consumed without outputs: committed, as the in-memory
    // orchestrator drops them.
    const consumeOnly = (inputs: InputRef[]) => this.complete({ inputs, outputs: [], attempt: 1 });
    this.router = new Router<InputRef>(o.agent, (r) => r.artifact!, {
      ready: (inputs) => this.run(inputs, 1),
      expired: (inputs) => { this.counters.joinsExpired++; consumeOnly(inputs); },
      dropped: (input) => consumeOnly([input]),
    }, realTimers, o.latencyScale);
  }

  get name(): string {
    return `${this.o.agent.name}#${this.o.index}`;
  }

  get groupId(): string {
    return this.o.groupId;
  }

  get agent(): AgentSpec {
    return this.o.agent;
  }

  /** Everything ConsumerView exposes, taken synchronously (one consistent instant). */
  snapshot(describe: (e: unknown) => string): ConsumerSnapshot {
    return {
      name: this.name,
      groupId: this.groupId,
      agent: this.o.agent.name,
      inFlight: this.inFlight,
      counters: { ...this.counters },
      failure: this.failure === undefined ? undefined : describe(this.failure),
      lastCommitAtMs: this.lastCommitAtMs,
      assigned: this.assigned(),
      positions: [...this.positions()],
      buffered: this.buffered(),
      busy: this.busy(),
    };
  }

  async start(): Promise<void> {
    // Exactly-once: initialise the transactional producer FIRST, like the Java client's
    // initTransactions() before subscribing. InitProducerId bumps the epoch of this
    // transactional id: it fences the producer of the consumer this one replaces, and returns
    // only once that producer's last transaction is complete (committed if its EndTxn got
    // through, else aborted). Only then may the consumer read its committed offsets: read
    // earlier, while that transaction's offsets were still pending, they are the offsets from
    // before it (the client's OffsetFetch does not ask for stable offsets), and the inputs it
    // committed are processed and committed a second time (a chaos run duplicated 10 artifacts
    // this way). Initialised lazily, an abandoned open transaction would also hold the last
    // stable offset of every partition it wrote to until the transaction timeout.
    if (this.o.mode === 'exactly-once') await this.recreateProducer(false);
    // At-least-once: the outputs' producer is ready before the window too (see warmProducer).
    else await warmProducer(this.idempotentProducer(), [...[...new Set([this.o.agent.publishes, ERROR_TYPE])].map((t) => typeTopic(this.o.runId, t)), consumedTopic(this.o.runId)]);
    this.consumer = guardConsumer(new Consumer({
      ...clientBase(this.o.bootstrap, `fb-${this.o.agent.name}-${this.o.index}`),
      groupId: this.o.groupId,
      deserializers: stringDeserializers,
      isolationLevel: READ_COMMITTED,
      maxWaitTime: 50,
      ...(this.o.fetchMaxBytes ? { maxBytes: this.o.fetchMaxBytes, maxBytesPerPartition: this.o.fetchMaxBytes } : {}),
      // Small buffer: backpressure is our in-flight limit, not a 1024-message readable buffer.
      highWaterMark: Math.max(16, this.o.maxInFlight * 2),
      sessionTimeout: SESSION_TIMEOUT_MS,
      heartbeatInterval: 500,
      rebalanceTimeout: 10_000,
    }));
    this.stream = await this.consumer.consume({ topics: [...this.typeTopics.keys()], mode: 'committed', fallbackMode: 'earliest', autocommit: false });
    this.stream.on('data', (m) => this.onMessage(m));
    this.stream.on('error', (e) => this.fail(e));
    // Membership watchdog. A member whose heartbeats have not reached the group coordinator for
    // a session timeout has been evicted: every TxnOffsetCommit then fails with
    // UNKNOWN_MEMBER_ID and no retry can succeed. @platformatic/kafka 1.35 even stops
    // heartbeating for good after one failed heartbeat that is not a group error (a coordinator
    // that died: it cancels its timer and only re-arms a timer that is already gone), and it
    // caches the coordinator forever (#290), so the consumer never finds out. A consumer in
    // that state fails; the supervisor (restartFailedWorkers) replaces it with a fresh one.
    this.lastHeartbeat = Date.now();
    this.consumer.on('consumer:heartbeat:end', () => {
      this.lastHeartbeat = Date.now();
    });
    this.heartbeatWatch = setInterval(() => {
      const silent = Date.now() - this.lastHeartbeat;
      if (silent > SESSION_TIMEOUT_MS && !this.closed && this.consumer.memberId) {
        this.fail(new Error(`${this.name}: no successful heartbeat for ${silent} ms (session timeout ${SESSION_TIMEOUT_MS} ms): group membership lost`));
      }
    }, 1000);
    this.heartbeatWatch.unref();
    this.consumer.on('consumer:group:rebalance', () => {
      this.counters.rebalances++;
      // In-memory batches, joins and offset tracking belong to the old assignment, and the
      // stream keeps its fetch position for partitions it keeps, so records we held would not
      // come back. Runs wait for stable groups before publishing; a rebalance after that
      // (consumer crash, session timeout) invalidates the run instead of silently losing work.
      if (this.measuring && !this.o.allowRejoin) this.fail(new Error(`consumer group ${this.o.groupId} rebalanced during the run (member ${this.name}); the run is invalid`));
    });
  }

  /** Partitions currently assigned to this consumer, as `topic:partition`. */
  assigned(): string[] {
    return (this.consumer?.assignments ?? []).flatMap((a) => a.partitions.map((p) => tpKey(a.topic, p)));
  }

  /** Fetch position per assigned partition (includes transaction markers). */
  positions(): Map<string, bigint> {
    const all = this.stream?.offsetsToFetch;
    const out = new Map<string, bigint>();
    if (!all) return out;
    for (const tp of this.assigned()) {
      const pos = all.get(tp);
      if (pos !== undefined) out.set(tp, pos);
    }
    return out;
  }

  /** Records received and waiting: in a batch/join, or done but not yet committed. */
  buffered(): number {
    return this.tracker.pending() - this.inFlight;
  }

  /**
   * Holds work: an execution, a completion or a commit in progress, a batch waiting, records in
   * the stream's buffer, or any received offset not yet committed (the last one makes "not
   * busy" mean "everything this consumer received is committed").
   */
  busy(): boolean {
    return this.inFlight > 0 || this.completions.length > 0 || this.committing || this.router.openBatches() > 0 || this.stream?.readableLength !== 0 || this.tracker.pending() > 0;
  }

  private fail(e: unknown): void {
    if (this.closed) return;
    this.failure ??= e;
  }

  private onMessage(m: Message<string, string, string, string>): void {
    const tp = tpKey(m.topic, m.partition);
    // After a re-join the stream rewinds to the committed offsets; what we hold is not new.
    if (this.tracker.seen(tp, m.offset)) {
      dbg(this.name, 'redelivered', tp.slice(-3), m.offset);
      return;
    }
    this.tracker.received(tp, m.offset);
    const ref: InputRef = { tp, offset: m.offset };
    const type = this.typeTopics.get(m.topic)!;
    const invalid = this.validate(type, m.value, ref);
    if (invalid) {
      this.toDlq([ref], invalid, m.value);
      return;
    }
    if (!accepts(this.o.agent, ref.artifact!)) {
      this.counters.filtered++;
      this.complete({ inputs: [ref], outputs: [], attempt: 1 });
      return;
    }
    this.router.offer(ref);
  }

  private validate(type: string, value: string | undefined, ref: InputRef): string | undefined {
    const r = parseArtifact(this.o.workload, type, value);
    if ('invalid' in r) return r.invalid;
    ref.artifact = r.artifact;
    return undefined;
  }

  private toDlq(inputs: InputRef[], error: string, raw?: string): void {
    this.counters.dlq++;
    const outputs = inputs.map((r) => {
      const { topic, partition } = parseTp(r.tp);
      const rec: DlqRecord = {
        error,
        agent: this.o.agent.name,
        origin: { topic, partition, offset: r.offset.toString() },
        raw: raw ?? (r.artifact ? JSON.stringify(r.artifact) : undefined),
        atMs: this.o.runtime.clock(),
      };
      return { topic: dlqTopic(this.o.runId), key: `${topic}:${partition}:${r.offset}`, value: JSON.stringify(rec) };
    });
    this.complete({ inputs, outputs, attempt: 1 });
  }

  /** Execute the agent on `inputs`; bounded by maxInFlight via stream pause/resume. */
  private run(inputs: InputRef[], attempt: number): void {
    this.inFlight++;
    this.counters.executions++;
    if (attempt > 1) this.counters.reprocessed++;
    if (this.inFlight > this.counters.peakInFlight) this.counters.peakInFlight = this.inFlight;
    if (this.inFlight >= this.o.maxInFlight && !this.paused && this.stream) {
      this.paused = true;
      this.counters.pauses++;
      this.stream.pause();
    }
    const artifacts = inputs.map((r) => r.artifact!);
    void executeAgent(this.o.agent, artifacts, this.o.runtime)
      .then((outs) => {
        const at = this.o.runtime.clock();
        const outputs = [
          ...outs.map((a) => ({ topic: typeTopic(this.o.runId, a.type), key: this.o.keys?.keyOf(a) ?? recordKey(a), value: JSON.stringify(a) })),
          ...artifacts.map((a) => ({
            topic: consumedTopic(this.o.runId),
            key: a.id,
            value: JSON.stringify({ artifactId: a.id, agent: this.o.agent.name, atMs: at }),
          })),
        ];
        this.complete({
          inputs,
          outputs,
          attempt,
          retry: () => {
            if (attempt >= this.o.maxAttempts) this.toDlq(inputs, `exhausted ${attempt} attempts`);
            else this.run(inputs, attempt + 1);
          },
        });
      }, (e) => this.fail(e))
      .finally(() => {
        this.inFlight--;
        if (this.paused && this.inFlight < this.o.maxInFlight && this.stream) {
          this.paused = false;
          this.stream.resume();
        }
      });
  }

  private complete(c: Completion): void {
    for (const r of c.inputs) this.tracker.done(r.tp, r.offset);
    this.completions.push(c);
    this.scheduleCommit();
  }

  private scheduleCommit(): void {
    // A failed consumer commits nothing more: it is about to be replaced, and before this guard
    // its commit loop went on re-sending the same outputs every lingerMs until it was closed.
    if (this.committing || this.commitTimer || this.closed || this.failure !== undefined) return;
    const delay = this.completions.length >= this.o.batchSize ? 0 : this.o.lingerMs;
    this.commitTimer = setTimeout(() => {
      this.commitTimer = undefined;
      void this.commitLoop();
    }, delay);
  }

  private async commitLoop(): Promise<void> {
    if (this.committing) return;
    this.committing = true;
    try {
      while (this.completions.length && !this.closed) {
        const committable = this.tracker.allCommittable();
        // Only completions whose inputs all lie below the committable point, and per partition
        // a prefix in offset order: the committed offset must never pass an input whose
        // outputs are not in this commit (see module doc).
        const ready: Completion[] = [];
        const blocked = new Set<string>();
        const ordered = [...this.completions].sort((x, y) => cmpBig(minOffset(x), minOffset(y)));
        for (const c of ordered) {
          const ok =
            ready.length < this.o.batchSize &&
            c.inputs.every((r) => {
              const n = committable.get(r.tp);
              return !blocked.has(r.tp) && n !== undefined && r.offset < n;
            });
          if (ok) ready.push(c);
          else for (const r of c.inputs) blocked.add(r.tp);
        }
        if (!ready.length) {
          dbg(this.name, 'nothing committable', this.completions.length, [...committable].map(([tp, o]) => `${tp.slice(-3)}@${o}`).join(','), this.completions.map((c) => c.inputs.map((r) => `${r.tp.slice(-3)}@${r.offset}`).join('+')).join(' '));
          break;
        }
        const offsets = new Map<string, bigint>();
        for (const c of ready) for (const r of c.inputs) offsets.set(r.tp, maxBig(offsets.get(r.tp), r.offset + 1n));
        const outcome = this.o.mode === 'exactly-once' ? await this.commitTransaction(ready, offsets) : await this.commitAtLeastOnce(ready, offsets);
        if (outcome === 'failed') {
          // Nothing became visible (exactly-once), or the offsets are not committed (at-least-once).
          // The completions stay as they are and are committed again after a pause: the outputs
          // are already computed, so re-running the agent would only add work (and, counted as
          // attempts, send inputs to the DLQ because a broker died). Never spin on a failing broker.
          this.counters.failedCommits++;
          this.failedInARow++;
          if (this.closed || this.failure) break;
          await sleep(Math.min(2000, 100 * 2 ** Math.min(this.failedInARow, 5)));
          continue;
        }
        this.failedInARow = 0;
        for (const c of ready) this.completions.splice(this.completions.indexOf(c), 1);
        if (outcome === 'committed') {
          this.counters.commits++;
          this.lastCommitAtMs = this.o.runtime.clock();
          for (const [tp, next] of offsets) this.tracker.committed(tp, next);
        } else {
          // Injected crash: nothing of it is committed; run the agent again on the same inputs,
          // as the consumer replacing a crashed one would.
          for (const c of ready) {
            for (const r of c.inputs) this.tracker.undo(r.tp, r.offset);
            // Filtered and DLQ completions have nothing to re-run: offer them again as they are.
            if (c.retry) c.retry();
            else this.complete({ ...c, attempt: c.attempt + 1 });
          }
        }
      }
    } catch (e) {
      this.fail(e);
    } finally {
      this.committing = false;
      if (this.completions.length) this.scheduleCommit();
    }
  }

  private newTransactionalProducer(): Producer<string, string, string, string> {
    return new Producer({
      ...clientBase(this.o.bootstrap, `fb-${this.o.agent.name}-${this.o.index}-tx`),
      serializers: stringSerializers,
      idempotent: true,
      transactionalId: transactionalId(this.o.runId, this.o.agent.name, this.o.index),
      ...TRANSACTIONAL_INIT,
    });
  }

  private idempotentProducer(): Producer<string, string, string, string> {
    this.producer ??= new Producer({
      ...clientBase(this.o.bootstrap, `fb-${this.o.agent.name}-${this.o.index}`),
      serializers: stringSerializers,
      idempotent: true,
    });
    return this.producer;
  }

  private injectCrash(ready: Completion[]): boolean {
    return Boolean(this.o.faultAfterProduce?.({ attempt: Math.max(...ready.map((c) => c.attempt)), inputKeys: ready.flatMap((c) => c.inputs.map((r) => r.artifact?.key ?? '?')) }));
  }

  /** A commit attempt failed on an error: membership/fencing errors end this consumer, others are retried. */
  private commitFailed(e: unknown, where: string): CommitOutcome {
    dbg(this.name, where, e);
    if (membershipLost(e)) this.fail(e);
    return 'failed';
  }

  private async commitAtLeastOnce(ready: Completion[], offsets: Map<string, bigint>): Promise<CommitOutcome> {
    const messages = ready.flatMap((c) => c.outputs);
    try {
      if (messages.length) await this.idempotentProducer().send({ messages });
    } catch (e) {
      // Some of it may be in the log. A new idempotent producer (new producer id): the old
      // one's sequences may lag what the broker appended, and the broker would drop or refuse
      // the retry (see commitTransaction). Records sent twice are at-least-once's to show.
      this.counters.producerRecreations++;
      const old = this.producer;
      this.producer = undefined;
      await forceClose(old);
      return this.commitFailed(e, 'produce failed');
    }
    // Sent: a retry of this commit must not send them again (only a crash reprocesses).
    for (const c of ready) c.outputs = [];
    if (this.injectCrash(ready)) {
      this.counters.aborts++;
      this.counters.producedNotCommitted++;
      return 'crashed';
    }
    try {
      await this.consumer.commit({
        offsets: [...offsets].map(([tp, next]) => ({ ...parseTp(tp), offset: next, leaderEpoch: -1 })),
      });
    } catch (e) {
      // The outputs are in the log, the offsets are not: whoever processes these inputs next
      // (this consumer retrying only the commit, or its replacement re-running them) decides
      // whether they show up twice.
      this.counters.producedNotCommitted++;
      return this.commitFailed(e, 'offset commit failed');
    }
    return 'committed';
  }

  /**
   * One transaction: outputs + offsets. Any error before EndTxn aborts it (nothing visible).
   * An error of EndTxn itself is ambiguous (it may have committed): the producer is re-created
   * (InitProducerId bumps the epoch: the coordinator completes a transaction that reached
   * PREPARE_COMMIT and aborts an ongoing one, and fences the old producer; KAFKA-17754 /
   * Jepsen 2024), then the group's committed offsets tell whether the transaction landed.
   */
  private async commitTransaction(ready: Completion[], offsets: Map<string, bigint>): Promise<CommitOutcome> {
    if (!this.producer) await this.recreateProducer(false);
    const p = this.producer!;
    this.counters.transactions++;
    let tx: Awaited<ReturnType<typeof p.beginTransaction>> | undefined;
    try {
      dbg(this.name, 'tx begin', [...offsets].map(([tp, o]) => `${tp.slice(-3)}@${o}`).join(','));
      tx = await p.beginTransaction();
      const messages = ready.flatMap((c) => c.outputs);
      if (messages.length) await tx.send({ messages });
      await tx.addConsumer(this.consumer);
      // Sequential on purpose: the client deduplicates concurrent TxnOffsetCommit calls by name.
      for (const [tp, next] of offsets) {
        const { topic, partition } = parseTp(tp);
        await tx.addOffset({
          topic,
          partition,
          offset: next - 1n,
          metadata: {
            consumer: {
              groupId: this.consumer.groupId,
              memberId: this.consumer.memberId,
              generationId: this.consumer.generationId,
              coordinatorId: this.consumer.coordinatorId,
            },
          },
        } as unknown as Message<string, string, string, string>);
      }
      if (this.injectCrash(ready)) {
        await tx.abort();
        this.counters.aborts++;
        return 'crashed';
      }
    } catch (e) {
      // Failed before EndTxn: nothing committed. Abort (releases the last stable offset at
      // once), then ALWAYS start a new producer epoch, never carry on with this producer: a
      // produce the broker appended but the client never heard back about leaves the client's
      // sequence for that partition behind (@platformatic/kafka 1.35), and the broker would
      // take the next transaction's batch for a retry of the aborted one and drop it while
      // acknowledging it: a committed transaction without its output
      // (ambiguous-produce.kafka.test.ts). InitProducerId resets sequences, and aborts the
      // transaction itself if the abort did not get through.
      this.counters.aborts++;
      try {
        if (tx && !tx.completed) await tx.abort();
      } catch (abortError) {
        dbg(this.name, 'abort failed', abortError);
      }
      try {
        await this.recreateProducer();
      } catch (initError) {
        // Without a producer that fenced the old epoch this consumer cannot go on safely.
        this.fail(initError);
      }
      return this.commitFailed(e, 'tx failed before commit');
    }
    try {
      await tx.commit();
      dbg(this.name, 'tx committed');
      return 'committed';
    } catch (e) {
      dbg(this.name, 'tx commit failed (ambiguous)', e);
      try {
        await this.recreateProducer();
        if (await this.offsetsCommitted(offsets)) return 'committed';
      } catch (checkError) {
        // Unknown outcome and no way to resolve it here: the replacement consumer resumes from
        // the committed offsets, which is right either way.
        this.fail(checkError);
        return 'failed';
      }
      this.counters.aborts++;
      return this.commitFailed(e, 'tx commit failed and did not land');
    }
  }

  /**
   * Close the transactional producer (if any) and initialise a new one: InitProducerId with
   * the same transactional id bumps the epoch, which fences the old producer and makes the
   * coordinator finish (commit if prepared, else abort) its open transaction.
   */
  private async recreateProducer(count = true): Promise<void> {
    if (count) this.counters.producerRecreations++;
    const old = this.producer;
    this.producer = undefined;
    await forceClose(old);
    // A coordinator failing over can refuse InitProducerId for a while: retry on a fresh producer.
    for (let i = 0; ; i++) {
      if (this.closed) throw new Error(`${this.name} closed`);
      const p = this.newTransactionalProducer();
      try {
        // Init now: fences the old epoch before we look at committed offsets.
        const tx = await p.beginTransaction();
        // Nothing was added: the coordinator answers EndTxn with INVALID_TXN_STATE, which leaves
        // the client's transaction open ("There is already an active transaction"); drop it locally.
        await tx.abort().catch(() => tx.cancel());
        // Closed meanwhile (replaced by the supervisor): this producer must not outlive us, and
        // must not be used (it may just have fenced our replacement).
        if (this.closed) {
          await forceClose(p);
          throw new Error(`${this.name} closed`);
        }
        this.producer = p;
        return;
      } catch (e) {
        await forceClose(p);
        if (i >= 20 || this.closed) throw e;
        dbg(this.name, 'producer init failed, retrying', e);
        await sleep(500);
      }
    }
  }

  private async offsetsCommitted(offsets: Map<string, bigint>): Promise<boolean> {
    const byTopic = new Map<string, number[]>();
    for (const tp of offsets.keys()) {
      const { topic, partition } = parseTp(tp);
      byTopic.set(topic, [...(byTopic.get(topic) ?? []), partition]);
    }
    const committed = await this.consumer.listCommittedOffsets({ topics: [...byTopic].map(([topic, partitions]) => ({ topic, partitions })) });
    for (const [tp, next] of offsets) {
      const { topic, partition } = parseTp(tp);
      const c = committed.get(topic)?.[partition];
      if (c === undefined || c < next) return false;
    }
    return true;
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.commitTimer);
    clearInterval(this.heartbeatWatch);
    this.router.clear();
    await this.stream?.close().catch(() => {});
    await forceClose(this.consumer);
    await forceClose(this.producer);
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Consumer session timeout, ms: a member silent this long is evicted by its group coordinator. */
const SESSION_TIMEOUT_MS = 10_000;

/** Debug line with a wall-clock stamp (ISO time, so it lines up with broker logs and chaos events). */
const dbg = (...a: unknown[]) => { if (process.env.FLOCKBENCH_DEBUG_KAFKA) console.error(new Date().toISOString().slice(11, 23), '[kafka-worker]', ...a.map((x) => (x instanceof Error ? describeError(x) : x))); };

function minOffset(c: Completion): bigint {
  return c.inputs.reduce((m, r) => (r.offset < m ? r.offset : m), c.inputs[0]?.offset ?? 0n);
}

function cmpBig(a: bigint, b: bigint): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function maxBig(a: bigint | undefined, b: bigint): bigint {
  return a === undefined || b > a ? b : a;
}
