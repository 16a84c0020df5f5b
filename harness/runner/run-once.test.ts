import { describe, expect, it } from 'vitest';
import type { RunContext, System } from '../../systems/types.ts';
import { executeAgent, seedArtifact } from '../../workloads/execute.ts';
import { buildWorkload } from '../../workloads/registry.ts';
import { runOnce } from './run-once.ts';

/** A system that runs the map workload sequentially, with setup and teardown around it. */
function windowed(setupMs: number, teardownMs: number, helperCpuMs?: number): System {
  return {
    name: 'windowed',
    description: 'test system',
    store: 'memory',
    async run(w, ctx: RunContext) {
      await new Promise((r) => setTimeout(r, setupMs));
      ctx.markMeasureStart?.();
      const artifacts = [];
      for (let i = 0; i < w.inputs.length; i++) {
        const seed = seedArtifact(w, i, ctx.clock());
        artifacts.push(seed, ...(await executeAgent(w.agents[0]!, [seed], ctx)));
      }
      ctx.markMeasureEnd?.();
      const endAt = ctx.clock();
      await new Promise((r) => setTimeout(r, teardownMs));
      return { artifacts, params: { endAt }, ...(helperCpuMs === undefined ? {} : { helperCpuMs }) };
    },
  };
}

describe('runOnce measured window', () => {
  const w = buildWorkload('map', { items: 3, depth: 1 });

  it('makespan runs from markMeasureStart to markMeasureEnd: setup and teardown excluded', async () => {
    const r = await runOnce({ system: windowed(150, 400), workload: w, seed: 1, latencyScale: 0.001 });
    const endAt = (r.params.system as { endAt: number }).endAt;
    expect(r.makespanMs).toBeLessThanOrEqual(endAt);
    expect(r.params.setupMs).toBeGreaterThanOrEqual(140);
    // Executions all lie inside the window; no sample was taken after it ended.
    expect(r.executions.every((e) => e.startMs >= 0 && e.endMs <= r.makespanMs)).toBe(true);
    expect(r.samples.every((s) => s.tMs <= r.makespanMs + 1)).toBe(true);
  });

  it("adds the CPU of the system's helper processes to cpuMs", async () => {
    const base = await runOnce({ system: windowed(0, 0), workload: w, seed: 1, latencyScale: 0.001 });
    const withHelpers = await runOnce({ system: windowed(0, 0, 5000), workload: w, seed: 1, latencyScale: 0.001 });
    expect(withHelpers.cpuMs).toBeGreaterThanOrEqual(5000);
    expect(base.cpuMs).toBeLessThan(5000);
  });
});
