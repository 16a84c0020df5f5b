// The one LLM interface every TypeScript system calls. Two transports implement it: the
// in-process simulator (default) and the HTTP client against `flockbench llm serve`.
import type { JsonSchema } from '../core/schema.ts';

export interface LlmRequest {
  model: string;
  agent: string;
  /** Logical identity of the call (agent + input keys). The latency draw is keyed by it. */
  identity: string;
  promptTokens: number;
  /** Target output tokens; the realized count is drawn around it (keyed). */
  outputTokens: number;
  /** When set, `content` of the response is a payload valid against it. */
  schema?: JsonSchema;
  /** Fixed payload fields (merged into content). */
  fixed?: Record<string, unknown>;
}

export interface LlmResponse {
  /** Unscaled latency the profile drew for this identity (ms). */
  drawnLatencyMs: number;
  /** Latency actually waited (ms): drawn x latency scale, plus waiting for admission under provider limits and retries. */
  scaledLatencyMs: number;
  /** Of scaledLatencyMs, the wait for admission under the provider's limits (in-process limits; absent otherwise). */
  queuedMs?: number;
  ttftMs: number;
  tokensIn: number;
  tokensOut: number;
  costUsd: number;
  retries: number;
  content?: Record<string, unknown>;
}

export interface LlmStats {
  calls: number;
  tokensIn: number;
  tokensOut: number;
  costUsd: number;
  retries: number;
  rateLimited: number;
  failures: number;
}

export interface LlmClient {
  readonly transport: 'inprocess' | 'http';
  complete(req: LlmRequest): Promise<LlmResponse>;
  /**
   * The latency this call would take (unscaled ms), without waiting: used by lower bounds and
   * tests. Prefill time is included for `promptTokens` (none when absent).
   */
  draw(req: Pick<LlmRequest, 'model' | 'identity' | 'outputTokens'> & { promptTokens?: number }): LatencyDraw;
  stats(): LlmStats;
  close(): Promise<void>;
}

export interface LatencyDraw {
  ttftMs: number;
  tokensOut: number;
  totalMs: number;
}

export function emptyStats(): LlmStats {
  return { calls: 0, tokensIn: 0, tokensOut: 0, costUsd: 0, retries: 0, rateLimited: 0, failures: 0 };
}
