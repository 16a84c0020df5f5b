// A Flock-style blackboard orchestrator: agents subscribe to artifact types; publishing an
// artifact wakes every matching subscriber. Two scheduling modes, both measured:
//   eager    — publish() matches and dispatches at once (what the real Flock 0.5 does);
//   deferred — publish() from outside only enqueues; runUntilIdle() dispatches everything
//              pending in one pass ("batch, then run", as the seeds describe it).
// Artifacts published by agents during a run cascade immediately in both modes.
import { ERROR_TYPE, type AgentSpec, type Artifact, type SubscriptionSpec, type WhereSpec } from '../../workloads/spec.ts';
import { executeAgent, makeArtifact, type AgentRuntime } from '../../workloads/execute.ts';
import type { BlackboardStore } from './store.ts';
import { MemoryStore } from './stores/memory.ts';

export type SchedulingMode = 'eager' | 'deferred';

export interface BlackboardOptions {
  /** Default `eager`. */
  mode?: SchedulingMode;
  /** Default: a fresh MemoryStore. */
  store?: BlackboardStore;
  /** Circuit breaker: executions per agent between two idle points (Flock default 1000). */
  maxAgentIterations?: number;
  /** Batch and join timeouts are multiplied by it (default 1), like every latency. */
  latencyScale?: number;
  runtime: AgentRuntime;
}

/** What an agent runs on a set of inputs. Default: the workload's shared agent body. */
export type AgentHandler = (agent: AgentSpec, inputs: Artifact[]) => Promise<Artifact[]>;

export interface BlackboardCounters {
  published: number;
  executions: number;
  batchesBySize: number;
  batchesByTimeout: number;
  joinsCompleted: number;
  joinsExpired: number;
  circuitBreaks: number;
  errors: number;
  peakInFlight: number;
  /** Non-empty dispatches of deferred publishes (runUntilIdle or dispatchPending calls). */
  dispatchBatches: number;
}

interface AgentState {
  spec: AgentSpec;
  running: number;
  peakRunning: number;
  iterations: number;
  tripped: boolean;
  queue: Artifact[][];
  /** Open batches by key (correlation id, or '*' for one global batch). */
  batches: Map<string, { items: Artifact[]; timer?: NodeJS.Timeout }>;
  /** Partial joins by correlation id: one slot per consumed type. */
  joins: Map<string, { byType: Map<string, Artifact>; timer?: NodeJS.Timeout }>;
}

/** Fluent builder, Flock style: `bb.agent('x').consumes('A').publishes('B').maxConcurrency(4)`. */
export class AgentBuilder {
  private readonly spec: Partial<AgentSpec> & { name: string };
  constructor(private readonly bb: Blackboard, name: string) {
    this.spec = { name, maxConcurrency: 2, model: 'gpt-4.1-mini', promptTokens: 300, outputTokens: 100 };
  }
  description(d: string) { this.spec.description = d; return this; }
  consumes(types: string | string[], opts: Omit<SubscriptionSpec, 'types'> = {}) {
    this.spec.consumes = { types: Array.isArray(types) ? types : [types], ...opts };
    return this;
  }
  publishes(type: string, opts: { fanOut?: number; fields?: Record<string, unknown> } = {}) {
    this.spec.publishes = type;
    this.spec.fanOut = opts.fanOut;
    this.spec.outputFields = opts.fields;
    return this;
  }
  maxConcurrency(n: number) { this.spec.maxConcurrency = n; return this; }
  model(m: string, tokens?: { prompt: number; output: number }) {
    this.spec.model = m;
    if (tokens) { this.spec.promptTokens = tokens.prompt; this.spec.outputTokens = tokens.output; }
    return this;
  }
  allowSelfTrigger(on = true) { this.spec.allowSelfTrigger = on; return this; }
  /** Register the agent; returns its spec. */
  build(): AgentSpec {
    if (!this.spec.consumes || !this.spec.publishes) throw new Error(`agent ${this.spec.name}: consumes() and publishes() are required`);
    const s = this.spec as AgentSpec;
    this.bb.addAgent(s);
    return s;
  }
}

export class Blackboard {
  readonly mode: SchedulingMode;
  readonly store: BlackboardStore;
  readonly counters: BlackboardCounters = {
    published: 0, executions: 0, batchesBySize: 0, batchesByTimeout: 0, joinsCompleted: 0,
    joinsExpired: 0, circuitBreaks: 0, errors: 0, peakInFlight: 0, dispatchBatches: 0,
  };
  private readonly agents = new Map<string, AgentState>();
  /** Subscription index: type -> agents consuming it (matching is one map lookup). */
  private readonly subscribers = new Map<string, AgentState[]>();
  private readonly maxIterations: number;
  private readonly scale: number;
  private readonly deferredQueue: Artifact[] = [];
  private inFlight = 0;
  private queued = 0;
  private openTimers = 0;
  private pendingPublishes = 0;
  private idleWaiters: (() => void)[] = [];
  private failure: unknown;
  private handler: AgentHandler;

