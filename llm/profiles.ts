// Latency and price profiles of the simulated LLM, calibrated on public figures.
//
// Sources (see ../shared/RESEARCH.md §5, cite in the paper):
// - TTFT p50/p95/p99: modelstats.ai "LLM API latency spikes" (24 h of probes every 5 min, one US DC).
// - Output speed: artificialanalysis.ai model pages.
// - Prices: provider price pages as copied in LiteLLM's model_prices_and_context_window.json.
// - Context windows and output caps: the same LiteLLM file (max_input_tokens, max_output_tokens;
//   litellm 1.78.0). The HTTP simulator answers 400 past them, as the provider does.
// - Prefill (TTFT growth with prompt length): the profile's TTFT percentiles are short-prompt
//   probes; a prompt adds promptTokens / prefillTokensPerSec. gpt-4.1-mini: artificialanalysis.ai
//   (https://artificialanalysis.ai/models/gpt-4-1-mini/providers) reports 0.93 s TTFT for OpenAI on
//   its 10k-input-token workload vs 0.661 s p50 here, i.e. ~27 ms per 1k prompt tokens
//   (37k tokens/s). The same slope is used for gpt-4o-mini and gpt-4.1 (no same-model figure
//   found); a floor-of-TTFT study (https://blog.0xmmo.co/forensics/post.html) measured
//   gpt-4.1-nano at 176 ms (<1 KB) vs 359 ms (64 KB, ~16k tokens) and 882 ms (256 KB), ~11 ms per
//   1k tokens, the same order. claude-sonnet-4.x: Artificial Analysis' 1.80 s TTFT for Sonnet 4.5
//   (as quoted at https://lattice.uptownhr.com/claude-opus-4-5/speed-analysis) vs 0.941 s p50
//   here: ~86 ms per 1k tokens (11.6k tokens/s). A linear fit: the public curves are sub-linear
//   past ~100k tokens (the floor study's exponents 0.3-1.0), so very long prompts are pessimistic.
//
// Shape: a lognormal fitted to p50/p95 under-predicts the public p99 by 1.3-4.4x, so TTFT is a
// mixture: a lognormal body (weight 1-w) plus a slow-path lognormal (weight w, fixed sigma),
// with body mu/sigma and slow-path mu solved so the mixture hits p50, p95 and p99 exactly.
// `tail: 'light'` drops the slow path (the body alone): the counterfactual light-tailed world.

import { UserError } from '../core/errors.ts';

export const PRICES_AS_OF = '2026-11 (figures in ../shared/RESEARCH.md §5)';

export interface ModelProfile {
  id: string;
  ttftMs: { p50: number; p95: number; p99: number };
  outputTokensPerSec: number;
  priceInPerMTok: number;
  priceOutPerMTok: number;
  /** Prompt tokens ingested per second before the first token (TTFT = drawn base + prompt / this). */
  prefillTokensPerSec: number;
  /** Largest prompt + completion (tokens); larger requests get HTTP 400 context_length_exceeded. */
  contextWindowTokens: number;
  /** Largest max_tokens / max_completion_tokens accepted; larger gets HTTP 400. */
  maxOutputTokens: number;
  /** Rate limits of a typical tier-1 account (used by the HTTP simulator). */
  rpm: number;
  tpm: number;
}

export const MODELS: Record<string, ModelProfile> = {
  'gpt-4o-mini': { id: 'gpt-4o-mini', ttftMs: { p50: 536, p95: 844, p99: 4461 }, outputTokensPerSec: 105, priceInPerMTok: 0.15, priceOutPerMTok: 0.6, prefillTokensPerSec: 37_200, contextWindowTokens: 128_000, maxOutputTokens: 16_384, rpm: 500, tpm: 200_000 },
  'gpt-4.1-mini': { id: 'gpt-4.1-mini', ttftMs: { p50: 661, p95: 1087, p99: 2169 }, outputTokensPerSec: 77, priceInPerMTok: 0.4, priceOutPerMTok: 1.6, prefillTokensPerSec: 37_200, contextWindowTokens: 1_047_576, maxOutputTokens: 32_768, rpm: 500, tpm: 200_000 },
  'gpt-4.1': { id: 'gpt-4.1', ttftMs: { p50: 726, p95: 1220, p99: 1946 }, outputTokensPerSec: 64, priceInPerMTok: 2, priceOutPerMTok: 8, prefillTokensPerSec: 37_200, contextWindowTokens: 1_047_576, maxOutputTokens: 32_768, rpm: 500, tpm: 30_000 },
  'claude-sonnet-4.x': { id: 'claude-sonnet-4.x', ttftMs: { p50: 941, p95: 2939, p99: 4787 }, outputTokensPerSec: 80, priceInPerMTok: 3, priceOutPerMTok: 15, prefillTokensPerSec: 11_600, contextWindowTokens: 200_000, maxOutputTokens: 64_000, rpm: 50, tpm: 38_000 },
};

export type TailMode = 'calibrated' | 'light';

export interface TtftMixture {
  bodyMu: number;
  bodySigma: number;
  tailWeight: number;
  tailMu: number;
  tailSigma: number;
}

