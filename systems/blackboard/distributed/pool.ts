// Worker processes of a broker-backed blackboard (blackboard-kafka, blackboard-pulsar with
// `processes >= 1`), coordinator side: the run's own process (it publishes seeds, samples the
// broker and decides when the run is idle) forks N Node processes, each running consumers of
// every agent. This is how the blackboard would be deployed, and what makes a scaling
// experiment about the broker rather than about one Node event loop: consumers in separate
// processes do not share a CPU queue. The broker-specific parts are the child's entry module
// (which builds the consumers, see host.ts), its init message and its consumer snapshots.
//
// IPC is request/response over the fork channel (advanced serialization: bigints and Maps
// pass as they are). Clocks: a worker's clock is `timeOrigin + now - anchor`, where the anchor
// is the coordinator's absolute time of its run start, so execution times from every process
// are on the coordinator's timeline (both sides read the same monotonic-anchored wall clock;
// the error is well below a millisecond on one host).
import { fork, type ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import type { TailMode } from '../../../llm/profiles.ts';
import { emptyStats, type LlmStats } from '../../../llm/types.ts';
import type { ExecutionRecord } from '../../../workloads/execute.ts';
import type { WorkloadSpec } from '../../../workloads/spec.ts';

/** What every worker process needs besides its broker settings: the work and the same LLM as the run. */
export interface WorkerInitBase {
  workload: WorkloadSpec;
  latencyScale: number;
  seed: number;
  llm: { transport: 'inprocess' | 'http'; tail?: TailMode; url?: string };
}

/** A consumer's state at one instant, as a worker process reports it. */
export interface SnapshotBase {
  name: string;
  /** Agent name. */
  agent: string;
}

export type ToWorker<Init> =
  | { id: number; type: 'init'; init: Init }
  | { id: number; type: 'measure'; anchorAbsMs: number }
  | { id: number; type: 'status' }
  | { id: number; type: 'finish' }
  | { id: number; type: 'close' };

type WithoutId<T> = T extends unknown ? Omit<T, 'id'> : never;

export interface WorkerFinish<S> {
  consumers: S[];
  executions: ExecutionRecord[];
  llm: LlmStats;
  /** CPU of the process from `measure` to `finish`, ms. */
  cpuMs: number;
  rssPeakMb: number;
}

export type FromWorker<S> =
  | { id: number; type: 'ok' }
  | { id: number; type: 'status'; consumers: S[] }
  | { id: number; type: 'finished'; result: WorkerFinish<S> }
  | { id: number; type: 'error'; error: string };

/** The coordinator's mirror of one consumer living in a worker process. */
export interface Mirror<S> {
  readonly name: string;
  update(s: S): void;
  /** The process died or stopped answering: the consumer fails the run. */
  markLost(why: string): void;
}

const tsxLoader = createRequire(import.meta.url).resolve('tsx');

/**
 * One forked worker process: `entry` is the child's module (it calls serveWorker, host.ts).
 * `consumers` mirror the consumers it runs, as of its last status reply.
 */
export class WorkerProcess<Init, S extends SnapshotBase, M extends Mirror<S>> {
  readonly consumers: M[] = [];
  private readonly child: ChildProcess;
  private readonly pending = new Map<number, { resolve: (m: FromWorker<S>) => void; reject: (e: Error) => void }>();
  private nextId = 1;
  private exited?: string;

  constructor(readonly index: number, entry: URL) {
    this.child = fork(fileURLToPath(entry), [], {
      execArgv: ['--import', tsxLoader],
      serialization: 'advanced',
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    this.child.on('message', (m: FromWorker<S>) => {
      const p = this.pending.get(m.id);
      if (!p) return;
      this.pending.delete(m.id);
      if (m.type === 'error') p.reject(new Error(`worker process ${index}: ${m.error}`));
      else p.resolve(m);
    });
    this.child.once('exit', (code, sig) => {
      this.exited = `worker process ${index} exited with ${sig ?? code}`;
      for (const c of this.consumers) c.markLost(this.exited);
      for (const p of this.pending.values()) p.reject(new Error(this.exited));
      this.pending.clear();
    });
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  /** Start the process's consumers and mirror them; closes the process if that fails. */
  async start(init: Init, mirror: (s: S) => M): Promise<void> {
    try {
      await this.request({ type: 'init', init });
      const st = await this.request({ type: 'status' });
      if (st.type !== 'status') throw new Error(`worker process ${this.index}: unexpected reply ${st.type}`);
      for (const s of st.consumers) this.consumers.push(mirror(s));
    } catch (e) {
      await this.close();
      throw e;
    }
  }

  request(m: WithoutId<ToWorker<Init>>, timeoutMs = 120_000): Promise<FromWorker<S>> {
    if (this.exited) return Promise.reject(new Error(this.exited));
    const id = this.nextId++;
    return new Promise<FromWorker<S>>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`worker process ${this.index}: no answer to ${m.type} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(id, {
        resolve: (x) => { clearTimeout(timer); resolve(x); },
        reject: (e) => { clearTimeout(timer); reject(e); },
      });
      this.child.send({ ...m, id } as ToWorker<Init>);
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
  async finish(): Promise<WorkerFinish<S>> {
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

/** Refresh the mirrors of every process (one status round trip each, concurrently). */
export function refreshAll(procs: readonly { refresh(): Promise<void> }[]): Promise<void> {
  return Promise.all(procs.map((x) => x.refresh())).then(() => undefined);
}

/** LLM usage of the run's process plus its worker processes. */
export function sumStats(all: LlmStats[]): LlmStats {
  const out = emptyStats();
  for (const s of all) for (const k of Object.keys(out) as (keyof LlmStats)[]) out[k] += s[k];
  return out;
}
