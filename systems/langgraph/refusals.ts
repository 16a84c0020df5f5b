// Which workloads a LangGraph form cannot express, decided from the spec alone (no LangGraph
// import), so a matrix or `conform` can refuse a cell before anything runs and start() can
// refuse with the same line.
import { batchSpansTasks, type WorkloadSpec } from '../../workloads/spec.ts';

/** Agents batching several tasks' artifacts (a global batch). */
function globalBatchAgent(w: WorkloadSpec): string | undefined {
  return w.agents.find(batchSpansTasks)?.name;
}

/**
 * One graph run per arrival (open loop) cannot hold a batch that spans arrivals. Forms that run
 * one graph over every task published together refuse only open-loop workloads with a global batch.
 */
export function openLoopRefusal(w: WorkloadSpec, system: string): string | undefined {
  const agent = globalBatchAgent(w);
  if (!agent || w.arrival.kind === 'all-at-once') return undefined;
  return `${system}: open-loop arrivals run one graph per arrival, which cannot express agent ${agent}'s global batch in workload ${w.name}; use arrival=all-at-once`;
}

/** One graph run per task never sees two tasks together: a global batch cannot be written this way. */
export function perItemRefusal(w: WorkloadSpec, system = 'langgraph-per-item'): string | undefined {
  const agent = globalBatchAgent(w);
  if (!agent) return undefined;
  return `${system}: agent ${agent} of workload ${w.name} batches artifacts of several tasks (a global batch), which one graph run per task cannot express; run it on langgraph-subgraph or langgraph-parallel`;
}

/**
 * The subgraph form maps a per-task subgraph over the seeds: it needs at least one agent that
 * only ever sees one task (not a global batch, nor downstream of one), as compile.ts splitByTask
 * decides; e.g. map with coalesceTasks has none. Open loop as openLoopRefusal.
 */
export function subgraphRefusal(w: WorkloadSpec, system = 'langgraph-subgraph'): string | undefined {
  const cross = new Set<string>();
  for (let grew = true; grew;) {
    grew = false;
    for (const a of w.agents) {
      if (cross.has(a.name)) continue;
      if (batchSpansTasks(a) || w.agents.some((b) => cross.has(b.name) && b !== a && a.consumes.types.includes(b.publishes))) {
        cross.add(a.name);
        grew = true;
      }
    }
  }
  if (cross.size === w.agents.length) return `${system}: every agent of workload ${w.name} batches several tasks or follows one that does, so there is no per-task subgraph to map over; run it on langgraph-parallel or a blackboard`;
  return openLoopRefusal(w, system);
}

/** langgraph-py: per-item refuses global batches; the one-run forms refuse them in open loop. */
export function langgraphPyRefusal(w: WorkloadSpec, p: { form: string }): string | undefined {
  if (w.agents.some((a) => (a.fanOut ?? 1) !== 1)) return `langgraph-py: fanOut > 1 is not supported (workload ${w.name})`;
  if (p.form === 'per-item') {
    const agent = globalBatchAgent(w);
    return agent ? `langgraph-py form per-item: agent ${agent} of workload ${w.name} batches artifacts of several tasks (a global batch), which one graph run per task cannot express; set systemParams.langgraph-py.form to subgraph or one-graph` : undefined;
  }
  if (p.form === 'subgraph') return subgraphRefusal(w, 'langgraph-py form subgraph');
  return openLoopRefusal(w, `langgraph-py form ${p.form}`);
}
