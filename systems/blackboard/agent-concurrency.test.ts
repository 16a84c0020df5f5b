import { describe, expect, it } from 'vitest';
import { runOnce } from '../../harness/runner/run-once.ts';
import { buildWorkload } from '../../workloads/registry.ts';

describe('in-memory blackboard at a given concurrency (H2 reference)', () => {
  it('agentConcurrency replaces the workload limit, in the run and in its ideal replay', async () => {
    const w = buildWorkload('map', { tasks: 12, depth: 1, maxConcurrency: 64 });
    const run = (agentConcurrency?: number) => runOnce({ system: 'blackboard-eager', workload: w, seed: 3, latencyScale: 0.002, systemParams: agentConcurrency ? { agentConcurrency } : {} });
    const wide = await run();
    const narrow = await run(2);
    const overlap = (r: typeof wide) => Math.max(...r.executions.map((e) => r.executions.filter((x) => x.startMs <= e.startMs && e.startMs < x.endMs).length));
    expect(overlap(narrow)).toBeLessThanOrEqual(2);
    expect((narrow.params.settings as Record<string, unknown>).agentConcurrency).toBe(2);
    // Same draws: two slots cannot beat twelve.
    expect(narrow.idealMs).toBeGreaterThan(wide.idealMs);
    expect(narrow.makespanMs).toBeGreaterThanOrEqual(narrow.idealMs);
  });
});
