// H2's measured table (efficiency against three ideals, per-partition records, where the CPU
// went) and the projection model beyond one machine (issue 15). The decision itself is
// rules.ts's; this module only shows what the runs measured and what the model projects.
import { expTInterval, tSummary } from '../core/stats/paired.ts';
import { canonicalJson } from '../core/canonical.ts';
import { armLabel, pairBySeed, type Config, type RunRec } from './analysis.ts';
import { consumersOf, h2Config, layoutOf, nodesOf, slotsOf, unsaturatedThroughput } from './rules.ts';

export const BROKER_SYSTEMS = ['blackboard-kafka', 'blackboard-pulsar'];

/** A paired geometric-mean ratio with its 95% t interval (descriptive), or undefined below 2 pairs. */
export interface Ratio { estimate: number; lo: number; hi: number; n: number }

function ratio(num: readonly RunRec[], den: readonly RunRec[], scale = 1): Ratio | undefined {
  const pairs = pairBySeed(num, den, unsaturatedThroughput).pairs;
  const s = tSummary(pairs.map((p) => Math.log(p.num / p.den)));
  if (!s) return undefined;
  const i = expTInterval(s);
  return { estimate: Math.exp(s.mean) * scale, lo: i.lo * scale, hi: i.hi * scale, n: s.n };
}

/** Paired by seed: bound(base) / (p x bound(arm)), i.e. throughput on the bounds over p x throughput(1) on the bounds. */
function boundRatio(arm: readonly RunRec[], base: readonly RunRec[], p: number): Ratio | undefined {
  const b1 = new Map(base.filter((r) => r.bounds.partitionAwareMs).map((r) => [r.seed, r.bounds.partitionAwareMs!]));
  return geo(arm.filter((r) => r.bounds.partitionAwareMs && b1.has(r.seed)).map((r) => b1.get(r.seed)! / (p * r.bounds.partitionAwareMs!)));
}

function geo(xs: readonly number[]): Ratio | undefined {
  const s = tSummary(xs.filter((x) => x > 0 && Number.isFinite(x)).map(Math.log));
  if (!s) return undefined;
  const i = expTInterval(s);
  return { estimate: Math.exp(s.mean), lo: i.lo, hi: i.hi, n: s.n };
}

const median = (xs: readonly number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? (s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2) : NaN;
};

/** The parameters that make two broker arms the same experiment apart from its scale (partitions, processes, consumers). */
const scaleFree = (sp: Record<string, unknown>) => canonicalJson({ ...sp, partitions: undefined, processes: undefined, consumers: undefined, layout: layoutOf(sp) });

export interface H2Row {
  matrix: string;
  config: string;
  arm: string;
  layout: string;
  nodes: number;
  partitions: number;
  slots: number | undefined;
  runs: number;
  throughputTps: number;
  /** vs p x throughput(1) of the same arm family at 1 partition. */
  eLin?: Ratio;
  /**
   * The same ratio on the partition-aware bounds instead of the makespans, paired by seed: what
   * E_lin would be if broker, client and engine cost nothing (the runs' own LLM draws, list-scheduled
   * over the layout). E_lin below 1 by this much is the workload's drain, not the broker.
   */
  eLinBound?: Ratio;
  /** vs the in-memory blackboard at the same execution slots. */
  eMem?: Ratio;
  /** partition-aware bound / makespan, per run. */
  eBound?: Ratio;
  /** Records per partition of the consumed input type: min-max over partitions and runs. */
  recordsPerPartition: string;
  cpu?: { run: number; broker: number; other: number };
  saturated: number;
}

/** Every broker arm of every H2 configuration, with its three efficiencies. */
export function h2Rows(configs: readonly Config[]): H2Row[] {
  const out: H2Row[] = [];
  for (const c of configs) {
    if (!h2Config(c)) continue;
    const arms = [...c.arms.values()];
    const memory = arms.filter((rs) => rs[0]!.system === 'blackboard-eager');
    for (const rs of arms) {
      const r0 = rs[0]!;
      if (!BROKER_SYSTEMS.includes(r0.system)) continue;
      const sp = r0.sp;
      const p = Number(sp.partitions);
      // The yardstick scales partitions and consumers together: its p = 1 arm has this arm's
      // consumers per partition (16 Shared consumers on one partition are no p = 1 of 4 consumers on 4).
      const base = arms.find((b) => b[0]!.system === r0.system && Number(b[0]!.sp.partitions) === 1 && scaleFree(b[0]!.sp) === scaleFree(sp)
        && consumersOf(b[0]!.sp) * p === consumersOf(sp));
      const slots = slotsOf(sp);
      const mem = memory.find((m) => slots !== undefined && m[0]!.sp.agentConcurrency === slots);
      const counts = rs.flatMap((r) => Object.values((r.settings.partitionRecords ?? {}) as Record<string, number[]>).flat());
      const cpus = rs.filter((r) => r.cpu).map((r) => r.cpu!);
      out.push({
        matrix: c.matrix, config: c.label, arm: armLabel(r0.system, sp), layout: layoutOf(sp), nodes: nodesOf(sp), partitions: p, slots, runs: rs.length,
        throughputTps: median(rs.map((r) => r.throughputTps)),
        ...(base && base !== rs ? { eLin: ratio(rs, base, 1 / p), eLinBound: boundRatio(rs, base, p) } : {}),
        ...(mem ? { eMem: ratio(rs, mem) } : {}),
        eBound: geo(rs.filter((r) => r.bounds.partitionAwareMs && !r.cpu?.saturated).map((r) => r.bounds.partitionAwareMs! / r.makespanMs)),
        recordsPerPartition: counts.length ? `${Math.min(...counts)}-${Math.max(...counts)}` : 'n/a',
        ...(cpus.length ? { cpu: { run: median(cpus.map((x) => x.runShare)), broker: median(cpus.map((x) => x.brokerShare)), other: median(cpus.map((x) => x.otherShare)) } } : {}),
        saturated: cpus.filter((x) => x.saturated).length,
      });
    }
  }
  return out.sort((a, b) => (a.matrix < b.matrix ? -1 : a.matrix > b.matrix ? 1 : a.arm < b.arm ? -1 : a.arm > b.arm ? 1 : 0));
}

