import { describe, expect, it } from 'vitest';
import { shuffled, keyedRng } from '../core/random.ts';
import { quantile } from '../core/stats/basic.ts';
import { drawLatency } from './draw.ts';
import { MODELS, mixtureQuantile, ttftMixture } from './profiles.ts';
import { SimulatedLlm } from './simulator.ts';

describe('simulated LLM', () => {
  it('draws depend on (seed, identity) only, not on call order', () => {
    const ids = Array.from({ length: 200 }, (_, i) => `agent(input-${i})`);
    const a = new SimulatedLlm({ seed: 3 });
    const forward = new Map(ids.map((id) => [id, a.draw({ model: 'gpt-4.1', identity: id, outputTokens: 300 }).totalMs]));
    const b = new SimulatedLlm({ seed: 3 });
    for (const id of shuffled(ids, keyedRng('order'))) {
      expect(b.draw({ model: 'gpt-4.1', identity: id, outputTokens: 300 }).totalMs).toBe(forward.get(id));
    }
    const other = new SimulatedLlm({ seed: 4 }).draw({ model: 'gpt-4.1', identity: ids[0], outputTokens: 300 }).totalMs;
    expect(other).not.toBe(forward.get(ids[0]));
  });

  it('calibrated mixtures hit the public TTFT p50/p95/p99 of every profile', () => {
    for (const p of Object.values(MODELS)) {
      const m = ttftMixture(p);
      for (const [q, target] of [[0.5, p.ttftMs.p50], [0.95, p.ttftMs.p95], [0.99, p.ttftMs.p99]] as const) {
        expect(Math.abs(mixtureQuantile(q, m) - target) / target).toBeLessThan(0.005);
      }
    }
  });

  it.each(Object.keys(MODELS))('10k empirical TTFT draws of %s match the profile percentiles', (model) => {
    const p = MODELS[model];
    const ttft = Array.from({ length: 10_000 }, (_, i) => drawLatency({ seed: 11 }, { model, identity: `x${i}`, outputTokens: 100 }).ttftMs);
    // Sampling error of an empirical quantile from 10k draws: ~2-3% at p50/p95, wider at p99.
    expect(quantile(ttft, 0.5) / p.ttftMs.p50).toBeCloseTo(1, 1);
    expect(Math.abs(quantile(ttft, 0.95) / p.ttftMs.p95 - 1)).toBeLessThan(0.06);
    expect(Math.abs(quantile(ttft, 0.99) / p.ttftMs.p99 - 1)).toBeLessThan(0.15);
  });

  it('light tail keeps p50/p95 and drops the slow path', () => {
    const p = MODELS['gpt-4o-mini'];
    const light = ttftMixture(p, 'light');
    expect(mixtureQuantile(0.5, light)).toBeCloseTo(p.ttftMs.p50, 0);
    expect(mixtureQuantile(0.95, light)).toBeCloseTo(p.ttftMs.p95, 0);
    expect(mixtureQuantile(0.99, light)).toBeLessThan(p.ttftMs.p99 / 2);
  });

  it('waits the scaled draw and accounts tokens and cost', async () => {
    const llm = new SimulatedLlm({ seed: 1, latencyScale: 0.01 });
    const t0 = performance.now();
    const r = await llm.complete({ model: 'gpt-4.1-mini', agent: 'a', identity: 'a(x)', promptTokens: 1000, outputTokens: 200 });
    const waited = performance.now() - t0;
    expect(r.scaledLatencyMs).toBeCloseTo(r.drawnLatencyMs * 0.01, 6);
    // Never early (the critical-path lower bound relies on it), whatever the timer granularity.
    expect(waited).toBeGreaterThanOrEqual(r.scaledLatencyMs);
    for (let i = 0; i < 20; i++) {
      const t = performance.now();
      const x = await llm.complete({ model: 'gpt-4.1-mini', agent: 'a', identity: `a(y${i})`, promptTokens: 10, outputTokens: 20 });
      expect(performance.now() - t).toBeGreaterThanOrEqual(x.scaledLatencyMs);
    }
    expect(r.costUsd).toBeCloseTo((1000 * 0.4 + r.tokensOut * 1.6) / 1e6, 12);
    expect(llm.stats()).toMatchObject({ calls: 21, tokensIn: 1000 + 20 * 10 });
  });

  it('with limits, calls over RPM or TPM wait for admission (queuedMs), and the limiter says which bound', async () => {
    // rpm 4 per 200 ms window, latency scale 0: 4 calls pass at once, then one per 50 ms.
    const llm = new SimulatedLlm({ seed: 1, latencyScale: 0, limits: { rpm: 4, tpm: 1e9, windowMs: 200 } });
    const call = (i: number) => llm.complete({ model: 'gpt-4o-mini', agent: 'a', identity: `a(${i})`, promptTokens: 10, outputTokens: 10 });
    const rs = await Promise.all(Array.from({ length: 8 }, (_, i) => call(i)));
    const waits = rs.map((r) => r.queuedMs!);
    expect(waits.slice(0, 4)).toEqual([0, 0, 0, 0]);
    // A refill can only be later than the bucket allows, never earlier (load only lengthens waits).
    waits.slice(4).forEach((w, j) => { expect(w).toBeGreaterThanOrEqual(50 * (j + 1) - 1); });
    for (const r of rs) expect(r.scaledLatencyMs).toBe(r.queuedMs);
    const st = llm.limiterStats()!;
    expect(st).toMatchObject({ admitted: 8, queued: 4, queueDepth: 0, inFlight: 0 });
    expect(st.blockedMs.requests).toBeGreaterThan(0);
    expect(st.blockedMs.tokens).toBe(0);
    await llm.close();
    expect(new SimulatedLlm({ seed: 1 }).limiterStats()).toBeUndefined();
  });

  it('a call over the TPM capacity fails at once instead of waiting forever', async () => {
    const llm = new SimulatedLlm({ seed: 1, latencyScale: 0, limits: { tpm: 100 } });
    await expect(llm.complete({ model: 'gpt-4o-mini', agent: 'a', identity: 'x', promptTokens: 90, outputTokens: 20 })).rejects.toThrow(/Request too large/);
  });

  it('slowdown multiplies the service time once more calls are in flight than the capacity', async () => {
    const req = (i: number) => ({ model: 'gpt-4o-mini', agent: 'a', identity: `s(${i})`, promptTokens: 10, outputTokens: 10 });
    const llm = new SimulatedLlm({ seed: 2, latencyScale: 0.001, slowdown: { capacity: 2, alpha: 1 } });
    const rs = await Promise.all(Array.from({ length: 4 }, (_, i) => llm.complete(req(i))));
    // Calls start in order: in flight 1, 2, 3, 4 -> factors 1, 1, 1.5, 2.
    [1, 1, 1.5, 2].forEach((f, i) => { expect(rs[i]!.scaledLatencyMs).toBeCloseTo(rs[i]!.drawnLatencyMs * 0.001 * f, 9); });
  });
});
