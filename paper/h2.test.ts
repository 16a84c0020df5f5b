import { describe, expect, it } from 'vitest';
import { configurations, type RunRec } from './analysis.ts';
import { atProjectionRate, h2Costs, h2Rows, projectThroughput } from './h2.ts';

let n = 0;
function run(system: string, sp: Record<string, unknown>, seed: number, throughputTps: number, extra: Partial<RunRec> = {}): RunRec {
  const tasks = 100;
  return {
    runId: `r${n++}`, matrix: 'h2', session: `s${seed % 2}`, system, workload: 'map', wp: { tasks, depth: 1, maxConcurrency: 64, arrival: 'all-at-once' }, sp,
    tail: 'calibrated', latencyScale: 1, llmTransport: 'inprocess', seed, tasks, makespanMs: (1000 * tasks) / throughputTps, throughputTps,
    p95Ms: null, p99Ms: null, idealMs: null, lowerBoundMs: 1, cpuMs: 200, llmCalls: tasks, loaded: false, errors: 0, startedAt: `2026-11-30T00:00:0${seed}`,
    settings: {}, counters: {}, bounds: {}, execs: [], ...extra,
  };
}

const kafka = (partitions: number) => ({ delivery: 'at-least-once', keying: 'balanced', partitions, processes: 0, consumers: partitions, maxInFlight: 4 });
const cpu = { runShare: 0.1, brokerShare: 0.2, otherShare: 0.1, machineBusyShare: 0.4, cpus: 2, saturated: false };

