// Retrieval + summarization: a Query arrives; a retriever (a tool agent: real minisearch BM25
// over the shipped State of the Union corpus, no LLM) publishes its top k chunks as Passages;
// k summarizer calls run in parallel, one per Passage, or as ONE coalesced call per query
// (`coalesce`: the summarizer's own prompt paid once, the k passages and k summaries in one
// request); an answerer joins the k Summaries of the query (a batch of k by correlation id)
// into an Answer. Coalescing changes calls and tokens, never the artifacts.
import { resolveParams, type ParamDefs } from '../core/params.ts';
import { ARRIVAL_PARAMS, arrivalFrom } from './arrivals.ts';
import { availableChunks } from './retrieval/corpus.ts';
import { corpus } from './retrieval/corpus.ts';
import { makeQueries } from './retrieval/queries.ts';
import type { AgentSpec, ArtifactTypeSpec, Task, WorkloadSpec } from './spec.ts';
import { BadParamError } from '../core/params.ts';

export const retrievalSummarizationParams = {
  tasks: { type: 'integer', default: 4, min: 1, doc: 'queries (one task each)' },
  k: { type: 'integer', default: 8, min: 1, max: 64, doc: 'passages retrieved per query, each summarized, all joined by the answerer' },
  chunks: { type: 'integer', default: 11_008, min: 100, doc: 'corpus size: chunks indexed (an even spread over all addresses; 11,008 = every shipped chunk)' },
  chunkWords: { type: 'integer', default: 150, min: 40, max: 1000, doc: 'target words per chunk (150: the shipped chunking, 150-200 words; others re-pack the addresses)' },
  queryTerms: { type: 'integer', default: 4, min: 1, max: 12, doc: 'keywords per query (highest TF-IDF words of a seeded chunk)' },
  coalesce: { type: 'boolean', default: false, doc: "one summarizer call per query for its k passages, instead of k calls" },
  model: { type: 'string', default: 'gpt-4o-mini', doc: 'simulated model of every LLM agent' },
  maxConcurrency: { type: 'integer', default: 64, min: 1, doc: 'per-agent concurrency limit' },
  promptTokens: { type: 'integer', default: 500, min: 1, doc: "summarizer's own prompt (instructions, examples) in tokens: paid once per call, so once per query when coalescing" },
  summaryTokens: { type: 'integer', default: 100, min: 1, doc: 'target output tokens per summary' },
  answerPromptTokens: { type: 'integer', default: 300, min: 1, doc: "answerer's own prompt in tokens (the k summaries add theirs)" },
  answerTokens: { type: 'integer', default: 250, min: 1, doc: 'target output tokens of the answer' },
  batchTimeoutMs: { type: 'number', default: 600_000, min: 1, unit: 'ms', doc: "timeout of the per-query batches (answerer's join, coalesced summarizer), unscaled: a safety net for lost inputs, long enough that queueing under provider limits never splits a query's batch" },
  ...ARRIVAL_PARAMS,
  ratePerSec: { ...ARRIVAL_PARAMS.ratePerSec, default: 1 },
} satisfies ParamDefs;

export const RETRIEVAL_TYPES: ArtifactTypeSpec[] = [
  {
    name: 'Query',
    schema: { type: 'object', required: ['query', 'source_id'], properties: { query: { type: 'string', minLength: 1 }, source_id: { type: 'string', minLength: 1 } } },
  },
  {
    name: 'Passage',
    schema: {
      type: 'object',
      required: ['query', 'rank', 'chunk_id', 'title', 'text'],
      properties: {
        query: { type: 'string', minLength: 1 },
        rank: { type: 'integer', minimum: 0 },
        chunk_id: { type: 'string', minLength: 1 },
        title: { type: 'string', minLength: 1 },
        text: { type: 'string', minLength: 1 },
      },
    },
  },
  {
    name: 'Summary',
    schema: { type: 'object', required: ['summary', 'relevance'], properties: { summary: { type: 'string', minLength: 40, maxLength: 300 }, relevance: { type: 'number', minimum: 0, maximum: 1 } } },
  },
  {
    name: 'Answer',
    schema: { type: 'object', required: ['answer', 'passages_used'], properties: { answer: { type: 'string', minLength: 80, maxLength: 600 }, passages_used: { type: 'integer', minimum: 1, maximum: 64 } } },
  },
];

