import { describe, expect, it } from 'vitest';
import { cpuShares, machineCpu } from './machine.ts';

describe('CPU shares of a window', () => {
  it('splits the machine into the run, the broker and the rest, and flags saturation', () => {
    const before = { busyMs: 0, totalMs: 0, cpus: 2 };
    // A 1 s window on 2 CPUs: 2000 ms of CPU time, 1900 busy.
    const s = cpuShares(before, { busyMs: 1900, totalMs: 2000, cpus: 2 }, 600, 800);
    expect(s.runShare).toBeCloseTo(0.3);
    expect(s.brokerShare).toBeCloseTo(0.4);
    expect(s.otherShare).toBeCloseTo(0.25);
    expect(s.saturated).toBe(true);
    expect(cpuShares(before, { busyMs: 1000, totalMs: 2000, cpus: 2 }, 600, 300).saturated).toBe(false);
  });

  it('reads /proc/stat where there is one', () => {
    const m = machineCpu();
    if (!m) return;
    expect(m.cpus).toBeGreaterThan(0);
    expect(m.totalMs).toBeGreaterThanOrEqual(m.busyMs);
  });
});