describe('H2 table: the three ideals', () => {
  const runs: RunRec[] = [];
  for (const seed of [1, 2, 3]) {
    // p=1: 10 tasks/s; p=4: 30 (E_lin 0.75); in-memory at 4 slots 10, at 16 slots 36 (E_mem 0.833).
    runs.push(run('blackboard-kafka', kafka(1), seed, 10 + seed * 0.01, { cpu }));
    runs.push(run('blackboard-kafka', kafka(4), seed, 30 + seed * 0.01, {
      cpu, bounds: { partitionAwareMs: (1000 * 100) / 33 }, settings: { partitionRecords: { Task: [25, 25, 25, 25] } },
    }));
    runs.push(run('blackboard-eager', { agentConcurrency: 4 }, seed, 10.5));
    runs.push(run('blackboard-eager', { agentConcurrency: 16 }, seed, 36));
  }
  const { configs } = configurations(runs);

  it('per broker arm: E_lin vs p x thr(1), E_mem vs in-memory at equal slots, E_bound vs the partition-aware bound', () => {
    const rows = h2Rows(configs);
    const p4 = rows.find((r) => r.partitions === 4)!;
    expect(p4.slots).toBe(16);
    expect(p4.eLin!.estimate).toBeCloseTo(0.75, 2);
    // Bounds: p = 1 has none stored here, so no E_lin of the bounds.
    expect(p4.eLinBound).toBeUndefined();
    expect(p4.eMem!.estimate).toBeCloseTo(30 / 36, 2);
    expect(p4.eBound!.estimate).toBeCloseTo(30 / 33, 2);
    expect(p4.recordsPerPartition).toBe('25-25');
    expect(p4.cpu).toEqual({ run: 0.1, broker: 0.2, other: 0.1 });
    expect(rows.find((r) => r.partitions === 1)!.eLin).toBeUndefined();
  });

  it('E_lin scales consumers with partitions: a one-partition arm with 16 Shared consumers is no p = 1 for 4 consumers on 4 partitions', () => {
    const shared = (partitions: number, consumers: number) => ({ subscription: 'Shared', keying: 'balanced', partitions, processes: 0, consumers, maxInFlight: 4 });
    const rs: RunRec[] = [];
    for (const seed of [1, 2, 3]) {
      rs.push(run('blackboard-pulsar', shared(1, 16), seed, 40));
      rs.push(run('blackboard-pulsar', shared(4, 16), seed, 42));
      rs.push(run('blackboard-pulsar', shared(4, 4), seed, 30));
    }
    let rows = h2Rows(configurations(rs).configs);
    expect(rows.filter((r) => r.partitions === 4).map((r) => r.eLin)).toEqual([undefined, undefined]);
    // With a p = 1 arm of one consumer, only the arm with one consumer per partition gets E_lin.
    for (const seed of [1, 2, 3]) rs.push(run('blackboard-pulsar', shared(1, 1), seed, 10));
    rows = h2Rows(configurations(rs).configs);
    const p4 = rows.filter((r) => r.partitions === 4);
    expect(p4.find((r) => r.arm.includes('consumers=4'))!.eLin!.estimate).toBeCloseTo(0.75, 2);
    expect(p4.find((r) => r.arm.includes('consumers=16'))!.eLin).toBeUndefined();
  });

  it('E_lin of the bounds: bound(1) / (p x bound(p)) paired by seed, what E_lin is with a free broker', () => {
    const rs: RunRec[] = [];
    for (const seed of [1, 2, 3]) {
      // Bounds: 40 s through 4 slots at p = 1, 12.5 s at p = 4 (the drain: 0.8 of linear); the broker arm at p = 4 takes 13 s.
      rs.push(run('blackboard-kafka', kafka(1), seed, 100 / 40.2, { bounds: { partitionAwareMs: 40_000 } }));
      rs.push(run('blackboard-kafka', kafka(4), seed, 100 / 13, { bounds: { partitionAwareMs: 12_500 } }));
    }
    const p4 = h2Rows(configurations(rs).configs).find((r) => r.partitions === 4)!;
    expect(p4.eLinBound!.estimate).toBeCloseTo(0.8, 6);
    expect(p4.eLinBound!.n).toBe(3);
    expect(p4.eLin!.estimate).toBeCloseTo((100 / 13) / (4 * 100 / 40.2), 3);
  });

  it('a saturated run leaves its pair out', () => {
    const sat = runs.map((r) => (r.system === 'blackboard-kafka' && r.sp.partitions === 4 && r.seed === 1 ? { ...r, cpu: { ...cpu, saturated: true } } : r));
    const p4 = h2Rows(configurations(sat).configs).find((r) => r.partitions === 4)!;
    expect(p4.eMem!.n).toBe(2);
    expect(p4.saturated).toBe(1);
  });

  it('projects from the measured per-task costs, labelled by its limit', () => {
    const k = h2Costs(configs, 'blackboard-kafka')!;
    // broker: 0.2 x 2 CPUs x makespan / tasks; per slot: in-memory throughput / slots.
    expect(k.perSlotTps).toBeGreaterThan(2);
    const few = projectThroughput(k, { partitions: 4, inFlight: 4, brokers: 3, coresPerBroker: 2, clientHosts: 1, coresPerClientHost: 2 });
    expect(few.limit).toBe('slots');
    const many = projectThroughput(k, { partitions: 4096, inFlight: 4, brokers: 1, coresPerBroker: 2, clientHosts: 1000, coresPerClientHost: 2 });
    expect(many.limit).toBe('brokers');
    expect(many.tps).toBeCloseTo(2000 / k.brokerCpuMsPerTask, 6);
  });

  it('takes its costs from the runs at the decision rates, not from the 4-slot p = 1 yardstick arms', () => {
    // Same broker share over a p = 1 run's 3x longer window: 3x the broker CPU per task.
    const all = h2Costs(configs, 'blackboard-kafka')!;
    const atRate = h2Costs(configs, 'blackboard-kafka', atProjectionRate)!;
    expect(all.runs).toBe(6);
    expect(atRate.runs).toBe(3);
    expect(atRate.brokerCpuMsPerTask).toBeCloseTo((0.2 * 2 * 1000) / 30, 1);
    expect(all.brokerCpuMsPerTask).toBeGreaterThan(atRate.brokerCpuMsPerTask);
    expect(atProjectionRate({ sp: kafka(1) })).toBe(false);
    expect(atProjectionRate({ sp: kafka(4) })).toBe(true);
  });
});
