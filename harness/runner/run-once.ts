// One measured run: a system executes a workload under a seeded simulated LLM while the
// collectors watch. The harness owns the run: it starts the system (provisioning, not
// measured), opens the measured window, publishes every task at its intended time from one
// arrival loop, closes the window when the system has drained, then collects. Returns every
// metric the results store keeps. Pure of I/O besides the run.
import { randomUUID } from 'node:crypto';
import * as hdr from 'hdr-histogram-js';
import { multisetDigest, multisetHash, sortedHashesDigest } from '../../core/canonical.ts';
import { sleepUntil } from '../../core/time.ts';
import type { TailMode } from '../../llm/profiles.ts';
import { SimulatedLlm, type SimulatorOptions } from '../../llm/simulator.ts';
import type { LlmClient } from '../../llm/types.ts';
import { resolveSystemParams, SYSTEMS, UnsupportedBySystemError } from '../../systems/registry.ts';
import type { FaultHooks, RunContext, SchedulingPolicy, Session, SessionResult, System } from '../../systems/types.ts';
import { planArrivals, type Arrival } from '../../workloads/arrivals.ts';
import { prepareTools } from '../../workloads/tools.ts';
import type { ExecutionRecord } from '../../workloads/execute.ts';
import { ERROR_TYPE, terminalTypes, type Artifact, type WorkloadSpec } from '../../workloads/spec.ts';
import { tailPercentile } from '../../core/stats/percentile.ts';
import { sampleProcess } from '../../brokers/proc.ts';
import { ExecutionLog } from '../collect/execution-log.ts';
import { idealMakespan, replayReadsArtifacts } from '../collect/ideal.ts';
import { lowerBound } from '../collect/lower-bound.ts';
import { cpuList, cpuShares, cpusAvailable, load1, machineCpu, type MachineCpu } from '../collect/machine.ts';
import { Sampler } from '../collect/sampler.ts';
import { taskFairness, taskLatencies } from '../collect/tasks.ts';
import type { RunOutcome } from '../outcome.ts';

export type { RunOutcome };

export type LlmTransport = 'inprocess' | 'http';

export interface RunOnceOptions {
  /** A registered system's name, or a System object (tests, the failure experiment). */
  // biome-ignore lint/suspicious/noExplicitAny: a system's parameter type is its own
  system: System<any> | string;
  workload: WorkloadSpec;
  seed: number;
  /** Multiplies every simulated latency and timeout (default 1). */
  latencyScale?: number;
  tail?: TailMode;
  llm?: LlmTransport;
  /** LLM options: rate limits and slowdown (both transports), faults and client options (http); passed to createLlm. */
  llmOptions?: Record<string, unknown>;
  /** System parameters; resolved against the registered declaration when the system has one. */
  systemParams?: Record<string, unknown>;
  /** Fault hooks for systems that honour them (the failure experiment). */
  faults?: FaultHooks;
  /** Called when the measured window opens (the failure experiment starts its fault schedule there). */
  onOpen?(): void;
  /** Abort the run after this long (default 10 min). */
  timeoutMs?: number;
  sampleEveryMs?: number;
  runId?: string;
  /**
   * Keep the run's artifacts and execution records as objects in the outcome (default true:
   * conformance and tests read them). The matrix runner needs only the artifacts' content
   * hashes and error count and the compact execution log, which every outcome carries.
   */
  keepObjects?: boolean;
}

export async function createLlmClient(kind: LlmTransport, seed: number, latencyScale: number, tail: TailMode | undefined, options: Record<string, unknown> = {}): Promise<LlmClient> {
  if (kind === 'inprocess') {
    const { limits, slowdown } = options as Pick<SimulatorOptions, 'limits' | 'slowdown'>;
    return new SimulatedLlm({ seed, latencyScale, tail, limits, slowdown });
  }
  const { createLlm } = await import('../../llm/index.ts');
  return createLlm('http', { seed, latencyScale, tail, ...options });
}

/**
 * A full garbage collection, where the process allows one (a run's own process: --expose-gc,
 * runner.ts); elsewhere nothing. Called once the measured window is over and the system's
 * artifacts are let go: V8 collects lazily and sizes the heap's next growth by what it last
 * found alive, so the collectors' maps were allocated on top of the run's dead artifacts (a
 * 1M-task run peaked ~800 MB above its measured window).
 */
