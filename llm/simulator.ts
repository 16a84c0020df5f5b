// In-process simulated LLM: waits the keyed draw (scaled) on a timer and returns a
// deterministic schema-valid payload. No network, no CPU burn: agents are I/O-bound, as real ones are.
import { sleepUntil } from '../core/time.ts';
import { generatePayload } from '../core/schema.ts';
import { keyedRng } from '../core/random.ts';
import { costUsd, drawLatency } from './draw.ts';
import type { TailMode } from './profiles.ts';
import { emptyStats, type LlmClient, type LlmRequest, type LlmResponse, type LlmStats } from './types.ts';

export interface SimulatorOptions {
  seed: number;
  /** Multiplies every latency (default 1). 0.01 turns a 700 ms call into 7 ms. */
  latencyScale?: number;
  tail?: TailMode;
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

  constructor(private readonly opts: SimulatorOptions) {
    this.scale = opts.latencyScale ?? 1;
  }

  draw(req: Pick<LlmRequest, 'model' | 'identity' | 'outputTokens'> & { promptTokens?: number }) {
    return drawLatency({ seed: this.opts.seed, tail: this.opts.tail }, req);
  }

  async complete(req: LlmRequest): Promise<LlmResponse> {
    const d = this.draw(req);
    const scaled = d.totalMs * this.scale;
    // Never return early: a timer can fire up to a millisecond before performance.now() says
    // its delay passed, and the harness's lower bound assumes every call lasts its latency.
    if (scaled > 0) await sleepUntil(() => performance.now(), performance.now() + scaled);
    const cost = costUsd(req.model, req.promptTokens, d.tokensOut);
    this.s.calls++;
    this.s.tokensIn += req.promptTokens;
    this.s.tokensOut += d.tokensOut;
    this.s.costUsd += cost;
    return {
      drawnLatencyMs: d.totalMs,
      scaledLatencyMs: scaled,
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

  async close(): Promise<void> {}
}
