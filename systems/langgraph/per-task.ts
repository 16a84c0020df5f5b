// The two strongest LangGraph.js forms for independent tasks, as a LangGraph user writes them:
//
//   per-item  — one compiled graph (the parallel form), one graph run per task, every task's run
//               started when it arrives and all running concurrently. The join of a task (its
//               editor batch) is inside its own run, so no task waits at another task's barrier.
//               A subscription gathering several tasks (a global batch) cannot be written this
//               way: such workloads are refused at start().
//   subgraph  — the map-reduce idiom in one graph run: Send(task, {seed}) per task into the
//               per-task agents compiled as a subgraph (compile.ts compileSubgraph), joins
//               `defer`red; agents gathering several tasks run in the outer graph once every
//               subgraph ended. Each subgraph invocation is its own Pregel loop (own supersteps),
//               so whether the outer superstep still couples tasks is what the barrier analysis of
//               its executions measures (harness/collect/barrier.ts).
//
// Both share one semaphore per agent across every run/subgraph (the workload's maxConcurrency),
// as the blackboard does; LangGraph's own `maxConcurrency` only bounds tasks per superstep.
import { randomUUID } from 'node:crypto';
import type { Arrival } from '../../workloads/arrivals.ts';
import { seedArtifact } from '../../workloads/execute.ts';
import type { Artifact, WorkloadSpec } from '../../workloads/spec.ts';
import type { RunContext, Session, System } from '../types.ts';
import { perItemRefusal } from './refusals.ts';
import { compileParallel, compileSubgraph, splitByTask, UnsupportedWorkloadError, type GraphStateValue, type MapReduceState } from './compile.ts';
import { checkOpenLoop, invokeSignal, isOpenLoop, LANGGRAPH_VERSION, makeExecute, RunProbe, Semaphore } from './runtime.ts';

export interface PerItemParams {
  maxConcurrency: number;
  maxInvocations?: number;
  perAgentLimit: boolean;
  recursionLimit?: number;
}

/** langgraph-per-item: one compiled graph, one run per task, runs concurrent, per-agent limits shared. */
export function langgraphPerItemSystem(name = 'langgraph-per-item'): System<PerItemParams> {
  return {
    name,
    async start(w: WorkloadSpec, ctx: RunContext<PerItemParams>): Promise<Session> {
      const refusal = perItemRefusal(w, name);
      if (refusal) throw new UnsupportedWorkloadError(refusal);
      const { maxConcurrency, maxInvocations, perAgentLimit } = ctx.params;
      const recursionLimit = ctx.params.recursionLimit ?? 2 * w.agents.length + 25;
      const probe = new RunProbe();
      const graph = compileParallel(w, {
        execute: makeExecute(ctx, probe, perAgentLimit),
        onTask: (at) => probe.onTask(at),
        onDispatch: (_a, n) => { probe.sent += n; },
      }).compile();
      const slots = maxInvocations === undefined ? undefined : new Semaphore(maxInvocations);

      let invokes = 0;
      let running = 0;
      let peakRunning = 0;
      let waitingRuns = 0;
      const runTask = async (seed: Artifact): Promise<Artifact[]> => {
        if (slots) {
          waitingRuns++;
          await slots.acquire();
          waitingRuns--;
        }
        invokes++;
        running++;
        if (running > peakRunning) peakRunning = running;
        const sig = invokeSignal(ctx.signal);
        try {
          const out = (await graph.invoke({ artifacts: [seed] }, {
            maxConcurrency, recursionLimit, signal: sig.signal, configurable: { thread_id: `${ctx.runId}:${randomUUID()}` },
          })) as GraphStateValue;
          return out.artifacts;
        } finally {
          running--;
          sig.dispose();
          slots?.release();
        }
      };
      const runs: Promise<Artifact[]>[] = [];
      return {
        async publish(arrivals: readonly Arrival[]) {
          for (const a of arrivals) {
            const run = runTask(seedArtifact(w, a.index, ctx.clock()));
            runs.push(run);
            // A failing graph run fails the run at drain(); not an unhandled rejection before it.
            run.catch(() => undefined);
          }
        },
        async drain() {
          await Promise.all(runs);
        },
        async collect() {
          return {
            artifacts: (await Promise.all(runs)).flat(),
            settings: {
              langgraphVersion: LANGGRAPH_VERSION, form: 'per-item', checkpointer: 'none', maxConcurrency, recursionLimit, perAgentLimit,
              maxInvocations: maxInvocations ?? 'unbounded', graphRuns: 'per-task',
            },
            counters: { invokes, peakRunningInvokes: peakRunning, supersteps: probe.supersteps(), sends: probe.sent, executions: probe.executions, peakInFlight: probe.peakInFlight },
          };
        },
        queueDepth: () => ({ pending: waitingRuns + Math.max(0, probe.sent - probe.started), inFlight: probe.inFlight }),
        async stop() {},
      };
    },
  };
}

export interface SubgraphParams {
  maxConcurrency: number;
  perAgentLimit: boolean;
  recursionLimit?: number;
}

/** langgraph-subgraph: Send each task to a per-task subgraph, deferred joins, one graph run per publish. */
export function langgraphSubgraphSystem(name = 'langgraph-subgraph'): System<SubgraphParams> {
  return {
    name,
    async start(w: WorkloadSpec, ctx: RunContext<SubgraphParams>): Promise<Session> {
      const { maxConcurrency, perAgentLimit } = ctx.params;
      const recursionLimit = ctx.params.recursionLimit ?? 2 * w.agents.length + 25;
      checkOpenLoop(w, name);
      const probe = new RunProbe();
      let subgraphs = 0;
      const graph = compileSubgraph(w, {
        execute: makeExecute(ctx, probe, perAgentLimit),
        onTask: (at) => probe.onTask(at),
        onDispatch: (_a, n) => { probe.sent += n; },
      }).compile();
      const { crossTask } = splitByTask(w);

      let invokes = 0;
      const runGraph = async (seeds: Artifact[]): Promise<Artifact[]> => {
        invokes++;
        subgraphs += seeds.length;
        const sig = invokeSignal(ctx.signal);
        try {
          const out = (await graph.invoke({ seeds }, {
            maxConcurrency, recursionLimit, signal: sig.signal, configurable: { thread_id: `${ctx.runId}:${randomUUID()}` },
          })) as typeof MapReduceState.State;
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
          run.catch(() => undefined);
        },
        async drain() {
          await Promise.all(runs);
        },
        async collect() {
          return {
            artifacts: (await Promise.all(runs)).flat(),
            settings: {
              langgraphVersion: LANGGRAPH_VERSION, form: 'subgraph', checkpointer: 'none', maxConcurrency, recursionLimit, perAgentLimit,
              deferredJoins: true, outerAgents: crossTask.map((a) => a.name),
              graphRuns: isOpenLoop(ctx) ? 'per-arrival' : 'one',
            },
            counters: { invokes, subgraphs, supersteps: probe.supersteps(), sends: probe.sent, executions: probe.executions, peakInFlight: probe.peakInFlight },
          };
        },
        queueDepth: () => ({ pending: Math.max(0, probe.sent - probe.started), inFlight: probe.inFlight }),
        async stop() {},
      };
    },
  };
}
