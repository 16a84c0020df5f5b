// A run through the HTTP simulator with a provider rate limit: 429s and retries happen, and the
// final artifacts are exactly those of the in-process transport (same seed).
import { describe, expect, it } from 'vitest';
import { buildWorkload } from '../../workloads/registry.ts';
import { runOnce } from './run-once.ts';

describe('llm: http transport in a run', () => {
  it.each(['blackboard-eager', 'langgraph-parallel'])('%s: rate-limited run recovers every call and ends with the in-process artifacts', async (system) => {
    const params = { analysts: 4, tasks: 4, maxConcurrency: 4, editorTimeoutMs: 600_000 };
    const base = await runOnce({ system, workload: buildWorkload('review-analysis', params), seed: 3, latencyScale: 0.01 });
    const http = await runOnce({
      system,
      workload: buildWorkload('review-analysis', params),
      seed: 3,
      latencyScale: 0.01,
      llm: 'http',
      llmOptions: { limits: { rpm: 8, tpm: 10_000_000 }, maxRetries: 80 },
    });
    expect(http.llm.rateLimited).toBeGreaterThan(0);
    expect(http.llm.retries).toBeGreaterThanOrEqual(http.llm.rateLimited);
    expect(http.llm.failures).toBe(0);
    expect(http.errors).toBe(0);
    expect(http.finalHash).toEqual(base.finalHash);
    expect(http.llm.calls).toBe(base.llm.calls);
    const server = http.params.llmServer as { rateLimited?: number } | undefined;
    expect(server).toBeDefined();
  });
});
