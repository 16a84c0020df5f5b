// Worker processes of blackboard-kafka (`processes >= 1`): the coordinator (the run's own
// process: it publishes seeds, samples lag and decides when the run is idle) forks N Node
// processes, each running `consumers` consumers of every agent group. This is how the
// blackboard would be deployed, and what makes the H2 scaling experiment about Kafka rather
// than about one Node event loop: consumers in separate processes do not share a CPU queue.
//
// IPC is request/response over the fork channel (advanced serialization: bigints and Maps
// pass as they are). Clocks: a worker's clock is `timeOrigin + now - anchor`, where the anchor
// is the coordinator's absolute time of its run start, so execution times from every process
// are on the coordinator's timeline (both sides read the same monotonic-anchored wall clock;
// the error is well below a millisecond on one host).
import { fork, type ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import type { LlmStats } from '../../llm/types.ts';
import type { TailMode } from '../../llm/profiles.ts';
import type { ExecutionRecord } from '../../workloads/execute.ts';
import type { AgentSpec, WorkloadSpec } from '../../workloads/spec.ts';
import type { ConsumerSnapshot, ConsumerView, DeliveryMode, WorkerCounters } from './worker.ts';

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
  seed: number;
  llm: { transport: 'inprocess' | 'http'; tail?: TailMode; url?: string };
}

export type ToWorker =
  | { id: number; type: 'init'; init: WorkerInit }
  | { id: number; type: 'measure'; anchorAbsMs: number }
  | { id: number; type: 'status' }
  | { id: number; type: 'finish' }
  | { id: number; type: 'close' };

type WithoutId<T> = T extends unknown ? Omit<T, 'id'> : never;

export interface WorkerFinish {
  consumers: ConsumerSnapshot[];
  executions: ExecutionRecord[];
  llm: LlmStats;
  /** CPU of the process from `measure` to `finish`, ms. */
  cpuMs: number;
  rssPeakMb: number;
}

export type FromWorker =
  | { id: number; type: 'ok' }
  | { id: number; type: 'status'; consumers: ConsumerSnapshot[] }
  | { id: number; type: 'finished'; result: WorkerFinish }
  | { id: number; type: 'error'; error: string };

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
  get failure(): unknown {
    const f = this.lost ?? this.snap.failure;
    return f === undefined ? undefined : new Error(`${this.name}: ${f}`);
  }
  assigned(): string[] { return this.snap.assigned; }
  positions(): Map<string, bigint> { return new Map(this.snap.positions); }
  buffered(): number { return this.snap.buffered; }
  busy(): boolean { return this.snap.busy; }
}

const tsxLoader = createRequire(import.meta.url).resolve('tsx');

export class WorkerProcess {
  readonly consumers: RemoteConsumer[] = [];
  private readonly pending = new Map<number, { resolve: (m: FromWorker) => void; reject: (e: Error) => void }>();
  private nextId = 1;
  private exited?: string;

  private constructor(readonly index: number, private readonly child: ChildProcess) {
    child.on('message', (m: FromWorker) => {
      const p = this.pending.get(m.id);
      if (!p) return;
      this.pending.delete(m.id);
      if (m.type === 'error') p.reject(new Error(`worker process ${index}: ${m.error}`));
      else p.resolve(m);
    });
    child.once('exit', (code, sig) => {
      this.exited = `worker process ${index} exited with ${sig ?? code}`;
      for (const c of this.consumers) c.markLost(this.exited);
      for (const p of this.pending.values()) p.reject(new Error(this.exited));
      this.pending.clear();
    });
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  /** Fork a worker process, start its consumers and return once they joined their groups. */
  static async spawn(index: number, init: WorkerInit, agents: readonly AgentSpec[]): Promise<WorkerProcess> {
    const child = fork(fileURLToPath(new URL('./worker-process.ts', import.meta.url)), [], {
      execArgv: ['--import', tsxLoader],
      serialization: 'advanced',
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    const wp = new WorkerProcess(index, child);
    try {
      await wp.request({ type: 'init', init });
      const st = await wp.request({ type: 'status' });
      if (st.type !== 'status') throw new Error(`worker process ${index}: unexpected reply ${st.type}`);
      for (const s of st.consumers) wp.consumers.push(new RemoteConsumer(agents.find((a) => a.name === s.agent)!, s));
      return wp;
    } catch (e) {
      await wp.close();
      throw e;
    }
  }

  request(m: WithoutId<ToWorker>, timeoutMs = 120_000): Promise<FromWorker> {
    if (this.exited) return Promise.reject(new Error(this.exited));
    const id = this.nextId++;
    return new Promise<FromWorker>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`worker process ${this.index}: no answer to ${m.type} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(id, {
        resolve: (x) => { clearTimeout(timer); resolve(x); },
        reject: (e) => { clearTimeout(timer); reject(e); },
      });
      this.child.send({ ...m, id } as ToWorker);
    });
  }

  /** Refresh every mirrored consumer from one status reply. A dead process marks them lost. */
  async refresh(): Promise<void> {
    try {
      const st = await this.request({ type: 'status' }, 30_000);
      if (st.type !== 'status') return;
      for (const s of st.consumers) this.consumers.find((c) => c.name === s.name)?.update(s);
    } catch (e) {
      for (const c of this.consumers) c.markLost((e as Error).message);
    }
  }

  /** Start the measured window: from here the worker's clock is the coordinator's run clock. */
  async measure(anchorAbsMs: number): Promise<void> {
    await this.request({ type: 'measure', anchorAbsMs });
  }

  /** Executions, LLM usage and CPU of the measured window (consumers keep running until close). */
  async finish(): Promise<WorkerFinish> {
    const r = await this.request({ type: 'finish' });
    if (r.type !== 'finished') throw new Error(`worker process ${this.index}: unexpected reply ${r.type}`);
    for (const s of r.result.consumers) this.consumers.find((c) => c.name === s.name)?.update(s);
    return r.result;
  }

  /** Close the consumers and end the process; kill it if it does not exit in time. */
  async close(timeoutMs = 20_000): Promise<void> {
    if (this.exited) return;
    const gone = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    try {
      await this.request({ type: 'close' }, timeoutMs);
    } catch {
      // Not answering or already gone: fall through to the kill.
    }
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 2000);
    await gone;
    clearTimeout(timer);
  }
}

/** Absolute time (ms, same reference in every process) at which `clock()` read 0. */
export function clockAnchor(clock: () => number): number {
  return performance.timeOrigin + performance.now() - clock();
}
