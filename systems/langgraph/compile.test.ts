import { describe, expect, it } from 'vitest';
import { makeArtifact } from '../../workloads/execute.ts';
import { map } from '../../workloads/map.ts';
import { reviewAnalysis } from '../../workloads/review-analysis.ts';
import type { AgentSpec, Artifact, WorkloadSpec } from '../../workloads/spec.ts';
import { inputGroups, planAgents, UnsupportedWorkloadError } from './compile.ts';

const art = (key: string, type: string, correlationId: string, payload: Record<string, unknown> = {}, producedBy = 'external'): Artifact =>
  makeArtifact({ key, type, correlationId, payload, producedBy }, 0);

const agent = (over: Partial<AgentSpec>): AgentSpec => ({
  name: 'a', consumes: { types: ['T'] }, publishes: 'U', maxConcurrency: 2, model: 'gpt-4.1-mini', promptTokens: 10, outputTokens: 10, ...over,
});

describe('planAgents', () => {
  it('orders producers before consumers and records ancestors', () => {
    const p = planAgents(map({ items: 2, depth: 3, join: true }));
    expect(p.order.map((a) => a.name)).toEqual(['worker1', 'worker2', 'worker3', 'reducer']);
    expect(p.deps.get('reducer')).toEqual(['worker3']);
    expect([...p.ancestors.get('reducer')!].sort()).toEqual(['worker1', 'worker2', 'worker3']);
  });

  it('rejects agent cycles and self-consumption', () => {
    const w: WorkloadSpec = { ...map({ items: 1 }), agents: [agent({ name: 'x', consumes: { types: ['A'] }, publishes: 'B' }), agent({ name: 'y', consumes: { types: ['B'] }, publishes: 'A' })] };
    expect(() => planAgents(w)).toThrow(UnsupportedWorkloadError);
    const self: WorkloadSpec = { ...map({ items: 1 }), agents: [agent({ name: 'x', consumes: { types: ['Task'] }, publishes: 'Task', allowSelfTrigger: true })] };
    expect(() => planAgents(self)).toThrow(/consumes its own output/);
  });
});

describe('inputGroups', () => {
  it('one execution per matching artifact, honouring where and prevent-self-trigger', () => {
    const a = agent({ name: 'a', consumes: { types: ['T'], where: { field: 'x', in: [1, 2] } } });
    const groups = inputGroups(a, [art('k1', 'T', 'c1', { x: 1 }), art('k2', 'T', 'c2', { x: 3 }), art('k3', 'T', 'c3', { x: 2 }, 'a'), art('k4', 'V', 'c4', { x: 1 })]);
    expect(groups.map((g) => g.inputs.map((i) => i.key))).toEqual([['k1']]);
  });

  it('batches by correlation id and chunks by size; partial chunks are not complete', () => {
    const a = agent({ consumes: { types: ['T'], batch: { size: 2, timeoutMs: 1, by: 'correlationId' } } });
    const groups = inputGroups(a, [art('b', 'T', 'x'), art('a', 'T', 'x'), art('c', 'T', 'y'), art('d', 'T', 'x')]);
    expect(groups.map((g) => [g.inputs.map((i) => i.key), g.complete])).toEqual([[['a', 'b'], true], [['d'], false], [['c'], false]]);
  });

  it('a global batch takes every item', () => {
    const w = map({ items: 5, join: true });
    const reducer = w.agents.find((x) => x.name === 'reducer')!;
    const items = Array.from({ length: 5 }, (_, i) => art(`s${i}`, 'Stage1', `task-${i}`));
    const groups = inputGroups(reducer, items);
    expect(groups).toHaveLength(1);
    expect(groups[0].inputs).toHaveLength(5);
    expect(groups[0].complete).toBe(true);
  });

  it('joins one artifact per type with the same correlation id', () => {
    const a = agent({ consumes: { types: ['A', 'B'], join: { by: 'correlationId' } } });
    const groups = inputGroups(a, [art('a1', 'A', 'x'), art('b1', 'B', 'x'), art('a2', 'A', 'y'), art('a3', 'A', 'x')]);
    expect(groups.map((g) => g.inputs.map((i) => i.key))).toEqual([['a1', 'b1']]);
  });

  it('review-analysis: the editor gets the analyses of one story per execution', () => {
    const w = reviewAnalysis({ analysts: 3, items: 2 });
    const editor = w.agents.find((x) => x.name === 'editor')!;
    const analyses = ['news-0', 'news-1'].flatMap((c) => [0, 1, 2].map((i) => art(`${c}-a${i}`, 'NewsAnalysis', c, {}, `analyst${i}`)));
    const groups = inputGroups(editor, analyses);
    expect(groups.map((g) => new Set(g.inputs.map((i) => i.correlationId)).size)).toEqual([1, 1]);
    expect(groups.every((g) => g.inputs.length === 3 && g.complete)).toBe(true);
  });
});
