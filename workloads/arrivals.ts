// Arrival processes: when each seed input is meant to arrive (ms since run start). Open-loop:
// the schedule is fixed before the run, so a slow system cannot slow its own arrivals.
// `trace` replays the Azure LLM inference trace 2023 (workloads/trace.ts) and can also give
// the tasks their sizes (the trace's prompt and output tokens), which is why the runner asks
// planArrivals for the workload as well as the times.
import { exponential, keyedRng } from '../core/random.ts';
import { BadParamError, type ParamDefs } from '../core/params.ts';
import { SIZE_FIELDS, type ArrivalSpec, type Task, type WorkloadSpec } from './spec.ts';
import { loadTrace, traceSchedule } from './trace.ts';

/** A task and the time it is meant to arrive (ms since the measured window opened). */
export interface Arrival {
  index: number;
  task: Task;
  intendedAtMs: number;
}

export function arrivalSchedule(w: WorkloadSpec, seed: number): number[] {
  const a = w.arrival;
  const n = w.tasks.length;
  if (a.kind === 'all-at-once') return new Array(n).fill(0);
  if (!(a.ratePerSec > 0)) throw new Error(`workload ${w.name}: ${a.kind} arrivals need ratePerSec > 0`);
  if (a.kind === 'trace') return traceArrivals(w, a, seed).map((x) => x.atMs);
  const out: number[] = [];
  const rng = keyedRng(seed, 'arrivals', w.name);
  let t = 0;
  for (let i = 0; i < n; i++) {
    out.push(t);
    t += a.kind === 'uniform' ? 1000 / a.ratePerSec : exponential(rng, a.ratePerSec / 1000);
  }
  return out;
}

function traceArrivals(w: WorkloadSpec, a: Extract<ArrivalSpec, { kind: 'trace' }>, seed: number) {
  return traceSchedule(loadTrace(a.trace), { n: w.tasks.length, ratePerSec: a.ratePerSec, seed, key: w.name, normalize: a.normalize, maxGapMs: a.maxGapMs });
}

/** Seed types that declare the size fields (workloads opt in to trace sizes this way). */
function sizedTypes(w: WorkloadSpec): Set<string> {
  return new Set(w.types.filter((t) => {
    const props = t.schema.properties ?? {};
    return SIZE_FIELDS.promptTokens in props && SIZE_FIELDS.outputTokens in props;
  }).map((t) => t.name));
}

/**
 * The run's arrival schedule and the workload as it runs: with `arrival: trace` and sizes on,
 * task i of a sized type takes request i's prompt and output tokens (SIZE_FIELDS in its payload).
 * Pure in (workload, seed): every system of a rep gets the same tasks at the same times.
 */
export function planArrivals(w: WorkloadSpec, seed: number): { workload: WorkloadSpec; atMs: number[] } {
  const a = w.arrival;
  if (a.kind !== 'trace') return { workload: w, atMs: arrivalSchedule(w, seed) };
  if (!(a.ratePerSec > 0)) throw new Error(`workload ${w.name}: trace arrivals need ratePerSec > 0`);
  const s = traceArrivals(w, a, seed);
  const atMs = s.map((x) => x.atMs);
  const sized = a.sizes ? sizedTypes(w) : new Set<string>();
  if (!sized.size) return { workload: w, atMs };
  const tasks = w.tasks.map((t, i) => sized.has(t.type)
    ? { ...t, payload: { ...t.payload, [SIZE_FIELDS.promptTokens]: s[i]!.promptTokens, [SIZE_FIELDS.outputTokens]: s[i]!.outputTokens } }
    : t);
  return { workload: { ...w, tasks }, atMs };
}

export { sleepUntil } from '../core/time.ts';

/**
 * The arrival parameters every workload takes. The trace options have no declared default (a
 * configuration that does not use them resolves exactly as before); their docs give the default.
 */
export const ARRIVAL_PARAMS = {
  arrival: { type: 'string', default: 'all-at-once', choices: ['all-at-once', 'poisson', 'uniform', 'trace'], doc: 'arrival process of tasks (trace: the Azure LLM inference trace 2023, time-scaled to ratePerSec)' },
  ratePerSec: { type: 'number', default: 10, min: 0, unit: 'tasks/s', doc: 'mean arrival rate for poisson/uniform/trace arrivals' },
  trace: { type: 'string', choices: ['conv', 'code'], doc: 'arrival=trace: which service of the trace, conversation or coding (default conv)' },
  traceNormalize: { type: 'string', choices: ['window', 'trace'], doc: "arrival=trace: 'window' scales the replayed requests to span exactly (tasks-1)/ratePerSec; 'trace' by the whole trace's mean rate, keeping its minute-scale swings (default window)" },
  traceMaxGapMs: { type: 'number', min: 1, unit: 'ms', doc: 'arrival=trace: cap each raw trace gap before scaling (default: no cap)' },
  traceSizes: { type: 'boolean', doc: "arrival=trace: the trace's prompt/output tokens become the tasks' sizes where the workload has a notion of size (default true)" },
} as const satisfies ParamDefs;

export interface ArrivalParams {
  arrival: string;
  ratePerSec: number;
  trace?: 'conv' | 'code';
  traceNormalize?: 'window' | 'trace';
  traceMaxGapMs?: number;
  traceSizes?: boolean;
}

export function arrivalFrom(p: ArrivalParams): ArrivalSpec {
  if (p.arrival !== 'trace') {
    const stray = (['trace', 'traceNormalize', 'traceMaxGapMs', 'traceSizes'] as const).find((k) => p[k] !== undefined);
    if (stray) throw new BadParamError(`'${stray}' applies to arrival: trace only (arrival is ${p.arrival})`);
  }
  if (p.arrival === 'all-at-once') return { kind: 'all-at-once' };
  if (p.arrival === 'trace') {
    return {
      kind: 'trace', ratePerSec: p.ratePerSec, trace: p.trace ?? 'conv', normalize: p.traceNormalize ?? 'window',
      ...(p.traceMaxGapMs !== undefined ? { maxGapMs: p.traceMaxGapMs } : {}), sizes: p.traceSizes ?? true,
    };
  }
  return { kind: p.arrival as 'poisson' | 'uniform', ratePerSec: p.ratePerSec };
}
