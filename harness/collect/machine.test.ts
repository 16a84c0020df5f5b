import { describe, expect, it } from 'vitest';
import { cpuShares, machineCpu, settleLoad } from './machine.ts';

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

describe('settling the load before a run', () => {
  // A fake clock: each sleep advances it; the load average decays as the test says.
  const fake = (loads: number[]) => {
    let t = 0, i = 0;
    return { now: () => t, sleep: async (ms: number) => { t += ms; i++; }, load: () => loads[Math.min(i, loads.length - 1)]!, polls: () => i };
  };

  it('waits until the load average is at or below the target, polling', async () => {
    const f = fake([4.2, 3.6, 2.9, 2.5, 2.4]);
    const r = await settleLoad(60_000, { target: 2.5, pollMs: 1000, ...f });
    expect(r).toEqual({ waitedMs: 3000, reached: true });
    expect(f.polls()).toBe(3);
  });

  it('does not wait when the machine is already quiet', async () => {
    const f = fake([0.3]);
    expect(await settleLoad(60_000, { target: 2.5, ...f })).toEqual({ waitedMs: 0, reached: true });
  });

  it('gives up at the bound and says the target was not reached', async () => {
    const f = fake([5]);
    const r = await settleLoad(10_000, { target: 2.5, pollMs: 1000, ...f });
    expect(r.reached).toBe(false);
    expect(r.waitedMs).toBe(10_000);
  });

  it('a zero bound never waits', async () => {
    const f = fake([5]);
    expect(await settleLoad(0, { target: 2.5, ...f })).toEqual({ waitedMs: 0, reached: false });
  });
});
