// The release-aware lower bound of a run, from its realized latency draws: no scheduler can
// finish before the longest dependency chain of LLM waits from each task's arrival, nor can an
// agent with concurrency limit c finish its executions released at or after time t before
// t + (their total wait) / c. efficiency = bound / makespan. The bound knows nothing of a
// system's policy (barriers, batching windows): `ideal.ts` replays the policy itself.
import type { ExecutionRecord } from '../../workloads/execute.ts';

export interface LowerBound {
  lowerBoundMs: number;
  /** Longest chain: seed arrival + sum of waited latencies along data dependencies. */
  criticalPathMs: number;
  /** max over agents and release times t of t + (wait released at or after t) / maxConcurrency. */
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
  const release = new Map<ExecutionRecord, number>();
  const finish = new Map<ExecutionRecord, number>();
  // Resolve producers before consumers without recursion: an execution ends after its inputs exist.
  const pending = [...executions].sort((a, b) => a.endMs - b.endMs);
  let progress = true;
  while (pending.length && progress) {
    progress = false;
    for (let i = 0; i < pending.length; i++) {
      const e = pending[i]!;
      let ready = 0;
      let blocked = false;
      for (const k of e.inputKeys) {
        const p = producer.get(k);
        if (p && p !== e) {
          const f = finish.get(p);
          if (f === undefined) { blocked = true; break; }
          if (f > ready) ready = f;
        } else {
          const t = seedArrivalMs.get(k) ?? 0;
          if (t > ready) ready = t;
        }
      }
      if (blocked) continue;
      release.set(e, ready);
      finish.set(e, ready + latencyOf(e));
      pending.splice(i--, 1);
      progress = true;
    }
  }
  if (pending.length) throw new Error(`dependency cycle at ${pending[0]!.identity}`);
  let criticalPathMs = 0;
  for (const f of finish.values()) if (f > criticalPathMs) criticalPathMs = f;

  // Per agent: executions by release time; sweep from the latest release down, accumulating work.
  const byAgent = new Map<string, ExecutionRecord[]>();
  for (const e of executions) {
    let l = byAgent.get(e.agent);
    if (!l) byAgent.set(e.agent, (l = []));
    l.push(e);
  }
  let concurrencyBoundMs = 0;
  let bindingAgent: string | undefined;
  for (const [agent, list] of byAgent) {
    const c = Math.max(1, maxConcurrency[agent] ?? Infinity);
    list.sort((a, b) => release.get(b)! - release.get(a)!);
    let work = 0;
    let longest = 0;
    for (const e of list) {
      const d = latencyOf(e);
      work += d;
      if (d > longest) longest = d;
      const b = release.get(e)! + Math.max(work / c, longest);
      if (b > concurrencyBoundMs) { concurrencyBoundMs = b; bindingAgent = agent; }
    }
  }
  const taskFinishMs = new Map<string, number>();
  for (const [e, f] of finish) {
    for (const c of e.correlationIds) if ((taskFinishMs.get(c) ?? -Infinity) < f) taskFinishMs.set(c, f);
  }
  return { lowerBoundMs: Math.max(criticalPathMs, concurrencyBoundMs), criticalPathMs, concurrencyBoundMs, bindingAgent, taskFinishMs };
}
