// The runner's one entry to the simulated LLM: pick a transport, get an LlmClient. Both
// transports share the keyed draw (draw.ts) and content (simulator.ts responseContent).
import { HttpLlm, type HttpLlmOptions } from './http-client.ts';
import type { TailMode } from './profiles.ts';
import type { LlmSlowdown } from './limits.ts';
import { startLlmServer, type LlmFaults, type LlmLimits, type LlmServer, type LlmServerMetrics } from './server.ts';
import { SimulatedLlm } from './simulator.ts';
import type { LlmClient } from './types.ts';

export { HttpLlm, LlmCallError } from './http-client.ts';
export { startLlmServer } from './server.ts';
export type { LlmCallInfo, LlmFaults, LlmLimits, LlmServer, LlmServerMetrics, PairingHints } from './server.ts';
export type { LimiterStats, LlmSlowdown } from './limits.ts';
export { SimulatedLlm } from './simulator.ts';

export type LlmTransport = 'inprocess' | 'http';

/** Flat options, so a run's `llmOptions` can be passed straight through. */
export interface CreateLlmOptions extends Partial<Omit<HttpLlmOptions, 'url' | 'seed' | 'tail' | 'latencyScale'>> {
  seed: number;
  /** Default 1. */
  latencyScale?: number;
  tail?: TailMode;
  /** http: use this server instead of starting one in-process. */
  url?: string;
  /** Provider rate limits (default: none). In-process calls over a limit wait; over http they get 429 (or queue). */
  limits?: boolean | LlmLimits;
  /** Server-load slowdown above a concurrency capacity (default: off). */
  slowdown?: LlmSlowdown;
  /** http, started server: fault rates (default: none). */
  faults?: LlmFaults;
  /** http, started server: queue over-limit requests instead of 429 (default false). */
  queueing?: boolean;
  /** http: keep-alive connections to open before returning (default 0); set it to the run's peak LLM concurrency. */
  warmConnections?: number;
}

/** An HttpLlm that owns the server it talks to (if any) and keeps its last metrics after close. */
class OwnedHttpLlm extends HttpLlm {
  private lastMetrics: LlmServerMetrics | undefined;
  constructor(opts: HttpLlmOptions, private readonly server: LlmServer | undefined) {
    super(opts);
  }
  serverMetrics(): LlmServerMetrics | undefined {
    return this.server && !this.lastMetrics ? this.server.metrics() : this.lastMetrics;
  }
  async fetchMetricsNow(): Promise<void> {
    if (this.server) { this.lastMetrics = this.server.metrics(); return; }
    // A remote server: best effort, it need not be ours or expose /metrics.
    try {
      const r = await fetch(new URL('/metrics', this.baseUrl));
      if (r.ok) this.lastMetrics = (await r.json()) as LlmServerMetrics;
    } catch { /* no metrics */ }
  }
  override async close(): Promise<void> {
    await this.fetchMetricsNow();
    await super.close();
    await this.server?.close();
  }
}

/**
 * Create the LLM a run talks to. 'inprocess': the timer simulator. 'http': starts the simulated
 * OpenAI-compatible server on 127.0.0.1 (unless `url` is given) and returns a client whose
 * close() also stops that server.
 */
export async function createLlm(kind: LlmTransport, opts: CreateLlmOptions): Promise<LlmClient> {
  const latencyScale = opts.latencyScale ?? 1;
  if (kind === 'inprocess') return new SimulatedLlm({ seed: opts.seed, latencyScale, tail: opts.tail, limits: opts.limits, slowdown: opts.slowdown });
  const { url, limits, faults, queueing, slowdown, warmConnections, ...client } = opts;
  // The harness sends its own prompt counts and lengths: no tokenizer needed up front.
  const server = url ? undefined : await startLlmServer({ seed: opts.seed, latencyScale, tail: opts.tail, limits, faults, queueing, slowdown, loadTokenizer: false });
  const llm = new OwnedHttpLlm({ ...client, url: url ?? server!.url, seed: opts.seed, tail: opts.tail, latencyScale }, server);
  if (warmConnections) await llm.warmUp(warmConnections);
  return llm;
}

/**
 * Metrics of the simulated server behind an LLM client made by createLlm('http'): live while it
 * runs, the final snapshot after close(). Undefined for the in-process transport.
 */
export function llmServerMetrics(llm: LlmClient): LlmServerMetrics | undefined {
  return llm instanceof OwnedHttpLlm ? llm.serverMetrics() : undefined;
}
