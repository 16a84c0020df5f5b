// Keyed latency draws: TTFT from the calibrated mixture plus prefill time for the prompt, then
// output tokens at the profile's speed. Pure in (seed, identity): the same call gets the same
// latency on every system.
import { keyedRng, normal } from '../core/random.ts';
import { profile, ttftMixture, type TailMode } from './profiles.ts';
import type { LatencyDraw } from './types.ts';

export interface DrawOptions {
  seed: number;
  tail?: TailMode;
}

/** The keyed part of a call's latency, before its token counts are known. */
export interface CallDraw {
  /** TTFT of a short prompt (the calibrated mixture), ms. */
  ttftBaseMs: number;
  /** Multiplies a target output length (lognormal, sigma 0.15). */
  lengthFactor: number;
  /** Output speed of this call (the profile's +-10%), tokens per second. */
  tokensPerSec: number;
}

/** Draw the keyed part of a call. The rng order is fixed: changing it would re-draw every run. */
export function drawCall(opts: DrawOptions, req: { model: string; identity: string }): CallDraw {
  const p = profile(req.model);
  const m = ttftMixture(p, opts.tail ?? 'calibrated');
  const rng = keyedRng(opts.seed, 'llm', req.model, req.identity);
  const slow = rng() < m.tailWeight;
  const z = normal(rng);
  const ttftBaseMs = slow ? Math.exp(m.tailMu + m.tailSigma * z) : Math.exp(m.bodyMu + m.bodySigma * z);
  const lengthFactor = Math.exp(0.15 * normal(rng));
  const tokensPerSec = p.outputTokensPerSec * (0.9 + 0.2 * rng());
  return { ttftBaseMs, lengthFactor, tokensPerSec };
}

/** Prefill time of a prompt (ms): TTFT grows linearly with prompt tokens (profiles.ts cites the slope). */
export function prefillMs(model: string, promptTokens: number): number {
  return promptTokens > 0 ? (promptTokens / profile(model).prefillTokensPerSec) * 1000 : 0;
}

/** Output length realized for a target: the keyed length factor applied, at least 1 token. */
export function realizedTokens(call: CallDraw, targetTokens: number): number {
  return Math.max(1, Math.round(targetTokens * call.lengthFactor));
}

/** Latency of a call whose prompt and output token counts are known. */
export function latencyOf(model: string, call: CallDraw, promptTokens: number, tokensOut: number): LatencyDraw {
  const ttftMs = call.ttftBaseMs + prefillMs(model, promptTokens);
  return { ttftMs, tokensOut, totalMs: ttftMs + (tokensOut / call.tokensPerSec) * 1000 };
}

/**
 * The latency of a call with a target output length: TTFT (drawn base + prefill of
 * `promptTokens`, 0 when absent) + drawn output tokens at the drawn speed.
 */
export function drawLatency(
  opts: DrawOptions,
  req: { model: string; identity: string; outputTokens: number; promptTokens?: number },
): LatencyDraw {
  const call = drawCall(opts, req);
  return latencyOf(req.model, call, req.promptTokens ?? 0, realizedTokens(call, req.outputTokens));
}

export function costUsd(model: string, tokensIn: number, tokensOut: number): number {
  const p = profile(model);
  return (tokensIn * p.priceInPerMTok + tokensOut * p.priceOutPerMTok) / 1e6;
}
