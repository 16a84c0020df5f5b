import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { canonicalJson } from '../core/canonical.ts';
import { keyedRng } from '../core/random.ts';
import { map } from '../workloads/map.ts';
import { reviewAnalysis } from '../workloads/review-analysis.ts';
import { drawLatency } from './draw.ts';
import { responseContent } from './simulator.ts';

// Paired runs and every stored result depend on draws being a pure function of (seed, identity):
// a faster hash or generator must reproduce them bit for bit.
describe('keyed draws are stable', () => {
  it('keyedRng matches the createHash reference stream for a sample of keys', () => {
    const reference = (...parts: (string | number)[]) => {
      const h = createHash('sha256').update(parts.join('\u0000')).digest();
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
    };
    for (let i = 0; i < 2000; i++) {
      const key = [i % 7, i % 2 ? 'llm' : 'content', 'gpt-4.1-mini', `worker${i % 3}(task-${i})`, 'ü\u0000x'];
      const got = keyedRng(...key), want = reference(...key);
      for (let k = 0; k < 6; k++) expect(got()).toBe(want());
    }
  });

  it('latency draws and response contents of 960 (seed, model, tail, identity) are those of the reference commit', () => {
    // Digest of the same lines computed at commit 1fe9856, with createHash, before the hot-path
    // changes (the simulator changes since the first reference, 350f942, moved the draws).
    const schemas = [...map({}).types, ...reviewAnalysis({}).types].map((t) => t.schema);
    const h = createHash('sha256');
    for (const seed of [1, 42, 1_000_003]) {
      for (const model of ['gpt-4o-mini', 'gpt-4.1-mini', 'gpt-4.1', 'claude-sonnet-4.x']) {
        for (const tail of ['calibrated', 'light'] as const) {
          for (let i = 0; i < 40; i++) {
            const identity = i % 3 ? `worker1(task-${i})` : `editor(batch:${i}x8)`;
            const d = drawLatency({ seed, tail }, { model, identity, outputTokens: 100 + i });
            const content = responseContent(seed, { identity, schema: schemas[i % schemas.length] });
            h.update(`${seed}|${model}|${tail}|${identity}|${d.ttftMs}|${d.tokensOut}|${d.totalMs}|${canonicalJson(content)}\n`);
          }
        }
      }
    }
    expect(h.digest('hex')).toBe('76274aad5835273fb2f85c9434cf5fdd50cbf24191c25b673a9868d46d0c6c12');
  });
});
