import { describe, expect, it } from 'vitest';
import { map } from '../../workloads/map.ts';
import type { AgentSpec, WorkloadSpec } from '../../workloads/spec.ts';
import { planAgents, UnsupportedWorkloadError } from './compile.ts';

const agent = (over: Partial<AgentSpec>): AgentSpec => ({
  name: 'a', consumes: { types: ['T'] }, publishes: 'U', maxConcurrency: 2, model: 'gpt-4.1-mini', promptTokens: 10, outputTokens: 10, ...over,
});

describe('planAgents', () => {
  it('orders producers before consumers and records ancestors', () => {
    const p = planAgents(map({ tasks: 2, depth: 3, join: true }));
    expect(p.order.map((a) => a.name)).toEqual(['worker1', 'worker2', 'worker3', 'reducer']);
    expect(p.deps.get('reducer')).toEqual(['worker3']);
    expect([...p.ancestors.get('reducer')!].sort()).toEqual(['worker1', 'worker2', 'worker3']);
  });

  it('rejects agent cycles and self-consumption', () => {
    const w: WorkloadSpec = { ...map({ tasks: 1 }), agents: [agent({ name: 'x', consumes: { types: ['A'] }, publishes: 'B' }), agent({ name: 'y', consumes: { types: ['B'] }, publishes: 'A' })] };
    expect(() => planAgents(w)).toThrow(UnsupportedWorkloadError);
    const self: WorkloadSpec = { ...map({ tasks: 1 }), agents: [agent({ name: 'x', consumes: { types: ['Task'] }, publishes: 'Task', allowSelfTrigger: true })] };
    expect(() => planAgents(self)).toThrow(/consumes its own output/);
  });
});
