// Keyed latency draws: TTFT from the calibrated mixture, then output tokens at the profile's
// speed. Pure in (seed, identity): the same call gets the same latency on every system.
import { keyedRng, normal } from '../core/random.ts';
import { profile, ttftMixture, type TailMode } from './profiles.ts';
import type { LatencyDraw } from './types.ts';

export interface DrawOptions {
  seed: number;
  tail?: TailMode;
}

export function drawLatency(
  opts: DrawOptions,
  req: { model: string; identity: string; outputTokens: number },
): LatencyDraw {
  const p = profile(req.model);
  const m = ttftMixture(p, opts.tail ?? 'calibrated');
  const rng = keyedRng(opts.seed, 'llm', req.model, req.identity);
  const slow = rng() < m.tailWeight;
  const z = normal(rng);
  const ttftMs = slow ? Math.exp(m.tailMu + m.tailSigma * z) : Math.exp(m.bodyMu + m.bodySigma * z);
  // Output length varies a little around the target (sigma 0.15), speed +-10%.
  const tokensOut = Math.max(1, Math.round(req.outputTokens * Math.exp(0.15 * normal(rng))));
  const speed = p.outputTokensPerSec * (0.9 + 0.2 * rng());
  return { ttftMs, tokensOut, totalMs: ttftMs + (tokensOut / speed) * 1000 };
}

export function costUsd(model: string, tokensIn: number, tokensOut: number): number {
  const p = profile(model);
  return (tokensIn * p.priceInPerMTok + tokensOut * p.priceOutPerMTok) / 1e6;
}
