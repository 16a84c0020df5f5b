// In-process simulated LLM: waits the keyed draw (scaled) on a timer and returns a
// deterministic schema-valid payload. No network, no CPU burn: agents are I/O-bound, as real ones are.
// With `limits`, a call first waits for admission under the provider's RPM/TPM buckets (the same
// limiter as the HTTP simulator's, llm/limits.ts), as against a provider that queues.
import { sleepUntil } from '../core/time.ts';
import { generatePayload } from '../core/schema.ts';
import { keyedRng } from '../core/random.ts';
import { costUsd, drawLatency } from './draw.ts';
import { limitWindowMs, ProviderLimiter, slowdownFactor, type LimiterStats, type LlmLimits, type LlmSlowdown } from './limits.ts';
import type { TailMode } from './profiles.ts';
import { emptyStats, type LlmClient, type LlmRequest, type LlmResponse, type LlmStats } from './types.ts';

export interface SimulatorOptions {
  seed: number;
  /** Multiplies every latency (default 1). 0.01 turns a 700 ms call into 7 ms. */
  latencyScale?: number;
  tail?: TailMode;
  /** Provider limits (default: none). `true`: the model profiles' RPM/TPM. Calls over a limit wait, FIFO per model. */
  limits?: boolean | LlmLimits;
  /** Server-load slowdown above a concurrency capacity (default: off). */
  slowdown?: LlmSlowdown;
}

/** Content of a response: keyed by (seed, identity) so both transports return the same payload. */
export function responseContent(seed: number, req: Pick<LlmRequest, 'identity' | 'schema' | 'fixed'>): Record<string, unknown> | undefined {
  if (!req.schema) return undefined;
  return generatePayload(req.schema, keyedRng(seed, 'content', req.identity), req.fixed);
}

export class SimulatedLlm implements LlmClient {
  readonly transport = 'inprocess' as const;
  private readonly s: LlmStats = emptyStats();
  private readonly scale: number;
  private readonly limiter?: ProviderLimiter;
  private inFlight = 0;

  constructor(private readonly opts: SimulatorOptions) {
    this.scale = opts.latencyScale ?? 1;
    const limits = opts.limits === true ? {} : opts.limits || undefined;
    if (limits) this.limiter = new ProviderLimiter(limits, limitWindowMs(limits, this.scale));
  }

  draw(req: Pick<LlmRequest, 'model' | 'identity' | 'outputTokens'> & { promptTokens?: number }) {
    return drawLatency({ seed: this.opts.seed, tail: this.opts.tail }, req);
  }

  async complete(req: LlmRequest): Promise<LlmResponse> {
    const d = this.draw(req);
    // Admission counts the prompt and the target output, as OpenAI counts max_tokens.
    const queuedMs = this.limiter ? await this.limiter.admit(req.model, req.promptTokens + req.outputTokens) : 0;
    this.inFlight++;
    const scaled = d.totalMs * this.scale * slowdownFactor(this.inFlight, this.opts.slowdown);
    try {
      // Never return early: a timer can fire up to a millisecond before performance.now() says
      // its delay passed, and the harness's lower bound assumes every call lasts its latency.
      if (scaled > 0) await sleepUntil(() => performance.now(), performance.now() + scaled);
    } finally {
      this.inFlight--;
      this.limiter?.release();
    }
    const cost = costUsd(req.model, req.promptTokens, d.tokensOut);
    this.s.calls++;
    this.s.tokensIn += req.promptTokens;
    this.s.tokensOut += d.tokensOut;
    this.s.costUsd += cost;
    return {
      drawnLatencyMs: d.totalMs,
      scaledLatencyMs: queuedMs + scaled,
      queuedMs,
      ttftMs: d.ttftMs,
      tokensIn: req.promptTokens,
      tokensOut: d.tokensOut,
      costUsd: cost,
      retries: 0,
      content: responseContent(this.opts.seed, req),
    };
  }

  stats(): LlmStats {
    return { ...this.s };
  }

  /** Admission counters of the provider limits, if any (which limit bound, how long calls waited). */
  limiterStats(): LimiterStats | undefined {
    return this.limiter?.stats();
  }

  async close(): Promise<void> {
    this.limiter?.close();
  }
}
