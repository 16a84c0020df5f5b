import { describe, expect, it } from 'vitest';
import { validatePayload } from '../core/schema.ts';
import { BadParamError } from '../core/params.ts';
import { WORKLOADS, buildWorkload } from './registry.ts';
import { terminalTypes, topoAgents } from './spec.ts';
import { arrivalSchedule, planArrivals } from './arrivals.ts';
import { executeAgent, inputTokens, outputTokensFor, seedArtifact } from './execute.ts';
import { SimulatedLlm } from '../llm/simulator.ts';
import type { ExecutionRecord } from './execute.ts';

describe('workloads', () => {
  it.each(WORKLOADS.map((w) => w.name))('%s builds with defaults into a valid DAG with schema-valid seeds', (name) => {
    const w = buildWorkload(name);
    expect(topoAgents(w)).toHaveLength(w.agents.length);
    expect(terminalTypes(w).length).toBeGreaterThan(0);
    for (const s of w.tasks) {
      const t = w.types.find((x) => x.name === s.type)!;
      expect(validatePayload(t.schema, s.payload)).toBeNull();
    }
    expect(new Set(w.tasks.map((i) => i.key)).size).toBe(w.tasks.length);
  });

  it('review-analysis: N analysts on BreakingNews, editor batching N per story', () => {
    const w = buildWorkload('review-analysis', { analysts: 12, tasks: 3 });
    expect(w.agents.filter((a) => a.consumes.types[0] === 'BreakingNews')).toHaveLength(12);
    const editor = w.agents.find((a) => a.name === 'editor')!;
    expect(editor.consumes.batch).toEqual({ size: 12, timeoutMs: 30_000, by: 'correlationId' });
    expect(new Set(w.agents.map((a) => a.name)).size).toBe(13);
    expect(terminalTypes(w)).toEqual(['NewsDigest']);
  });

  it('map: depth chains and an optional global join', () => {
    const w = buildWorkload('map', { tasks: 7, depth: 3, join: true });
    expect(topoAgents(w).map((a) => a.name)).toEqual(['worker1', 'worker2', 'worker3', 'reducer']);
    expect(w.agents.at(-1)!.consumes.batch).toMatchObject({ size: 7 });
    expect(terminalTypes(w)).toEqual(['Summary']);
  });

  it('rejects unknown or ill-typed parameters with one clear reason', () => {
    expect(() => buildWorkload('map', { tasks: 0 })).toThrow(BadParamError);
    expect(() => buildWorkload('map', { tasks: 2.5 })).toThrow(/integer/);
    expect(() => buildWorkload('map', { join: 'yes' })).toThrow(/boolean/);
    expect(() => buildWorkload('review-analysis', { analyst: 3 })).toThrow(/unknown parameter 'analyst'/);
    expect(() => buildWorkload('nope')).toThrow(/unknown workload/);
  });

  it('open-loop arrivals are seeded, increasing, at the requested mean rate', () => {
    const w = buildWorkload('map', { tasks: 2000, arrival: 'poisson', ratePerSec: 100 });
    const a = arrivalSchedule(w, 1);
    expect(a).toEqual(arrivalSchedule(w, 1));
    expect(a.every((t, i) => i === 0 || t >= a[i - 1])).toBe(true);
    const meanGapMs = a.at(-1)! / (a.length - 1);
    expect(meanGapMs).toBeGreaterThan(9);
    expect(meanGapMs).toBeLessThan(11);
  });

  it('arrival: trace works on every workload: seeded times at the target rate, sizes where the workload has them', () => {
    for (const name of WORKLOADS.map((x) => x.name)) {
      const w = buildWorkload(name, { tasks: 40, arrival: 'trace', ratePerSec: 20, ...(name === 'retrieval-summarization' || name === 'mixed' ? { chunks: 1000 } : {}) });
      expect(w.arrival).toEqual({ kind: 'trace', ratePerSec: 20, trace: 'conv', normalize: 'window', sizes: true });
      const { workload, atMs } = planArrivals(w, 4);
      expect(atMs).toEqual(arrivalSchedule(w, 4));
      expect(39 / (atMs.at(-1)! / 1000)).toBeCloseTo(20, 9);
      expect(atMs).not.toEqual(planArrivals(w, 5).atMs);
      const sized = workload.tasks.filter((t) => typeof t.payload.prompt_tokens === 'number');
      // map tasks take the trace's sizes; review stories and retrieval queries have their own.
      if (name === 'map') expect(sized).toHaveLength(40);
      if (name === 'mixed') expect(sized.map((t) => t.class)).toEqual(workload.tasks.filter((t) => t.class === 'map').map((t) => t.class));
      if (name === 'review-analysis' || name === 'retrieval-summarization') expect(sized).toHaveLength(0);
      for (const s of workload.tasks) expect(validatePayload(workload.types.find((x) => x.name === s.type)!.schema, s.payload)).toBeNull();
      expect(planArrivals(buildWorkload(name, { tasks: 40, arrival: 'trace', ratePerSec: 20, traceSizes: false, ...(name === 'retrieval-summarization' || name === 'mixed' ? { chunks: 1000 } : {}) }), 4).workload.tasks.some((t) => 'prompt_tokens' in t.payload)).toBe(false);
    }
    expect(() => buildWorkload('map', { trace: 'code' })).toThrow(/'trace' applies to arrival: trace only/);
    expect(() => buildWorkload('map', { arrival: 'trace', trace: 'chat' })).toThrow(/one of conv\|code/);
  });

  it('a sized task is one request of its size: prompt = agent prompt + its prompt tokens, output = its output tokens', async () => {
    const w = planArrivals(buildWorkload('map', { tasks: 5, arrival: 'trace', ratePerSec: 5 }), 2).workload;
    const seed = seedArtifact(w, 3, 0);
    const agent = w.agents[0]!;
    expect(inputTokens(seed)).toBe(seed.payload.prompt_tokens);
    expect(outputTokensFor(agent, [seed])).toBe(seed.payload.output_tokens);
    const records: ExecutionRecord[] = [];
    const rt = { workload: w, llm: new SimulatedLlm({ seed: 1, latencyScale: 0 }), seed: 1, clock: () => 0, onExecution: (r: ExecutionRecord) => records.push(r) };
    await executeAgent(agent, [seed], rt);
    expect(records[0]!.tokensIn).toBe(agent.promptTokens + (seed.payload.prompt_tokens as number));
    expect(records[0]!.llmCalls).toBe(1);
  });

  it('mixed: classes interleave by keyed draws at the given weights, each task tagged with its class', () => {
    const w = buildWorkload('mixed', { tasks: 300, chunks: 1000 });
    const counts = Object.fromEntries(['map', 'review-analysis', 'retrieval-summarization'].map((c) => [c, w.tasks.filter((t) => t.class === c).length]));
    expect(counts.map! + counts['review-analysis']! + counts['retrieval-summarization']!).toBe(300);
    expect(counts.map! / 300).toBeGreaterThan(0.4);
    expect(counts['review-analysis']! / 300).toBeGreaterThan(0.12);
    expect(counts['retrieval-summarization']! / 300).toBeGreaterThan(0.2);
    expect(buildWorkload('mixed', { tasks: 300, chunks: 1000 }).tasks.map((t) => t.key)).toEqual(w.tasks.map((t) => t.key));
    expect(terminalTypes(w).sort()).toEqual(['Answer', 'NewsDigest', 'Stage1']);
    const only = buildWorkload('mixed', { tasks: 20, chunks: 1000, mapWeight: 0, reviewWeight: 0 });
    expect(only.tasks.every((t) => t.class === 'retrieval-summarization')).toBe(true);
    expect(() => buildWorkload('mixed', { mapWeight: 0, reviewWeight: 0, retrievalWeight: 0, chunks: 1000 })).toThrow(/at least one of/);
  });

  it('retrieval-summarization: a tool retriever fanning out k, summarizer coalescing only when asked, answerer joining k by query', () => {
    const w = buildWorkload('retrieval-summarization', { tasks: 2, k: 6, chunks: 1000 });
    const [retriever, summarizer, answerer] = w.agents;
    expect(retriever!.tool).toEqual({ name: 'bm25-search', args: { chunks: 1000, chunkWords: 150, k: 6 } });
    expect(retriever!.fanOut).toBe(6);
    expect(summarizer!.consumes.batch).toBeUndefined();
    expect(answerer!.consumes.batch).toMatchObject({ size: 6, by: 'correlationId' });
    const co = buildWorkload('retrieval-summarization', { tasks: 2, k: 6, chunks: 1000, coalesce: true });
    expect(co.agents[1]!.consumes.batch).toMatchObject({ size: 6, by: 'correlationId', coalesce: true });
    expect(() => buildWorkload('retrieval-summarization', { chunks: 20_000 })).toThrow(/'chunks' must be <= 11008/);
  });
});
