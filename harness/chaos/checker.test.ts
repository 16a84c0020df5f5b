import { describe, expect, it } from 'vitest';
import { buildWorkload } from '../../workloads/registry.ts';
import { checkArtifacts, checkWorkload, expectedKeys, UnsupportedWorkloadError } from './checker.ts';

const w = buildWorkload('map', { tasks: 3, depth: 2 });
const clean = () => [
  ...[0, 1, 2].map((i) => ({ type: 'Task', key: `task-${i}` })),
  ...[0, 1, 2].map((i) => ({ type: 'Stage1', key: `worker1(task-${i})` })),
  ...[0, 1, 2].map((i) => ({ type: 'Stage2', key: `worker2(worker1(task-${i}))` })),
];

describe('expectedKeys', () => {
  it('map: one output per item per stage, keyed by execution identity', () => {
    const e = expectedKeys(w);
    expect(e.get('Task')).toEqual(['task-0', 'task-1', 'task-2']);
    expect(e.get('Stage1')).toEqual(['worker1(task-0)', 'worker1(task-1)', 'worker1(task-2)']);
    expect(e.get('Stage2')).toEqual(['worker2(worker1(task-0))', 'worker2(worker1(task-1))', 'worker2(worker1(task-2))']);
  });

  it('rejects batches and joins: their outputs depend on timing, not on keys', () => {
    expect(() => expectedKeys(buildWorkload('map', { tasks: 3, join: true }))).toThrow(UnsupportedWorkloadError);
  });
});

describe('checkArtifacts', () => {
  it('clean run: nothing lost, duplicated or unexpected', () => {
    const r = checkWorkload(w, clean());
    expect(r.exact).toBe(true);
    expect(r.totals).toEqual({ expected: 9, observed: 9, lost: 0, duplicated: 0, extraRecords: 0, unexpected: 0 });
  });

  it('reports a lost artifact by key and type', () => {
    const r = checkWorkload(w, clean().filter((a) => a.key !== 'worker1(task-1)'));
    expect(r.exact).toBe(false);
    expect(r.totals.lost).toBe(1);
    expect(r.byType.find((t) => t.type === 'Stage1')!.lost).toEqual(['worker1(task-1)']);
    expect(r.totals.observed).toBe(8);
  });

  it('counts duplicates by logical key, not by record id', () => {
    // Two publishes of the same logical output carry different ids; the key is what repeats.
    const r = checkWorkload(w, [...clean(), { type: 'Stage2', key: 'worker2(worker1(task-0))' }, { type: 'Stage2', key: 'worker2(worker1(task-0))' }]);
    expect(r.exact).toBe(false);
    expect(r.totals.duplicated).toBe(1);
    expect(r.totals.extraRecords).toBe(2);
    expect(r.byType.find((t) => t.type === 'Stage2')!.duplicated).toEqual([{ key: 'worker2(worker1(task-0))', count: 3 }]);
    expect(r.totals.lost).toBe(0);
  });

  it('reports keys and types the workload never produces as unexpected', () => {
    const r = checkWorkload(w, [...clean(), { type: 'Stage1', key: 'worker1(task-9)' }, { type: 'WorkflowError', key: 'error:x' }]);
    expect(r.totals.unexpected).toBe(2);
    expect(r.byType.find((t) => t.type === 'WorkflowError')).toMatchObject({ expected: 0, observed: 1, unexpected: ['error:x'] });
  });

  it('a key expected twice needs two records', () => {
    const r = checkArtifacts(new Map([['T', ['a', 'a']]]), [{ type: 'T', key: 'a' }]);
    expect(r.byType[0]).toMatchObject({ lost: ['a'], duplicated: [] });
    const r3 = checkArtifacts(new Map([['T', ['a', 'a']]]), [{ type: 'T', key: 'a' }, { type: 'T', key: 'a' }, { type: 'T', key: 'a' }]);
    expect(r3.byType[0]!.duplicated).toEqual([{ key: 'a', count: 3 }]);
    expect(r3.totals.extraRecords).toBe(1);
  });
});
