// `flockbench llm probe`: measure the HTTP simulator from the outside, as a client sees it.
// Streams N requests at a fixed concurrency and compares, per percentile, the profile's
// configured TTFT, the keyed draws of exactly these requests, and the measured TTFT / total.
// This is where the simulator's timing is judged (a benchmark, run on a quiet machine); the
// unit tests only check what holds under any load (never early, slope 1).
import { quantile } from '../core/stats/basic.ts';
import { drawLatency } from './draw.ts';
import { profile, type TailMode } from './profiles.ts';
import { startLlmServer } from './server.ts';

export interface ProbeOptions {
  model: string;
  requests: number;
  concurrency: number;
  outputTokens: number;
  seed: number;
  latencyScale: number;
  tail?: TailMode;
  /** Probe a running server instead of starting one in this process. */
  url?: string;
}

export interface ProbeRow {
  percentile: 'p50' | 'p95' | 'p99';
  configuredTtftMs: number;
  drawnTtftMs: number;
  measuredTtftMs: number;
  drawnTotalMs: number;
  measuredTotalMs: number;
}

/** Prompt tokens each probe declares: a short prompt, as the profiles' TTFT percentiles were measured. */
const PROBE_PROMPT_TOKENS = 20;

export interface ProbeResult {
  rows: ProbeRow[];
  requests: number;
  failures: number;
  /** Responses whose TTFT or total came more than 1 ms before their own draw (should be 0). */
  early: number;
}

export async function probeLatency(o: ProbeOptions): Promise<ProbeResult> {
  const p = profile(o.model);
  const server = o.url ? undefined : await startLlmServer({ seed: o.seed, latencyScale: o.latencyScale, tail: o.tail });
  const base = o.url ?? server!.url;
  const ttft: number[] = [], total: number[] = [], dTtft: number[] = [], dTotal: number[] = [];
  let next = 0, failures = 0, early = 0;
  const one = async (i: number, record = true) => {
    const identity = `probe(${i})`;
    const d = drawLatency({ seed: o.seed, tail: o.tail }, { model: o.model, identity, outputTokens: o.outputTokens, promptTokens: PROBE_PROMPT_TOKENS });
    const t0 = performance.now();
    const res = await fetch(new URL('/v1/chat/completions', base), {
      method: 'POST',
      headers: {
        'content-type': 'application/json', 'x-flockbench-identity': identity,
        'x-flockbench-output-tokens': String(o.outputTokens), 'x-flockbench-prompt-tokens': String(PROBE_PROMPT_TOKENS),
      },
      body: JSON.stringify({ model: o.model, stream: true, messages: [{ role: 'user', content: `probe ${i}` }] }),
    });
    if (!res.ok || !res.body) { failures++; await res.body?.cancel(); return; }
    let first = -1;
    for await (const _chunk of res.body) if (first < 0) first = performance.now() - t0;
    if (!record) return;
    const tot = performance.now() - t0;
    if (first < d.ttftMs * o.latencyScale - 1 || tot < d.totalMs * o.latencyScale - 1) early++;
    ttft.push(first);
    total.push(tot);
    dTtft.push(d.ttftMs * o.latencyScale);
    dTotal.push(d.totalMs * o.latencyScale);
  };
  try {
    // Unmeasured warm-up: opens the keep-alive connections (and warms a remote server's JIT),
    // which would otherwise land in the first wave's TTFT.
    await Promise.all(Array.from({ length: o.concurrency }, (_, k) => one(-1 - k, false)));
    await Promise.all(Array.from({ length: Math.min(o.concurrency, o.requests) }, async () => {
      while (next < o.requests) await one(next++);
    }));
  } finally {
    await server?.close();
  }
  const pct = { p50: 0.5, p95: 0.95, p99: 0.99 } as const;
  const rows = (Object.keys(pct) as (keyof typeof pct)[]).map((k) => ({
    percentile: k,
    configuredTtftMs: p.ttftMs[k] * o.latencyScale,
    drawnTtftMs: quantile(dTtft, pct[k]),
    measuredTtftMs: quantile(ttft, pct[k]),
    drawnTotalMs: quantile(dTotal, pct[k]),
    measuredTotalMs: quantile(total, pct[k]),
  }));
  return { rows, requests: ttft.length, failures, early };
}
