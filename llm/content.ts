// What the HTTP simulator writes for clients that are not the harness: values for any JSON
// schema a real client sends (pydantic / zod output: $ref + $defs, anyOf, type arrays with null,
// const, enum, nested objects and arrays, string formats), sized to a target token count, and
// prose. Deterministic in the rng it is given. The harness's own schemas keep using
// workloads/payload.ts (so the in-process and HTTP transports return the same payloads).

type Schema = Record<string, unknown>;

const WORDS = ('the a of market policy model signal risk growth study report shows data result team plan ' +
  'said new first level early trend review update source claim point case rate strong weak').split(' ');

/** Deterministic prose of `words` words (every word is one o200k token, with or without its leading space). */
export function prose(rng: () => number, words: number): string {
  const out: string[] = [];
  for (let i = 0; i < words; i++) out.push(WORDS[Math.floor(rng() * WORDS.length)]);
  return out.join(' ');
}

/** Nesting depth past which optional parts are left out and recursion stops. */
const MAX_DEPTH = 12;
/** Items of an array without minItems: 1-3; at most this many when minItems is larger. */
const MAX_ITEMS = 64;

interface Ctx {
  root: Schema;
  /** Draws the structure: enum picks, branch and array sizes, numbers. */
  rng: () => number;
  /** Draws the words of strings (a separate stream, so resizing text keeps the structure). */
  text: () => number;
  /** Words of a free-text string (no maxLength, format, enum or const). */
  words: number;
  /** Free-text strings written (to size the next pass). */
  freeStrings: number;
  /** Longest free-text string written: a marker that finds this content in a later prompt. */
  longest: string;
}

function resolveRef(ctx: Ctx, ref: string): Schema | undefined {
  if (ref === '#') return ctx.root;
  if (!ref.startsWith('#/')) return undefined;
  let cur: unknown = ctx.root;
  for (const raw of ref.slice(2).split('/')) {
    const part = decodeURIComponent(raw).replace(/~1/g, '/').replace(/~0/g, '~');
    if (!cur || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string, unknown>)[part];
  }
  return cur && typeof cur === 'object' ? (cur as Schema) : undefined;
}

function isNullSchema(s: unknown): boolean {
  return !!s && typeof s === 'object' && ((s as Schema).type === 'null' || (s as Schema).const === null);
}

function isoDate(rng: () => number): string {
  // A fixed window (2024-2026), so content is reproducible across years.
  const t = Date.UTC(2024, 0, 1) + Math.floor(rng() * 3 * 365 * 86_400) * 1000;
  return new Date(t).toISOString().replace('.000Z', 'Z');
}

function hex(rng: () => number, n: number): string {
  let s = '';
  for (let i = 0; i < n; i++) s += Math.floor(rng() * 16).toString(16);
  return s;
}

function stringValue(s: Schema, ctx: Ctx): string {
  const rng = ctx.rng;
  switch (s.format) {
    case 'date-time': return isoDate(rng);
    case 'date': return isoDate(rng).slice(0, 10);
    case 'time': return isoDate(rng).slice(11);
    case 'email': return `${prose(rng, 1)}.${prose(rng, 1)}@example.com`;
    case 'uri': case 'url': return `https://example.com/${prose(rng, 1)}/${hex(rng, 6)}`;
    case 'uuid': return `${hex(rng, 8)}-${hex(rng, 4)}-4${hex(rng, 3)}-a${hex(rng, 3)}-${hex(rng, 12)}`;
  }
  const min = typeof s.minLength === 'number' ? Math.min(s.minLength, MAX_STRING_CHARS) : 0;
  const max = typeof s.maxLength === 'number' ? s.maxLength : undefined;
  const free = max === undefined;
  let str = prose(ctx.text, free ? ctx.words : Math.max(1, Math.min(ctx.words, Math.ceil((max ?? 0) / 6))));
  while (str.length < min) str += ' ' + prose(ctx.text, Math.max(1, Math.ceil((min - str.length) / 5)));
  if (max !== undefined && str.length > max) str = str.slice(0, max).trimEnd();
  if (max !== undefined && str.length < min) str = str.padEnd(min, 'x');
  if (free) {
    ctx.freeStrings++;
    if (str.length > ctx.longest.length) ctx.longest = str;
  }
  return str;
}

function numberValue(s: Schema, integer: boolean, rng: () => number): number {
  const excMin = typeof s.exclusiveMinimum === 'number' ? s.exclusiveMinimum : undefined;
  const excMax = typeof s.exclusiveMaximum === 'number' ? s.exclusiveMaximum : undefined;
  let lo = typeof s.minimum === 'number' ? s.minimum : excMin ?? 0;
  let hi = typeof s.maximum === 'number' ? s.maximum : excMax ?? lo + (integer ? 100 : 1);
  if (integer) {
    lo = Math.ceil(excMin !== undefined && lo <= excMin ? excMin + 1 : lo);
    hi = Math.floor(excMax !== undefined && hi >= excMax ? excMax - 1 : hi);
    return hi < lo ? lo : lo + Math.floor(rng() * (hi - lo + 1));
  }
  const x = lo + rng() * (hi - lo);
  const v = Math.round(x * 1e6) / 1e6;
  if (excMin !== undefined && v <= excMin) return (excMin + hi) / 2;
  if (excMax !== undefined && v >= excMax) return (lo + excMax) / 2;
  return v;
}

/** Past this depth a value is cut short (null): a schema that requires itself has no finite instance. */
const HARD_DEPTH = 48;
/** Longest string written, whatever minLength asks (a model would hit max_tokens first). */
const MAX_STRING_CHARS = 65_536;

