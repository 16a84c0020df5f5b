import { describe, expect, it } from 'vitest';
import { readdirSync } from 'node:fs';
import { expandAxes, expandMatrix, loadMatrix, validateMatrix } from './matrix.ts';

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
      name: 't', systems: ['blackboard-kafka'], workloads: [{ name: 'map', params: { tasks: 4 } }],
      systemParams: { 'blackboard-kafka': { scale: [{ partitions: 1, processes: 0 }, { partitions: 2, processes: 2 }] } },
    });
    const cells = expandMatrix(m, { reps: 2 });
    expect(cells.map((c) => [c.systemParams.partitions, c.systemParams.processes])).toEqual([[1, 0], [2, 2], [1, 0], [2, 2]]);
    // Cells carry the resolved parameters: defaults filled in, derived ones absent.
    expect(cells[0]!.systemParams).toMatchObject({ delivery: 'at-least-once', consumers: 2, batchSize: 16 });
    expect(cells[0]!.systemParams).not.toHaveProperty('maxInFlight');
    expect(cells[0]!.workloadParams).toMatchObject({ tasks: 4, depth: 1, arrival: 'all-at-once' });
  });
});

describe('bad matrices are refused before anything runs, naming the YAML key', () => {
  const base = { name: 't', systems: ['blackboard-eager'], workloads: [{ name: 'map', params: { tasks: 2 } }] };
  const refused: [string, Record<string, unknown>, RegExp][] = [
    ['a misspelt system parameter', { systemParams: { 'blackboard-eager': { maxAgentIteration: 5 } } }, /systemParams\.blackboard-eager: unknown parameter 'maxAgentIteration' \(did you mean 'maxAgentIterations'\?\)/],
    ['an ill-typed system parameter', { systems: ['langgraph-parallel'], systemParams: { 'langgraph-parallel': { maxConcurrency: 'lots' } } }, /systemParams\.langgraph-parallel: 'maxConcurrency' must be an integer >= 2, got "lots"/],
    ['a choice out of range', { systems: ['blackboard-kafka'], systemParams: { 'blackboard-kafka': { delivery: 'exactly-twice' } } }, /'delivery' must be one of at-least-once\|exactly-once/],
    ['parameters of a system not in the matrix', { systemParams: { 'langgraph-parallel': { maxConcurrency: 8 } } }, /systemParams\.langgraph-parallel: 'langgraph-parallel' is not in the matrix's systems/],
    ['a system listed twice', { systems: ['blackboard-eager', 'blackboard-eager'] }, /systems: "blackboard-eager" listed twice/],
    ['an axis value listed twice', { workloads: [{ name: 'map', params: { tasks: [2, 2] } }] }, /workloads\[0\] \(map\)\.params\.tasks: value 2 listed twice/],
    ['a fractional seed', { seed: 2.5 }, /'seed' must be an integer >= 0, got 2\.5/],
    ['zero reps (blames the YAML key, not --reps)', { reps: 0 }, /'reps' must be an integer >= 1, got 0/],
    ['an llmOptions typo', { llmTransport: 'http', llmOptions: { limits: { rpm: 'lots' } } }, /llmOptions\.limits: 'rpm' must be a number >= 1, got "lots"/],
    ['negative retries', { llmTransport: 'http', llmOptions: { maxRetries: -3 } }, /llmOptions: 'maxRetries' must be an integer >= 0, got -3/],
    ['an http-only llmOption in process', { llmOptions: { maxRetries: 1 } }, /llmOptions\.maxRetries applies to llmTransport: http only \(in-process: limits, slowdown\)/],
    ['a half slowdown', { llmOptions: { slowdown: { capacity: 8 } } }, /'llmOptions\.slowdown' needs both capacity and alpha/],
    ['a limit given where a client option goes', { llmTransport: 'http', llmOptions: { rpm: 'lots' } }, /llmOptions\.rpm belongs under llmOptions\.limits/],
    ['a misspelt llmOptions key in process (not blamed on the transport)', { llmOptions: { limts: { rpm: 5 } } }, /llmOptions: unknown key 'limts' \(did you mean 'limits'\?\)/],
    ['llmOptions with flock-real, which cannot honour them', { systems: ['flock-real'], llmTransport: 'http', llmOptions: { maxRetries: 1 } }, /flock-real .* does not honour 'llmOptions'/],
    ['llmOptions with langgraph-py, which starts its own simulator too', { systems: ['langgraph-py'], llmOptions: { limits: { rpm: 5 } } }, /langgraph-py starts its own simulator and does not honour 'llmOptions'/],
    ['a seed past 2^63 (it would fail as a BIGINT after the run)', { seed: 1e20 }, /'seed' must be <= \d+, got 100000000000000000000/],
    ['a timeout no Node timer can hold (every run would time out at once)', { timeoutMs: 3e9 }, /'timeoutMs' must be <= 2147483647/],
    ['the old key llm', { llm: 'http' }, /'llm' is now called 'llmTransport'/],
    ['a cross-task batch in open loop on a graph system', { systems: ['langgraph-parallel'], workloads: [{ name: 'map', params: { tasks: 4, coalesceTasks: 2, arrival: 'poisson' } }] }, /langgraph-parallel: open-loop arrivals run one graph per arrival, which cannot express agent .*'s global batch/],
    ['a workload parameter out of range', { workloads: [{ name: 'map', params: { tasks: 0 } }] }, /workload map: 'tasks' must be an integer >= 1, got 0/],
    ['a workload a system cannot express (a global batch, one graph run per task)', { systems: ['langgraph-per-item'], workloads: [{ name: 'map', params: { tasks: 3, join: true } }] },
      /workloads\[0\] \(map .*"join":true.*\): langgraph-per-item: agent reducer .* global batch.*; or list the systems that can run it in workloads\[0\]\.systems/],
    ['a form a system parameter selects that cannot express it', { systems: ['langgraph-py'], workloads: [{ name: 'map', params: { join: true } }], systemParams: { 'langgraph-py': { form: ['one-graph', 'per-item'] } } },
      /langgraph-py form per-item: .*set systemParams\.langgraph-py\.form to subgraph or one-graph/],
    ['a global batch under open-loop arrivals', { systems: ['langgraph-subgraph'], workloads: [{ name: 'map', params: { join: true, arrival: 'poisson' } }] }, /langgraph-subgraph: open-loop arrivals .* use arrival=all-at-once/],
    ['a heap limit below 64 MiB', { heapLimitMb: 16 }, /m\.yaml: 'heapLimitMb' must be an integer >= 64, got 16/],
    ['a settle bound that is negative', { settleMaxS: -1 }, /m\.yaml: 'settleMaxS' must be an integer >= 0, got -1/],
    ['a settle bound over an hour', { settleMaxS: 7200 }, /m\.yaml: 'settleMaxS' must be <= 3600, got 7200/],
    ['traces that is not a boolean', { traces: 'off' }, /m\.yaml: 'traces' must be true or false, got "off"/],
    ['a dispatchChunk below 1', { systems: ['blackboard-deferred'], systemParams: { 'blackboard-deferred': { dispatchChunk: 0 } } }, /systemParams\.blackboard-deferred: 'dispatchChunk' must be an integer >= 1, got 0/],
  ];
  it.each(refused)('%s', (_what, patch, msg) => {
    expect(() => expandMatrix(validateMatrix({ ...base, ...patch }, 'm.yaml'), {})).toThrow(msg);
  });

  it('a workload restricted to the systems that can express it is accepted', () => {
    const m = validateMatrix({ ...base, systems: ['langgraph-per-item', 'langgraph-subgraph'], workloads: [{ name: 'map', params: { join: true }, systems: ['langgraph-subgraph'] }, { name: 'map' }] });
    expect(expandMatrix(m, { reps: 1 }).map((c) => [c.system, c.workloadParams.join])).toEqual([['langgraph-subgraph', true], ['langgraph-per-item', false], ['langgraph-subgraph', false]]);
  });

  it('a matrix of a billion runs is refused instead of expanded, blaming where the reps came from', () => {
    expect(() => expandMatrix(validateMatrix({ ...base, reps: 1e9 }), {})).toThrow(/exceeds 100000; lower 'reps' or the axes/);
    expect(() => expandMatrix(validateMatrix(base), { reps: 1e9 })).toThrow(/exceeds 100000; lower --reps or the axes/);
  });

  it('a --seed past 2^53 is named as the flag', () => {
    expect(() => expandMatrix(validateMatrix(base), { seed: 2 ** 60 })).toThrow(/^--seed must be an integer from 0 to \d+$/);
  });

  it('empty llmOptions are nothing to honour: flock-real may run with them', () => {
    expect(() => validateMatrix({ ...base, systems: ['flock-real'], workloads: [{ name: 'review-analysis' }], llmOptions: {} })).not.toThrow();
  });
});

describe('shipped matrices', () => {
  const files = readdirSync('paper/experiments').filter((f) => f.endsWith('.yaml'));
  it.each(files)('paper/experiments/%s validates and expands', (f) => {
    const cells = expandMatrix(loadMatrix(`paper/experiments/${f}`));
    expect(cells.length).toBeGreaterThan(0);
  });
});

describe('traces', () => {
  it('default on, off per matrix, and not part of the cell identity', async () => {
    const base = { name: 't', systems: ['blackboard-eager'], workloads: [{ name: 'map', params: { tasks: 2 } }] };
    const on = expandMatrix(validateMatrix(base), { reps: 1 });
    const off = expandMatrix(validateMatrix({ ...base, traces: false }), { reps: 1 });
    expect(on[0]!.traces).toBe(true);
    expect(off[0]!.traces).toBe(false);
    const { cellKey } = await import('./runner.ts');
    expect(cellKey(off[0]!)).toBe(cellKey(on[0]!));
  });
});

// Per-matrix run settings that change how a run is kept or when it starts, not what it measures.
describe.each([
  { key: 'heapLimitMb', dflt: 4096, set: 1024, what: 'the run process\'s heap limit (MiB)' },
  { key: 'settleMaxS', dflt: 0, set: 120, what: 'the settle bound before the measured run (s; 0 = no wait)' },
] as const)('$key', ({ key, dflt, set, what }) => {
  it(`defaults to ${dflt} (${what}), is set per matrix, and is not part of the cell identity`, async () => {
    const base = { name: 't', systems: ['blackboard-eager'], workloads: [{ name: 'map', params: { tasks: 2 } }] };
    const plain = expandMatrix(validateMatrix(base), { reps: 1 });
    const withKey = expandMatrix(validateMatrix({ ...base, [key]: set }), { reps: 1 });
    expect(plain[0]![key]).toBe(dflt);
    expect(withKey[0]![key]).toBe(set);
    const { cellKey } = await import('./runner.ts');
    expect(cellKey(withKey[0]!)).toBe(cellKey(plain[0]!));
  });
});