// ---------------------------------------------------------------- projection (never a measurement)

/** Costs measured per task on this machine, the projection's only inputs. */
export interface H2Costs {
  /** Broker CPU per task, ms (the broker JVMs' CPU time in the window / tasks). */
  brokerCpuMsPerTask: number;
  /** Client CPU per task (run process + worker processes), ms. */
  clientCpuMsPerTask: number;
  /** Throughput one execution slot sustains without a broker (in-memory blackboard at equal slots / slots), tasks/s. */
  perSlotTps: number;
  /** Runs the costs come from. */
  runs: number;
}

/** The least execution slots of a run the projection takes its costs from. */
export const PROJECTION_MIN_SLOTS = 16;

/**
 * Whether a run's costs enter the projection: runs at the decision arms' rates (>= 16 slots). A
 * 4-slot p = 1 yardstick arm carries ~1.7 tasks/s for ~150 s, where the brokers' and clients'
 * cost per second (polls, heartbeats) is most of its per-task figure, and the projection
 * extrapolates upward from the measured rates.
 */
export const atProjectionRate = (r: Pick<RunRec, 'sp'>): boolean => (slotsOf(r.sp) ?? 0) >= PROJECTION_MIN_SLOTS;

/** Median per-task costs over the unsaturated H2 runs of `system` that have CPU shares, or undefined. */
export function h2Costs(configs: readonly Config[], system: string, keep: (r: RunRec) => boolean = () => true): H2Costs | undefined {
  const broker: number[] = [], client: number[] = [], slot: number[] = [];
  for (const c of configs) {
    if (!h2Config(c)) continue;
    for (const rs of c.arms.values()) {
      for (const r of rs) {
        if (r.cpu?.saturated) continue;
        if (r.system === system && r.cpu) {
          if (!keep(r)) continue;
          // Shares are of all the machine's CPU time over the window (~ the makespan).
          broker.push((r.cpu.brokerShare * r.cpu.cpus * r.makespanMs) / r.tasks);
          client.push(r.cpuMs / r.tasks);
        } else if (r.system === 'blackboard-eager' && typeof r.sp.agentConcurrency === 'number') {
          slot.push(r.throughputTps / r.sp.agentConcurrency);
        }
      }
    }
  }
  if (!broker.length || !slot.length) return undefined;
  return { brokerCpuMsPerTask: median(broker), clientCpuMsPerTask: median(client), perSlotTps: median(slot), runs: broker.length };
}

/** The cluster the projection is asked about. */
export interface ProjectedCluster {
  partitions: number;
  /** Executions in flight per partition's consumer. */
  inFlight: number;
  brokers: number;
  coresPerBroker: number;
  clientHosts: number;
  coresPerClientHost: number;
}

/**
 * Projected throughput, tasks/s: the least of what the slots, the brokers' CPU and the clients'
 * CPU can carry. slots: partitions x inFlight x perSlotTps (balanced keys, one consumer per
 * partition); brokers: brokers x cores x 1000 / brokerCpuMsPerTask (leaders spread evenly, cost
 * per task as measured, replication included only as far as the measurement had it); clients:
 * hosts x cores x 1000 / clientCpuMsPerTask.
 */
export function projectThroughput(k: H2Costs, c: ProjectedCluster): { tps: number; limit: 'slots' | 'brokers' | 'clients' } {
  const slots = c.partitions * c.inFlight * k.perSlotTps;
  const brokers = (c.brokers * c.coresPerBroker * 1000) / k.brokerCpuMsPerTask;
  const clients = (c.clientHosts * c.coresPerClientHost * 1000) / k.clientCpuMsPerTask;
  const tps = Math.min(slots, brokers, clients);
  return { tps, limit: tps === slots ? 'slots' : tps === brokers ? 'brokers' : 'clients' };
}
