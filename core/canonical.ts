// Canonical JSON and content hashes: how conformance compares the outputs of different systems.
import { createHash, hash } from 'node:crypto';

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
  const keys = sortedKeys(o);
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

/**
 * Object.keys(o).sort(): by insertion for the few keys a payload has (Array.prototype.sort
 * allocates ~800 bytes of work space a call, and this runs once per object hashed); the same
 * order, UTF-16 code units, as the default sort.
 */
function sortedKeys(o: Record<string, unknown>): string[] {
  const keys = Object.keys(o);
  if (keys.length > 16) return keys.sort();
  for (let i = 1; i < keys.length; i++) {
    const k = keys[i]!;
    let j = i - 1;
    while (j >= 0 && keys[j]! > k) {
      keys[j + 1] = keys[j]!;
      j--;
    }
    keys[j + 1] = k;
  }
  return keys;
}

/** Hash of what an artifact says (type, logical key, correlation, payload) — not of run ids or times. */
export function contentHash(a: { type: string; key: string; correlationId: string; payload: unknown }): string {
  // canonicalJson({ type, key, correlationId, payload }) written out in its sorted key order.
  const payload = a.payload === undefined ? '' : `,"payload":${canonicalJson(a.payload)}`;
  return hash('sha256', `{"correlationId":${JSON.stringify(a.correlationId)},"key":${JSON.stringify(a.key)}${payload},"type":${JSON.stringify(a.type)}}`, 'hex');
}

/** sha256 over the sorted content hashes joined by newlines, without building the joined string. */
export function sortedHashesDigest(sortedHashes: readonly string[]): string {
  const h = createHash('sha256');
  for (let i = 0; i < sortedHashes.length; i++) h.update(i ? `\n${sortedHashes[i]}` : sortedHashes[i]!);
  return h.digest('hex');
}

/**
 * sortedHashesDigest(multisetHash(artifacts)), without keeping a string per artifact: the
 * digests go into one buffer, 32 bytes each, and are sorted there (byte order is the hex
 * strings' order). What a run keeps of its final artifacts when it keeps no objects: 1M hex
 * strings were ~100 MB on top of the run's artifacts, and the moment they were built was the
 * run process's peak.
 */
export function multisetDigest(artifacts: readonly { type: string; key: string; correlationId: string; payload: unknown }[], include: (a: { type: string }) => boolean = () => true): string {
  let n = 0;
  for (const a of artifacts) if (include(a)) n++;
  const buf = Buffer.allocUnsafe(32 * n);
  let i = 0;
  // Each hex string is young garbage at once (a Buffer per digest was slower to make than to parse the hex).
  for (const a of artifacts) if (include(a)) buf.write(contentHash(a), 32 * i++, 32, 'hex');
  const order = sortDigests(buf, n);
  const h = createHash('sha256');
  for (let j = 0; j < n; j++) {
    const at = 32 * order[j]!;
    h.update(j ? `\n${buf.toString('hex', at, at + 32)}` : buf.toString('hex', at, at + 32));
  }
  return h.digest('hex');
}

/**
 * The order of n 32-byte digests in `buf`, ascending by bytes: each one's first 4 bytes above
 * its index in a double, sorted natively, ties on those bytes by the whole digest (n > 2^21: a comparison sort).
 */
export function sortDigests(buf: Buffer, n: number): Uint32Array {
  const cmp = (x: number, y: number) => buf.compare(buf, 32 * y, 32 * y + 32, 32 * x, 32 * x + 32);
  if (n > 2 ** INDEX_BITS) return Uint32Array.from({ length: n }, (_, i) => i).sort(cmp);
  const scale = 2 ** INDEX_BITS;
  const keys = new Float64Array(n);
  for (let i = 0; i < n; i++) keys[i] = buf.readUInt32BE(32 * i) * scale + i;
  keys.sort();
  const order = new Uint32Array(n);
  for (let j = 0; j < n;) {
    const prefix = Math.floor(keys[j]! / scale);
    let e = j + 1;
    while (e < n && Math.floor(keys[e]! / scale) === prefix) e++;
    if (e - j === 1) order[j] = keys[j]! % scale;
    else {
      const tie = Array.from({ length: e - j }, (_, m) => keys[j + m]! % scale).sort(cmp);
      for (let m = j; m < e; m++) order[m] = tie[m - j]!;
    }
    j = e;
  }
  return order;
}

/** Sorted content hashes: equal arrays <=> equal multisets of artifacts. */
export function multisetHash(artifacts: Iterable<{ type: string; key: string; correlationId: string; payload: unknown }>): string[] {
  const hashes: string[] = [];
  for (const a of artifacts) hashes.push(contentHash(a));
  return sortHexHashes(hashes);
}

const HEX64 = /^[0-9a-f]{64}$/;
/** Index bits of a packed sort key: a 32-bit prefix and the index share a double's 53 exact bits. */
const INDEX_BITS = 21;

/**
 * `hashes.sort()` for lowercase hex digests, in place and returned. The default string sort took
 * ~1.5 us a comparison, 15 s for a 1M-task run's final hashes; here each hash becomes one
 * double, its first 32 bits above its index, sorted natively (sortDigests); hashes that share
 * those 32 bits (a few per million) are ordered by the whole digest. Same order as sort() (equal-length hex:
 * code-unit order is numeric order); anything else, or more than 2^21 hashes, takes sort().
 */
export function sortHexHashes(hashes: string[]): string[] {
  const n = hashes.length;
  if (n < 64 || n > 2 ** INDEX_BITS) return hashes.sort();
  // Their bytes in one buffer, ordered by sortDigests (byte order is the hex strings' order).
  const buf = Buffer.allocUnsafe(32 * n);
  for (let i = 0; i < n; i++) {
    const h = hashes[i]!;
    if (!HEX64.test(h)) return hashes.sort();
    buf.write(h, 32 * i, 32, 'hex');
  }
  const order = sortDigests(buf, n);
  const src = hashes.slice();
  for (let j = 0; j < n; j++) hashes[j] = src[order[j]!]!;
  return hashes;
}
