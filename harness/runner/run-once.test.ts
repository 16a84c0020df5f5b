import { describe, expect, it } from 'vitest';
import type { RunContext, System } from '../../systems/types.ts';
import type { Artifact } from '../../workloads/spec.ts';
import { executeAgent, seedArtifact } from '../../workloads/execute.ts';
import { buildWorkload } from '../../workloads/registry.ts';
import { runOnce } from './run-once.ts';

/** A system that runs the map workload sequentially, with setup and teardown around it. */
function windowed(setupMs: number, teardownMs: number, helperCpuMs?: number): System<unknown> {
  return {
    name: 'windowed',
    async start(w, ctx: RunContext<unknown>) {
      await new Promise((r) => setTimeout(r, setupMs));
      const artifacts: Artifact[] = [];
      let work = Promise.resolve();
      let endAt = 0;
      return {
        async publish(arrivals) {
          work = work.then(async () => {
            for (const a of arrivals) {
              const seed = seedArtifact(w, a.index, ctx.clock());
              artifacts.push(seed, ...(await executeAgent(w.agents[0]!, [seed], ctx)));
            }
          });
        },
        async drain() {
          await work;
          endAt = ctx.clock();
          return { endMs: endAt };
        },
        async collect() {
          return { artifacts, settings: { endAt }, ...(helperCpuMs === undefined ? {} : { helperCpuMs }) };
        },
        async stop() {
          await new Promise((r) => setTimeout(r, teardownMs));
        },
      };
    },
  };
}

describe('runOnce measured window', () => {
  const w = buildWorkload('map', { tasks: 3, depth: 1 });

  it('the measured window runs from the end of start() to the end drain() reports: setup and teardown excluded', async () => {
    const r = await runOnce({ system: windowed(150, 400), workload: w, seed: 1, latencyScale: 0.001 });
    const endAt = (r.params.settings as { endAt: number }).endAt;
    expect(r.makespanMs).toBe(endAt);
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

  it('one arrival loop publishes every task at its intended time, never early, without waiting for a slow publish', async () => {
    const open = buildWorkload('map', { tasks: 20, depth: 1, arrival: 'uniform', ratePerSec: 200 });
    const calls: number[] = [];
    const slow: System<unknown> = {
      name: 'slow-publish',
      async start(wl, ctx) {
        const inner = await windowed(0, 0).start(wl, ctx);
        return {
          ...inner,
          async publish(arrivals) {
            calls.push(ctx.clock());
            await inner.publish(arrivals);
            // Accepting a task takes far longer than the gap between arrivals (5 ms).
            await new Promise((r) => setTimeout(r, 50));
          },
        };
      },
    };
    const r = await runOnce({ system: slow, workload: open, seed: 2, latencyScale: 0.001 });
    expect(calls).toHaveLength(20);
    // Were publishes awaited, the 20th task would be published ~19 x 50 ms late.
    for (const t of r.taskLatencies) {
      expect(t.publishedAtMs).toBeGreaterThanOrEqual(t.intendedAtMs);
      expect(t.publishedAtMs - t.intendedAtMs).toBeLessThan(300);
    }
    // Arrivals at the same intended time are one publish: all-at-once is one call.
    calls.length = 0;
    await runOnce({ system: slow, workload: w, seed: 2, latencyScale: 0.001 });
    expect(calls).toHaveLength(1);
  });
});