export async function reclaim(): Promise<void> {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) return;
  gc();
  // The freed pages go back to the OS from V8's own tasks, which run while this thread waits
  // (~60 MB per 10 ms here, after a first tick that may even rise): without a pause the
  // collectors grew the resident set on top of pages already dead. Wait until it has stopped
  // falling for 30 ms, at most 1 s.
  let last = process.memoryUsage.rss();
  for (let i = 0, flat = 0; i < 100 && flat < 3; i++) {
    await new Promise((r) => setTimeout(r, 10));
    const now = process.memoryUsage.rss();
    flat = last - now < 2 * 1048576 ? flat + 1 : 0;
    last = now;
  }
}

/** Arrivals grouped by intended time, in schedule order: tasks that arrive together are published together. */
export function arrivalGroups(arrivals: readonly Arrival[]): Arrival[][] {
  const groups: Arrival[][] = [];
  for (const a of [...arrivals].sort((x, y) => x.intendedAtMs - y.intendedAtMs || x.index - y.index)) {
    const last = groups[groups.length - 1];
    if (last && last[0]!.intendedAtMs === a.intendedAtMs) last.push(a);
    else groups.push([a]);
  }
  return groups;
}

/**
 * A system through its whole life with nothing measured around it: start, open, publish every
 * arrival group in order (without waiting for intended times), drain, collect, stop. For
 * benchmarks of engine overhead and tests of a system's semantics.
 */
export async function runSession<P>(sys: System<P>, w: WorkloadSpec, ctx: RunContext<P>): Promise<SessionResult> {
  const session = await sys.start(w, ctx);
  try {
    await session.open?.();
    await Promise.all(arrivalGroups(ctx.arrivals).map((g) => session.publish(g)));
    await session.drain();
    return await session.collect();
  } finally {
    await session.stop();
  }
}

