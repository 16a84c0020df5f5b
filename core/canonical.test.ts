import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { canonicalJson, contentHash, multisetDigest, multisetHash, sortDigests, sortedHashesDigest, sortHexHashes } from './canonical.ts';
import { keyedRng } from './random.ts';

/** The array form canonicalJson had before it was rewritten for speed: the reference it must match. */
function reference(v: unknown): string {
  if (v === null || typeof v !== 'object') return JSON.stringify(v);
  if (Array.isArray(v)) return `[${v.map(reference).join(',')}]`;
  const o = v as Record<string, unknown>;
  return `{${Object.keys(o)
    .filter((k) => o[k] !== undefined)
    .sort()
    .map((k) => `${JSON.stringify(k)}:${reference(o[k])}`)
    .join(',')}}`;
}

function randomValue(rng: () => number, depth: number): unknown {
  const r = rng();
  if (depth > 3 || r < 0.3) {
    const leaves = [null, undefined, true, false, 0, -0, 1e21, -3.5e-7, Number.NaN, 'plain', 'quote " and \\ and \n', 'é ü 😀', '\ud800 lone', '', () => 1];
    return leaves[Math.floor(rng() * leaves.length)];
  }
  if (r < 0.6) return Array.from({ length: Math.floor(rng() * 4) }, () => randomValue(rng, depth + 1));
  const o: Record<string, unknown> = {};
  for (let i = Math.floor(rng() * 5); i > 0; i--) o[['b', 'a', 'Z', '10', '2', 'é', 'a b', '"q"'][Math.floor(rng() * 8)]!] = randomValue(rng, depth + 1);
  return o;
}

describe('canonicalJson', () => {
  it('is byte for byte the array form it replaced, on 5000 awkward values (cell ids and stored hashes depend on it)', () => {
    const rng = keyedRng('canonical');
    for (let i = 0; i < 5000; i++) {
      const v = randomValue(rng, 0);
      expect(canonicalJson(v)).toBe(reference(v));
    }
    const sparse = [1, 2, 3];
    delete sparse[1];
    expect(canonicalJson(sparse)).toBe(reference(sparse));
    expect(canonicalJson({ b: 1, a: [undefined, null], c: undefined })).toBe('{"a":[,null],"b":1}');
  });

  it('content hashes are sha256 of the canonical JSON of type, key, correlation id and payload', () => {
    const rng = keyedRng('content');
    for (let i = 0; i < 500; i++) {
      const a = { type: `T${i % 3}`, key: `k"${i}`, correlationId: `c\n${i}`, payload: randomValue(rng, 1) as Record<string, unknown> };
      expect(contentHash(a)).toBe(createHash('sha256').update(reference({ type: a.type, key: a.key, correlationId: a.correlationId, payload: a.payload })).digest('hex'));
    }
  });
});

describe('sortHexHashes', () => {
  const hex = (i: number) => createHash('sha256').update(`h${i}`).digest('hex');
  it('orders as sort() does, ties on the 32-bit prefix and duplicates included', () => {
    const hs = Array.from({ length: 5000 }, (_, i) => hex(i));
    // Same first 8 hex digits, different tails; and exact duplicates.
    for (let i = 0; i < 50; i++) hs.push(`${hs[i]!.slice(0, 8)}${hex(i + 9000).slice(8)}`, hs[i + 100]!);
    expect(sortHexHashes(hs.slice())).toEqual(hs.slice().sort());
  });
  it('falls back to sort() for anything but 64-digit lowercase hex, and for few hashes', () => {
    const hs = Array.from({ length: 200 }, (_, i) => hex(i));
    hs[7] = 'ZZ';
    expect(sortHexHashes(hs.slice())).toEqual(hs.slice().sort());
    expect(sortHexHashes(['b', 'a'])).toEqual(['a', 'b']);
  });
});

describe('multisetDigest', () => {
  const artifacts = Array.from({ length: 5000 }, (_, i) => ({
    type: i % 7 === 0 ? 'WorkflowError' : i % 2 ? 'Out' : 'In', key: `k-${i % 4000}`, correlationId: `c-${i % 13}`,
    payload: i % 11 === 0 ? undefined : { text: `t${i % 4000}`, n: i % 4000, nested: { z: [i % 3], a: 'x' } },
  }));

  it('is the digest of the sorted hex hashes, duplicates and a filter included, without keeping them', () => {
    const keep = (a: { type: string }) => a.type !== 'In';
    expect(multisetDigest(artifacts, keep)).toBe(sortedHashesDigest(multisetHash(artifacts.filter(keep))));
    expect(multisetDigest(artifacts)).toBe(sortedHashesDigest(multisetHash(artifacts)));
    expect(multisetDigest([])).toBe(sortedHashesDigest([]));
    // The joined form it stands for, spelled out once.
    const few = artifacts.slice(0, 3);
    expect(multisetDigest(few)).toBe(createHash('sha256').update(multisetHash(few).join('\n')).digest('hex'));
  });

  it('orders digests that share their first four bytes by the rest, as the hex strings sort', () => {
    const hexes = ['00000000ff', '00000000aa', 'ffffffff00', '0000000001', '00000001ff', '00000000aa'].map((h) => h.padEnd(64, '0'));
    // 64+ entries take the packed path; the six above repeat among random ones.
    const all = [...hexes, ...Array.from({ length: 100 }, (_, i) => createHash('sha256').update(String(i)).digest('hex')), ...hexes];
    const buf = Buffer.from(all.join(''), 'hex');
    const order = sortDigests(buf, all.length);
    expect(Array.from(order, (i) => all[i])).toEqual([...all].sort());
  });
});
