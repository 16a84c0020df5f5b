// Mixed: three task classes arriving interleaved on one arrival process and sharing one model,
// so one provider limit: independent map tasks (no join), review stories (fan-out to N analysts
// + a batch join by story) and retrieval queries (a BM25 tool, k summaries, a join). Task i's
// class is a keyed draw by the class weights, so the interleaving is the same on every system
// and in every rep; the class is recorded per task (task_latencies.task_class).
import { BadParamError, resolveParams, type ParamDefs } from '../core/params.ts';
import { keyedRng } from '../core/random.ts';
import { ARRIVAL_PARAMS, arrivalFrom } from './arrivals.ts';
import { map } from './map.ts';
import { retrievalAgents, retrievalSummarization, retrievalSummarizationParams, retrievalTasks, RETRIEVAL_TYPES } from './retrieval-summarization.ts';
import { reviewAnalysis } from './review-analysis.ts';
import type { Task, WorkloadSpec } from './spec.ts';

const r = retrievalSummarizationParams;

export const mixedParams = {
  tasks: { type: 'integer', default: 12, min: 1, doc: 'tasks of all classes together' },
  mapWeight: { type: 'number', default: 0.5, min: 0, doc: 'share of map tasks (weights are normalized)' },
  reviewWeight: { type: 'number', default: 0.2, min: 0, doc: 'share of review stories' },
  retrievalWeight: { type: 'number', default: 0.3, min: 0, doc: 'share of retrieval queries' },
  model: { type: 'string', default: 'gpt-4o-mini', doc: 'simulated model of every LLM agent (one model: one provider limit)' },
  maxConcurrency: { type: 'integer', default: 64, min: 1, doc: 'per-agent concurrency limit' },
  mapDepth: { type: 'integer', default: 1, min: 1, doc: 'map class: agent layers per task' },
  coalesceTasks: { type: 'integer', default: 1, min: 1, doc: 'map class: coalesce up to this many tasks into one call (a global batch; 1: none)' },
  coalesceWindowMs: { type: 'number', default: 1000, min: 1, unit: 'ms', doc: 'map class: how long a coalescing batch waits to fill, unscaled' },
  analysts: { type: 'integer', default: 8, min: 1, doc: 'review class: analysts per story (the editor batches them by story)' },
  joinTimeoutMs: { type: 'number', default: 600_000, min: 1, unit: 'ms', doc: "timeout of every per-task batch (the editor's, the answerer's), unscaled: a safety net for lost inputs, long enough that queueing under the provider limit never splits a task's batch (the tutorial's editor waits 30 s)" },
  k: r.k,
  chunks: r.chunks,
  chunkWords: r.chunkWords,
  coalesce: { ...r.coalesce, doc: 'retrieval class: one summarizer call per query for its k passages, instead of k calls' },
  ...ARRIVAL_PARAMS,
  ratePerSec: { ...ARRIVAL_PARAMS.ratePerSec, default: 1 },
} satisfies ParamDefs;

export const TASK_CLASSES = ['map', 'review-analysis', 'retrieval-summarization'] as const;

export function mixed(given: Record<string, unknown> = {}): WorkloadSpec {
  const p = resolveParams('workload mixed', mixedParams, given);
  const weights = [p.mapWeight, p.reviewWeight, p.retrievalWeight];
  const total = weights.reduce((a, b) => a + b, 0);
  if (!(total > 0)) throw new BadParamError(`workload mixed: at least one of mapWeight, reviewWeight, retrievalWeight must be > 0`);
  const classOf = Array.from({ length: p.tasks }, (_, i) => {
    let u = keyedRng('mixed', 'class', i)() * total;
    for (let c = 0; c < weights.length; c++) {
      if (u < weights[c]! || c === weights.length - 1) return c;
      u -= weights[c]!;
    }
    return 0;
  });
  const count = [0, 1, 2].map((c) => classOf.filter((x) => x === c).length);
  // Each class is its own workload's builder (agents and tasks as there), with the shared model.
  const mapW = map({ tasks: Math.max(1, count[0]!), depth: p.mapDepth, model: p.model, maxConcurrency: p.maxConcurrency, ...(p.coalesceTasks > 1 ? { coalesceTasks: p.coalesceTasks, coalesceWindowMs: p.coalesceWindowMs } : {}) });
  const reviewW = reviewAnalysis({ tasks: Math.max(1, count[1]!), analysts: p.analysts, model: p.model, maxConcurrency: p.maxConcurrency, editorTimeoutMs: p.joinTimeoutMs });
  const retrievalP = resolveParams('workload mixed', retrievalSummarizationParams, {
    k: p.k, chunks: p.chunks, chunkWords: p.chunkWords, coalesce: p.coalesce, model: p.model, maxConcurrency: p.maxConcurrency, batchTimeoutMs: p.joinTimeoutMs,
  });
  retrievalSummarization({ ...retrievalP, tasks: 1 }); // the same checks as the workload itself (corpus size)
  const byClass: Task[][] = [mapW.tasks, reviewW.tasks, retrievalTasks(retrievalP, count[2]!)];
  const next = [0, 0, 0];
  const tasks: Task[] = classOf.map((c) => ({ ...byClass[c]![next[c]!++]!, class: TASK_CLASSES[c] }));
  return {
    name: 'mixed',
    description: `${p.tasks} tasks interleaved: ${count[0]} map, ${count[1]} review (${p.analysts} analysts), ${count[2]} retrieval (k ${p.k}${p.coalesce ? ', coalesced' : ''})`,
    params: p,
    types: [...mapW.types, ...reviewW.types, ...RETRIEVAL_TYPES],
    agents: [...mapW.agents, ...reviewW.agents, ...retrievalAgents(retrievalP)],
    tasks,
    arrival: arrivalFrom(p),
  };
}
