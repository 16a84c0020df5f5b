// `flockbench bench`: what each engine itself costs per event. Zero-latency agents, the same
// no-op workloads for every system, systems alternating case by case so drift hits them alike.
// Each case runs in its own process under a time and a memory budget that stop any run, the
// first size included. tinybench times the runs; samples are retained, and the medians per event
// are the headline (below ~10 µs the mean is dominated by noise: GC pauses, other tenants).
import { fork } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { Bench } from 'tinybench';
import { generatePayload } from '../../core/schema.ts';
import { keyedRng } from '../../core/random.ts';
import { executeAgent, seedArtifact, type AgentRuntime } from '../../workloads/execute.ts';
import type { JsonSchema, WorkloadSpec } from '../../workloads/spec.ts';
import { loadSystem, systemEntry } from '../../systems/registry.ts';
import { resolveParams } from '../../core/params.ts';
import { runSession } from '../runner/run-once.ts';
import type { RunContext } from '../../systems/types.ts';
import { quantile } from '../../core/stats/basic.ts';
import { emptyStats, type LlmClient, type LlmRequest, type LlmResponse } from '../../llm/types.ts';
import { sampleProcess } from '../../brokers/proc.ts';
import { family, type BenchCase } from './cases.ts';
import { growthClass, loglogSlope } from './growth.ts';

/** An LLM that answers at once with a cached schema-valid payload: only the engine is timed. */
export class ZeroLatencyLlm implements LlmClient {
  readonly transport = 'inprocess' as const;
  private readonly cache = new Map<JsonSchema, Record<string, unknown>>();
  private calls = 0;
  async complete(req: LlmRequest): Promise<LlmResponse> {
    this.calls++;
    let content: Record<string, unknown> | undefined;
    if (req.schema) {
      let base = this.cache.get(req.schema);
      if (!base) this.cache.set(req.schema, (base = generatePayload(req.schema, keyedRng('zero-latency'))));
      content = req.fixed ? { ...base, ...req.fixed } : base;
    }
    return { drawnLatencyMs: 0, scaledLatencyMs: 0, ttftMs: 0, tokensIn: req.promptTokens, tokensOut: req.outputTokens, costUsd: 0, retries: 0, content };
  }
  draw() { return { ttftMs: 0, tokensOut: 0, totalMs: 0 }; }
  stats() { return { ...emptyStats(), calls: this.calls }; }
  async close() {}
}

export function benchContext(w: WorkloadSpec, system: string, systemParams: Record<string, unknown> = {}): RunContext<unknown> & { executions: () => number } {
  let executions = 0;
  const t0 = performance.now();
  return {
    runId: 'bench',
    workload: w,
    llm: new ZeroLatencyLlm(),
    seed: 1,
    clock: () => performance.now() - t0,
    onExecution: () => { executions++; },
    latencyScale: 1,
    params: resolveParams(`systemParams.${system}`, systemEntry(system).params, systemParams),
    arrivals: w.tasks.map((task, index) => ({ index, task, intendedAtMs: 0 })),
    signal: new AbortController().signal,
    llmConfig: { transport: 'inprocess' },
    executions: () => executions,
  };
}


export type BenchOutcome =
  | {
      state: 'completed'; system: string; caseName: string; n: number; events: number; samples: number;
      meanMs: number; p50Ms: number; p95Ms: number; p99Ms: number;
      /** Mean run time per event (kept beside the medians). */
      perEventUs: number;
      /** Median run time per event: the headline. */
      perEventP50Us: number;
      perEventP95Us: number;
      heapMbPer10k?: number; firstRunMs: number; caseWallMs?: number; rssPeakMb?: number;
    }
  | { state: 'over-budget'; system: string; caseName: string; n: number; events: number; reason: string; firstRunMs?: number; caseWallMs?: number; rssPeakMb?: number }
  | { state: 'skipped'; system: string; caseName: string; n: number; events: number; reason: string }
  | { state: 'errored'; system: string; caseName: string; n: number; events: number; reason: string; caseWallMs?: number; rssPeakMb?: number };

export type CompletedBench = Extract<BenchOutcome, { state: 'completed' }>;

