// Worker processes of blackboard-kafka (`processes >= 1`): the coordinator forks N Node
// processes, each running `consumers` consumers of every agent group (worker-process.ts). The
// process pool, its IPC and clock anchoring are shared with blackboard-pulsar
// (../blackboard/distributed/pool.ts); what is Kafka's here is the init message, the consumer
// snapshot and its mirror.
import type { TailMode } from '../../llm/profiles.ts';
import type { AgentSpec, WorkloadSpec } from '../../workloads/spec.ts';
import { WorkerProcess as PooledProcess, clockAnchor, type FromWorker as FromPooled, type ToWorker as ToPooled, type WorkerFinish as PooledFinish } from '../blackboard/distributed/pool.ts';
import type { Keying } from '../blackboard/stores/keying.ts';
import type { ConsumerSnapshot, ConsumerView, DeliveryMode, WorkerCounters } from './worker.ts';

export { clockAnchor };

/** One consumer a worker process runs. `index` is unique within the agent's group (transactional id). */
export interface ConsumerAssignment {
  agent: string;
  index: number;
  groupId: string;
  maxInFlight: number;
  /** Sole member of its group: a re-join is counted, not fatal (WorkerOptions.allowRejoin). */
  allowRejoin?: boolean;
}

export interface WorkerInit {
  bootstrap: string[];
  runId: string;
  workload: WorkloadSpec;
  consumers: ConsumerAssignment[];
  mode: DeliveryMode;
  batchSize: number;
  lingerMs: number;
  latencyScale: number;
  maxAttempts: number;
  fetchMaxBytes?: number;
  /** How outputs are keyed, and over how many partitions (../blackboard/stores/keying.ts). */
  keying: Keying;
  partitions: number;
  seed: number;
  llm: { transport: 'inprocess' | 'http'; tail?: TailMode; url?: string };
}

export type ToWorker = ToPooled<WorkerInit>;
export type WorkerFinish = PooledFinish<ConsumerSnapshot>;
export type FromWorker = FromPooled<ConsumerSnapshot>;

/** Mirror of a consumer in a worker process, as of its process's last status reply. */
export class RemoteConsumer implements ConsumerView {
  private snap: ConsumerSnapshot;
  private lost?: string;

  constructor(readonly agent: AgentSpec, first: ConsumerSnapshot) {
    this.snap = first;
  }

  update(s: ConsumerSnapshot): void {
    this.snap = s;
  }

  /** The process died or stopped answering: the consumer fails the run. */
  markLost(why: string): void {
    this.lost ??= why;
  }

  get name(): string { return this.snap.name; }
  get groupId(): string { return this.snap.groupId; }
  get inFlight(): number { return this.snap.inFlight; }
  get counters(): WorkerCounters { return this.snap.counters; }
  get lastCommitAtMs(): number | undefined { return this.snap.lastCommitAtMs; }
  get failure(): unknown {
    const f = this.lost ?? this.snap.failure;
    return f === undefined ? undefined : new Error(`${this.name}: ${f}`);
  }
  assigned(): string[] { return this.snap.assigned; }
  positions(): Map<string, bigint> { return new Map(this.snap.positions); }
  buffered(): number { return this.snap.buffered; }
  busy(): boolean { return this.snap.busy; }
}

/** One forked worker process running AgentWorkers (worker-process.ts). */
export class WorkerProcess extends PooledProcess<WorkerInit, ConsumerSnapshot, RemoteConsumer> {
  /** Fork a worker process, start its consumers and return once they joined their groups. */
  static async spawn(index: number, init: WorkerInit, agents: readonly AgentSpec[]): Promise<WorkerProcess> {
    const wp = new WorkerProcess(index, new URL('./worker-process.ts', import.meta.url));
    await wp.start(init, (s) => new RemoteConsumer(agents.find((a) => a.name === s.agent)!, s));
    return wp;
  }
}
