// Experiment matrices: YAML files naming systems x workloads x parameter axes x reps. Any
// parameter given as a list is an axis; the cross product is the set of cells. Everything is
// checked here, before anything runs or any broker starts: unknown keys, ill-typed values,
// parameters of systems that are not in the matrix, duplicated axis values. Each error is one
// line naming the YAML key to fix.
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { canonicalJson } from '../../core/canonical.ts';
import { UserError } from '../../core/errors.ts';
import { BadParamError } from '../../core/params.ts';
import { validateLlmOptions } from '../../llm/options.ts';
import type { TailMode } from '../../llm/profiles.ts';
import { resolveSystemParams, SYSTEMS } from '../../systems/registry.ts';
import { WORKLOADS, workload as lookupWorkload } from '../../workloads/registry.ts';
import type { WorkloadSpec } from '../../workloads/spec.ts';
import type { LlmTransport } from './run-once.ts';

export interface MatrixFile {
  name: string;
  description?: string;
  reps?: number;
  seed?: number;
  latencyScale?: number;
  llmTransport?: LlmTransport;
  llmOptions?: Record<string, unknown>;
  tail?: TailMode | TailMode[];
  systems: string[];
  /** Per-system parameters; list values are axes. */
  systemParams?: Record<string, Record<string, unknown>>;
  workloads: { name: string; params?: Record<string, unknown>; tail?: TailMode | TailMode[]; systems?: string[] }[];
  timeoutMs?: number;
  warmup?: boolean;
  /** Store OpenTelemetry spans of every run (default true); a 1M-task run has 1M of them. */
  traces?: boolean;
  /** Memory budget: V8 old-space limit of each run's process, MiB (default 4096); a run past it fails and is stored as failed. */
  heapLimitMb?: number;
  /**
   * Before each measured run (after its warm-up), wait at most this many seconds for the
   * 1-minute load average to fall to cpus + 0.5, so a run does not inherit the load of the one
   * before it (default 0: no wait). The wait is stored (params.harness.settleMs).
   */
  settleMaxS?: number;
}

export interface Cell {
  matrix: string;
  system: string;
  workload: string;
  /** Resolved workload parameters (defaults filled in). */
  workloadParams: Record<string, unknown>;
  /** Resolved system parameters (defaults filled in; derived ones absent). */
  systemParams: Record<string, unknown>;
  tail: TailMode;
  llmTransport: LlmTransport;
  llmOptions: Record<string, unknown>;
  rep: number;
  seed: number;
  latencyScale: number;
  timeoutMs: number;
  /** Unmeasured warm-up run before the measured one in an isolated child (default true). */
  warmup?: boolean;
  /** Store the run's spans (default true). Not part of the cell's identity: it changes what is kept, not what is measured. */
  traces?: boolean;
  /** V8 old-space limit of the run's process, MiB (default 4096; isolated runs only). Not part of the cell's identity. */
  heapLimitMb?: number;
  /** Settle bound before the measured run, s (0: none). Not part of the cell's identity: it changes when a run starts, not what it measures. */
  settleMaxS?: number;
}

const TOP_KEYS = ['name', 'description', 'reps', 'seed', 'latencyScale', 'llmTransport', 'llmOptions', 'tail', 'systems', 'systemParams', 'workloads', 'timeoutMs', 'warmup', 'traces', 'heapLimitMb', 'settleMaxS'];
const WORKLOAD_KEYS = ['name', 'params', 'tail', 'systems'];
/** V8 old-space limit of a run's process unless the matrix sets `heapLimitMb`. */
export const DEFAULT_HEAP_LIMIT_MB = 4096;
/** More cells than this is a typo (reps: 1e9), not an experiment. */
export const MAX_CELLS = 100_000;
/** The largest base seed: seed + rep stays an exact integer (and fits the BIGINT column). */
export const MAX_SEED = Number.MAX_SAFE_INTEGER - MAX_CELLS;
/** The longest run timeout a Node timer can hold. */
export const MAX_TIMEOUT_MS = 2 ** 31 - 1;

