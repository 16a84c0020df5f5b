import { describe, expect, it } from 'vitest';
import { cpuPercent, isProcessAlive, processSampler, sampleProcess } from './proc.ts';

describe('proc sampling', () => {
  it('samples this process', () => {
    const s = sampleProcess(process.pid)!;
    expect(s.rssMb).toBeGreaterThan(10);
    expect(s.cpuTimeMs).toBeGreaterThan(0);
    expect(isProcessAlive(process.pid)).toBe(true);
    expect(isProcessAlive(process.pid, 'definitely-not-in-cmdline-xyz')).toBe(false);
    expect(sampleProcess(2 ** 22 + 17)).toBeUndefined();
  });

  it('computes CPU percent of one core between samples', () => {
    expect(cpuPercent({ pid: 1, atMs: 0, cpuTimeMs: 0, rssMb: 1 }, { pid: 1, atMs: 1000, cpuTimeMs: 500, rssMb: 1 })).toBe(50);
    expect(cpuPercent({ pid: 1, atMs: 5, cpuTimeMs: 0, rssMb: 1 }, { pid: 1, atMs: 5, cpuTimeMs: 9, rssMb: 1 })).toBe(0);
    const next = processSampler(process.pid);
    expect(next()!.cpuPct).toBe(0);
    expect(next()!.cpuPct).toBeGreaterThanOrEqual(0);
  });
});
