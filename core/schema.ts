// Deterministic, schema-valid payloads: what a simulated agent "writes". Same rng -> same payload.
import { Ajv, type ValidateFunction } from 'ajv';

/** A JSON-schema subset (object/string/integer/number/boolean/array/enum) describing a payload. */
export type JsonSchema = {
  type?: 'object' | 'string' | 'integer' | 'number' | 'boolean' | 'array';
  properties?: Record<string, JsonSchema>;
  required?: string[];
  items?: JsonSchema;
  minItems?: number;
  maxItems?: number;
  minLength?: number;
  maxLength?: number;
  minimum?: number;
  maximum?: number;
  enum?: (string | number)[];
  description?: string;
};

const WORDS = ('market policy model signal risk growth study league vaccine launch summit court ' +
  'energy climate chip trade vote trial budget merger rally outbreak orbit archive')
  .split(' ');

export function generatePayload(
  schema: JsonSchema,
  rng: () => number,
  fixed: Record<string, unknown> = {},
): Record<string, unknown> {
  const v = generateValue(schema, rng);
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new Error('artifact schema must be an object');
  return { ...(v as Record<string, unknown>), ...fixed };
}

function generateValue(s: JsonSchema, rng: () => number): unknown {
  if (s.enum) return s.enum[Math.floor(rng() * s.enum.length)];
  switch (s.type ?? 'object') {
    case 'object': {
      const out: Record<string, unknown> = {};
      for (const [k, sub] of Object.entries(s.properties ?? {})) out[k] = generateValue(sub, rng);
      return out;
    }
    case 'string': {
      const min = s.minLength ?? 8;
      const max = Math.max(min, s.maxLength ?? min + 40);
      const target = min + Math.floor(rng() * Math.min(40, max - min + 1));
      let str = '';
      while (str.length < target) str += (str ? ' ' : '') + WORDS[Math.floor(rng() * WORDS.length)];
      return str.slice(0, max);
    }
    case 'integer': {
      const lo = s.minimum ?? 0, hi = s.maximum ?? lo + 100;
      return lo + Math.floor(rng() * (hi - lo + 1));
    }
    case 'number': {
      const lo = s.minimum ?? 0, hi = s.maximum ?? 1;
      return Math.round((lo + rng() * (hi - lo)) * 1e6) / 1e6;
    }
    case 'boolean':
      return rng() < 0.5;
    case 'array': {
      const lo = s.minItems ?? 1, hi = Math.max(lo, s.maxItems ?? lo + 2);
      const n = lo + Math.floor(rng() * (hi - lo + 1));
      return Array.from({ length: n }, () => generateValue(s.items ?? { type: 'string' }, rng));
    }
  }
}

const ajv = new Ajv({ allErrors: false, strict: false });
const cache = new WeakMap<JsonSchema, ValidateFunction>();

/** Returns null when valid, else a one-line reason. */
export function validatePayload(schema: JsonSchema, value: unknown): string | null {
  let fn = cache.get(schema);
  if (!fn) {
    fn = ajv.compile(schema);
    cache.set(schema, fn);
  }
  if (fn(value)) return null;
  const e = fn.errors?.[0];
  return e ? `${e.instancePath || '/'} ${e.message}` : 'invalid';
}
