// The release-aware lower bound of a run, from its realized latency draws: no scheduler can
// finish before the longest dependency chain of LLM waits from each task's arrival, nor can an
// agent with concurrency limit c finish its executions released at or after time t before
// t + (their total wait) / c. efficiency = bound / makespan. The bound knows nothing of a
// system's policy (barriers, batching windows): `ideal.ts` replays the policy itself.
import type { ExecutionRecord } from '../../workloads/execute.ts';
import { asLog, forEachKey, type ExecutionLog } from './execution-log.ts';

// Executions are read by column (ExecutionLog): at 1M tasks, no per-execution objects or maps.
// (Below the imports: the header above is the bound's definition the paper quotes.)

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
 * `latencyOf` gives the wait execution i could not avoid. Default: the drawn latency times the
 * run's scale, which is the same on every transport (over HTTP, waited time also includes
 * retries and rate-limit backoff, which a better client could avoid).
 */
export function lowerBound(
  executions: ExecutionLog | readonly ExecutionRecord[],
  maxConcurrency: Record<string, number>,
  seedArrivalMs: ReadonlyMap<string, number> = new Map(),
  latencyOf?: (log: ExecutionLog, i: number) => number,
): LowerBound {
  const log = asLog(executions);
  const n = log.length;
  const wait = new Float64Array(n);
  for (let i = 0; i < n; i++) wait[i] = latencyOf ? latencyOf(log, i) : log.scaledLatencyMs[i]!;
  const producer = new Map<string, number>();
  for (let i = 0; i < n; i++) forEachKey(log.outputKeys[i]!, (k) => producer.set(k, i));
  const release = new Float64Array(n);
  const finish = new Float64Array(n);
  const resolved = new Uint8Array(n);
  // Resolve producers before consumers without recursion: an execution ends after its inputs
  // exist, so in order of end time one pass normally resolves all (the order executions are
  // logged in one process; sorted when they are not). Blocked ones are retried in later passes.
  let ordered = true;
  for (let i = 1; i < n && ordered; i++) if (log.endMs[i]! < log.endMs[i - 1]!) ordered = false;
  let pending: ArrayLike<number> = ordered
    ? Uint32Array.from({ length: n }, (_, i) => i)
    : Uint32Array.from({ length: n }, (_, i) => i).sort((a, b) => log.endMs[a]! - log.endMs[b]!);
  let progress = true;
  while (pending.length && progress) {
    progress = false;
    const blockedOnes: number[] = [];
    for (let j = 0; j < pending.length; j++) {
      const i = pending[j]!;
      let ready = 0;
      let blocked = false;
      forEachKey(log.inputKeys[i]!, (k) => {
        if (blocked) return;
        const p = producer.get(k);
        if (p !== undefined && p !== i) {
          if (!resolved[p]) { blocked = true; return; }
          if (finish[p]! > ready) ready = finish[p]!;
        } else {
          const t = seedArrivalMs.get(k) ?? 0;
          if (t > ready) ready = t;
        }
      });
      if (blocked) { blockedOnes.push(i); continue; }
      release[i] = ready;
      finish[i] = ready + wait[i]!;
      resolved[i] = 1;
      progress = true;
    }
    pending = blockedOnes;
  }
  if (pending.length) throw new Error(`dependency cycle at ${log.identity[pending[0]!]}`);
  let criticalPathMs = 0;
  for (let i = 0; i < n; i++) if (finish[i]! > criticalPathMs) criticalPathMs = finish[i]!;

  // Per agent: executions by release time; sweep from the latest release down, accumulating work.
  const byAgent: number[][] = log.agents.map(() => []);
  for (let i = 0; i < n; i++) byAgent[log.agentOf[i]!]!.push(i);
  let concurrencyBoundMs = 0;
  let bindingAgent: string | undefined;
  for (let a = 0; a < byAgent.length; a++) {
    const agent = log.agents[a]!;
    const list = byAgent[a]!;
    const c = Math.max(1, maxConcurrency[agent] ?? Infinity);
    list.sort((x, y) => release[y]! - release[x]!);
    let work = 0;
    let longest = 0;
    for (const i of list) {
      const d = wait[i]!;
      work += d;
      if (d > longest) longest = d;
      const b = release[i]! + Math.max(work / c, longest);
      if (b > concurrencyBoundMs) { concurrencyBoundMs = b; bindingAgent = agent; }
    }
  }
  const taskFinishMs = new Map<string, number>();
  for (let i = 0; i < n; i++) {
    const f = finish[i]!;
    forEachKey(log.correlationIds[i]!, (c) => {
      if ((taskFinishMs.get(c) ?? -Infinity) < f) taskFinishMs.set(c, f);
    });
  }
  return { lowerBoundMs: Math.max(criticalPathMs, concurrencyBoundMs), criticalPathMs, concurrencyBoundMs, bindingAgent, taskFinishMs };
}
