// `flockbench bench`: what each engine itself costs per event. Zero-latency agents, the same
// no-op workloads for every system, all systems side by side in one process so ratios hold on
// a noisy machine. tinybench times the runs; samples are retained for p50/p95/p99.
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
import type { RunContext, System } from '../../systems/types.ts';
import { quantile } from '../../core/stats/basic.ts';
import { emptyStats, type LlmClient, type LlmRequest, type LlmResponse } from '../../llm/types.ts';
import type { BenchCase } from './cases.ts';
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
  | { state: 'completed'; system: string; caseName: string; n: number; events: number; samples: number; meanMs: number; p50Ms: number; p95Ms: number; p99Ms: number; perEventUs: number; heapMbPer10k?: number }
  | { state: 'skipped'; system: string; caseName: string; n: number; events: number; reason: string }
  | { state: 'errored'; system: string; caseName: string; n: number; events: number; reason: string };

export interface BenchOptions {
  systems: string[];
  cases: BenchCase[];
  /** tinybench time budget per task (ms, default 400). */
  timeMs?: number;
  /** Skip a case when its predicted single-run time exceeds this (ms, default 15 s). */
  maxRunMs?: number;
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

/** Case family (fan-out, items, chain...) for extrapolating from smaller sizes. */
const family = (name: string) => name.replace(/-\d+$/, '');

export async function runBench(o: BenchOptions): Promise<BenchOutcome[]> {
  const out: BenchOutcome[] = [];
  const systems: System<unknown>[] = [];
  for (const s of o.systems) systems.push(await loadSystem(s));
  const maxRunMs = o.maxRunMs ?? 15_000;
  const cases = [...o.cases].sort((a, b) => a.n - b.n);
  for (const c of cases) {
    for (const sys of systems) {
      const base = { system: sys.name, caseName: c.name, n: c.n, events: c.events };
      // Predict from smaller cases of the same family: the growth exponent seen between the two
      // largest (at least linear), so a superlinear engine is stopped before a minutes-long run.
      const priors = out.filter((r): r is Extract<BenchOutcome, { state: 'completed' }> => r.state === 'completed' && r.system === sys.name && family(r.caseName) === family(c.name) && r.n < c.n);
      const priorSkipped = out.some((r) => r.state === 'skipped' && r.system === sys.name && family(r.caseName) === family(c.name) && r.n < c.n);
      const predicted = predictMs(priors, c.n);
      if (priorSkipped || predicted > maxRunMs) {
        out.push({ ...base, state: 'skipped', reason: priorSkipped ? 'a smaller size already exceeded the budget' : `predicted ${Math.round(predicted)} ms per run > budget ${maxRunMs} ms` });
        continue;
      }
      o.onProgress?.(`${sys.name} ${c.name}`);
      try {
        // First run: warm-up, correctness check (event count), and the retained-heap probe.
        gc();
        const h0 = process.memoryUsage().heapUsed;
        const ctx = benchContext(c.workload, sys.name);
        const t0 = performance.now();
        await runSession(sys, c.workload, ctx);
        const firstMs = performance.now() - t0;
        const heapMb = (process.memoryUsage().heapUsed - h0) / 1048576;
        if (ctx.executions() !== c.events) throw new Error(`expected ${c.events} agent executions, saw ${ctx.executions()}`);
        const heapMbPer10k = c.workload.tasks.length >= 1000 ? (heapMb * 10_000) / c.workload.tasks.length : undefined;
        if (firstMs > maxRunMs) {
          out.push({ ...base, state: 'skipped', reason: `one run took ${Math.round(firstMs)} ms > budget ${maxRunMs} ms` });
          continue;
        }
        const bench = new Bench({ time: o.timeMs ?? 400, iterations: 5, warmup: false, retainSamples: true, throws: true });
        bench.add(`${sys.name} ${c.name}`, async () => {
          await runSession(sys, c.workload, benchContext(c.workload, sys.name));
        });
        await bench.run();
        const r = bench.tasks[0].result;
        if (r.state !== 'completed') throw new Error(`tinybench: ${r.state}`);
        const samples = [...(r.latency.samples ?? [])];
        const meanMs = r.latency.mean;
        out.push({
          ...base,
          state: 'completed',
          samples: samples.length,
          meanMs,
          p50Ms: quantile(samples, 0.5),
          p95Ms: quantile(samples, 0.95),
          p99Ms: quantile(samples, 0.99),
          perEventUs: (meanMs * 1000) / c.events,
          heapMbPer10k,
        });
      } catch (e) {
        out.push({ ...base, state: 'errored', reason: e instanceof Error ? e.message : String(e) });
      }
    }
  }
  return out;
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

/** Per-event cost by size for each (system, case family), with the fitted log-log slope of total time. */
export function growthTable(results: BenchOutcome[]): GrowthRow[] {
  const rows = new Map<string, GrowthRow & { pts: { n: number; ms: number }[] }>();
  for (const r of results) {
    const fam = family(r.caseName);
    // From 10 up: at n=1 the fixed cost of a run (building the graph or the agents) dominates.
    if ((fam !== 'fan-out' && fam !== 'items') || r.n < 10) continue;
    const k = `${r.system}|${fam}`;
    let row = rows.get(k);
    if (!row) rows.set(k, (row = { system: r.system, family: fam, perEventUs: {}, slope: NaN, growth: '', pts: [] }));
    row.perEventUs[r.n] = r.state === 'completed' ? r.perEventUs : null;
    if (r.state === 'completed') row.pts.push({ n: r.n, ms: r.meanMs });
  }
  return [...rows.values()].map(({ pts, ...row }) => {
    const slope = pts.length >= 2 ? loglogSlope(pts) : NaN;
    return { ...row, slope, growth: Number.isFinite(slope) ? growthClass(slope) : 'n/a' };
  });
}

/** Ratio of each system's per-event cost to the blackboard (eager) on the same case. */
export function ratioToBlackboard(results: BenchOutcome[], reference = 'blackboard-eager'): Map<BenchOutcome, number | undefined> {
  const ref = new Map(results.filter((r) => r.system === reference && r.state === 'completed').map((r) => [r.caseName, r as Extract<BenchOutcome, { state: 'completed' }>]));
  return new Map(results.map((r) => {
    const b = ref.get(r.caseName);
    return [r, r.state === 'completed' && b ? r.perEventUs / b.perEventUs : undefined];
  }));
}
