// The blackboard as a benchmarked system: build agents from the workload spec, publish the
// seed inputs on their arrival schedule, run until idle.
import { UserError } from '../../core/errors.ts';
import { sleepUntil } from '../../workloads/arrivals.ts';
import { seedArtifact } from '../../workloads/execute.ts';
import type { WorkloadSpec } from '../../workloads/spec.ts';
import type { RunContext, System, SystemRunResult } from '../types.ts';
import { Blackboard, type SchedulingMode } from './orchestrator.ts';
import type { BlackboardStore } from './store.ts';
import { MemoryStore } from './stores/memory.ts';

export interface BlackboardSystemOptions {
  name: string;
  mode: SchedulingMode;
  description: string;
  store?: { kind: string; create(ctx: RunContext, w: WorkloadSpec): Promise<BlackboardStore> };
}

export function blackboardSystem(o: BlackboardSystemOptions): System {
  const storeKind = o.store?.kind ?? 'memory';
  return {
    name: o.name,
    description: o.description,
    store: storeKind,
    async run(w: WorkloadSpec, ctx: RunContext): Promise<SystemRunResult> {
      const store = o.store ? await o.store.create(ctx, w) : new MemoryStore();
      // Flock's breaker (1000 executions per agent before idle) is meant for runaway loops, but
      // it also trips on a legitimate batch of >1000 independent inputs to one agent: scale the
      // default with the input count so benchmarks measure work, not the breaker.
      const maxAgentIterations = Number(ctx.systemParams.maxAgentIterations ?? Math.max(1000, 2 * w.inputs.length));
      const bb = new Blackboard({ mode: o.mode, store, maxAgentIterations, latencyScale: ctx.latencyScale, runtime: ctx });
      for (const a of w.agents) bb.addAgent(a);
      ctx.setQueueProbe(() => bb.queueDepth());
      // Open loop, deferred: arrivals are collected for `batchWindowMs` (unscaled, x latency
      // scale) and dispatched together — explicit batching (H3). 0: each arrival is its own batch.
      const batchWindowMs = Number(ctx.systemParams.batchWindowMs ?? 0);
      if (!(batchWindowMs >= 0)) throw new UserError(`${o.name}: batchWindowMs must be >= 0`);
      const open = ctx.arrivals.some((a) => a.intendedAtMs > 0);
      const windowTimer = open && o.mode === 'deferred' && batchWindowMs > 0
        ? setInterval(() => bb.dispatchPending(), batchWindowMs * ctx.latencyScale)
        : undefined;
      try {
        for (const arr of ctx.arrivals) {
          if (open) await sleepUntil(ctx.clock, arr.intendedAtMs, ctx.signal);
          await bb.publish(seedArtifact(w, arr.index, ctx.clock()));
          if (open && o.mode === 'deferred' && !windowTimer) bb.dispatchPending();
        }
        clearInterval(windowTimer);
        await bb.runUntilIdle();
        return {
          artifacts: await store.all(),
          params: { mode: o.mode, store: store.kind, maxAgentIterations, ...(o.mode === 'deferred' ? { batchWindowMs } : {}) },
          counters: { ...bb.counters },
        };
      } finally {
        clearInterval(windowTimer);
        await store.close();
      }
    },
  };
}