  constructor(private readonly opts: BlackboardOptions) {
    this.mode = opts.mode ?? 'eager';
    this.store = opts.store ?? new MemoryStore();
    this.maxIterations = opts.maxAgentIterations ?? 1000;
    this.scale = opts.latencyScale ?? 1;
    this.handler = (agent, inputs) => executeAgent(agent, inputs, opts.runtime);
  }

  /** Replace the agent body (tests of scheduling semantics). */
  setHandler(h: AgentHandler): this {
    this.handler = h;
    return this;
  }

  agent(name: string): AgentBuilder {
    return new AgentBuilder(this, name);
  }

  addAgent(spec: AgentSpec): void {
    if (this.agents.has(spec.name)) throw new Error(`agent ${spec.name} registered twice`);
    if (!(spec.maxConcurrency >= 1)) throw new Error(`agent ${spec.name}: maxConcurrency must be >= 1`);
    if (spec.consumes.types.length > 1 && !spec.consumes.join) throw new Error(`agent ${spec.name}: several consumed types need a join`);
    const st: AgentState = { spec, running: 0, peakRunning: 0, iterations: 0, tripped: false, queue: [], batches: new Map(), joins: new Map() };
    this.agents.set(spec.name, st);
    for (const t of new Set(spec.consumes.types)) {
      let subs = this.subscribers.get(t);
      if (!subs) this.subscribers.set(t, (subs = []));
      subs.push(st);
    }
  }

  /** Peak concurrent executions observed per agent (for tests and the report). */
  peakRunning(): Record<string, number> {
    return Object.fromEntries([...this.agents].map(([n, s]) => [n, s.peakRunning]));
  }

  queueDepth(): { pending: number; inFlight: number } {
    let pending = this.deferredQueue.length + this.queued;
    for (const s of this.agents.values()) {
      for (const b of s.batches.values()) pending += b.items.length;
      for (const j of s.joins.values()) pending += j.byType.size;
    }
    return { pending, inFlight: this.inFlight };
  }

  /**
   * Publish an artifact from outside. Eager: matched and dispatched now. Deferred: enqueued
   * until runUntilIdle(). Resolves once the store holds it.
   */
  async publish(a: Artifact): Promise<Artifact> {
    this.pendingPublishes++;
    try {
      await this.store.publish(a);
    } finally {
      this.pendingPublishes--;
    }
    this.counters.published++;
    if (this.mode === 'deferred') this.deferredQueue.push(a);
    else this.route(a);
    return a;
  }

  /** Dispatch everything enqueued by deferred publishes, without waiting for completion. */
  dispatchPending(): void {
    if (!this.deferredQueue.length) return;
    this.counters.dispatchBatches++;
    const batch = this.deferredQueue.splice(0);
    for (const a of batch) this.route(a);
  }

  /** Dispatch pending work and resolve when nothing runs, waits in a queue or in a timed batch. */
  async runUntilIdle(): Promise<void> {
    this.dispatchPending();
    if (!this.isIdle()) await new Promise<void>((resolve) => this.idleWaiters.push(resolve));
    if (this.failure) {
      const f = this.failure;
      this.failure = undefined;
      throw f;
    }
  }

  private isIdle(): boolean {
    return this.inFlight === 0 && this.queued === 0 && this.openTimers === 0 && this.pendingPublishes === 0 && this.deferredQueue.length === 0;
  }

  private checkIdle(): void {
    if (!this.isIdle()) return;
    // Idle resets the circuit breaker, as in Flock.
    for (const s of this.agents.values()) { s.iterations = 0; s.tripped = false; }
    const w = this.idleWaiters.splice(0);
    for (const r of w) r();
  }

  /** Match an artifact against subscriptions and hand it to batches, joins or agent queues. */
  private route(a: Artifact): void {
    const subs = this.subscribers.get(a.type);
    if (!subs) return;
    for (const st of subs) {
      const spec = st.spec;
      if (a.producedBy === spec.name && !spec.allowSelfTrigger) continue;
      if (spec.consumes.where && !matchesWhere(spec.consumes.where, a.payload)) continue;
      if (spec.consumes.join) this.addToJoin(st, a);
      else if (spec.consumes.batch) this.addToBatch(st, a);
      else this.enqueue(st, [a]);
    }
  }

