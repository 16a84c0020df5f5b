// The run's execution records, kept by column: numbers in typed arrays, keys by reference (a
// single key as the string itself, not a one-element array). A record object with its three key
// arrays and boxed numbers costs ~380 bytes; here ~90, so a 1M-task run keeps 100 MB instead of
// 380 MB alive through the run, its collectors and its rows. Records go in as the shared agent
// body reports them and come out as records again on demand (get, toArray).
import type { ExecutionRecord } from '../../workloads/execute.ts';

/** One or several keys: a lone key is kept as the string itself. */
export type Keys = string | readonly string[];

/** Visit each key of a `Keys` without allocating. */
export function forEachKey(keys: Keys, f: (k: string) => void): void {
  if (typeof keys === 'string') f(keys);
  else for (const k of keys) f(k);
}

const compact = (xs: readonly string[]): Keys => (xs.length === 1 ? xs[0]! : xs);
const expand = (k: Keys): string[] => (typeof k === 'string' ? [k] : [...k]);

export class ExecutionLog {
  length = 0;
  private cap = 1024;
  readonly agents: string[] = [];
  private readonly agentIndex = new Map<string, number>();
  agentOf = new Uint32Array(this.cap);
  startMs = new Float64Array(this.cap);
  endMs = new Float64Array(this.cap);
  drawnLatencyMs = new Float64Array(this.cap);
  scaledLatencyMs = new Float64Array(this.cap);
  costUsd = new Float64Array(this.cap);
  tokensIn = new Float64Array(this.cap);
  tokensOut = new Float64Array(this.cap);
  /** LLM calls the execution made; -1 where the record left it out (stored as 1, the default). */
  llmCalls = new Int32Array(this.cap);
  /** Wait for admission under in-process provider limits; NaN where the record left it out. */
  queuedMs = new Float64Array(this.cap);
  readonly identity: string[] = [];
  readonly inputKeys: Keys[] = [];
  readonly correlationIds: Keys[] = [];
  readonly outputKeys: Keys[] = [];
  /** Execution index -> agent failure (rare: kept sparse). */
  readonly errors = new Map<number, string>();
  /** Execution index -> Pregel loop and superstep (graph systems only: kept sparse). */
  readonly supersteps = new Map<number, { scope: string; step: number }>();

  static from(records: Iterable<ExecutionRecord>): ExecutionLog {
    const log = new ExecutionLog();
    for (const r of records) log.push(r);
    return log;
  }

  push(r: ExecutionRecord): void {
    if (this.length === this.cap) this.grow();
    const i = this.length++;
    let a = this.agentIndex.get(r.agent);
    if (a === undefined) {
      a = this.agents.length;
      this.agents.push(r.agent);
      this.agentIndex.set(r.agent, a);
    }
    this.agentOf[i] = a;
    this.startMs[i] = r.startMs;
    this.endMs[i] = r.endMs;
    this.drawnLatencyMs[i] = r.drawnLatencyMs;
    this.scaledLatencyMs[i] = r.scaledLatencyMs;
    this.costUsd[i] = r.costUsd;
    this.tokensIn[i] = r.tokensIn;
    this.tokensOut[i] = r.tokensOut;
    this.llmCalls[i] = r.llmCalls ?? -1;
    this.queuedMs[i] = r.queuedMs ?? NaN;
    this.identity.push(r.identity);
    this.inputKeys.push(compact(r.inputKeys));
    this.correlationIds.push(compact(r.correlationIds));
    this.outputKeys.push(compact(r.outputKeys));
    if (r.error !== undefined) this.errors.set(i, r.error);
    if (r.superstep !== undefined) this.supersteps.set(i, r.superstep);
  }

  agent(i: number): string {
    return this.agents[this.agentOf[i]!]!;
  }

  inputCount(i: number): number {
    const k = this.inputKeys[i]!;
    return typeof k === 'string' ? 1 : k.length;
  }

  /** LLM calls of execution i as stored: a record without the count made one. */
  llmCallsOf(i: number): number {
    const n = this.llmCalls[i]!;
    return n < 0 ? 1 : n;
  }

  /** Admission wait of execution i, or null when the record had none. */
  queuedMsOf(i: number): number | null {
    const q = this.queuedMs[i]!;
    return Number.isNaN(q) ? null : q;
  }

  /** Correlation ids of execution i (a fresh array). */
  correlationIdsOf(i: number): string[] {
    return expand(this.correlationIds[i]!);
  }

  /** Execution i as a record (a fresh object). */
  get(i: number): ExecutionRecord {
    const error = this.errors.get(i);
    const superstep = this.supersteps.get(i);
    const llmCalls = this.llmCalls[i]!;
    const queuedMs = this.queuedMs[i]!;
    return {
      agent: this.agent(i), identity: this.identity[i]!, inputKeys: expand(this.inputKeys[i]!), correlationIds: expand(this.correlationIds[i]!),
      outputKeys: expand(this.outputKeys[i]!), startMs: this.startMs[i]!, endMs: this.endMs[i]!, drawnLatencyMs: this.drawnLatencyMs[i]!,
      scaledLatencyMs: this.scaledLatencyMs[i]!, tokensIn: this.tokensIn[i]!, tokensOut: this.tokensOut[i]!, costUsd: this.costUsd[i]!,
      ...(llmCalls < 0 ? {} : { llmCalls }),
      ...(Number.isNaN(queuedMs) ? {} : { queuedMs }),
      ...(error === undefined ? {} : { error }),
      ...(superstep === undefined ? {} : { superstep }),
    };
  }

  toArray(): ExecutionRecord[] {
    return Array.from({ length: this.length }, (_, i) => this.get(i));
  }

  private grow(): void {
    this.cap *= 2;
    const widen = <T extends Float64Array | Uint32Array | Int32Array>(a: T, make: (n: number) => T): T => {
      const b = make(this.cap);
      b.set(a);
      return b;
    };
    this.agentOf = widen(this.agentOf, (n) => new Uint32Array(n));
    this.llmCalls = widen(this.llmCalls, (n) => new Int32Array(n));
    for (const k of ['startMs', 'endMs', 'drawnLatencyMs', 'scaledLatencyMs', 'costUsd', 'tokensIn', 'tokensOut', 'queuedMs'] as const) {
      this[k] = widen(this[k], (n) => new Float64Array(n));
    }
  }
}

/** A log as given, or built from records (callers and tests that hold records). */
export function asLog(executions: ExecutionLog | Iterable<ExecutionRecord>): ExecutionLog {
  return executions instanceof ExecutionLog ? executions : ExecutionLog.from(executions);
}