export interface BenchOptions {
  systems: string[];
  cases: BenchCase[];
  /** tinybench time budget per task (ms, default 400). */
  timeMs?: number;
  /** Time budget of one run (ms, default 15 s): a first run past it is stopped, a size predicted past it skipped. */
  maxRunMs?: number;
  /** Memory budget of a case's process (resident set, MiB, default 2048): past it the process is stopped. */
  maxRssMb?: number;
  /**
   * Run each case in its own process (default true), so the budgets can stop any run, the first
   * size included, and each case starts from a fresh heap. false: in this process (tests); a
   * first run is then only judged after it finished.
   */
  isolate?: boolean;
  onProgress?(msg: string): void;
}

let gcFn: (() => void) | undefined;
function gc(): void {
  if (!gcFn) {
    setFlagsFromString('--expose-gc');
    gcFn = runInNewContext('gc') as () => void;
  }
  gcFn();
}

/** What one case's measurement reports as it goes (the budget watchdog listens). */
export interface CaseProgress {
  /** The first run is about to start. */
  started?(): void;
  /** The first (warm-up) run finished. */
  first?(ms: number): void;
}

/**
 * Measure one case in this process: a first run (warm-up, event-count check, retained-heap probe),
 * then tinybench's timed runs with their samples retained for the medians. A first run past
 * `maxRunMs` ends the case as over budget.
 */
export async function measureCase(systemName: string, c: BenchCase, o: { timeMs?: number; maxRunMs?: number } = {}, progress: CaseProgress = {}): Promise<BenchOutcome> {
  const base = { system: systemName, caseName: c.name, n: c.n, events: c.events };
  const maxRunMs = o.maxRunMs ?? 15_000;
  const sys = await loadSystem(systemName);
  try {
    gc();
    const h0 = process.memoryUsage().heapUsed;
    const ctx = benchContext(c.workload, sys.name);
    progress.started?.();
    const t0 = performance.now();
    await runSession(sys, c.workload, ctx);
    const firstRunMs = performance.now() - t0;
    progress.first?.(firstRunMs);
    const heapMb = (process.memoryUsage().heapUsed - h0) / 1048576;
    if (ctx.executions() !== c.events) throw new Error(`expected ${c.events} agent executions, saw ${ctx.executions()}`);
    const heapMbPer10k = c.workload.tasks.length >= 1000 ? (heapMb * 10_000) / c.workload.tasks.length : undefined;
    if (firstRunMs > maxRunMs) return { ...base, state: 'over-budget', reason: `one run took ${Math.round(firstRunMs)} ms > budget ${maxRunMs} ms`, firstRunMs };
    const bench = new Bench({ time: o.timeMs ?? 400, iterations: 5, warmup: false, retainSamples: true, throws: true });
    bench.add(`${sys.name} ${c.name}`, async () => {
      await runSession(sys, c.workload, benchContext(c.workload, sys.name));
    });
    await bench.run();
    const r = bench.tasks[0].result;
    if (r.state !== 'completed') throw new Error(`tinybench: ${r.state}`);
    const samples = [...(r.latency.samples ?? [])];
    const meanMs = r.latency.mean;
    const p50Ms = quantile(samples, 0.5), p95Ms = quantile(samples, 0.95);
    return {
      ...base,
      state: 'completed',
      samples: samples.length,
      meanMs,
      p50Ms,
      p95Ms,
      p99Ms: quantile(samples, 0.99),
      perEventUs: (meanMs * 1000) / c.events,
      perEventP50Us: (p50Ms * 1000) / c.events,
      perEventP95Us: (p95Ms * 1000) / c.events,
      heapMbPer10k,
      firstRunMs,
    };
  } catch (e) {
    return { ...base, state: 'errored', reason: e instanceof Error ? e.message : String(e) };
  }
}

export async function runBench(o: BenchOptions): Promise<BenchOutcome[]> {
  const out: BenchOutcome[] = [];
  for (const s of o.systems) systemEntry(s);
  const maxRunMs = o.maxRunMs ?? 15_000;
  const cases = [...o.cases].sort((a, b) => a.n - b.n);
  for (const c of cases) {
    for (const system of o.systems) {
      const base = { system, caseName: c.name, n: c.n, events: c.events };
      // Predict from smaller cases of the same family: the growth exponent seen between the two
      // largest (at least linear), so a superlinear engine is stopped before a minutes-long run.
      const priors = out.filter((r): r is CompletedBench => r.state === 'completed' && r.system === system && family(r.caseName) === family(c.name) && r.n < c.n);
      const priorStopped = out.some((r) => (r.state === 'skipped' || r.state === 'over-budget') && r.system === system && family(r.caseName) === family(c.name) && r.n < c.n);
      const predicted = predictMs(priors.map((p) => ({ n: p.n, meanMs: p.p50Ms })), c.n);
      if (priorStopped || predicted > maxRunMs) {
        out.push({ ...base, state: 'skipped', reason: priorStopped ? 'a smaller size of this family was over the budget' : `predicted ${Math.round(predicted)} ms per run > budget ${maxRunMs} ms` });
        continue;
      }
      o.onProgress?.(`${system} ${c.name}`);
      out.push(o.isolate === false ? await measureCase(system, c, { timeMs: o.timeMs, maxRunMs }) : await measureIsolated(system, c, { timeMs: o.timeMs ?? 400, maxRunMs, maxRssMb: o.maxRssMb ?? 2048 }));
    }
  }
  return out;
}

