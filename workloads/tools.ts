// Tool agents' functions, by name: what an agent with `tool: {name, args}` runs instead of an LLM
// call (workloads/execute.ts). A tool is deterministic in (args, inputs), runs synchronously in
// the process executing the agent, and may prepare expensive state (an index) once per process,
// before a run's measured window (prepareTools, called by the harness).
import { resolveParams, type ParamDefs } from '../core/params.ts';
import { searchIndex, topK } from './retrieval/search.ts';
import type { Artifact, ToolSpec, WorkloadSpec } from './spec.ts';

export interface ToolResult {
  /** Key suffix of the output (`<identity>#<suffix>`), unique within one execution. */
  suffix: string;
  payload: Record<string, unknown>;
}

export interface ToolDef {
  doc: string;
  args: ParamDefs;
  /** Build per-process state ahead of use; returns what it cost, for the run's settings. */
  prepare?(args: Record<string, unknown>): Record<string, unknown>;
  run(args: Record<string, unknown>, inputs: readonly Artifact[]): ToolResult[];
}

const bm25Args = {
  chunks: { type: 'integer', min: 1, doc: 'chunks in the corpus' },
  chunkWords: { type: 'integer', min: 20, doc: 'target words per chunk' },
  k: { type: 'integer', min: 1, doc: 'passages returned' },
} as const satisfies ParamDefs;

/** BM25 top-k over the shipped corpus: one Query in, k Passage payloads out, best first. */
const bm25Search: ToolDef = {
  doc: 'minisearch BM25+ search of the State of the Union corpus; one query -> its top k chunks',
  args: bm25Args,
  prepare(args) {
    const a = resolveParams('tool bm25-search', bm25Args, args);
    return { ...searchIndex({ chunks: a.chunks!, chunkWords: a.chunkWords! }).build };
  },
  run(args, inputs) {
    const a = resolveParams('tool bm25-search', bm25Args, args);
    if (inputs.length !== 1) throw new Error(`bm25-search takes one query per execution, got ${inputs.length}`);
    const query = inputs[0]!.payload.query;
    if (typeof query !== 'string') throw new Error('bm25-search: input has no string field `query`');
    const hits = topK(searchIndex({ chunks: a.chunks!, chunkWords: a.chunkWords! }), query, a.k!);
    if (hits.length < a.k!) throw new Error(`bm25-search: '${query}' matched ${hits.length} chunks, fewer than k = ${a.k}`);
    return hits.map((h, rank) => ({
      suffix: `${String(rank).padStart(2, '0')}:${h.chunk.id}`,
      payload: { query, rank, chunk_id: h.chunk.id, title: h.chunk.title, text: h.chunk.text },
    }));
  },
};

export const TOOLS: Record<string, ToolDef> = {
  'bm25-search': bm25Search,
};

function toolDef(name: string): ToolDef {
  const t = TOOLS[name];
  if (!t) throw new Error(`unknown tool '${name}' (known: ${Object.keys(TOOLS).join(', ')})`);
  return t;
}

export function runTool(spec: ToolSpec, inputs: readonly Artifact[]): ToolResult[] {
  return toolDef(spec.name).run(spec.args, inputs);
}

/**
 * Prepare every tool of a workload in this process (outside any measured window); returns, per
 * tool agent, what preparing cost. Idempotent: prepared state is cached by the tools.
 */
export function prepareTools(w: WorkloadSpec): Record<string, Record<string, unknown>> {
  const out: Record<string, Record<string, unknown>> = {};
  for (const a of w.agents) {
    if (!a.tool) continue;
    const def = toolDef(a.tool.name);
    out[a.name] = { tool: a.tool.name, ...(def.prepare?.(a.tool.args) ?? {}) };
  }
  return out;
}