/** Slow-path weight and spread: 2% of calls take the slow path, itself lognormal(sigma 0.4). */
const TAIL_WEIGHT = 0.02;
const TAIL_SIGMA = 0.4;

function erf(x: number): number {
  // Abramowitz-Stegun 7.1.26 is too coarse for tails; use a high-precision series/continued fraction.
  const t = 1 / (1 + 0.5 * Math.abs(x));
  const y = 1 - t * Math.exp(-x * x - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 +
    t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))));
  return x >= 0 ? y : -y;
}

export function lognormalCdf(x: number, mu: number, sigma: number): number {
  if (x <= 0) return 0;
  return 0.5 * (1 + erf((Math.log(x) - mu) / (sigma * Math.SQRT2)));
}

export function mixtureCdf(x: number, m: TtftMixture): number {
  return (1 - m.tailWeight) * lognormalCdf(x, m.bodyMu, m.bodySigma) + m.tailWeight * lognormalCdf(x, m.tailMu, m.tailSigma);
}

/** Quantile of the mixture by bisection on its CDF. */
export function mixtureQuantile(q: number, m: TtftMixture): number {
  let lo = 0, hi = 1e7;
  for (let i = 0; i < 100; i++) {
    const mid = (lo + hi) / 2;
    if (mixtureCdf(mid, m) < q) lo = mid; else hi = mid;
  }
  return (lo + hi) / 2;
}

function bisect(f: (x: number) => number, lo: number, hi: number, iters = 60): number {
  let flo = f(lo);
  for (let i = 0; i < iters; i++) {
    const mid = (lo + hi) / 2;
    const fm = f(mid);
    if (Math.sign(fm) === Math.sign(flo)) { lo = mid; flo = fm; } else hi = mid;
  }
  return (lo + hi) / 2;
}

const fitted = new Map<string, TtftMixture>();
/** Per profile object, the last fit of each tail and the percentiles it was fitted to: no key string per draw. */
const lastFit = new WeakMap<ModelProfile, Partial<Record<TailMode, { p50: number; p95: number; p99: number; m: TtftMixture }>>>();

/** Fit (cached) the TTFT mixture of a profile. */
export function ttftMixture(p: ModelProfile, tail: TailMode = 'calibrated'): TtftMixture {
  const last = lastFit.get(p)?.[tail];
  if (last && last.p50 === p.ttftMs.p50 && last.p95 === p.ttftMs.p95 && last.p99 === p.ttftMs.p99) return last.m;
  const m = fitMixture(p, tail);
  let byTail = lastFit.get(p);
  if (!byTail) lastFit.set(p, (byTail = {}));
  byTail[tail] = { p50: p.ttftMs.p50, p95: p.ttftMs.p95, p99: p.ttftMs.p99, m };
  return m;
}

function fitMixture(p: ModelProfile, tail: TailMode): TtftMixture {
  const cacheKey = `${p.id}:${tail}:${p.ttftMs.p50}:${p.ttftMs.p95}:${p.ttftMs.p99}`;
  const hit = fitted.get(cacheKey);
  if (hit) return hit;
  const { p50, p95, p99 } = p.ttftMs;
  const z95 = 1.6448536269514722;
  let m: TtftMixture;
  if (tail === 'light') {
    m = { bodyMu: Math.log(p50), bodySigma: Math.log(p95 / p50) / z95, tailWeight: 0, tailMu: 0, tailSigma: 1 };
  } else {
    // For a given slow-path mu, solve body (mu, sigma) from p50 and p95; then solve slow-path mu from p99.
    const solveBody = (tailMu: number) => {
      let sigma = Math.log(p95 / p50) / z95;
      let mu = Math.log(p50);
      for (let k = 0; k < 30; k++) {
        mu = bisect((x) => mixtureCdf(p50, { bodyMu: x, bodySigma: sigma, tailWeight: TAIL_WEIGHT, tailMu, tailSigma: TAIL_SIGMA }) - 0.5, Math.log(p50) - 2, Math.log(p50) + 2);
        sigma = bisect((s) => 0.95 - mixtureCdf(p95, { bodyMu: mu, bodySigma: s, tailWeight: TAIL_WEIGHT, tailMu, tailSigma: TAIL_SIGMA }), 0.01, 3);
      }
      return { mu, sigma };
    };
    const tailMu = bisect((tm) => {
      const b = solveBody(tm);
      return 0.99 - mixtureCdf(p99, { bodyMu: b.mu, bodySigma: b.sigma, tailWeight: TAIL_WEIGHT, tailMu: tm, tailSigma: TAIL_SIGMA });
    }, Math.log(p50), Math.log(p99) + 3, 40);
    const b = solveBody(tailMu);
    m = { bodyMu: b.mu, bodySigma: b.sigma, tailWeight: TAIL_WEIGHT, tailMu, tailSigma: TAIL_SIGMA };
  }
  fitted.set(cacheKey, m);
  return m;
}

export function profile(model: string): ModelProfile {
  const p = MODELS[model];
  if (!p) throw new UnknownModelError(model);
  return p;
}

export class UnknownModelError extends UserError {
  constructor(readonly model: string) {
    super(`unknown model '${model}' (known: ${Object.keys(MODELS).join(', ')})`);
  }
}
