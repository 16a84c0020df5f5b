import { describe, expect, it } from 'vitest';
import { validatePayload } from '../core/schema.ts';
import { BadParamError } from '../core/params.ts';
import { WORKLOADS, buildWorkload } from './registry.ts';
import { terminalTypes, topoAgents } from './spec.ts';
import { arrivalSchedule } from './arrivals.ts';

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
});
