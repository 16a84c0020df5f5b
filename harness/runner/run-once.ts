// One measured run: a system executes a workload under a seeded simulated LLM while the
// collectors watch. Returns every metric the results store keeps. Pure of I/O besides the run.
import { randomUUID } from 'node:crypto';
import * as hdr from 'hdr-histogram-js';
import type { ExecutionRecord } from '../../workloads/execute.ts';
import { arrivalSchedule } from '../../workloads/arrivals.ts';
import { multisetHash } from '../../core/canonical.ts';
import { ERROR_TYPE, terminalTypes, type Artifact, type WorkloadSpec } from '../../workloads/spec.ts';
import { loadSystem } from '../../systems/registry.ts';
import type { Arrival, RunContext, System } from '../../systems/types.ts';
import { lowerBound } from '../collect/lower-bound.ts';
import { Sampler, type Sample } from '../collect/sampler.ts';
import { taskFairness, taskLatencies, type TaskLatency } from '../collect/tasks.ts';
import type { TailMode } from '../../llm/profiles.ts';
import { SimulatedLlm } from '../../llm/simulator.ts';
import type { LlmClient } from '../../llm/types.ts';
import type { RunOutcome } from '../outcome.ts';

export type { RunOutcome };

export type LlmTransport = 'inprocess' | 'http';

export interface RunOnceOptions {
  system: System | string;
  workload: WorkloadSpec;
  seed: number;
  /** Multiplies every simulated latency and timeout (default 1). */
  latencyScale?: number;
  tail?: TailMode;
  llm?: LlmTransport;
  /** Options for the HTTP transport (rate limits, faults): passed to createLlm. */
  llmOptions?: Record<string, unknown>;
  systemParams?: Record<string, unknown>;
  /** Abort the run after this long (default 10 min). */
  timeoutMs?: number;
  sampleEveryMs?: number;
  runId?: string;
}


export async function createLlmClient(kind: LlmTransport, seed: number, latencyScale: number, tail: TailMode | undefined, options: Record<string, unknown> = {}): Promise<LlmClient> {
  if (kind === 'inprocess') return new SimulatedLlm({ seed, latencyScale, tail });
  const { createLlm } = await import('../../llm/index.ts');
  return createLlm('http', { seed, latencyScale, tail, ...options });
}

