// A Flock-style blackboard orchestrator: agents subscribe to artifact types; publishing an
// artifact wakes every matching subscriber. Two scheduling modes, both measured:
//   eager    — publish() matches and dispatches at once (what the real Flock 0.5 does);
//   deferred — publish() from outside only enqueues; runUntilIdle() dispatches everything
//              pending in one pass ("batch, then run", as the seeds describe it).
// Artifacts published by agents during a run cascade immediately in both modes.
import { Deque } from '../../core/deque.ts';
import { ERROR_TYPE, type AgentSpec, type Artifact, type SubscriptionSpec } from '../../workloads/spec.ts';
import { executeAgent, makeArtifact, type AgentRuntime } from '../../workloads/execute.ts';
import { accepts, realTimers, Router, type ReadyReason } from '../../workloads/routing.ts';
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
  /**
   * Deferred only: route at most this many pending publishes at a time, topping up as executions
   * finish, so queued plus running executions stay near this bound instead of everything being
   * started at once. Default: no bound (one pass over everything pending).
   */
  dispatchChunk?: number;
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
  queue: Deque<Artifact[]>;
  /** Batches and joins of its subscription (workloads/routing.ts). */
  router: Router<Artifact>;
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
  private readonly deferredQueue = new Deque<Artifact>();
  private readonly dispatchChunk: number;
  private inFlight = 0;
  /** A bounded deferred dispatch is under way: finished executions make room for more (topUp). */
  private dispatching = false;
  private queued = 0;
  private pendingPublishes = 0;
  private idleWaiters: (() => void)[] = [];
  private failure: unknown;
  private handler: AgentHandler;

  constructor(private readonly opts: BlackboardOptions) {
    this.mode = opts.mode ?? 'eager';
    this.store = opts.store ?? new MemoryStore();
    this.maxIterations = opts.maxAgentIterations ?? 1000;
    this.scale = opts.latencyScale ?? 1;
    this.dispatchChunk = opts.dispatchChunk && opts.dispatchChunk > 0 ? opts.dispatchChunk : Infinity;
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
    const st: AgentState = {
      spec, running: 0, peakRunning: 0, iterations: 0, tripped: false, queue: new Deque<Artifact[]>(),
      router: new Router<Artifact>(spec, (a) => a, {
        ready: (inputs, reason) => this.onReady(st, inputs, reason),
        expired: () => { this.counters.joinsExpired++; },
        // A batch released by its timeout may have been the last thing the run waited on.
        changed: () => queueMicrotask(() => this.checkIdle()),
      }, realTimers, this.scale),
    };
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
    for (const s of this.agents.values()) pending += s.router.held();
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

  /**
   * Dispatch everything enqueued by deferred publishes, without waiting for completion. With a
   * dispatchChunk, only as much as keeps running plus queued executions under it; the rest is
   * routed as executions finish (topUp).
   */
  dispatchPending(): void {
    if (!this.deferredQueue.length) return;
    this.counters.dispatchBatches++;
    if (this.dispatchChunk === Infinity) {
      // One pass over what is pending now; publishes made while routing wait for the next dispatch.
      for (let n = this.deferredQueue.length; n > 0; n--) this.route(this.deferredQueue.shift()!);
    } else {
      this.dispatching = true;
      this.topUp();
    }
  }

  /** Bounded deferred dispatch: route pending publishes while the outstanding work is under the chunk. */
  private topUp(): void {
    while (this.deferredQueue.length && this.inFlight + this.queued < this.dispatchChunk) this.route(this.deferredQueue.shift()!);
    if (!this.deferredQueue.length) this.dispatching = false;
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
    if (this.inFlight !== 0 || this.queued !== 0 || this.pendingPublishes !== 0 || this.deferredQueue.length !== 0) return false;
    for (const s of this.agents.values()) if (s.router.openBatches()) return false;
    return true;
  }

  private checkIdle(): void {
    if (!this.isIdle()) return;
    // Idle resets the circuit breaker, as in Flock.
    for (const s of this.agents.values()) { s.iterations = 0; s.tripped = false; }
    const w = this.idleWaiters.splice(0);
    for (const r of w) r();
  }

  /** Match an artifact against subscriptions and hand it to the agents' routers. */
  private route(a: Artifact): void {
    const subs = this.subscribers.get(a.type);
    if (!subs) return;
    for (const st of subs) if (accepts(st.spec, a)) st.router.offer(a);
  }

  private onReady(st: AgentState, inputs: Artifact[], reason: ReadyReason): void {
    if (reason === 'batch-size') this.counters.batchesBySize++;
    else if (reason === 'batch-timeout') this.counters.batchesByTimeout++;
    else if (reason === 'join') this.counters.joinsCompleted++;
    this.enqueue(st, inputs);
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
      if (this.dispatching) this.topUp();
      this.checkIdle();
    }
  }

  private fail(e: unknown): void {
    this.failure ??= e;
  }
}
