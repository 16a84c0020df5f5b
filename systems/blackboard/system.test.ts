import { describe, expect, it } from 'vitest';
import { buildWorkload } from '../../workloads/registry.ts';
import { runOnce, type RunOutcome } from '../../harness/runner/run-once.ts';

// Open loop: 20 tasks arriving every 20 ms (400 ms). Deferred with a 100 ms batch window
// dispatches arrivals only at window ticks; without a window, each arrival is its own batch.
const workload = () => buildWorkload('map', { tasks: 20, arrival: 'uniform', ratePerSec: 50 });
const waits = (r: RunOutcome) => {
  const arrival = new Map(r.taskLatencies.map((t) => [t.task, t.intendedAtMs]));
  return r.executions.map((e) => e.startMs - arrival.get(e.inputKeys[0])!);
};

describe('blackboard system, open-loop arrivals', () => {
  it('deferred with batchWindowMs dispatches arrivals in window batches; without one, per arrival', async () => {
    const run = (system: string, systemParams = {}) => runOnce({ system, workload: workload(), seed: 1, latencyScale: 0.001, systemParams });
    const eager = await run('blackboard-eager');
    const perArrival = await run('blackboard-deferred');
    const windowed = await run('blackboard-deferred', { batchWindowMs: 100_000 }); // x0.001 = 100 ms
    for (const r of [eager, perArrival, windowed]) {
      expect(r.errors).toBe(0);
      // No task starts before it arrives (arrivals never fire early).
      expect(Math.min(...waits(r))).toBeGreaterThanOrEqual(0);
      expect(r.finalHash).toEqual(eager.finalHash);
    }
    const batches = (r: RunOutcome) => (r.params.counters as { dispatchBatches: number }).dispatchBatches;
    expect(batches(eager)).toBe(0);
    expect(batches(perArrival)).toBe(20);
    // ~4 window ticks over 400 ms of arrivals, plus the final flush in runUntilIdle.
    expect(batches(windowed)).toBeGreaterThanOrEqual(2);
    expect(batches(windowed)).toBeLessThanOrEqual(7);
    expect(windowed.params.system).toMatchObject({ batchWindowMs: 100_000 });
  });
});
