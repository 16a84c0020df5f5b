import { describe, expect, it } from 'vitest';
import { formatSummary, type SummaryRow } from './report.ts';

const row = (over: Partial<SummaryRow>): SummaryRow => ({
  matrix: 'm', workload: 'review-analysis', workloadParams: '{}', tail: 'calibrated', latencyScale: 1, system: 'blackboard-deferred',
  systemParams: '{}', store: 'memory', n: 3, makespanMs: 100, makespanCiMs: [90, 110], makespanCiLevel: 0.75, efficiency: 0.9,
  p50Ms: 50, p95Ms: NaN, p99Ms: NaN, throughputTps: 1, cpuMs: 10, rssPeakMb: 100, costPerTaskUsd: 0.001, fairness: 0.9, errors: 0, ...over,
});

describe('formatSummary', () => {
  it("prints a percentile the runs were too small for as '-', never as 0", () => {
    const text = formatSummary([row({}), row({ system: 'blackboard-eager', p95Ms: 80.25, p99Ms: NaN })]);
    const deferred = text.split('\n').find((l) => l.includes('blackboard-deferred'))!;
    const eager = text.split('\n').find((l) => l.includes('blackboard-eager'))!;
    expect(deferred).not.toMatch(/\s0\.0\s/);
    expect(deferred.match(/\s-\s/g)?.length).toBeGreaterThanOrEqual(2);
    expect(eager).toMatch(/\s80\.3\s/);
  });
});
