import { describe, expect, it } from 'vitest';
import { expandAxes, expandMatrix, validateMatrix } from './matrix.ts';

describe('expandAxes', () => {
  it('crosses list values; scalars are fixed', () => {
    expect(expandAxes({ a: [1, 2], b: ['x', 'y'], c: 7 })).toEqual([
      { a: 1, b: 'x', c: 7 }, { a: 1, b: 'y', c: 7 }, { a: 2, b: 'x', c: 7 }, { a: 2, b: 'y', c: 7 },
    ]);
  });

  it('a list of mappings is one linked axis: its keys move together, its own key is dropped', () => {
    const cells = expandAxes({ mode: ['alo', 'eos'], scale: [{ partitions: 1, consumers: 1 }, { partitions: 4, consumers: 4 }] });
    expect(cells).toEqual([
      { mode: 'alo', partitions: 1, consumers: 1 }, { mode: 'alo', partitions: 4, consumers: 4 },
      { mode: 'eos', partitions: 1, consumers: 1 }, { mode: 'eos', partitions: 4, consumers: 4 },
    ]);
  });

  it('no params: one empty cell', () => {
    expect(expandAxes()).toEqual([{}]);
  });
});

describe('expandMatrix with a linked axis', () => {
  it('produces one cell per linked entry per rep', () => {
    const m = validateMatrix({
      name: 't', systems: ['blackboard-kafka'], workloads: [{ name: 'map', params: { items: 4 } }],
      systemParams: { 'blackboard-kafka': { scale: [{ partitions: 1, processes: 0 }, { partitions: 2, processes: 2 }] } },
    });
    const cells = expandMatrix(m, { reps: 2 });
    expect(cells.map((c) => c.systemParams)).toEqual([
      { partitions: 1, processes: 0 }, { partitions: 2, processes: 2 }, { partitions: 1, processes: 0 }, { partitions: 2, processes: 2 },
    ]);
  });
});