export function loadMatrix(path: string): MatrixFile {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    throw new UserError(`cannot read matrix file ${path}`);
  }
  let doc: unknown;
  try {
    doc = parse(text);
  } catch (e) {
    throw new UserError(`${path}: malformed YAML: ${(e as Error).message.split('\n')[0]}`);
  }
  return validateMatrix(doc, path);
}

const isMapping = (x: unknown): x is Record<string, unknown> => !!x && typeof x === 'object' && !Array.isArray(x);

function duplicates(xs: readonly unknown[]): string[] {
  const seen = new Set<string>();
  const dup = new Set<string>();
  for (const x of xs) {
    const k = canonicalJson(x);
    if (seen.has(k)) dup.add(k);
    seen.add(k);
  }
  return [...dup];
}

/** Structure and every value of a matrix; throws a UserError naming the key. */
export function validateMatrix(doc: unknown, where = 'matrix'): MatrixFile {
  const bad = (m: string) => new UserError(`${where}: ${m}`);
  if (!isMapping(doc)) throw bad('expected a mapping with name, systems, workloads');
  const m = doc;
  for (const k of Object.keys(m)) {
    if (TOP_KEYS.includes(k)) continue;
    if (k === 'llm') throw bad(`'llm' is now called 'llmTransport' (inprocess or http)`);
    throw bad(`unknown key '${k}' (known: ${TOP_KEYS.join(', ')})`);
  }
  if (typeof m.name !== 'string' || !m.name) throw bad(`'name' must be a non-empty string`);
  if (!Array.isArray(m.systems) || !m.systems.length) throw bad(`'systems' must be a non-empty list`);
  for (const s of m.systems) if (!SYSTEMS.some((x) => x.name === s)) throw bad(`systems: unknown system '${s}' (known: ${SYSTEMS.map((x) => x.name).join(', ')})`);
  const dupSystems = duplicates(m.systems);
  if (dupSystems.length) throw bad(`systems: ${dupSystems.join(', ')} listed twice`);
  if (!Array.isArray(m.workloads) || !m.workloads.length) throw bad(`'workloads' must be a non-empty list`);
  for (const [i, w] of (m.workloads as unknown[]).entries()) {
    if (!isMapping(w) || typeof w.name !== 'string') throw bad(`workloads[${i}] needs a 'name'`);
    for (const k of Object.keys(w)) if (!WORKLOAD_KEYS.includes(k)) throw bad(`workloads[${i}] (${w.name}): unknown key '${k}' (known: ${WORKLOAD_KEYS.join(', ')})`);
    if (!WORKLOADS.some((x) => x.name === w.name)) throw bad(`workloads[${i}]: unknown workload '${w.name}' (known: ${WORKLOADS.map((x) => x.name).join(', ')})`);
    if (w.params !== undefined && !isMapping(w.params)) throw bad(`workloads[${i}] (${w.name}): 'params' must be a mapping`);
    for (const s of (w.systems as string[] | undefined) ?? []) if (!(m.systems as string[]).includes(s)) throw bad(`workloads[${i}] (${w.name}): system '${s}' is not in the matrix's systems`);
  }
  const int = (k: string, v: unknown, min: number, max = Infinity) => {
    if (v !== undefined && (typeof v !== 'number' || !Number.isInteger(v) || v < min)) throw bad(`'${k}' must be an integer >= ${min}, got ${JSON.stringify(v)}`);
    if (typeof v === 'number' && v > max) throw bad(`'${k}' must be <= ${max}, got ${v}`);
  };
  int('reps', m.reps, 1);
  // Past 2^53 seed + rep is no longer exact; past 2^63 the BIGINT column fails after the run.
  int('seed', m.seed, 0, MAX_SEED);
  // A timer longer than 2^31 - 1 ms fires at once (Node's TimeoutOverflowWarning): every run would time out.
  int('timeoutMs', m.timeoutMs, 1, MAX_TIMEOUT_MS);
  int('heapLimitMb', m.heapLimitMb, 64);
  int('settleMaxS', m.settleMaxS, 0, 3600);
  if (m.latencyScale !== undefined && (typeof m.latencyScale !== 'number' || !(m.latencyScale > 0) || !Number.isFinite(m.latencyScale))) throw bad(`'latencyScale' must be a number > 0, got ${JSON.stringify(m.latencyScale)}`);
  if (m.warmup !== undefined && typeof m.warmup !== 'boolean') throw bad(`'warmup' must be true or false`);
  if (m.traces !== undefined && typeof m.traces !== 'boolean') throw bad(`'traces' must be true or false, got ${JSON.stringify(m.traces)}`);
  if (m.llmTransport !== undefined && m.llmTransport !== 'inprocess' && m.llmTransport !== 'http') throw bad(`'llmTransport' must be inprocess or http, got ${JSON.stringify(m.llmTransport)}`);
  validateLlmOptions(where, m.llmOptions, m.llmTransport === 'http' ? 'http' : 'inprocess');
  // Systems that start their own simulator would run without the limits, faults and retries
  // asked for, and store runs that look as if they had them.
  const deaf = (m.systems as string[]).find((s) => SYSTEMS.find((x) => x.name === s)?.ownLlmSimulator);
  if (deaf && isMapping(m.llmOptions) && Object.keys(m.llmOptions).length) {
    throw bad(`${deaf} starts its own simulator and does not honour 'llmOptions' (limits, faults, retries): drop llmOptions or run ${deaf} in a matrix without them`);
  }
  for (const t of [m.tail, ...(m.workloads as Record<string, unknown>[]).map((w) => w.tail)].flat()) {
    if (t !== undefined && t !== 'light' && t !== 'calibrated') throw bad(`'tail' must be light or calibrated, got ${JSON.stringify(t)}`);
  }
  if (m.systemParams !== undefined) {
    if (!isMapping(m.systemParams)) throw bad(`'systemParams' must be a mapping of system name to parameters`);
    for (const [s, sp] of Object.entries(m.systemParams)) {
      if (!(m.systems as string[]).includes(s)) throw bad(`systemParams.${s}: '${s}' is not in the matrix's systems (${(m.systems as string[]).join(', ')})`);
      if (!isMapping(sp)) throw bad(`systemParams.${s} must be a mapping`);
    }
  }
  return m as unknown as MatrixFile;
}

