// Worker processes of blackboard-pulsar (`processes >= 1`): the coordinator forks N Node
// processes (worker-process.ts), each running `consumers` consumers of every agent's
// subscription and its own deduplicating producers. The pool, its IPC and clock anchoring are
// shared with blackboard-kafka (../blackboard/distributed/pool.ts); what is Pulsar's here is the
// init message and the mirror of a consumer.
import type { SubscriptionType } from '../../brokers/pulsar/client.ts';
import type { AgentSpec } from '../../workloads/spec.ts';
import { type Mirror, WorkerProcess, type WorkerInitBase } from '../blackboard/distributed/pool.ts';
import type { Keying } from '../blackboard/stores/keying.ts';
import type { PulsarConsumerSnapshot, PulsarConsumerView, PulsarWorkerCounters } from './worker.ts';

/** One consumer a worker process runs. `index` is unique within the agent's subscription. */
export interface PulsarConsumerAssignment {
  agent: string;
  index: number;
  subscriptionType: SubscriptionType;
  maxInFlight: number;
  receiverQueueSize: number;
}

export interface PulsarWorkerInit extends WorkerInitBase {
  wsUrl: string;
  runId: string;
  partitions: number;
  consumers: PulsarConsumerAssignment[];
  maxRedeliverCount: number;
  nackDelayMs: number;
  /** Names this process's producers (layout.ts producerName). */
  producerRole: string;
  /** How outputs are keyed (../blackboard/stores/keying.ts). */
  keying: Keying;
}

/** Mirror of a consumer in a worker process, as of its process's last status reply. */
export class RemotePulsarConsumer implements PulsarConsumerView, Mirror<PulsarConsumerSnapshot> {
  private snap: PulsarConsumerSnapshot;
  private lost?: string;

  constructor(readonly agent: AgentSpec, first: PulsarConsumerSnapshot) {
    this.snap = first;
  }

  update(s: PulsarConsumerSnapshot): void {
    this.snap = s;
  }

  markLost(why: string): void {
    this.lost ??= why;
  }

  get name(): string { return this.snap.name; }
  get inFlight(): number { return this.snap.inFlight; }
  get inFlightInputs(): number { return this.snap.inFlightInputs; }
  get counters(): PulsarWorkerCounters { return this.snap.counters; }
  get lastDoneMs(): number { return this.snap.lastDoneMs; }
  get failure(): unknown {
    const f = this.lost ?? this.snap.failure;
    return f === undefined ? undefined : new Error(`${this.name}: ${f}`);
  }
  buffered(): number { return this.snap.buffered; }
  busy(): boolean { return this.snap.busy; }
}

/** One forked worker process running PulsarAgentWorkers. */
export class PulsarWorkerProcess extends WorkerProcess<PulsarWorkerInit, PulsarConsumerSnapshot, RemotePulsarConsumer> {
  /** Fork a worker process and return once its consumers are subscribed. */
  static async spawn(index: number, init: PulsarWorkerInit, agents: readonly AgentSpec[]): Promise<PulsarWorkerProcess> {
    const wp = new PulsarWorkerProcess(index, new URL('./worker-process.ts', import.meta.url));
    await wp.start(init, (s) => new RemotePulsarConsumer(agents.find((a) => a.name === s.agent)!, s));
    return wp;
  }
}
