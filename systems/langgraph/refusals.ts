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

/** langgraph-py: per-item refuses global batches; the one-run forms refuse them in open loop. */
export function langgraphPyRefusal(w: WorkloadSpec, p: { form: string }): string | undefined {
  if (w.agents.some((a) => (a.fanOut ?? 1) !== 1)) return `langgraph-py: fanOut > 1 is not supported (workload ${w.name})`;
  if (p.form === 'per-item') {
    const agent = globalBatchAgent(w);
    return agent ? `langgraph-py form per-item: agent ${agent} of workload ${w.name} batches artifacts of several tasks (a global batch), which one graph run per task cannot express; set systemParams.langgraph-py.form to subgraph or one-graph` : undefined;
  }
  return openLoopRefusal(w, `langgraph-py form ${p.form}`);
}