export async function runOnce(o: RunOnceOptions): Promise<RunOutcome> {
  const sys = typeof o.system === 'string' ? await loadSystem(o.system) : o.system;
  const w = o.workload;
  const latencyScale = o.latencyScale ?? 1;
  const llm = await createLlmClient(o.llm ?? 'inprocess', o.seed, latencyScale, o.tail, o.llmOptions);
  const schedule = arrivalSchedule(w, o.seed);
  const arrivals: Arrival[] = w.inputs.map((input, index) => ({ index, input, intendedAtMs: schedule[index] }));
  const executions: ExecutionRecord[] = [];
  const controller = new AbortController();
  let t0 = performance.now();
  const clock = () => performance.now() - t0;
  let cpu0 = process.cpuUsage();
  let setupMs = 0;
  let measureEnd: { atMs: number; cpu: NodeJS.CpuUsage } | undefined;
  const sampler = new Sampler(clock, o.sampleEveryMs ?? 25);
  const ctx: RunContext = {
    runId: o.runId ?? randomUUID(),
    workload: w,
    llm,
    seed: o.seed,
    clock,
    onExecution: (r) => executions.push(r),
    latencyScale,
    systemParams: o.systemParams ?? {},
    arrivals,
    setQueueProbe: (p) => sampler.setProbe(p),
    signal: controller.signal,
    markMeasureStart: () => {
      if (executions.length) throw new Error('markMeasureStart() after agents already ran');
      setupMs = clock();
      t0 = performance.now();
      cpu0 = process.cpuUsage();
      sampler.samples.length = 0;
    },
    markMeasureEnd: () => {
      measureEnd ??= { atMs: clock(), cpu: process.cpuUsage(cpu0) };
      sampler.stop();
    },
    llmConfig: {
      transport: o.llm ?? 'inprocess',
      tail: o.tail,
      url: (llm as { baseUrl?: string }).baseUrl,
    },
  };
  // Broker-backed systems: the broker JVMs' CPU and RSS are part of what the system costs.
  const brokerStats = { cpuPctSum: 0, n: 0, rssPeakMb: 0 };
  if (sys.store === 'kafka') {
    const { kafkaPids } = await import('../../brokers/kafka/cluster.ts');
    const { processSampler } = await import('../../brokers/proc.ts');
    const samplers = kafkaPids().map((pid) => processSampler(pid));
    sampler.addGauge(() => {
      let cpu = 0, rss = 0;
      for (const s of samplers) {
        const x = s();
        if (x) { cpu += x.cpuPct; rss += x.rssMb; }
      }
      brokerStats.cpuPctSum += cpu;
      brokerStats.n++;
      if (rss > brokerStats.rssPeakMb) brokerStats.rssPeakMb = rss;
      return { broker_cpu_pct: cpu, broker_rss_mb: rss };
    });
  }
  const startedAt = new Date().toISOString();
  const timeoutMs = o.timeoutMs ?? 600_000;
  const deadline = setTimeout(() => controller.abort(new Error(`run exceeded ${timeoutMs} ms`)), timeoutMs);
  sampler.start();
  let result;
  let makespanMs: number;
  try {
    result = await Promise.race([
      sys.run(w, ctx),
      new Promise<never>((_, reject) => controller.signal.addEventListener('abort', () => reject(controller.signal.reason))),
    ]);
    makespanMs = measureEnd?.atMs ?? clock();
  } finally {
    clearTimeout(deadline);
    await llm.close();
  }
  // HTTP transport: the server's own counters (requests by status, 429s, faults) go with the run.
  const llmServer = o.llm === 'http' ? (await import('../../llm/index.ts')).llmServerMetrics(llm) : undefined;
  const cpu = measureEnd?.cpu ?? process.cpuUsage(cpu0);
  const sampled = sampler.stop();

  const maxConc = Object.fromEntries(w.agents.map((a) => [a.name, a.maxConcurrency]));
  const seedArrival = new Map(arrivals.map((a) => [a.input.key, a.intendedAtMs]));
  const lb = lowerBound(executions, maxConc, seedArrival, (e) => e.drawnLatencyMs * latencyScale);
  const lat = taskLatencies(arrivals, executions);
  const correlationOf = new Map(arrivals.map((a) => [a.input.key, a.input.correlationId]));
  const fairness = taskFairness(lat, (t) => correlationOf.get(t)!, lb.taskFinishMs);
  const h = hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 3_600_000_000, numberOfSignificantValueDigits: 3 });
  for (const t of lat) h.recordValue(Math.max(1, Math.round(t.latencyMs * 1000)));
  const pct = (p: number) => (lat.length ? h.getValueAtPercentile(p) / 1000 : 0);
  const terminal = new Set([...terminalTypes(w), ERROR_TYPE]);
  const finals = result.artifacts.filter((a) => terminal.has(a.type));
  const stats = result.llmStats ?? llm.stats();
  const tasks = w.inputs.length;
  const out: RunOutcome = {
    runId: ctx.runId,
    system: sys.name,
    workload: w.name,
    store: sys.store,
    params: { workload: w.params, system: { ...ctx.systemParams, ...result.params }, counters: result.counters ?? {}, setupMs,
      ...(brokerStats.n ? { broker: { cpuPctMean: brokerStats.cpuPctSum / brokerStats.n, rssPeakMb: brokerStats.rssPeakMb } } : {}), llm: o.llm ?? 'inprocess', tail: o.tail ?? 'calibrated', ...(llmServer ? { llmServer } : {}) },
    seed: o.seed,
    latencyScale,
    tasks,
    makespanMs,
    lowerBoundMs: lb.lowerBoundMs,
    criticalPathMs: lb.criticalPathMs,
    concurrencyBoundMs: lb.concurrencyBoundMs,
    efficiency: makespanMs > 0 ? lb.lowerBoundMs / makespanMs : 1,
    rps: makespanMs > 0 ? tasks / (makespanMs / 1000) : 0,
    p50Ms: pct(50),
    p95Ms: pct(95),
    p99Ms: pct(99),
    maxMs: lat.length ? h.maxValue / 1000 : 0,
    cpuMs: (cpu.user + cpu.system) / 1000 + (result.helperCpuMs ?? 0),
    rssPeakMb: sampled.rssPeakMb,
    eventLoopP99Ms: sampled.eventLoopP99Ms,
    queuePeak: sampled.queuePeak,
    fairness,
    llm: stats,
    costPerTaskUsd: tasks ? stats.costUsd / tasks : 0,
    errors: result.artifacts.filter((a) => a.type === ERROR_TYPE).length,
    startedAt,
    finalHash: multisetHash(finals),
    artifacts: result.artifacts,
    executions,
    samples: sampler.samples,
    taskLatencies: lat,
    latencyHdr: hdr.encodeIntoCompressedBase64(h),
  };
  h.destroy();
  return out;
}
