// Real-trace arrivals from the Azure LLM inference trace 2023 (Patel et al., "Splitwise:
// Efficient generative LLM inference using phase splitting", ISCA 2024; CC-BY 4.0; the files,
// README and LICENSE are in workloads/data/azure-llm-inference-2023/). A trace is a list of
// (time, prompt tokens, output tokens); a schedule is n consecutive requests of it from a
// seeded offset, every inter-arrival gap multiplied by one factor so the schedule has the
// target mean rate. One factor keeps the relative pattern (bursts, lulls, the gaps' coefficient
// of variation) and only changes the time unit.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from '../core/paths.ts';
import { keyedRng } from '../core/random.ts';

export const TRACE_DIR = join(REPO_ROOT, 'workloads', 'data', 'azure-llm-inference-2023');
export const TRACES = ['conv', 'code'] as const;
export type TraceName = (typeof TRACES)[number];

export interface TraceRequest {
  /** ms since the trace's first request (exact to 0.1 µs). */
  tMs: number;
  promptTokens: number;
  outputTokens: number;
}

export interface TraceArrival {
  atMs: number;
  promptTokens: number;
  outputTokens: number;
  /** Row of the request in the trace (0-based, header excluded). */
  traceIndex: number;
}

/** Parse `TIMESTAMP,ContextTokens,GeneratedTokens` (UTC "YYYY-MM-DD HH:MM:SS.fffffff", sorted). */
export function parseAzureTrace(csv: string): TraceRequest[] {
  const lines = csv.split(/\r?\n/).filter((l) => l.length > 0);
  if (!/^TIMESTAMP,ContextTokens,GeneratedTokens$/.test((lines[0] ?? '').replace(/^\uFEFF/, ''))) throw new Error('not an Azure LLM trace CSV (header TIMESTAMP,ContextTokens,GeneratedTokens)');
  let day0 = NaN, tick0 = 0;
  const out: TraceRequest[] = [];
  for (let i = 1; i < lines.length; i++) {
    const [ts, ctx, gen] = lines[i]!.split(',');
    const m = /^(\d{4}-\d{2}-\d{2}) (\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?$/.exec(ts ?? '');
    if (!m) throw new Error(`trace line ${i + 1}: bad timestamp ${ts}`);
    const day = Date.parse(`${m[1]}T00:00:00Z`);
    // Time of day in integer 100-ns ticks (< 8.64e11, exact in a double).
    const ticks = ((+m[2]! * 60 + +m[3]!) * 60 + +m[4]!) * 1e7 + Number((m[5] ?? '0').padEnd(7, '0').slice(0, 7));
    if (Number.isNaN(day0)) { day0 = day; tick0 = ticks; }
    const promptTokens = Number(ctx), outputTokens = Number(gen);
    if (!(promptTokens >= 1) || !(outputTokens >= 1)) throw new Error(`trace line ${i + 1}: token counts must be >= 1`);
    out.push({ tMs: day - day0 + (ticks - tick0) / 1e4, promptTokens, outputTokens });
  }
  for (let i = 1; i < out.length; i++) if (out[i]!.tMs < out[i - 1]!.tMs) throw new Error(`trace not sorted at row ${i + 1}`);
  return out;
}

const loaded = new Map<TraceName, TraceRequest[]>();

/** A shipped trace, parsed once per process. */
export function loadTrace(name: TraceName): TraceRequest[] {
  let t = loaded.get(name);
  if (!t) {
    t = parseAzureTrace(readFileSync(join(TRACE_DIR, `${name}.csv`), 'utf8'));
    loaded.set(name, t);
  }
  return t;
}

export interface TraceScheduleOptions {
  /** Tasks wanted. */
  n: number;
  /** Target mean arrival rate, tasks per second (wall). */
  ratePerSec: number;
  /** Picks the start offset (with `key`). */
  seed: number;
  key?: string;
  /**
   * `window` (default): the n selected requests span exactly (n-1)/rate seconds, so every seed
   * offers the same mean load (what a load sweep needs). `trace`: gaps scaled by the whole
   * trace's mean rate, so a busy stretch of the trace stays busier than the target.
   */
  normalize?: 'window' | 'trace';
  /** Cap each raw trace gap (trace ms) before scaling: the code trace has silences up to 217 s. */
  maxGapMs?: number;
}

/**
 * n consecutive trace requests from a seeded start index, wrapping around the end (the gap
 * across the wrap is the trace's mean gap), as arrivals in ms since run start (first at 0).
 */
export function traceSchedule(trace: readonly TraceRequest[], o: TraceScheduleOptions): TraceArrival[] {
  const N = trace.length;
  if (N < 2) throw new Error('a trace needs >= 2 requests');
  if (!(o.n >= 1) || !(o.ratePerSec > 0)) throw new Error('traceSchedule: n >= 1 and ratePerSec > 0 required');
  const meanGap = (trace[N - 1]!.tMs - trace[0]!.tMs) / (N - 1);
  const cap = o.maxGapMs ?? Infinity;
  const gap = (i: number) => Math.min(cap, i % N === N - 1 ? meanGap : trace[(i % N) + 1]!.tMs - trace[i % N]!.tMs);
  const start = Math.floor(keyedRng(o.seed, 'trace-arrivals', o.key ?? '')() * N);
  const raw: number[] = [0];
  for (let j = 1; j < o.n; j++) raw.push(raw[j - 1]! + gap(start + j - 1));
  const span = raw[o.n - 1]!;
  const scale = (o.normalize ?? 'window') === 'window' && span > 0 ? ((o.n - 1) * 1000) / o.ratePerSec / span : 1000 / o.ratePerSec / meanGap;
  return raw.map((t, j) => {
    const r = trace[(start + j) % N]!;
    return { atMs: t * scale, promptTokens: r.promptTokens, outputTokens: r.outputTokens, traceIndex: (start + j) % N };
  });
}
