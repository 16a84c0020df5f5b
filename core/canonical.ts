// Canonical JSON and content hashes: how conformance compares the outputs of different systems.
import { hash } from 'node:crypto';

/**
 * JSON with object keys sorted (UTF-16 order) and undefined-valued keys dropped. Built with one
 * string per level instead of filter/sort/map/join arrays: it runs on every final artifact of a
 * run (1M at the largest scale). The output is the same, byte for byte, as the array form it
 * replaced (a test checks both on awkward values): cell ids and stored hashes depend on it.
 */
export function canonicalJson(v: unknown): string {
  if (v === null || typeof v !== 'object') return JSON.stringify(v);
  if (Array.isArray(v)) {
    let s = '[';
    for (let i = 0; i < v.length; i++) {
      if (i) s += ',';
      // Array.join rendered an element with no JSON form (undefined, a function) as nothing.
      const x = canonicalJson(v[i]);
      if (x !== undefined) s += x;
    }
    return `${s}]`;
  }
  const o = v as Record<string, unknown>;
  const keys = Object.keys(o).sort();
  let s = '{';
  let first = true;
  for (const k of keys) {
    const x = o[k];
    if (x === undefined) continue;
    if (!first) s += ',';
    first = false;
    // A function value renders as `undefined`, as the template literal it replaced did.
    s += `${JSON.stringify(k)}:${canonicalJson(x)}`;
  }
  return `${s}}`;
}

/** Hash of what an artifact says (type, logical key, correlation, payload) — not of run ids or times. */
export function contentHash(a: { type: string; key: string; correlationId: string; payload: unknown }): string {
  return hash('sha256', canonicalJson({ type: a.type, key: a.key, correlationId: a.correlationId, payload: a.payload }), 'hex');
}

/** Sorted content hashes: equal arrays <=> equal multisets of artifacts. */
export function multisetHash(artifacts: Iterable<{ type: string; key: string; correlationId: string; payload: unknown }>): string[] {
  return [...artifacts].map(contentHash).sort();
}
