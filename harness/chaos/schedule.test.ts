import { describe, expect, it } from 'vitest';
import { buildWorkload } from '../../workloads/registry.ts';
import { faultSchedule } from './run.ts';

const w = buildWorkload('map', { tasks: 300, depth: 2 });

describe('chaos fault schedule', () => {
  it('is a pure function of the seed: both delivery modes get the same faults', () => {
    const a = faultSchedule(w, { kills: 4, workerCrashes: 3, seed: 7, nodes: 3 });
    const b = faultSchedule(w, { kills: 4, workerCrashes: 3, seed: 7, nodes: 3 });
    expect(a).toEqual(b);
    expect(faultSchedule(w, { kills: 4, workerCrashes: 3, seed: 8, nodes: 3 })).not.toEqual(a);
  });

  it('plans exactly the asked kills and crash keys, kills at increasing progress below 0.8, never the same node twice in a row', () => {
    for (let seed = 0; seed < 50; seed++) {
      const s = faultSchedule(w, { kills: 4, workerCrashes: 3, seed, nodes: 3 });
      expect(s.kills).toHaveLength(4);
      expect(new Set(s.crashKeys).size).toBe(3);
      for (let i = 0; i < s.kills.length; i++) {
        const k = s.kills[i]!;
        expect(k.node).toBeGreaterThanOrEqual(0);
        expect(k.node).toBeLessThan(3);
        expect(k.atProgress).toBeGreaterThan(0);
        expect(k.atProgress).toBeLessThanOrEqual(0.8);
        if (i > 0) {
          expect(k.atProgress).toBeGreaterThan(s.kills[i - 1]!.atProgress);
          expect(k.node).not.toBe(s.kills[i - 1]!.node);
        }
      }
    }
  });

  it('one node: every kill hits it', () => {
    expect(faultSchedule(w, { kills: 2, workerCrashes: 0, seed: 1, nodes: 1 }).kills.map((k) => k.node)).toEqual([0, 0]);
  });
});
