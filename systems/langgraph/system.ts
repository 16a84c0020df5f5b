// The graph baselines: the workload compiled to a real LangGraph.js StateGraph (compile.ts), run
// in two honest configurations — stepwise (one superstep per invoke, as the seeds' "graph engine
// run after each edge emission") and parallel (Send fan-out, bounded maxConcurrency, one run).
//
// Per-agent limits: LangGraph only has a global `maxConcurrency` (tasks per superstep window). The
// workload's per-agent `maxConcurrency` is enforced by default with a semaphore inside the node
// (systemParams.perAgentLimit, default true) so both families run under the same limits and the
// peak-concurrency invariant holds; a task waiting on it still holds one of the engine's slots.
//
// Arrivals: the harness publishes tasks; every publish is one graph run over the tasks that
// arrived together. All-at-once is therefore one graph run with every seed (every task waits at
// every superstep barrier); open-loop arrivals start one run per arrival (parallel: concurrently;
// stepwise: one after another, each stepped), which is only equivalent when no batch groups
// across tasks: workloads with a global batch are rejected in open loop.
import { randomUUID } from 'node:crypto';
import { MemorySaver } from '@langchain/langgraph';
import { seedArtifact } from '../../workloads/execute.ts';
import type { Artifact, WorkloadSpec } from '../../workloads/spec.ts';
import type { Arrival } from '../../workloads/arrivals.ts';
import type { RunContext, Session, System } from '../types.ts';
import { compileParallel, compileStepwise, type GraphStateValue } from './compile.ts';
import { checkOpenLoop, invokeSignal, isOpenLoop, LANGGRAPH_VERSION, makeExecute, RunProbe } from './runtime.ts';

export { LANGGRAPH_VERSION };

export interface ParallelParams {
  maxConcurrency: number;
  checkpointer: 'none' | 'memory';
  durability: 'async' | 'sync' | 'exit';
  perAgentLimit: boolean;
  recursionLimit?: number;
}

/** langgraph-parallel: Send fan-out, bounded global maxConcurrency, one graph run per publish. */
export function langgraphParallelSystem(name = 'langgraph-parallel'): System<ParallelParams> {
  return {
    name,
    async start(w: WorkloadSpec, ctx: RunContext<ParallelParams>): Promise<Session> {
      const { maxConcurrency, checkpointer, perAgentLimit } = ctx.params;
      const durability = checkpointer === 'none' ? 'none' : ctx.params.durability;
      const recursionLimit = ctx.params.recursionLimit ?? 2 * w.agents.length + 25;
      checkOpenLoop(w, name);

      const probe = new RunProbe();
      const graph = compileParallel(w, {
        execute: makeExecute(ctx, probe, perAgentLimit),
        onTask: (at) => probe.onTask(at),
        onDispatch: (_a, n) => { probe.sent += n; },
      }).compile(checkpointer === 'memory' ? { checkpointer: new MemorySaver() } : {});

      let invokes = 0;
      const runGraph = async (seeds: Artifact[]): Promise<Artifact[]> => {
        invokes++;
        const sig = invokeSignal(ctx.signal);
        const config = {
          maxConcurrency,
          recursionLimit,
          signal: sig.signal,
          configurable: { thread_id: `${ctx.runId}:${randomUUID()}` },
          ...(checkpointer === 'memory' ? { durability: durability as 'async' | 'sync' | 'exit' } : {}),
        };
        try {
          const out = (await graph.invoke({ artifacts: seeds }, config)) as GraphStateValue;
          return out.artifacts;
        } finally {
          sig.dispose();
        }
      };
      const runs: Promise<Artifact[]>[] = [];
      return {
        async publish(arrivals: readonly Arrival[]) {
          const run = runGraph(arrivals.map((a) => seedArtifact(w, a.index, ctx.clock())));
          runs.push(run);
          // A failing graph run fails the run at drain(); not an unhandled rejection before it.
          run.catch(() => undefined);
        },
        async drain() {
          await Promise.all(runs);
        },
        async collect() {
          return {
            artifacts: (await Promise.all(runs)).flat(),
            settings: {
              langgraphVersion: LANGGRAPH_VERSION, form: 'parallel', checkpointer, durability, maxConcurrency, recursionLimit, perAgentLimit,
              graphRuns: isOpenLoop(ctx) ? 'per-arrival' : 'one',
            },
            counters: { invokes, supersteps: probe.supersteps(), sends: probe.sent, executions: probe.executions, peakInFlight: probe.peakInFlight },
          };
        },
        queueDepth: () => ({ pending: probe.sent - probe.started, inFlight: probe.inFlight }),
        async stop() {},
      };
    },
  };
}

export interface StepwiseParams {
  recursionLimit: number;
}

/**
 * langgraph-stepwise: MemorySaver + interruptBefore "*"; re-invoked with null until nothing is
 * next, so every superstep (one agent execution) costs one invoke and one checkpoint round trip.
 * Publishes queue up: one graph run after another.
 */
export function langgraphStepwiseSystem(name = 'langgraph-stepwise'): System<StepwiseParams> {
  return {
    name,
    async start(w: WorkloadSpec, ctx: RunContext<StepwiseParams>): Promise<Session> {
      checkOpenLoop(w, name);
      const probe = new RunProbe();
      let pending = 0;
      const graph = compileStepwise(w, {
        execute: makeExecute(ctx, probe, false),
        onTask: (at) => probe.onTask(at),
        onPending: (n) => { pending = n; },
      }).compile({ checkpointer: new MemorySaver(), interruptBefore: '*' });
      // Every invoke runs one superstep, so the per-invoke recursion limit is never approached.
      const recursionLimit = ctx.params.recursionLimit;

      let invokes = 0;
      const runGraph = async (seeds: Artifact[]): Promise<Artifact[]> => {
        const threadId = `${ctx.runId}:${randomUUID()}`;
        const step = async (input: { artifacts: Artifact[] } | null) => {
          const sig = invokeSignal(ctx.signal);
          try {
            await graph.invoke(input, { recursionLimit, signal: sig.signal, configurable: { thread_id: threadId } });
          } finally {
            sig.dispose();
          }
          invokes++;
        };
        const state = { configurable: { thread_id: threadId } };
        await step({ artifacts: seeds });
        while ((await graph.getState(state)).next.length > 0) await step(null);
        return ((await graph.getState(state)).values as GraphStateValue).artifacts;
      };
      const artifacts: Artifact[] = [];
      let chain: Promise<void> = Promise.resolve();
      return {
        async publish(arrivals: readonly Arrival[]) {
          const seeds = arrivals.map((a) => seedArtifact(w, a.index, ctx.clock()));
          chain = chain.then(async () => { artifacts.push(...(await runGraph(seeds))); });
          chain.catch(() => undefined);
        },
        async drain() {
          await chain;
        },
        async collect() {
          return {
            artifacts,
            settings: {
              langgraphVersion: LANGGRAPH_VERSION, form: 'stepwise', checkpointer: 'memory', durability: 'async', interruptBefore: '*',
              // Not passed to invoke (1 would hit langgraphjs #2656): the graph shape allows one task per superstep.
              maxConcurrency: 1, recursionLimit,
              graphRuns: isOpenLoop(ctx) ? 'per-arrival-sequential' : 'one',
            },
            counters: { invokes, supersteps: probe.supersteps(), executions: probe.executions, peakInFlight: probe.peakInFlight },
          };
        },
        queueDepth: () => ({ pending: Math.max(0, pending - probe.inFlight), inFlight: probe.inFlight }),
        async stop() {},
      };
    },
  };
}