/**
 * Cartesian product of a params object whose list values are axes. A list of mappings is a
 * linked axis: each mapping sets several params at once (e.g. partitions and consumers that
 * must grow together), and the list's own key is not a param. `where` names the YAML key in errors.
 */
export function expandAxes(params: Record<string, unknown> = {}, where = 'params'): Record<string, unknown>[] {
  let out: Record<string, unknown>[] = [{}];
  for (const [k, v] of Object.entries(params)) {
    if (Array.isArray(v)) {
      if (!v.length) throw new UserError(`${where}.${k}: an axis needs at least one value`);
      const dup = duplicates(v);
      if (dup.length) throw new UserError(`${where}.${k}: value ${dup.join(', ')} listed twice (two cells would be the same configuration)`);
    }
    if (Array.isArray(v) && v.every(isMapping)) {
      out = out.flatMap((o) => v.map((x) => ({ ...o, ...x })));
      continue;
    }
    const values = Array.isArray(v) ? v : [v];
    out = out.flatMap((o) => values.map((x) => ({ ...o, [k]: x })));
  }
  return out;
}

export interface ExpandOverrides {
  reps?: number;
  seed?: number;
  latencyScale?: number;
}

/** Expand into cells, rep-major; every workload and system parameter set is resolved (and so validated) once. */
export function expandMatrix(m: MatrixFile, o: ExpandOverrides = {}): Cell[] {
  const reps = o.reps ?? m.reps ?? 3;
  const seed = o.seed ?? m.seed ?? 1;
  const latencyScale = o.latencyScale ?? m.latencyScale ?? 1;
  if (!(reps >= 1) || !Number.isInteger(reps)) throw new UserError(o.reps !== undefined ? `--reps must be a positive integer` : `${m.name}: 'reps' must be a positive integer`);
  if (!(Number.isInteger(seed) && seed >= 0 && seed <= MAX_SEED)) throw new UserError(`${o.seed !== undefined ? '--seed' : `${m.name}: 'seed'`} must be an integer from 0 to ${MAX_SEED}`);
  if (!(latencyScale > 0)) throw new UserError(o.latencyScale !== undefined ? `--latency-scale must be > 0` : `${m.name}: 'latencyScale' must be > 0`);
  const rethrow = (e: unknown): never => {
    if (e instanceof BadParamError) throw new UserError(`${m.name}: ${e.message}`);
    throw e;
  };
  // Resolve each distinct configuration once; cells then only copy.
  const systemCells = new Map(m.systems.map((s) => {
    const entry = SYSTEMS.find((x) => x.name === s)!;
    const given = expandAxes(m.systemParams?.[s], `systemParams.${s}`);
    return [s, given.map((sp) => {
      try {
        const resolved = resolveSystemParams(entry, sp);
        return Object.fromEntries(Object.entries(resolved).filter(([, v]) => v !== undefined));
      } catch (e) {
        return rethrow(e);
      }
    })];
  }));
  const workloadCells = m.workloads.map((w, i) => ({
    w,
    params: expandAxes(w.params, `workloads[${i}] (${w.name}).params`).map((wp) => {
      let spec: WorkloadSpec;
      try {
        spec = lookupWorkload(w.name).build(wp);
      } catch (e) {
        return rethrow(e);
      }
      // A system that cannot express this configuration is refused here, before anything runs.
      for (const system of w.systems ?? m.systems) {
        const entry = SYSTEMS.find((x) => x.name === system)!;
        for (const sp of systemCells.get(system)!) {
          const why = entry.refuses?.(spec, sp);
          if (why) throw new UserError(`${m.name}: workloads[${i}] (${w.name} ${canonicalJson(wp)}): ${why}; or list the systems that can run it in workloads[${i}].systems`);
        }
      }
      return spec.params;
    }),
  }));
  let perRep = 0;
  for (const { w, params } of workloadCells) {
    const tails = [w.tail ?? m.tail ?? 'calibrated'].flat().length;
    for (const system of w.systems ?? m.systems) perRep += params.length * tails * systemCells.get(system)!.length;
  }
  if (perRep * reps > MAX_CELLS) throw new UserError(`${m.name}: ${perRep} cells x ${reps} reps = ${perRep * reps} runs exceeds ${MAX_CELLS}; lower ${o.reps !== undefined ? '--reps' : `'reps'`} or the axes`);
  const cells: Cell[] = [];
  for (let rep = 0; rep < reps; rep++) {
    for (const { w, params } of workloadCells) {
      const tails = [w.tail ?? m.tail ?? 'calibrated'].flat() as TailMode[];
      for (const wp of params) {
        for (const tail of tails) {
          for (const system of w.systems ?? m.systems) {
            for (const sp of systemCells.get(system)!) {
              cells.push({
                matrix: m.name, system, workload: w.name, workloadParams: wp, systemParams: sp, tail,
                llmTransport: m.llmTransport ?? 'inprocess', llmOptions: m.llmOptions ?? {}, rep, seed: seed + rep, latencyScale,
                timeoutMs: m.timeoutMs ?? 600_000,
                warmup: m.warmup ?? true,
                traces: m.traces ?? true,
                heapLimitMb: m.heapLimitMb ?? DEFAULT_HEAP_LIMIT_MB,
                settleMaxS: m.settleMaxS ?? 0,
              });
            }
          }
        }
      }
    }
  }
  return cells;
}
