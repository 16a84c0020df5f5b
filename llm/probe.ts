// `flockbench llm probe`: measure the HTTP simulator from the outside, as a client sees it.
// Streams N requests at a fixed concurrency and compares, per percentile, the profile's
// configured TTFT, the keyed draws of exactly these requests, and the measured TTFT / total.
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

export async function probeLatency(o: ProbeOptions): Promise<{ rows: ProbeRow[]; requests: number; failures: number }> {
  const p = profile(o.model);
  const server = o.url ? undefined : await startLlmServer({ seed: o.seed, latencyScale: o.latencyScale, tail: o.tail });
  const base = o.url ?? server!.url;
  const ttft: number[] = [], total: number[] = [], dTtft: number[] = [], dTotal: number[] = [];
  let next = 0, failures = 0;
  const one = async (i: number, record = true) => {
    const identity = `probe(${i})`;
    const d = drawLatency({ seed: o.seed, tail: o.tail }, { model: o.model, identity, outputTokens: o.outputTokens });
    const t0 = performance.now();
    const res = await fetch(new URL('/v1/chat/completions', base), {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-flockbench-identity': identity, 'x-flockbench-output-tokens': String(o.outputTokens) },
      body: JSON.stringify({ model: o.model, stream: true, messages: [{ role: 'user', content: `probe ${i}` }] }),
    });
    if (!res.ok || !res.body) { failures++; await res.body?.cancel(); return; }
    let first = -1;
    for await (const _chunk of res.body) if (first < 0) first = performance.now() - t0;
    if (!record) return;
    ttft.push(first);
    total.push(performance.now() - t0);
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
  return { rows, requests: ttft.length, failures };
}
