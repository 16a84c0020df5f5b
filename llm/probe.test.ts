import { describe, expect, it } from 'vitest';
import { probeLatency } from './probe.ts';

describe('llm probe', () => {
  it('measures every request and never sees a response before its drawn latency', async () => {
    const r = await probeLatency({ model: 'gpt-4.1-mini', requests: 120, concurrency: 6, outputTokens: 20, seed: 4, latencyScale: 0.01 });
    expect(r).toMatchObject({ requests: 120, failures: 0, early: 0 });
    expect(r.rows.map((x) => x.percentile)).toEqual(['p50', 'p95', 'p99']);
    for (const x of r.rows) {
      expect(x.configuredTtftMs).toBeGreaterThan(0);
      // Timers may fire ~1 ms early; the server never answers before the draw otherwise. How
      // close to the draw it answers is a figure of the machine: the probe's output, not a test.
      expect(x.measuredTtftMs).toBeGreaterThanOrEqual(x.drawnTtftMs - 1.5);
      expect(x.measuredTotalMs).toBeGreaterThanOrEqual(x.drawnTotalMs - 1.5);
    }
  });
});
