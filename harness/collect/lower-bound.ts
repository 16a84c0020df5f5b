// The critical-path lower bound of a run, from its realized latency draws: no scheduler can
// finish before the longest dependency chain of LLM waits, nor before an agent whose
// concurrency limit binds has worked through its total wait time. efficiency = bound / makespan.
import type { ExecutionRecord } from '../../workloads/execute.ts';

export interface LowerBound {
  lowerBoundMs: number;
  /** Longest chain: seed arrival + sum of waited latencies along data dependencies. */
  criticalPathMs: number;
  /** max over agents of (sum of waited latency / maxConcurrency). */
  concurrencyBoundMs: number;
  /** Agent whose concurrency bound is largest. */
  bindingAgent?: string;
  /** Per correlation id (task): the earliest it could have finished, ms since run start. */
  taskFinishMs: Map<string, number>;
}

/**
 * `latencyOf` gives the wait an execution could not avoid. Default: the drawn latency times the
 * run's scale, which is the same on every transport (over HTTP, waited time also includes
 * retries and rate-limit backoff, which a better client could avoid).
 */
export function lowerBound(
  executions: readonly ExecutionRecord[],
  maxConcurrency: Record<string, number>,
  seedArrivalMs: ReadonlyMap<string, number> = new Map(),
  latencyOf: (e: ExecutionRecord) => number = (e) => e.scaledLatencyMs,
): LowerBound {
  const producer = new Map<string, ExecutionRecord>();
  for (const e of executions) for (const k of e.outputKeys) producer.set(k, e);
  const finish = new Map<ExecutionRecord, number>();
  const visiting = new Set<ExecutionRecord>();
  const finishOf = (e: ExecutionRecord): number => {
    const known = finish.get(e);
    if (known !== undefined) return known;
    if (visiting.has(e)) throw new Error(`dependency cycle at ${e.identity}`);
    visiting.add(e);
    let ready = 0;
    for (const k of e.inputKeys) {
      const p = producer.get(k);
      const t = p ? finishOf(p) : (seedArrivalMs.get(k) ?? 0);
      if (t > ready) ready = t;
    }
    visiting.delete(e);
    const f = ready + latencyOf(e);
    finish.set(e, f);
    return f;
  };
  // Iterative order avoids deep recursion on long chains: resolve producers first.
  const sorted = [...executions].sort((a, b) => a.endMs - b.endMs);
  let criticalPathMs = 0;
  for (const e of sorted) criticalPathMs = Math.max(criticalPathMs, finishOf(e));

  const work = new Map<string, number>();
  for (const e of executions) work.set(e.agent, (work.get(e.agent) ?? 0) + latencyOf(e));
  const taskFinishMs = new Map<string, number>();
  for (const [e, f] of finish) {
    for (const c of e.correlationIds) if ((taskFinishMs.get(c) ?? -Infinity) < f) taskFinishMs.set(c, f);
  }
  let concurrencyBoundMs = 0;
  let bindingAgent: string | undefined;
  for (const [agent, w] of work) {
    const b = w / Math.max(1, maxConcurrency[agent] ?? Infinity);
    if (b > concurrencyBoundMs) { concurrencyBoundMs = b; bindingAgent = agent; }
  }
  return { lowerBoundMs: Math.max(criticalPathMs, concurrencyBoundMs), criticalPathMs, concurrencyBoundMs, bindingAgent, taskFinishMs };
}
