// Typed parameters, declared once (name, type, default, unit, doc) and resolved by one strict
// parser: unknown keys, wrong types and out-of-range values are rejected with a one-line error
// naming the key, before anything runs. Workloads and systems both declare theirs this way.
import { UserError } from './errors.ts';

export class BadParamError extends UserError {}

export type ParamType = 'integer' | 'number' | 'boolean' | 'string' | 'string-list';

export interface ParamDef {
  type: ParamType;
  /** Omitted: the value is derived at run time (the doc says how) unless given. */
  default?: number | boolean | string | readonly string[];
  doc: string;
  /** Unit of a number, e.g. `ms` (named in `--params` listings). */
  unit?: string;
  min?: number;
  max?: number;
  /** Allowed values of a string. */
  choices?: readonly string[];
}

export type ParamDefs = Record<string, ParamDef>;

type ValueOf<D extends ParamDef> = D['type'] extends 'integer' | 'number'
  ? number
  : D['type'] extends 'boolean'
    ? boolean
    : D['type'] extends 'string-list'
      ? string[]
      : D['choices'] extends readonly (infer C)[] ? C : string;

/** The resolved values: declared defaults filled in; derived ones stay undefined unless given. */
export type Resolved<D extends ParamDefs> = {
  [K in keyof D]: D[K] extends { default: unknown } ? ValueOf<D[K]> : ValueOf<D[K]> | undefined;
};

/** Levenshtein distance, for "did you mean" on a misspelt key. */
function distance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => [i, ...new Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0]![j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      d[i]![j] = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
  }
  return d[a.length]![b.length]!;
}

export function suggest(key: string, known: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestD = Infinity;
  for (const k of known) {
    const dd = distance(key.toLowerCase(), k.toLowerCase());
    if (dd < bestD) { bestD = dd; best = k; }
  }
  return best !== undefined && bestD <= Math.max(2, Math.floor(best.length / 4)) ? best : undefined;
}

function describe(d: ParamDef): string {
  if (d.choices) return `one of ${d.choices.join('|')}`;
  const range = d.type === 'integer' || d.type === 'number'
    ? `${d.min !== undefined ? ` >= ${d.min}` : ''}${d.max !== undefined ? `${d.min !== undefined ? ' and' : ''} <= ${d.max}` : ''}`
    : '';
  const kind = d.type === 'string-list' ? 'a list of strings (or one comma-separated string)' : `${d.type === 'integer' ? 'an' : 'a'} ${d.type}`;
  return `${kind}${range}`;
}

/** Check one value against its definition; returns the normalised value or throws. */
export function checkParam(where: string, key: string, d: ParamDef, v: unknown): unknown {
  const fail = (): never => {
    throw new BadParamError(`${where}: '${key}' must be ${describe(d)}, got ${JSON.stringify(v)} (${key}: ${d.doc})`);
  };
  switch (d.type) {
    case 'integer':
    case 'number':
      if (typeof v !== 'number' || !Number.isFinite(v)) fail();
      if (d.type === 'integer' && !Number.isInteger(v)) fail();
      if ((d.min !== undefined && (v as number) < d.min) || (d.max !== undefined && (v as number) > d.max)) fail();
      return v;
    case 'boolean':
      if (typeof v !== 'boolean') fail();
      return v;
    case 'string':
      if (typeof v !== 'string' || !v) fail();
      if (d.choices && !d.choices.includes(v as string)) fail();
      return v;
    case 'string-list': {
      const list = typeof v === 'string' ? v.split(',').map((s) => s.trim()).filter(Boolean) : v;
      if (!Array.isArray(list) || !list.length || !list.every((x) => typeof x === 'string' && x)) fail();
      return list;
    }
  }
}

/**
 * Resolve `given` against `defs`: every key must be declared and well typed; declared defaults
 * fill the rest. `where` names the owner as the user wrote it (e.g. `workload map` or
 * `systemParams.blackboard-kafka`), so an error points at the YAML key to fix.
 */
export function resolveParams<D extends ParamDefs>(where: string, defs: D, given: Record<string, unknown> = {}): Resolved<D> {
  const known = Object.keys(defs);
  for (const k of Object.keys(given)) {
    if (k in defs) continue;
    const hint = suggest(k, known);
    throw new BadParamError(`${where}: unknown parameter '${k}'${hint ? ` (did you mean '${hint}'?)` : ''}; known: ${known.join(', ') || 'none'}`);
  }
  const out: Record<string, unknown> = {};
  for (const [k, d] of Object.entries(defs)) {
    const v = given[k] ?? d.default;
    out[k] = v === undefined ? undefined : checkParam(where, k, d, v);
  }
  return out as Resolved<D>;
}

/** `key=default unit  doc` lines for `--params` listings. */
export function formatParams(defs: ParamDefs, indent = ''): string[] {
  return Object.entries(defs).map(([k, d]) => {
    const dflt = d.default === undefined ? '(derived)' : JSON.stringify(d.default);
    const type = d.choices ? d.choices.join('|') : d.type;
    return `${indent}${k}=${dflt}${d.unit ? ` ${d.unit}` : ''}  [${type}]  ${d.doc}`;
  });
}
