import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ResultsDb } from '../harness/results/db.ts';
import { insertReps, insertRun } from './synthetic.ts';
import {
  aggregate, checkVerdicts, computeVerdicts, decideEfficiency, decideRatio, isRobust, loadRuns, toRecord, verdictH1, verdictH1b, verdictH2, verdictH3,
} from './verdicts.ts';

describe('decision rules', () => {
  it('decides a ratio claimed above 1', () => {
    expect(decideRatio([1.2, 1.5], 'above').verdict).toBe('supported');
    expect(decideRatio([0.6, 0.9], 'above').verdict).toBe('refuted');
    expect(decideRatio([0.97, 1.03], 'above')).toEqual({ verdict: 'refuted', reason: expect.stringContaining('equivalence') });
    expect(decideRatio([0.9, 1.2], 'above').verdict).toBe('inconclusive');
    expect(decideRatio([NaN, NaN], 'above').verdict).toBe('no data');
  });
  it('decides a ratio claimed below 1 (H3)', () => {
    expect(decideRatio([0.5, 0.8], 'below').verdict).toBe('supported');
    expect(decideRatio([1.1, 1.3], 'below').verdict).toBe('refuted');
  });
  it('decides scaling efficiency against the near-linear threshold', () => {
    expect(decideEfficiency([0.85, 0.95]).verdict).toBe('supported');
    expect(decideEfficiency([0.2, 0.5]).verdict).toBe('refuted');
    expect(decideEfficiency([0.7, 0.9]).verdict).toBe('inconclusive');
  });
  it('flags a CI near a threshold as not robust', () => {
    expect(isRobust([1.2, 1.5], [0.95, 1, 1.05])).toBe(true);
    expect(isRobust([1.06, 1.5], [0.95, 1, 1.05])).toBe(false);
  });
  it('aggregates configurations', () => {
    expect(aggregate(['supported', 'supported']).verdict).toBe('supported');
    expect(aggregate(['refuted', 'no data']).verdict).toBe('refuted');
    expect(aggregate(['supported', 'refuted']).verdict).toBe('inconclusive');
    expect(aggregate([]).verdict).toBe('no data');
  });
});

describe('verdicts over synthetic runs', () => {
  let db: ResultsDb;
  beforeEach(async () => { db = await ResultsDb.open(':memory:'); });
  afterEach(() => db.close());

  const cfg = { matrix: 'quick' };

  it('H1: stepwise supported, parallel refuted (faster), eager equivalent', async () => {
    await insertReps(db, { ...cfg, system: 'blackboard-deferred' }, [1000, 1010, 990, 1005, 995]);
    await insertReps(db, { ...cfg, system: 'langgraph-stepwise' }, [4000, 4100, 3900, 4050, 3950]);
    await insertReps(db, { ...cfg, system: 'langgraph-parallel' }, [800, 810, 790, 805, 795]);
    await insertReps(db, { ...cfg, system: 'blackboard-eager' }, [1001, 1009, 991, 1004, 996]);
    const runs = await loadRuns(db);
    const s = verdictH1(runs, 'langgraph-stepwise');
    expect(s.verdict).toBe('supported');
    expect(s.evidence[0].evidence[0].estimate).toBeCloseTo(4, 1);
    expect(s.evidence[0].robust).toBe(true);
    expect(verdictH1(runs, 'langgraph-parallel').verdict).toBe('refuted');
    const b = verdictH1b(runs);
    expect(b.verdict).toBe('refuted');
    expect(b.evidence[0].reason).toContain('equivalence');
    expect(b.evidence[0].robust).toBe(false);
  });

  it('H1: overlapping samples are inconclusive; too few reps are inconclusive', async () => {
    await insertReps(db, { ...cfg, system: 'blackboard-deferred' }, [1000, 1400, 800, 1200, 900]);
    await insertReps(db, { ...cfg, system: 'langgraph-parallel' }, [1100, 900, 1300, 1000, 1250]);
    await insertReps(db, { ...cfg, system: 'langgraph-stepwise' }, [4000, 4100]);
    const runs = await loadRuns(db);
    expect(verdictH1(runs, 'langgraph-parallel').verdict).toBe('inconclusive');
    const s = verdictH1(runs, 'langgraph-stepwise');
    expect(s.verdict).toBe('inconclusive');
    expect(s.evidence[0].reason).toContain('fewer than');
  });

  it('no data: no graph runs, no kafka runs, no open-loop runs', async () => {
    await insertReps(db, { ...cfg, system: 'blackboard-deferred' }, [1000, 1010, 990]);
    const all = await computeVerdicts(db);
    for (const h of all) expect(h.verdict).toBe('no data');
  });

  it('H2: near-linear at 4 partitions, not at 16', async () => {
    const k = (partitions: number) => ({ matrix: 'h2', system: 'blackboard-kafka', workload: 'map', workloadParams: { tasks: 200, depth: 2 }, tasks: 200, systemParams: { partitions, consumers: 4, delivery: 'at-least-once' } });
    await insertReps(db, k(1), [4000, 4040, 3960]);
    await insertReps(db, k(4), [1050, 1060, 1040]); // efficiency ~0.95
    await insertReps(db, k(16), [1000, 1010, 990]); // efficiency ~0.25
    const [alo, eos] = verdictH2(await loadRuns(db));
    expect(alo.evidence.map((e) => e.verdict)).toEqual(['supported', 'refuted']);
    expect(alo.evidence[0].evidence[0].estimate).toBeCloseTo(0.95, 1);
    expect(alo.verdict).toBe('inconclusive');
    expect(eos.verdict).toBe('no data');
  });

  it('H3: deferred tail lower than eager under open-loop arrivals', async () => {
    const open = { matrix: 'h3', workloadParams: { analysts: 8, tasks: 20, arrival: 'poisson', ratePerSec: 5 } };
    for (let rep = 0; rep < 4; rep++) {
      await insertRun(db, { ...open, system: 'blackboard-deferred', rep, makespanMs: 5000, p95Ms: 500 + rep, p99Ms: 600 + rep });
      await insertRun(db, { ...open, system: 'blackboard-eager', rep, makespanMs: 5000, p95Ms: 900 + rep, p99Ms: 1200 + rep });
    }
    const h3 = verdictH3(await loadRuns(db));
    expect(h3.evidence.map((e) => e.scope.label)).toEqual([expect.stringContaining('arrival=poisson'), expect.stringContaining('arrival=poisson')]);
    expect(h3.verdict).toBe('supported');
  });

  it('check: same verdicts pass, a flipped robust verdict fails, nothing robust fails', async () => {
    await insertReps(db, { ...cfg, system: 'blackboard-deferred' }, [1000, 1010, 990]);
    await insertReps(db, { ...cfg, system: 'langgraph-stepwise' }, [4000, 4100, 3900]);
    const rec = toRecord(await computeVerdicts(db));
    expect(checkVerdicts(rec, await computeVerdicts(db), 'quick').ok).toBe(true);
    const flipped = { ...rec, configurations: rec.configurations.map((c) => ({ ...c, verdict: 'refuted' as const })) };
    const bad = checkVerdicts(flipped, await computeVerdicts(db), 'quick');
    expect(bad.ok).toBe(false);
    expect(bad.problems[0]).toContain('recorded refuted, now supported');
    expect(checkVerdicts(rec, await computeVerdicts(db), 'other').ok).toBe(false);
  });
});