  private addToBatch(st: AgentState, a: Artifact): void {
    const b = st.spec.consumes.batch!;
    const key = b.by === 'correlationId' ? a.correlationId : '*';
    let bucket = st.batches.get(key);
    if (!bucket) {
      bucket = { items: [] };
      st.batches.set(key, bucket);
      this.openTimers++;
      bucket.timer = setTimeout(() => {
        const cur = st.batches.get(key);
        if (cur !== bucket) return;
        st.batches.delete(key);
        this.openTimers--;
        this.counters.batchesByTimeout++;
        this.enqueue(st, bucket!.items);
        this.checkIdle();
      }, b.timeoutMs * this.scale);
    }
    bucket.items.push(a);
    if (bucket.items.length >= b.size) {
      clearTimeout(bucket.timer);
      st.batches.delete(key);
      this.openTimers--;
      this.counters.batchesBySize++;
      this.enqueue(st, bucket.items);
    }
  }

  private addToJoin(st: AgentState, a: Artifact): void {
    const j = st.spec.consumes.join!;
    const key = a.correlationId;
    let group = st.joins.get(key);
    if (!group) {
      group = { byType: new Map() };
      st.joins.set(key, group);
      if (j.withinMs !== undefined) {
        const g = group;
        g.timer = setTimeout(() => {
          if (st.joins.get(key) !== g) return;
          st.joins.delete(key);
          this.counters.joinsExpired++;
        }, j.withinMs * this.scale);
        g.timer.unref?.();
      }
    }
    // A second artifact of a type already present replaces nothing: it waits for a new group.
    if (group.byType.has(a.type)) return;
    group.byType.set(a.type, a);
    const types = st.spec.consumes.types;
    if (group.byType.size === new Set(types).size) {
      clearTimeout(group.timer);
      st.joins.delete(key);
      this.counters.joinsCompleted++;
      this.enqueue(st, types.map((t) => group!.byType.get(t)!));
    }
  }

  private enqueue(st: AgentState, inputs: Artifact[]): void {
    if (st.tripped) return;
    if (++st.iterations > this.maxIterations) {
      st.tripped = true;
      this.counters.circuitBreaks++;
      const err = makeArtifact({
        key: `circuit-breaker:${st.spec.name}`,
        type: ERROR_TYPE,
        payload: { agent: st.spec.name, error: `circuit breaker: more than ${this.maxIterations} executions before idle` },
        producedBy: 'orchestrator',
        correlationId: inputs[0]?.correlationId ?? 'none',
      }, this.opts.runtime.clock());
      this.pendingPublishes++;
      this.store.publish(err).then(() => { this.counters.published++; }, (e) => this.fail(e)).finally(() => { this.pendingPublishes--; this.checkIdle(); });
      return;
    }
    if (st.running < st.spec.maxConcurrency) this.start(st, inputs);
    else {
      st.queue.push(inputs);
      this.queued++;
    }
  }

  private start(st: AgentState, inputs: Artifact[]): void {
    st.running++;
    this.inFlight++;
    if (st.running > st.peakRunning) st.peakRunning = st.running;
    if (this.inFlight > this.counters.peakInFlight) this.counters.peakInFlight = this.inFlight;
    this.counters.executions++;
    void this.execute(st, inputs);
  }

  private async execute(st: AgentState, inputs: Artifact[]): Promise<void> {
    const store = this.store;
    try {
      const at = this.opts.runtime.clock();
      const records = inputs.map((a) => ({ artifactId: a.id, agent: st.spec.name, atMs: at }));
      if (store.recordConsumptionSync) store.recordConsumptionSync(records);
      else await store.recordConsumption(records);
      const outputs = await this.handler(st.spec, inputs);
      for (const o of outputs) {
        if (store.publishSync) store.publishSync(o);
        else await store.publish(o);
        this.counters.published++;
        if (o.type === ERROR_TYPE) this.counters.errors++;
        this.route(o);
      }
    } catch (e) {
      // Only infrastructure failures land here (agent failures are error artifacts).
      this.fail(e);
    } finally {
      st.running--;
      this.inFlight--;
      const next = st.queue.shift();
      if (next) {
        this.queued--;
        this.start(st, next);
      }
      this.checkIdle();
    }
  }

  private fail(e: unknown): void {
    this.failure ??= e;
  }
}

export function matchesWhere(w: WhereSpec, payload: Record<string, unknown>): boolean {
  const v = payload[w.field] as string | number | boolean;
  if (w.equals !== undefined && v !== w.equals) return false;
  if (w.in !== undefined && !w.in.includes(v)) return false;
  return true;
}
