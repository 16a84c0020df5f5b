// The Flock tutorial's news agency: each BreakingNews wakes N category analysts in parallel;
// an editor waits for all N analyses of the same story (a batch keyed by correlation id, with
// a timeout) and publishes a NewsDigest. `editorBatch: unkeyed` is the tutorial's code as
// written (BatchSpec(size=8), no key): with several stories in flight, digests mix stories.
import { resolveParams, type ParamDefs } from '../core/params.ts';
import { ARRIVAL_PARAMS, arrivalFrom } from './arrivals.ts';
import { keyedRng } from '../core/random.ts';
import { generatePayload } from '../core/schema.ts';
import type { AgentSpec, ArtifactTypeSpec, WorkloadSpec } from './spec.ts';

export const CATEGORIES = [
  ['world', 'Analyzes global events, international relations, geopolitics'],
  ['technology', 'Covers tech trends, startups, AI, and innovation'],
  ['business', 'Focuses on markets, economics, corporate news'],
  ['sports', 'Covers athletics, competitions, player news'],
  ['entertainment', 'Analyzes movies, music, celebrity culture'],
  ['science', 'Covers research, discoveries, scientific breakthroughs'],
  ['politics', 'Analyzes political developments, elections, policy'],
  ['health', 'Focuses on medical news, public health, wellness'],
] as const;

export const reviewAnalysisParams = {
  analysts: { type: 'integer', default: 8, min: 1, doc: 'category analysts subscribed to BreakingNews (beyond 8, categories repeat with a suffix)' },
  tasks: { type: 'integer', default: 1, min: 1, doc: 'BreakingNews stories published (one task each)' },
  model: { type: 'string', default: 'gpt-4.1', doc: 'simulated model of every agent (the tutorial uses openai/gpt-4.1)' },
  maxConcurrency: { type: 'integer', default: 2, min: 1, doc: "per-agent concurrency limit (Flock's default is 2)" },
  editorTimeoutMs: { type: 'number', default: 30_000, min: 1, unit: 'ms', doc: 'editor batch timeout, unscaled (tutorial: 30 s)' },
  editorBatch: {
    type: 'string', default: 'per-story', choices: ['per-story', 'unkeyed'],
    doc: "per-story: the editor's batch is keyed by correlation id (one digest per story); unkeyed: the tutorial's code as written, BatchSpec(size=analysts) with no key, so with several stories in flight a digest gathers whichever analyses arrive first, across stories",
  },
  ...ARRIVAL_PARAMS,
  ratePerSec: { ...ARRIVAL_PARAMS.ratePerSec, default: 1 },
} satisfies ParamDefs;

export function categoryName(i: number): string {
  const base = CATEGORIES[i % CATEGORIES.length][0];
  return i < CATEGORIES.length ? base : `${base}-${Math.floor(i / CATEGORIES.length) + 1}`;
}

export function reviewAnalysis(given: Record<string, unknown> = {}): WorkloadSpec {
  const p = resolveParams('workload review-analysis', reviewAnalysisParams, given);
  const categories = Array.from({ length: p.analysts }, (_, i) => categoryName(i));
  const types: ArtifactTypeSpec[] = [
    {
      name: 'BreakingNews',
      schema: {
        type: 'object',
        required: ['headline', 'raw_story', 'source', 'timestamp'],
        properties: {
          headline: { type: 'string', minLength: 10, maxLength: 80 },
          raw_story: { type: 'string', minLength: 100, maxLength: 400 },
          source: { type: 'string', minLength: 5, maxLength: 30 },
          timestamp: { type: 'string', minLength: 10, maxLength: 30 },
        },
      },
    },
    {
      name: 'NewsAnalysis',
      schema: {
        type: 'object',
        required: ['category', 'analyst_name', 'key_takeaways', 'impact_assessment', 'related_context', 'audience_recommendation'],
        properties: {
          category: { type: 'string', enum: categories },
          analyst_name: { type: 'string', minLength: 3 },
          key_takeaways: { type: 'array', items: { type: 'string', minLength: 10 }, minItems: 3, maxItems: 5 },
          impact_assessment: { type: 'string', minLength: 20 },
          related_context: { type: 'string', minLength: 20 },
          audience_recommendation: { type: 'string', minLength: 10 },
        },
      },
    },
    {
      name: 'NewsDigest',
      schema: {
        type: 'object',
        required: ['headline', 'comprehensive_summary', 'perspectives_included', 'cross_category_insights', 'total_analysts'],
        properties: {
          headline: { type: 'string', minLength: 10 },
          comprehensive_summary: { type: 'string', minLength: 100 },
          perspectives_included: { type: 'array', items: { type: 'string', minLength: 3 }, minItems: 1, maxItems: 8 },
          cross_category_insights: { type: 'array', items: { type: 'string', minLength: 10 }, minItems: 1, maxItems: 4 },
          total_analysts: { type: 'integer', minimum: 1, maximum: 1000 },
        },
      },
    },
  ];
  const analysts: AgentSpec[] = categories.map((c, i) => ({
    name: `${c}_analyst`,
    description: CATEGORIES[i % CATEGORIES.length][1],
    consumes: { types: ['BreakingNews'] },
    publishes: 'NewsAnalysis',
    maxConcurrency: p.maxConcurrency,
    model: p.model,
    promptTokens: 450,
    outputTokens: 350,
    outputFields: { category: c, analyst_name: `${c}_analyst` },
  }));
  const editor: AgentSpec = {
    name: 'editor',
    description: 'Synthesizes all analyst perspectives into comprehensive digest',
    consumes: { types: ['NewsAnalysis'], batch: { size: p.analysts, timeoutMs: p.editorTimeoutMs, ...(p.editorBatch === 'per-story' ? { by: 'correlationId' as const } : {}) } },
    publishes: 'NewsDigest',
    maxConcurrency: p.maxConcurrency,
    model: p.model,
    promptTokens: 400,
    outputTokens: 600,
    outputFields: { total_analysts: p.analysts },
  };
  const tasks = Array.from({ length: p.tasks }, (_, i) => ({
    type: 'BreakingNews',
    key: `news-${i}`,
    correlationId: `news-${i}`,
    payload: generatePayload(types[0].schema, keyedRng('review-analysis', 'input', i)),
  }));
  return {
    name: 'review-analysis',
    description: `${p.tasks} stories x ${p.analysts} analysts -> editor batch${p.editorBatch === 'unkeyed' ? ' (unkeyed, as the tutorial)' : ''}`,
    params: p,
    types,
    agents: [...analysts, editor],
    tasks,
    arrival: arrivalFrom(p),
    ...(p.editorBatch === 'unkeyed' && p.tasks > 1 ? { orderDependent: ['editor'] } : {}),
  };
}
