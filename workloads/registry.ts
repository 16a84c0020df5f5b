// Registered workloads: name -> builder. Add a workload by adding one line.
import { map, mapParams } from './map.ts';
import { BadParamError, type ParamDefs } from '../core/params.ts';
import { mixed, mixedParams } from './mixed.ts';
import { retrievalSummarization, retrievalSummarizationParams } from './retrieval-summarization.ts';
import { reviewAnalysis, reviewAnalysisParams } from './review-analysis.ts';
import type { WorkloadSpec } from './spec.ts';

export interface WorkloadEntry {
  name: string;
  description: string;
  params: ParamDefs;
  build(params?: Record<string, unknown>): WorkloadSpec;
}

export const WORKLOADS: WorkloadEntry[] = [
  { name: 'review-analysis', description: 'Flock tutorial news agency: story -> N parallel analysts -> editor (batch of N by story)', params: reviewAnalysisParams, build: reviewAnalysis },
  { name: 'map', description: 'N independent tasks through a chain of depth d, optional final join', params: mapParams, build: map },
  { name: 'retrieval-summarization', description: 'query -> BM25 top k of the shipped corpus (tool agent) -> k summaries (or one coalesced call) -> answer (batch of k by query)', params: retrievalSummarizationParams, build: retrievalSummarization },
  { name: 'mixed', description: 'map tasks, review stories and retrieval queries interleaved on one arrival process, sharing one model and its provider limit', params: mixedParams, build: mixed },
];

export class UnknownWorkloadError extends BadParamError {}

export function workload(name: string): WorkloadEntry {
  const w = WORKLOADS.find((x) => x.name === name);
  if (!w) throw new UnknownWorkloadError(`unknown workload '${name}' (known: ${WORKLOADS.map((x) => x.name).join(', ')})`);
  return w;
}

export function buildWorkload(name: string, params: Record<string, unknown> = {}): WorkloadSpec {
  return workload(name).build(params);
}