const caseChild = fileURLToPath(new URL('./case-child.ts', import.meta.url));
const tsxLoader = createRequire(import.meta.url).resolve('tsx');

/** Messages of a case's process (case-child.ts). */
export type CaseMessage = { type: 'started' } | { type: 'first'; ms: number } | { type: 'done'; outcome: BenchOutcome; rssPeakMb: number };

/**
 * Measure a case in its own process under a time and a memory budget. The first run gets
 * `maxRunMs`; the timed runs then get three times what tinybench should need (its time budget
 * or five runs at the first run's pace) plus 5 s. The resident set is sampled every 100 ms and
 * the process stopped past `maxRssMb`; its V8 heap is capped at the same size as a backstop.
 */
export function measureIsolated(system: string, c: BenchCase, o: { timeMs: number; maxRunMs: number; maxRssMb: number }): Promise<BenchOutcome> {
  const base = { system, caseName: c.name, n: c.n, events: c.events };
  const t0 = performance.now();
  return new Promise((resolve) => {
    const child = fork(caseChild, [], {
      execArgv: ['--import', tsxLoader, `--max-old-space-size=${Math.max(64, Math.round(o.maxRssMb))}`],
      serialization: 'advanced',
      stdio: ['ignore', 'inherit', 'pipe', 'ipc'],
    });
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => { stderr = (stderr + d.toString()).slice(-4000); });
    let rssPeakMb = 0;
    let firstStartedAt: number | undefined;
    let firstRunMs: number | undefined;
    let deadline = Infinity;
    let stopped: string | undefined;
    let settled = false;
    const finish = (r: BenchOutcome) => {
      if (settled) return;
      settled = true;
      clearInterval(watch);
      resolve(r);
    };
    const stop = (reason: string) => {
      if (stopped) return;
      stopped = reason;
      child.kill('SIGKILL');
    };
    const watch = setInterval(() => {
      const s = child.pid ? sampleProcess(child.pid) : undefined;
      if (s && s.rssMb > rssPeakMb) rssPeakMb = s.rssMb;
      if (s && s.rssMb > o.maxRssMb) stop(`resident set ${Math.round(s.rssMb)} MiB > budget ${o.maxRssMb} MiB`);
      else if (performance.now() > deadline) {
        stop(firstRunMs === undefined ? `first run still going after ${o.maxRunMs} ms (budget ${o.maxRunMs} ms)` : `timed runs past their deadline (first run ${Math.round(firstRunMs)} ms)`);
      }
    }, 100);
    child.on('message', (m: CaseMessage) => {
      if (m.type === 'started') {
        firstStartedAt = performance.now();
        deadline = firstStartedAt + o.maxRunMs;
      } else if (m.type === 'first') {
        firstRunMs = m.ms;
        deadline = performance.now() + 3 * Math.max(o.timeMs, 5 * m.ms) + 5000;
      } else {
        rssPeakMb = Math.max(rssPeakMb, m.rssPeakMb);
        finish({ ...m.outcome, caseWallMs: performance.now() - t0, rssPeakMb } as BenchOutcome);
      }
    });
    child.once('exit', (code, sig) => {
      const caseWallMs = performance.now() - t0;
      if (stopped) {
        const ran = firstRunMs ?? (firstStartedAt !== undefined ? performance.now() - firstStartedAt : undefined);
        finish({ ...base, state: 'over-budget', reason: stopped, firstRunMs: ran, caseWallMs, rssPeakMb });
      } else if (/heap out of memory|Reached heap limit/i.test(stderr)) {
        finish({ ...base, state: 'over-budget', reason: `V8 heap past the ${o.maxRssMb} MiB budget`, firstRunMs, caseWallMs, rssPeakMb });
      } else {
        finish({ ...base, state: 'errored', reason: `case process exited with ${sig ?? code} before reporting${stderr ? `: ${stderr.trim().split('\n').at(-1)}` : ''}`, caseWallMs, rssPeakMb });
      }
    });
    child.send({ system, caseName: c.name, timeMs: o.timeMs, maxRunMs: o.maxRunMs });
  });
}

