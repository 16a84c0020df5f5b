// The blackboard as a benchmarked system: agents from the workload spec on the orchestrator;
// each task the harness publishes goes on the blackboard; drained = run_until_idle().
import { seedArtifact } from '../../workloads/execute.ts';
import type { WorkloadSpec } from '../../workloads/spec.ts';
import type { RunContext, Session, System } from '../types.ts';
import { Blackboard, type SchedulingMode } from './orchestrator.ts';
import type { BlackboardStore } from './store.ts';
import { MemoryStore } from './stores/memory.ts';

export interface BlackboardParams {
  maxAgentIterations?: number;
  agentConcurrency?: number;
  /** Deferred only. */
  batchWindowMs?: number;
  /** Deferred only; 0 = unbounded. */
  dispatchChunk?: number;
}

export function blackboardSystem(name: string, scheduling: SchedulingMode, makeStore: () => BlackboardStore = () => new MemoryStore()): System<BlackboardParams> {
  return {
    name,
    async start(w: WorkloadSpec, ctx: RunContext<BlackboardParams>): Promise<Session> {
      const store = makeStore();
      // A fan-out multiplies the executions a task causes downstream (k summaries per query).
      const fanOut = w.agents.reduce((n, a) => n * Math.max(1, a.fanOut ?? 1), 1);
      const maxAgentIterations = ctx.params.maxAgentIterations ?? Math.max(1000, 2 * w.tasks.length * fanOut);
      const dispatchChunk = scheduling === 'deferred' ? (ctx.params.dispatchChunk ?? 0) : 0;
      const bb = new Blackboard({ mode: scheduling, store, maxAgentIterations, latencyScale: ctx.latencyScale, dispatchChunk, runtime: ctx });
      const c = ctx.params.agentConcurrency;
      for (const a of w.agents) bb.addAgent(c === undefined ? a : { ...a, maxConcurrency: c });
      // Open loop, deferred: published tasks wait for the batch window (explicit batching, H3);
      // window 0 dispatches each arrival as it comes. Closed loop: everything is published, then
      // runUntilIdle() dispatches it in one pass.
      const open = ctx.arrivals.some((a) => a.intendedAtMs > 0);
      const batchWindowMs = ctx.params.batchWindowMs ?? 0;
      const windowed = open && scheduling === 'deferred' && batchWindowMs > 0;
      let windowTimer: NodeJS.Timeout | undefined;
      return {
        async open() {
          if (windowed) windowTimer = setInterval(() => bb.dispatchPending(), batchWindowMs * ctx.latencyScale);
        },
        async publish(arrivals) {
          for (const arr of arrivals) await bb.publish(seedArtifact(w, arr.index, ctx.clock()));
          if (open && scheduling === 'deferred' && !windowed) bb.dispatchPending();
        },
        async drain() {
          clearInterval(windowTimer);
          await bb.runUntilIdle();
        },
        async collect() {
          return {
            artifacts: await store.all(),
            settings: { scheduling, store: store.kind, maxAgentIterations, ...(c !== undefined ? { agentConcurrency: c } : {}), ...(scheduling === 'deferred' ? { batchWindowMs, dispatchChunk: dispatchChunk || 'unbounded' } : {}) },
            counters: { ...bb.counters },
          };
        },
        queueDepth: () => bb.queueDepth(),
        async stop() {
          clearInterval(windowTimer);
          await store.close();
        },
      };
    },
  };
}
