import { describe, expect, it } from 'vitest';
import { buildWorkload } from '../../workloads/registry.ts';
import { median } from '../../harness/collect/stats.ts';
import { runOnce, type RunOutcome } from '../../harness/runner/run-once.ts';

// Open loop: 20 tasks arriving every 10 ms. Deferred with a batch window dispatches arrivals
// only at window ticks; without one, each arrival starts at once, like eager.
const workload = () => buildWorkload('map', { items: 20, arrival: 'uniform', ratePerSec: 100 });

function waits(r: RunOutcome): number[] {
  const arrival = new Map(r.taskLatencies.map((t) => [t.task, t.intendedAtMs]));
  return r.executions.map((e) => e.startMs - arrival.get(e.inputKeys[0])!);
}

describe('blackboard system, open-loop arrivals', () => {
  it('deferred with batchWindowMs holds arrivals until a window tick; without a window it dispatches each arrival', async () => {
    const run = (system: string, systemParams = {}) => runOnce({ system, workload: workload(), seed: 1, latencyScale: 0.001, systemParams });
    const eager = await run('blackboard-eager');
    const perArrival = await run('blackboard-deferred');
    // 50 000 ms unscaled x 0.001 = 50 ms windows over a 200 ms arrival span.
    const windowed = await run('blackboard-deferred', { batchWindowMs: 50_000 });
    for (const r of [eager, perArrival, windowed]) {
      expect(r.errors).toBe(0);
      expect(waits(r).every((w) => w >= 0)).toBe(true);
    }
    // Uniform arrivals 10 ms apart in 50 ms windows wait ~20 ms on average; per-arrival dispatch ~0.
    expect(median(waits(windowed))).toBeGreaterThan(median(waits(perArrival)) + 10);
    expect(median(waits(windowed))).toBeGreaterThan(median(waits(eager)) + 10);
    expect(windowed.params.system).toMatchObject({ batchWindowMs: 50_000 });
    expect(windowed.finalHash).toEqual(eager.finalHash);
  });
});
