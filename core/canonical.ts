// Canonical JSON and content hashes: how conformance compares the outputs of different systems.
import { createHash } from 'node:crypto';

export function canonicalJson(v: unknown): string {
  if (v === null || typeof v !== 'object') return JSON.stringify(v);
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(',')}]`;
  const o = v as Record<string, unknown>;
  return `{${Object.keys(o)
    .filter((k) => o[k] !== undefined)
    .sort()
    .map((k) => `${JSON.stringify(k)}:${canonicalJson(o[k])}`)
    .join(',')}}`;
}

/** Hash of what an artifact says (type, logical key, correlation, payload) — not of run ids or times. */
export function contentHash(a: { type: string; key: string; correlationId: string; payload: unknown }): string {
  return createHash('sha256')
    .update(canonicalJson({ type: a.type, key: a.key, correlationId: a.correlationId, payload: a.payload }))
    .digest('hex');
}

/** Sorted content hashes: equal arrays <=> equal multisets of artifacts. */
export function multisetHash(artifacts: Iterable<{ type: string; key: string; correlationId: string; payload: unknown }>): string[] {
  return [...artifacts].map(contentHash).sort();
}