/** Run time at size n extrapolated from the largest smaller size, with the growth exponent seen against a size at least 4x below it (exponent >= 1); 0 without data. */
export function predictMs(priors: readonly { n: number; meanMs: number }[], n: number): number {
  const sorted = [...priors].filter((p) => p.n >= 2).sort((a, b) => a.n - b.n);
  const last = sorted.at(-1);
  if (!last) return 0;
  // The exponent needs sizes well apart (1000 vs 1024 would turn noise into a huge exponent).
  const prev = sorted.filter((p) => p.n * 4 <= last.n).at(-1);
  const exponent = prev && last.meanMs > 0 && prev.meanMs > 0 ? Math.max(1, Math.log(last.meanMs / prev.meanMs) / Math.log(last.n / prev.n)) : 1;
  return last.meanMs * (n / last.n) ** exponent;
}

/** Cost of the shared agent body alone (µs per call), to separate engine overhead from it. */
export async function agentBodyUs(calls = 5000): Promise<number> {
  const w: WorkloadSpec = {
    name: 'body', description: '', params: {}, arrival: { kind: 'all-at-once' },
    types: [{ name: 'In', schema: { type: 'object', properties: { text: { type: 'string' } } } }, { name: 'Out', schema: { type: 'object', properties: { text: { type: 'string', minLength: 4 } } } }],
    agents: [{ name: 'a', consumes: { types: ['In'] }, publishes: 'Out', maxConcurrency: 1, model: 'gpt-4.1-mini', promptTokens: 1, outputTokens: 1 }],
    tasks: [{ type: 'In', key: 'in-0', correlationId: 'c', payload: { text: 'in 0' } }],
  };
  const rt: AgentRuntime = { workload: w, llm: new ZeroLatencyLlm(), seed: 1, clock: () => 0, onExecution: () => {} };
  const input = seedArtifact(w, 0, 0);
  for (let i = 0; i < 500; i++) await executeAgent(w.agents[0], [input], rt);
  const t0 = performance.now();
  for (let i = 0; i < calls; i++) await executeAgent(w.agents[0], [input], rt);
  return ((performance.now() - t0) * 1000) / calls;
}

export interface GrowthRow {
  system: string;
  family: string;
  perEventUs: Record<number, number | null>;
  slope: number;
  growth: string;
}

/** Median per-event cost by size for each (system, case family), with the fitted log-log slope of total (median) time. */
export function growthTable(results: BenchOutcome[]): GrowthRow[] {
  const rows = new Map<string, GrowthRow & { pts: { n: number; ms: number }[] }>();
  for (const r of results) {
    const fam = family(r.caseName);
    // From 10 up: at n=1 the fixed cost of a run (building the graph or the agents) dominates.
    if ((fam !== 'fan-out' && fam !== 'items') || r.n < 10) continue;
    const k = `${r.system}|${fam}`;
    let row = rows.get(k);
    if (!row) rows.set(k, (row = { system: r.system, family: fam, perEventUs: {}, slope: NaN, growth: '', pts: [] }));
    row.perEventUs[r.n] = r.state === 'completed' ? r.perEventP50Us : null;
    if (r.state === 'completed') row.pts.push({ n: r.n, ms: r.p50Ms });
  }
  return [...rows.values()].map(({ pts, ...row }) => {
    const slope = pts.length >= 2 ? loglogSlope(pts) : NaN;
    return { ...row, slope, growth: Number.isFinite(slope) ? growthClass(slope) : 'n/a' };
  });
}

/** Ratio of each system's median per-event cost to the blackboard's (eager) on the same case. */
export function ratioToBlackboard(results: BenchOutcome[], reference = 'blackboard-eager'): Map<BenchOutcome, number | undefined> {
  const ref = new Map(results.filter((r): r is CompletedBench => r.system === reference && r.state === 'completed').map((r) => [r.caseName, r]));
  return new Map(results.map((r) => {
    const b = ref.get(r.caseName);
    return [r, r.state === 'completed' && b ? r.perEventP50Us / b.perEventP50Us : undefined];
  }));
}