export async function runOnce(o: RunOnceOptions): Promise<RunOutcome> {
  const name = typeof o.system === 'string' ? o.system : o.system.name;
  const entry = SYSTEMS.find((s) => s.name === name);
  const params = entry ? resolveSystemParams(entry, o.systemParams) : { ...o.systemParams };
  const refusal = entry?.refuses?.(o.workload, params);
  if (refusal) throw new UnsupportedBySystemError(`${name}: ${refusal}`);
  const sys = typeof o.system === 'string' ? await entry!.load() : o.system;
  // Trace arrivals may size the tasks: the workload the systems run comes with the schedule.
  const { workload: w, atMs: schedule } = planArrivals(o.workload, o.seed);
  // Tool state (a search index) is built here, before the window, once per process.
  const tools = prepareTools(w);
  const latencyScale = o.latencyScale ?? 1;
  const transport = o.llm ?? 'inprocess';
  const llm = await createLlmClient(transport, o.seed, latencyScale, o.tail, o.llmOptions);
  const arrivals: Arrival[] = w.tasks.map((task, index) => ({ index, task, intendedAtMs: schedule[index]! }));
  const keepObjects = o.keepObjects !== false;
  const executionLog = new ExecutionLog();
  const executions: ExecutionRecord[] = [];
  const publishedAtMs = new Array<number>(arrivals.length).fill(NaN);
  const controller = new AbortController();
  let t0 = performance.now();
  const clock = () => performance.now() - t0;
  const runId = o.runId ?? randomUUID();
  const ctx: RunContext<unknown> = {
    runId,
    workload: w,
    llm,
    seed: o.seed,
    clock,
    onExecution: (r) => {
      executionLog.push(r);
      if (keepObjects) executions.push(r);
    },
    latencyScale,
    params,
    arrivals,
    signal: controller.signal,
    llmConfig: { transport, tail: o.tail, url: (llm as { baseUrl?: string }).baseUrl },
    faults: o.faults,
  };
  const sampler = new Sampler(clock, o.sampleEveryMs ?? 25);
  // Broker-backed systems: the broker JVMs' CPU and RSS are part of what the system costs.
  const brokerStats = { cpuPctSum: 0, n: 0, rssPeakMb: 0 };
  let brokerPids: number[] = [];
  if (entry?.store === 'kafka' || entry?.store === 'pulsar') {
    const pids = brokerPids = entry.store === 'kafka'
      ? (await import('../../brokers/kafka/cluster.ts')).kafkaPids()
      : (await import('../../brokers/pulsar/standalone.ts')).pulsarPids();
    const { processSampler } = await import('../../brokers/proc.ts');
    const samplers = pids.map((pid) => processSampler(pid));
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
  const loadStart = load1();
  const timeoutMs = o.timeoutMs ?? 600_000;
  const deadline = setTimeout(() => controller.abort(new Error(`run exceeded ${timeoutMs} ms`)), timeoutMs);
  // Each step of the run settles with its value or the abort, whichever comes first. Not
  // Promise.race with one shared abort promise: that promise never settles, so every race left a
  // reaction on it holding its outcome (the session, and through it every artifact) for as long
  // as the run's controller lived, which kept ~all of a run's artifacts alive through the collectors.
  const race = <T>(p: Promise<T>) => new Promise<T>((resolve, reject) => {
    const signal = controller.signal;
    const onAbort = () => reject(signal.reason);
    if (signal.aborted) return onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(
      (v) => { signal.removeEventListener('abort', onAbort); resolve(v); },
      (e) => { signal.removeEventListener('abort', onAbort); reject(e); },
    );
  });

  let session: Session | undefined;
  let machine0: MachineCpu | undefined, machine1: MachineCpu | undefined;
  let broker0 = 0, broker1 = 0;
  let makespanMs: number;
  let cpu: NodeJS.CpuUsage;
  let setupMs = 0;
  let result: SessionResult;
  try {
    session = await race(sys.start(w, ctx));
    setupMs = clock();
    if (session.queueDepth) sampler.setProbe(() => session!.queueDepth!());
    // The measured window opens: clock, CPU and samples start here.
    t0 = performance.now();
    const cpu0 = process.cpuUsage();
    machine0 = machineCpu();
    broker0 = brokerCpuMs(brokerPids);
    sampler.start();
    o.onOpen?.();
    await race(session.open?.() ?? Promise.resolve());
    // The one arrival loop. A publish is not awaited before the next arrival (a slow system
    // must not slow its own arrivals); its failure fails the run.
    const published: Promise<void>[] = [];
    for (const group of arrivalGroups(arrivals)) {
      await race(sleepUntil(clock, group[0]!.intendedAtMs, controller.signal));
      const now = clock();
      for (const a of group) publishedAtMs[a.index] = now;
      const p = session.publish(group);
      p.catch(() => undefined);
      published.push(p);
    }
    await race(Promise.all(published));
    const drained = await race(session.drain());
    const noticedMs = clock();
    cpu = process.cpuUsage(cpu0);
    machine1 = machineCpu();
    broker1 = brokerCpuMs(brokerPids);
    sampler.stop();
    const endMs = drained && typeof drained.endMs === 'number' ? drained.endMs : undefined;
    makespanMs = endMs !== undefined && endMs >= 0 && endMs <= noticedMs ? endMs : noticedMs;
    result = await race(session.collect());
  } finally {
    clearTimeout(deadline);
    sampler.stop();
    await session?.stop().catch(() => undefined);
    await llm.close();
  }
  // The collectors: everything from here to the outcome is the harness's bookkeeping (hashes,
  // the ideal replay, the bound, task latencies), timed as params.collectorsMs.
  const collectors0 = performance.now();
  // What the artifacts are needed for, first; then, unless the caller keeps them, let them go
  // (with the session and its store) before the collectors build their maps: at 1M tasks the
  // artifacts are half the heap.
  const idealOf = (policy: Pick<SchedulingPolicy, 'kind' | 'maxConcurrency' | 'maxRuns' | 'agentLimits' | 'dispatchEveryMs'> | undefined, all: readonly Artifact[], slots?: NonNullable<typeof result>['slots']) => {
    if (!policy) return undefined;
    // Identity -> its (last) execution in the log: the draw and the output keys the replay needs.
    const byIdentity = new Map<string, number>();
    for (let i = 0; i < executionLog.length; i++) byIdentity.set(executionLog.identity[i]!, i);
    // Built on the first look-up only: a replay whose outputs route nowhere never asks.
    let byKey: Map<string, Artifact> | undefined;
    const artifactOf = (k: string) => {
      if (!byKey) {
        byKey = new Map();
        for (const a of all) byKey.set(a.key, a);
      }
      return byKey.get(k);
    };
    const durationOf = (id: string) => {
      const i = byIdentity.get(id);
      return i === undefined ? undefined : executionLog.drawnLatencyMs[i]! * latencyScale;
    };
    const outputKeysOf = (id: string) => {
      const i = byIdentity.get(id);
      if (i === undefined) return undefined;
      const k = executionLog.outputKeys[i]!;
      return typeof k === 'string' ? [k] : k;
    };
    if (slots) {
      // The partition-aware bound: the same zero-overhead replay, each execution also held to
      // the consumer that owns its input's partition (list scheduling over the run's own key ->
      // partition -> consumer mapping). Inputs of a batch share a correlation, so its first names it.
      return idealMakespan({
        policy: 'dataflow', workload: w, arrivals, latencyScale, durationOf, artifactOf, outputKeysOf,
        agentLimits: slots.agentLimits,
        slotOf: (agent, inputs) => {
          const consumer = slots.consumerOf(agent.name, inputs[0]!);
          const limit = consumer === undefined ? undefined : slots.limits.get(consumer);
          return consumer === undefined || limit === undefined ? undefined : { consumer, limit };
        },
      });
    }
    return idealMakespan({
      policy: policy.kind, workload: w, arrivals, latencyScale, durationOf, artifactOf, outputKeysOf,
      maxConcurrency: policy.maxConcurrency, maxRuns: policy.maxRuns, agentLimits: policy.agentLimits, dispatchEveryMs: policy.dispatchEveryMs === undefined ? undefined : policy.dispatchEveryMs * latencyScale,
    });
  };
  const terminal = new Set([...terminalTypes(w), ERROR_TYPE]);
  // Conformance and tests compare the sorted hashes themselves; a run that keeps no objects keeps their digest only.
  const finalHash = keepObjects ? multisetHash(result.artifacts.filter((a) => terminal.has(a.type))) : [];
  const finalDigest = keepObjects ? sortedHashesDigest(finalHash) : multisetDigest(result.artifacts, (a) => terminal.has(a.type));
  let errors = 0;
  for (const a of result.artifacts) if (a.type === ERROR_TYPE) errors++;
  // The ideal replay may read artifacts (payloads for `where` filters, error keys): they are let
  // go after it, or before it when it will not read them (a map agent's 1M terminal outputs),
  // so the replay's own structures never sit on top of them.
  const policy = entry?.policy(params, arrivals.some((a) => a.intendedAtMs > 0));
  let all = result.artifacts;
  const artifacts = keepObjects ? all : [];
  result = { ...result, artifacts: [] };
  session = undefined;
  const slots = result.slots;
  if (!keepObjects && policy && !replayReadsArtifacts(policy.kind, w) && !slots) all = [];
  if (!all.length) await reclaim();
  const ideal = idealOf(policy, all);
  const partitionAware = slots ? idealOf({ kind: 'dataflow' }, all, slots) : undefined;
  if (all.length) {
    all = [];
    await reclaim();
  }
  // HTTP transport: the server's own counters (requests by status, 429s, faults) go with the run.
  const llmServer = transport === 'http' ? (await import('../../llm/index.ts')).llmServerMetrics(llm) : undefined;
  const llmLimiter = llm instanceof SimulatedLlm ? llm.limiterStats() : undefined;
  const sampled = sampler.stop();
  const maxConc = Object.fromEntries(w.agents.map((a) => [a.name, a.maxConcurrency]));
  const seedArrival = new Map<string, number>();
  for (const a of arrivals) seedArrival.set(a.task.key, a.intendedAtMs);
  const lb = lowerBound(executionLog, maxConc, seedArrival, (log, i) => log.drawnLatencyMs[i]! * latencyScale);
  const lat = taskLatencies(arrivals, executionLog, publishedAtMs, w.name);
  const latencies = new Float64Array(lat.length);
  for (let i = 0; i < lat.length; i++) latencies[i] = lat[i]!.latencyMs;
  const exact = (q: number) => tailPercentile(latencies, q).value ?? NaN;
  // taskLatencies keeps the arrivals' order: the i-th latency is the i-th arrival's (no 1M-entry map).
  const fairness = taskFairness(lat, (_, i) => arrivals[i]!.task.correlationId, lb.taskFinishMs);
  const h = hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 3_600_000_000, numberOfSignificantValueDigits: 3 });
  for (const t of lat) h.recordValue(Math.max(1, Math.round(t.latencyMs * 1000)));
  const stats = result.llmStats ?? llm.stats();
  const tasks = w.tasks.length;
  const cpuMs = (cpu.user + cpu.system) / 1000 + (result.helperCpuMs ?? 0);
  // Whose CPU the window used, from the window's opening to the moment the system was seen idle.
  const shares = machine0 && machine1 ? cpuShares(machine0, machine1, cpuMs, broker1 - broker0) : undefined;
  const collectorsMs = performance.now() - collectors0;
  const out: RunOutcome = {
    runId,
    system: sys.name,
    workload: w.name,
    store: entry?.store ?? 'custom',
    params: {
      workload: w.params,
      system: params,
      settings: result.settings ?? {},
      counters: result.counters ?? {},
      setupMs,
      collectorsMs,
      ...(partitionAware ? { bounds: { partitionAwareMs: partitionAware.idealMs } } : {}),
      ...(shares ? { cpu: shares } : {}),
      ...(brokerStats.n ? { broker: { cpuPctMean: brokerStats.cpuPctSum / brokerStats.n, rssPeakMb: brokerStats.rssPeakMb } } : {}),
      llmTransport: transport,
      ...(o.llmOptions && Object.keys(o.llmOptions).length ? { llmOptions: o.llmOptions } : {}),
      tail: o.tail ?? 'calibrated',
      ...(llmServer ? { llmServer } : {}),
      ...(llmLimiter ? { llmLimiter } : {}),
      ...(Object.keys(tools).length ? { tools } : {}),
      ...(result.helperRssPeakMb !== undefined ? { helperRssPeakMb: result.helperRssPeakMb } : {}),
    },
    seed: o.seed,
    latencyScale,
    tasks,
    makespanMs,
    lowerBoundMs: lb.lowerBoundMs,
    idealMs: ideal?.idealMs ?? NaN,
    criticalPathMs: lb.criticalPathMs,
    concurrencyBoundMs: lb.concurrencyBoundMs,
    efficiency: makespanMs > 0 ? lb.lowerBoundMs / makespanMs : 1,
    throughputTps: makespanMs > 0 ? tasks / (makespanMs / 1000) : 0,
    p50Ms: exact(0.5),
    p95Ms: exact(0.95),
    p99Ms: exact(0.99),
    maxMs: lat.length ? h.maxValue / 1000 : 0,
    cpuMs,
    rssPeakMb: sampled.rssPeakMb,
    eventLoopP99Ms: sampled.eventLoopP99Ms,
    queuePeak: sampled.queuePeak,
    fairness,
    llm: stats,
    costPerTaskUsd: tasks ? stats.costUsd / tasks : 0,
    errors,
    startedAt,
    machine: { loadStart, loadEnd: load1(), cpus: cpusAvailable(), cpuList: cpuList() },
    finalHash,
    finalDigest,
    artifacts,
    executions,
    executionLog,
    ...(result.spans?.length ? { nativeSpans: result.spans } : {}),
    samples: sampler.samples,
    taskLatencies: lat,
    latencyHdr: hdr.encodeIntoCompressedBase64(h),
  };
  h.destroy();
  return out;
}

/** CPU time so far of the broker processes, ms (those gone count 0). */
function brokerCpuMs(pids: readonly number[]): number {
  return pids.reduce((s, pid) => s + (sampleProcess(pid)?.cpuTimeMs ?? 0), 0);
}
