// Typed workload parameters: defaults documented in one place, unknown or ill-typed values rejected.
import { UserError } from './errors.ts';

export class BadParamError extends UserError {}

export type ParamDefs = Record<string, { default: number | string | boolean; doc: string; min?: number; choices?: readonly string[] }>;

export function resolveParams<D extends ParamDefs>(
  workload: string,
  defs: D,
  given: Record<string, unknown>,
): { [K in keyof D]: D[K]['default'] } {
  for (const k of Object.keys(given)) {
    if (!(k in defs)) throw new BadParamError(`workload ${workload}: unknown parameter '${k}' (known: ${Object.keys(defs).join(', ')})`);
  }
  const out: Record<string, unknown> = {};
  for (const [k, d] of Object.entries(defs)) {
    const v = given[k] ?? d.default;
    if (typeof v !== typeof d.default) throw new BadParamError(`workload ${workload}: parameter '${k}' must be a ${typeof d.default}, got ${JSON.stringify(v)}`);
    if (typeof v === 'number' && (!Number.isFinite(v) || (d.min !== undefined && v < d.min))) throw new BadParamError(`workload ${workload}: parameter '${k}' must be >= ${d.min}, got ${v}`);
    if (typeof d.default === 'number' && Number.isInteger(d.default) && !Number.isInteger(v)) throw new BadParamError(`workload ${workload}: parameter '${k}' must be an integer, got ${v}`);
    if (d.choices && !d.choices.includes(v as string)) throw new BadParamError(`workload ${workload}: parameter '${k}' must be one of ${d.choices.join('|')}, got ${JSON.stringify(v)}`);
    out[k] = v;
  }
  return out as { [K in keyof D]: D[K]['default'] };
}
