// Seeded, keyed randomness. A draw is a pure function of (seed, scope, key) — never of call
// order — so every system that asks for the same logical thing gets the same number.
import { hash } from 'node:crypto';

/**
 * sfc32: small, fast, good-quality 32-bit PRNG; state from a SHA-256 of the key parts. One-shot
 * crypto.hash: the same digest as createHash().update().digest() without a Hash object per draw.
 */
export function keyedRng(...parts: (string | number)[]): () => number {
  const h = hash('sha256', parts.join('\u0000'), 'buffer');
  let a = h.readUInt32LE(0), b = h.readUInt32LE(4), c = h.readUInt32LE(8), d = h.readUInt32LE(12);
  return () => {
    a >>>= 0; b >>>= 0; c >>>= 0; d >>>= 0;
    const t = (a + b) | 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) | 0;
    c = (c << 21) | (c >>> 11);
    d = (d + 1) | 0;
    const r = (t + d) | 0;
    c = (c + r) | 0;
    return (r >>> 0) / 4294967296;
  };
}

export function shortHash(s: string, hexChars = 12): string {
  return hash('sha256', s, 'hex').slice(0, hexChars);
}

/** Standard normal by Box-Muller from two uniforms of `rng`. */
export function normal(rng: () => number): number {
  const u1 = Math.max(rng(), 1e-12);
  const u2 = rng();
  return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
}

export function exponential(rng: () => number, ratePerMs: number): number {
  return -Math.log(1 - rng()) / ratePerMs;
}

/** Fisher-Yates shuffle with a seeded rng (returns a copy). */
export function shuffled<T>(xs: readonly T[], rng: () => number): T[] {
  const out = xs.slice();
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(rng() * (i + 1));
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}