type RetrievalParams = ReturnType<typeof resolveRetrieval>;

function resolveRetrieval(given: Record<string, unknown>) {
  const p = resolveParams('workload retrieval-summarization', retrievalSummarizationParams, given);
  const max = availableChunks(p.chunkWords);
  if (p.chunks > max) throw new BadParamError(`workload retrieval-summarization: 'chunks' must be <= ${max} at chunkWords ${p.chunkWords}, got ${p.chunks} (chunks: corpus size)`);
  return p;
}

/** The three agents, for this workload and the mixed one. */
export function retrievalAgents(p: Pick<RetrievalParams, 'k' | 'chunks' | 'chunkWords' | 'coalesce' | 'model' | 'maxConcurrency' | 'promptTokens' | 'summaryTokens' | 'answerPromptTokens' | 'answerTokens' | 'batchTimeoutMs'>): AgentSpec[] {
  const perQuery = { size: p.k, timeoutMs: p.batchTimeoutMs, by: 'correlationId' as const };
  return [
    {
      name: 'retriever',
      description: 'BM25 top-k search of the corpus (tool: no LLM call)',
      consumes: { types: ['Query'] },
      publishes: 'Passage',
      fanOut: p.k,
      maxConcurrency: p.maxConcurrency,
      model: p.model,
      promptTokens: 0,
      outputTokens: 0,
      tool: { name: 'bm25-search', args: { chunks: p.chunks, chunkWords: p.chunkWords, k: p.k } },
    },
    {
      name: 'summarizer',
      description: 'Summarizes a passage with respect to the query',
      consumes: p.coalesce ? { types: ['Passage'], batch: { ...perQuery, coalesce: true } } : { types: ['Passage'] },
      publishes: 'Summary',
      maxConcurrency: p.maxConcurrency,
      model: p.model,
      promptTokens: p.promptTokens,
      outputTokens: p.summaryTokens,
    },
    {
      name: 'answerer',
      description: 'Answers the query from the summaries of its k passages',
      consumes: { types: ['Summary'], batch: perQuery },
      publishes: 'Answer',
      maxConcurrency: p.maxConcurrency,
      model: p.model,
      promptTokens: p.answerPromptTokens,
      outputTokens: p.answerTokens,
      outputFields: { passages_used: p.k },
    },
  ];
}

/** Query tasks `query-<i>`; query i is the same whatever the number of tasks. */
export function retrievalTasks(p: Pick<RetrievalParams, 'k' | 'chunks' | 'chunkWords' | 'queryTerms'>, n: number): Task[] {
  const queries = makeQueries(corpus({ chunks: p.chunks, chunkWords: p.chunkWords }), { n, terms: p.queryTerms, minHits: p.k });
  return queries.map((q, i) => ({
    type: 'Query',
    key: `query-${i}`,
    correlationId: `query-${i}`,
    payload: { query: q.text, source_id: q.sourceId },
  }));
}

export function retrievalSummarization(given: Record<string, unknown> = {}): WorkloadSpec {
  const p = resolveRetrieval(given);
  return {
    name: 'retrieval-summarization',
    description: `${p.tasks} queries -> BM25 top ${p.k} of ${p.chunks} chunks -> ${p.coalesce ? '1 coalesced summarizer call' : `${p.k} summarizer calls`} -> answer`,
    params: p,
    types: RETRIEVAL_TYPES,
    agents: retrievalAgents(p),
    tasks: retrievalTasks(p, p.tasks),
    arrival: arrivalFrom(p),
  };
}
