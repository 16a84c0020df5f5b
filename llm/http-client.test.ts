import { describe, expect, it } from 'vitest';
import type { JsonSchema } from '../core/schema.ts';
import { validatePayload } from '../core/schema.ts';
import { HttpLlm, LlmCallError } from './http-client.ts';
import { createLlm, llmServerMetrics } from './index.ts';
import { startLlmServer } from './server.ts';
import { SimulatedLlm } from './simulator.ts';
import type { LlmRequest } from './types.ts';

const SCHEMA: JsonSchema = {
  type: 'object',
  properties: { title: { type: 'string' }, score: { type: 'number', minimum: 0, maximum: 1 }, kind: { enum: ['x', 'y'] } },
  required: ['title', 'score', 'kind'],
};

const req = (i: number, over: Partial<LlmRequest> = {}): LlmRequest => ({
  model: 'gpt-4o-mini', agent: 'writer', identity: `writer:${i}`, promptTokens: 200 + i, outputTokens: 40, schema: SCHEMA, fixed: { n: i }, ...over,
});

describe('HttpLlm', () => {
  it('matches the in-process transport: content, draw, tokens and cost (JSON and SSE)', async () => {
    const inproc = new SimulatedLlm({ seed: 3, latencyScale: 0 });
    for (const stream of [false, true]) {
      const http = await createLlm('http', { seed: 3, latencyScale: 0.001, stream });
      for (let i = 0; i < 20; i++) {
        const [a, b] = await Promise.all([inproc.complete(req(i)), http.complete(req(i))]);
        expect(b.content).toEqual(a.content);
        expect(validatePayload(SCHEMA, b.content)).toBeNull();
        expect(b.drawnLatencyMs).toBe(a.drawnLatencyMs);
        expect([b.tokensIn, b.tokensOut, b.costUsd]).toEqual([a.tokensIn, a.tokensOut, a.costUsd]);
        expect(b.retries).toBe(0);
        expect(b.scaledLatencyMs).toBeGreaterThanOrEqual(a.drawnLatencyMs * 0.001 - 1);
      }
      const st = http.stats();
      expect(st).toMatchObject({ calls: 20, retries: 0, rateLimited: 0, failures: 0 });
      await http.close();
      const m = llmServerMetrics(http)!; // still readable after close: the runner reads it then
      expect(m.byStatus).toEqual({ 200: 20 });
      expect(m.tokens.prompt).toBe(st.tokensIn);
      expect(m.streams).toBe(stream ? 20 : 0);
    }
  });

  it('recovers every request of a 429 storm, waiting at least the retry-after the server asks for', async () => {
    // The limiter's clock moves one window at a time, only when the test says: each window
    // admits exactly 4 calls, and every other attempt is a 429 asking for 100 ms (one request
    // refills every 400/4 ms). With backoff jitter capped at 1 ms, a call's latency can only
    // reach retries x 100 ms if the client honours retry-after; a client that ignored it
    // would retry every few ms and fail that bound by two orders of magnitude.
    let clockMs = 0;
    const s = await startLlmServer({ seed: 5, latencyScale: 0.001, limits: { rpm: 4, windowMs: 400 }, clock: () => clockMs });
    const llm = new HttpLlm({ url: s.url, seed: 5, latencyScale: 0.001, maxRetries: 10_000, backoffBaseMs: 1, backoffMaxMs: 1, timeoutMs: 30_000 });
    const n = 40;
    let settled = false;
    const calls = Promise.all(Array.from({ length: n }, (_, i) => llm.complete(req(i, { schema: undefined, fixed: undefined })))).finally(() => { settled = true; });
    const admitted: number[] = [];
    while (!settled) {
      await new Promise((r) => setTimeout(r, 150));
      admitted.push(s.metrics().byStatus[200] ?? 0);
      clockMs += 400;
    }
    const rs = await calls;
    // Never more than 4 per window: the count of 200s grows by at most 4 per clock step.
    admitted.forEach((a, i) => { expect(a).toBeLessThanOrEqual(4 * (i + 1)); });
    const st = llm.stats();
    expect(st.calls).toBe(n);
    expect(st.failures).toBe(0);
    expect(st.rateLimited).toBeGreaterThanOrEqual(n - 4);
    expect(st.retries).toBe(st.rateLimited);
    expect(rs.reduce((t, r) => t + r.retries, 0)).toBe(st.retries);
    for (const r of rs) expect(r.scaledLatencyMs).toBeGreaterThanOrEqual(r.retries * 100 - 1);
    // A 429 costs nothing: tokens are exactly the successful calls'.
    expect(st.tokensIn).toBe(rs.reduce((t, r) => t + r.tokensIn, 0));
    expect(st.tokensIn).toBe(Array.from({ length: n }, (_, i) => 200 + i).reduce((a, b) => a + b, 0));
    await llm.close();
    const m = s.metrics();
    expect(m.byStatus[200]).toBe(n);
    expect(m.byStatus[429]).toBe(st.rateLimited);
    await s.close();
  });

  it('retries through 5xx, hangs and malformed bodies reproducibly, billing what a provider would', async () => {
    const run = async () => {
      const llm = await createLlm('http', {
        // The client deadline (10 s) is far above any answer on a loaded box and far below the
        // hang (held until the client leaves): only the injected hangs time out, so the
        // retries are the keyed faults' and the same in both runs.
        seed: 9, latencyScale: 0.001, faults: { http5xx: 0.15, timeout: 0.05, malformed: 0.1, hangMs: 600_000 }, timeoutMs: 10_000, maxRetries: 8, backoffBaseMs: 2, backoffMaxMs: 20,
      });
      const rs = await Promise.all(Array.from({ length: 80 }, (_, i) => llm.complete(req(i))));
      await llm.close();
      return { rs, st: llm.stats(), m: llmServerMetrics(llm)! };
    };
    const a = await run();
    const b = await run();
    expect(a.st.failures).toBe(0);
    expect(a.rs.map((r) => r.retries)).toEqual(b.rs.map((r) => r.retries));
    expect(a.m.faults).toEqual(b.m.faults);
    expect(a.m.faults.http5xx).toBeGreaterThan(0);
    expect(a.m.faults.timeout).toBeGreaterThan(0);
    expect(a.m.faults.malformed).toBeGreaterThan(0);
    expect(a.st.retries).toBe(a.m.faults.http5xx + a.m.faults.timeout + a.m.faults.malformed);
    for (const r of a.rs) expect(validatePayload(SCHEMA, r.content)).toBeNull();
    // Billing: timeouts cost their prompt, malformed bodies the prompt and the drawn output.
    const clean = new SimulatedLlm({ seed: 9, latencyScale: 0 });
    const base = await Promise.all(Array.from({ length: 80 }, (_, i) => clean.complete(req(i))));
    const extraIn = a.st.tokensIn - base.reduce((s, r) => s + r.tokensIn, 0);
    const extraOut = a.st.tokensOut - base.reduce((s, r) => s + r.tokensOut, 0);
    expect(extraIn).toBeGreaterThan(0);
    expect(extraOut).toBeGreaterThan(0);
    expect(a.st.costUsd).toBeGreaterThan(base.reduce((s, r) => s + r.costUsd, 0));
  }, 120_000);

  it('warms keep-alive connections so the first wave reuses them', async () => {
    const llm = await createLlm('http', { seed: 2, latencyScale: 0.001, warmConnections: 60 });
    expect(llmServerMetrics(llm)!.connections).toBe(60);
    await Promise.all(Array.from({ length: 60 }, (_, i) => llm.complete(req(i))));
    const m = llmServerMetrics(llm)!;
    expect(m.connections).toBe(60);
    expect(m.requests).toBe(60); // warm-up GETs are not counted
    await llm.close();
  });

  it('gives up after maxRetries, and at once on a 4xx, counting failures', async () => {
    const s = await startLlmServer({ seed: 1, latencyScale: 0, faults: { http5xx: 1 } });
    const llm = new HttpLlm({ url: s.url, seed: 1, maxRetries: 2, backoffBaseMs: 1, backoffMaxMs: 2 });
    await expect(llm.complete(req(1))).rejects.toThrow(LlmCallError);
    // A header the server rejects (fixed fields must be JSON): 400, not retried.
    const bad = new HttpLlm({ url: s.url, seed: 1, maxRetries: 2, headers: { 'x-flockbench-fixed': '{oops' } });
    await expect(bad.complete(req(2, { fixed: undefined }))).rejects.toMatchObject({ status: 400, attempts: 1 });
    expect(bad.stats()).toMatchObject({ calls: 0, failures: 1, retries: 0 });
    await bad.close();
    expect(() => llm.draw({ model: 'gpt-9', identity: 'x', outputTokens: 1 })).toThrow(/unknown model/);
    expect(llm.stats()).toMatchObject({ calls: 0, failures: 1, retries: 2, costUsd: 0 });
    expect(s.metrics().byStatus).toEqual({ 400: 1, 500: 3 });
    await llm.close();
    await s.close();
  });
});
