// Experiment matrices: YAML files naming systems x workloads x parameter axes x reps.
// Any parameter given as a list is an axis; the cross product is the set of cells.
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { UserError } from '../../core/errors.ts';
import { WORKLOADS, workload as lookupWorkload } from '../../workloads/registry.ts';
import { SYSTEMS } from '../../systems/registry.ts';
import { BadParamError } from '../../core/params.ts';
import type { TailMode } from '../../llm/profiles.ts';
import type { LlmTransport } from './run-once.ts';

export interface MatrixFile {
  name: string;
  description?: string;
  reps?: number;
  seed?: number;
  latencyScale?: number;
  llm?: LlmTransport;
  llmOptions?: Record<string, unknown>;
  tail?: TailMode | TailMode[];
  systems: string[];
  /** Per-system parameters; list values are axes. */
  systemParams?: Record<string, Record<string, unknown>>;
  workloads: { name: string; params?: Record<string, unknown>; tail?: TailMode | TailMode[]; systems?: string[] }[];
  timeoutMs?: number;
  warmup?: boolean;
}

export interface Cell {
  matrix: string;
  system: string;
  workload: string;
  workloadParams: Record<string, unknown>;
  systemParams: Record<string, unknown>;
  tail: TailMode;
  llm: LlmTransport;
  llmOptions: Record<string, unknown>;
  rep: number;
  seed: number;
  latencyScale: number;
  timeoutMs: number;
  /** Unmeasured warm-up run before the measured one in an isolated worker (default true). */
  warmup?: boolean;
}

const TOP_KEYS = new Set(['name', 'description', 'reps', 'seed', 'latencyScale', 'llm', 'llmOptions', 'tail', 'systems', 'systemParams', 'workloads', 'timeoutMs', 'warmup']);

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

export function validateMatrix(doc: unknown, where = 'matrix'): MatrixFile {
  const bad = (m: string) => new UserError(`${where}: ${m}`);
  if (!doc || typeof doc !== 'object' || Array.isArray(doc)) throw bad('expected a mapping with name, systems, workloads');
  const m = doc as Record<string, unknown>;
  for (const k of Object.keys(m)) if (!TOP_KEYS.has(k)) throw bad(`unknown key '${k}' (known: ${[...TOP_KEYS].join(', ')})`);
  if (typeof m.name !== 'string' || !m.name) throw bad(`'name' must be a non-empty string`);
  if (!Array.isArray(m.systems) || !m.systems.length) throw bad(`'systems' must be a non-empty list`);
  for (const s of m.systems) if (!SYSTEMS.some((x) => x.name === s)) throw bad(`unknown system '${s}' (known: ${SYSTEMS.map((x) => x.name).join(', ')})`);
  if (!Array.isArray(m.workloads) || !m.workloads.length) throw bad(`'workloads' must be a non-empty list`);
  for (const w of m.workloads as Record<string, unknown>[]) {
    if (!w || typeof w.name !== 'string') throw bad(`every workload needs a 'name'`);
    if (!WORKLOADS.some((x) => x.name === w.name)) throw bad(`unknown workload '${w.name}' (known: ${WORKLOADS.map((x) => x.name).join(', ')})`);
    for (const s of (w.systems as string[] | undefined) ?? []) if (!(m.systems as string[]).includes(s)) throw bad(`workload ${w.name}: system '${s}' is not in the matrix's systems`);
  }
  for (const [k, v] of [['reps', m.reps], ['seed', m.seed], ['latencyScale', m.latencyScale], ['timeoutMs', m.timeoutMs]] as const) {
    if (v !== undefined && (typeof v !== 'number' || !(v >= 0))) throw bad(`'${k}' must be a non-negative number`);
  }
  if (m.llm !== undefined && m.llm !== 'inprocess' && m.llm !== 'http') throw bad(`'llm' must be inprocess or http`);
  for (const t of [m.tail, ...(m.workloads as Record<string, unknown>[]).map((w) => w.tail)].flat()) {
    if (t !== undefined && t !== 'light' && t !== 'calibrated') throw bad(`'tail' must be light or calibrated, got ${JSON.stringify(t)}`);
  }
  return m as unknown as MatrixFile;
}

const isPlainObject = (x: unknown): x is Record<string, unknown> => !!x && typeof x === 'object' && !Array.isArray(x);

/**
 * Cartesian product of a params object whose list values are axes. A list of mappings is a
 * linked axis: each mapping sets several params at once (e.g. partitions and consumers that
 * must grow together), and the list's own key is not a param.
 */
export function expandAxes(params: Record<string, unknown> = {}): Record<string, unknown>[] {
  let out: Record<string, unknown>[] = [{}];
  for (const [k, v] of Object.entries(params)) {
    if (Array.isArray(v) && v.length && v.every(isPlainObject)) {
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

/** Expand into cells, rep-major; every workload cell is validated by building it once. */
export function expandMatrix(m: MatrixFile, o: ExpandOverrides = {}): Cell[] {
  const reps = o.reps ?? m.reps ?? 3;
  const seed = o.seed ?? m.seed ?? 1;
  const latencyScale = o.latencyScale ?? m.latencyScale ?? 1;
  if (!(reps >= 1) || !Number.isInteger(reps)) throw new UserError(`--reps must be a positive integer`);
  if (!(latencyScale > 0)) throw new UserError(`--latency-scale must be > 0`);
  const cells: Cell[] = [];
  for (let rep = 0; rep < reps; rep++) {
    for (const w of m.workloads) {
      const tails = [w.tail ?? m.tail ?? 'calibrated'].flat() as TailMode[];
      for (const wp of expandAxes(w.params)) {
        try {
          lookupWorkload(w.name).build(wp);
        } catch (e) {
          if (e instanceof BadParamError) throw new UserError(`${m.name}: ${e.message}`);
          throw e;
        }
        for (const tail of tails) {
          for (const system of w.systems ?? m.systems) {
            for (const sp of expandAxes(m.systemParams?.[system])) {
              cells.push({
                matrix: m.name, system, workload: w.name, workloadParams: wp, systemParams: sp, tail,
                llm: m.llm ?? 'inprocess', llmOptions: m.llmOptions ?? {}, rep, seed: seed + rep, latencyScale,
                timeoutMs: m.timeoutMs ?? 600_000,
                warmup: m.warmup ?? true,
              });
            }
          }
        }
      }
    }
  }
  return cells;
}