function value(s0: unknown, ctx: Ctx, depth: number): unknown {
  if (depth > HARD_DEPTH) return null;
  if (!s0 || typeof s0 !== 'object') return prose(ctx.text, 2); // `true` / `{}`: anything goes
  let s = s0 as Schema;
  for (let hops = 0; typeof s.$ref === 'string' && hops < 32; hops++) {
    const target = resolveRef(ctx, s.$ref);
    if (!target) break;
    const { $ref: _ref, ...rest } = s;
    s = { ...target, ...rest };
  }
  if ('const' in s) return s.const;
  if (Array.isArray(s.enum) && s.enum.length) return s.enum[Math.floor(ctx.rng() * s.enum.length)];
  const alts = (Array.isArray(s.anyOf) ? s.anyOf : Array.isArray(s.oneOf) ? s.oneOf : undefined) as unknown[] | undefined;
  if (alts?.length) {
    // Optional[X] (anyOf [X, null]): write X, unless nesting is too deep.
    const nonNull = alts.filter((a) => !isNullSchema(a));
    if (!nonNull.length || (depth > MAX_DEPTH && nonNull.length < alts.length)) return null;
    const { anyOf: _a, oneOf: _o, ...rest } = s;
    return value({ ...rest, ...(nonNull[0] as Schema) }, ctx, depth + 1);
  }
  if (Array.isArray(s.allOf) && s.allOf.length) {
    const { allOf, ...rest } = s;
    const merged: Schema = { ...rest };
    for (const part of allOf as Schema[]) {
      const p = typeof part?.$ref === 'string' ? resolveRef(ctx, part.$ref) ?? {} : part ?? {};
      merged.properties = { ...(merged.properties as object), ...(p.properties as object) };
      merged.required = [...((merged.required as string[]) ?? []), ...((p.required as string[]) ?? [])];
      if (p.type && !merged.type) merged.type = p.type;
    }
    return value(merged, ctx, depth + 1);
  }
  let type = s.type;
  if (Array.isArray(type)) {
    const nonNull = type.filter((t) => t !== 'null');
    if (!nonNull.length || (depth > MAX_DEPTH && nonNull.length < type.length)) return null;
    type = nonNull[0];
  }
  type ??= s.properties ? 'object' : s.items ? 'array' : 'string';
  switch (type) {
    case 'null': return null;
    case 'boolean': return ctx.rng() < 0.5;
    case 'integer': return numberValue(s, true, ctx.rng);
    case 'number': return numberValue(s, false, ctx.rng);
    case 'string': return stringValue(s, ctx);
    case 'array': {
      const lo = typeof s.minItems === 'number' ? Math.min(s.minItems, MAX_ITEMS) : 1;
      const hi = Math.min(MAX_ITEMS, Math.max(lo, typeof s.maxItems === 'number' ? s.maxItems : lo + 2));
      const n = depth > MAX_DEPTH ? lo : lo + Math.floor(ctx.rng() * (Math.min(hi, lo + 2) - lo + 1));
      const items = s.items && typeof s.items === 'object' && !Array.isArray(s.items) ? s.items : {};
      const out: unknown[] = [];
      const seen = new Set<string>();
      for (let tries = 0; out.length < n && tries < n * 8; tries++) {
        const v = value(items, ctx, depth + 1);
        if (s.uniqueItems === true) {
          const k = JSON.stringify(v);
          if (seen.has(k)) continue;
          seen.add(k);
        }
        out.push(v);
      }
      return out;
    }
    default: {
      const props = (s.properties && typeof s.properties === 'object' ? s.properties : {}) as Record<string, unknown>;
      const required = new Set(Array.isArray(s.required) ? (s.required as string[]) : Object.keys(props));
      const out: Record<string, unknown> = {};
      for (const [k, sub] of Object.entries(props)) {
        if (depth > MAX_DEPTH && !required.has(k)) continue;
        out[k] = value(sub, ctx, depth + 1);
      }
      return out;
    }
  }
}

export interface SizedValue {
  value: unknown;
  /** Longest free-text string in the value ('' if none). */
  marker: string;
}

/**
 * A value valid against `schema` (the common JSON-schema keywords), its free-text strings sized
 * so the JSON text comes near `targetTokens` (when given). `rngFor(stream)` must return a fresh
 * rng with the same sequence for the same stream name ('structure', 'text'): a first pass
 * measures, a second one writes longer strings into the same structure.
 */
export function valueForSchema(
  schema: unknown,
  rngFor: (stream: 'structure' | 'text') => () => number,
  opts: { targetTokens?: number; countTokens: (text: string) => number },
): SizedValue {
  const root = (schema && typeof schema === 'object' ? schema : {}) as Schema;
  const run = (words: number) => {
    const ctx: Ctx = { root, rng: rngFor('structure'), text: rngFor('text'), words, freeStrings: 0, longest: '' };
    return { v: value(root, ctx, 0), ctx };
  };
  const baseWords = 4;
  const first = run(baseWords);
  const target = opts.targetTokens;
  if (!target || !first.ctx.freeStrings) return { value: first.v, marker: first.ctx.longest };
  const have = opts.countTokens(JSON.stringify(first.v));
  if (have >= target) return { value: first.v, marker: first.ctx.longest };
  const words = baseWords + Math.max(0, Math.floor((target - have) / first.ctx.freeStrings));
  const second = run(Math.min(words, 8192));
  return { value: second.v, marker: second.ctx.longest };
}
