import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import MiniSearch from 'minisearch';
import { describe, expect, it } from 'vitest';
import { makeArtifact } from '../execute.ts';
import { runTool } from '../tools.ts';
import { availableChunks, corpus, rechunk, shippedChunks, SOTU_DIR, SOTU_FILE } from './corpus.ts';
import { makeQueries } from './queries.ts';
import { searchIndex, topK } from './search.ts';

describe('the shipped corpus', () => {
  it('is the file its manifest describes, with its license and attribution beside it', () => {
    const manifest = JSON.parse(readFileSync(`${SOTU_DIR}/MANIFEST.json`, 'utf8'));
    expect(createHash('sha256').update(readFileSync(SOTU_FILE)).digest('hex')).toBe(manifest.sha256);
    const all = shippedChunks();
    expect(all).toHaveLength(manifest.chunks);
    expect(new Set(all.map((c) => c.id)).size).toBe(all.length);
    expect(new Set(all.map((c) => c.doc)).size).toBe(manifest.documents);
    expect(readFileSync(`${SOTU_DIR}/LICENSE-sotu.txt`, 'utf8')).toMatch(/Public Domain Dedication/);
    expect(existsSync(`${SOTU_DIR}/ATTRIBUTION.md`)).toBe(true);
  });

  it('a corpus size is an even spread over every era, the same every time', () => {
    const c = corpus({ chunks: 1000, chunkWords: 150 });
    expect(c).toHaveLength(1000);
    expect(c).toBe(corpus({ chunks: 1000, chunkWords: 150 }));
    const years = c.map((x) => x.year);
    expect(Math.min(...years)).toBe(1790);
    expect(Math.max(...years)).toBeGreaterThanOrEqual(2020);
    expect(corpus({ chunks: 1e9, chunkWords: 150 })).toHaveLength(shippedChunks().length);
  });

  it('re-chunks the addresses at another chunk size without losing a word', () => {
    const doc = shippedChunks().filter((c) => c.doc === shippedChunks()[0]!.doc);
    const big = rechunk(doc, 300);
    const small = rechunk(doc, 60);
    const words = (cs: { words: number }[]) => cs.reduce((n, c) => n + c.words, 0);
    expect(words(big)).toBe(words(doc));
    expect(words(small)).toBe(words(doc));
    expect(big.length).toBeLessThan(doc.length);
    expect(small.length).toBeGreaterThan(doc.length);
    expect(Math.max(...small.map((c) => c.words))).toBeLessThanOrEqual(Math.round(60 * 4 / 3) + 20);
    expect(availableChunks(300)).toBeLessThan(availableChunks(150));
  });
});

describe('queries and BM25 search', () => {
  const c = corpus({ chunks: 1000, chunkWords: 150 });

  it('queries are keyed: query i is the same whatever n, and every one can fill k hits', () => {
    const a = makeQueries(c, { n: 40, minHits: 8 });
    expect(makeQueries(c, { n: 10, minHits: 8 })).toEqual(a.slice(0, 10));
    expect(new Set(a.map((q) => q.text)).size).toBeGreaterThan(35);
    for (const q of a) expect(q.text.split(' ').length).toBeGreaterThanOrEqual(1);
  });

  it('finds the chunk a known-item query came from, ranks deterministically, and the disk cache loads the same index', () => {
    const params = { chunks: 1000, chunkWords: 150 };
    const idx = searchIndex(params);
    expect(idx.build.chunks).toBe(1000);
    const qs = makeQueries(c, { n: 200, minHits: 8 });
    const hits = qs.map((q) => topK(idx, q.text, 8));
    expect(hits.every((h) => h.length === 8)).toBe(true);
    const recall = qs.filter((q, i) => hits[i]!.some((h) => h.chunk.id === q.sourceId)).length / qs.length;
    expect(recall).toBeGreaterThan(0.95);
    for (const h of hits) for (let i = 1; i < h.length; i++) expect(h[i - 1]!.score).toBeGreaterThanOrEqual(h[i]!.score);
    // A fresh process would load the index written to .cache/: same documents, same ranking.
    const reloaded = MiniSearch.loadJSON(JSON.stringify(idx.search), { fields: ['text'], idField: 'id' });
    const again = { ...idx, search: reloaded };
    qs.forEach((q, i) => { expect(topK(again, q.text, 8).map((h) => [h.chunk.id, h.score])).toEqual(hits[i]!.map((h) => [h.chunk.id, h.score])); });
  });

  it('the bm25-search tool: one query in, k ranked passages out, keyed by rank and chunk', () => {
    const [q] = makeQueries(c, { n: 1, minHits: 5 });
    const query = makeArtifact({ key: 'query-0', type: 'Query', payload: { query: q!.text, source_id: q!.sourceId }, producedBy: 'external', correlationId: 'query-0' }, 0);
    const out = runTool({ name: 'bm25-search', args: { chunks: 1000, chunkWords: 150, k: 5 } }, [query]);
    expect(out).toHaveLength(5);
    expect(out.map((o) => o.payload.rank)).toEqual([0, 1, 2, 3, 4]);
    expect(out[0]!.suffix).toBe(`00:${out[0]!.payload.chunk_id}`);
    expect(out.every((o) => o.payload.query === q!.text && typeof o.payload.text === 'string')).toBe(true);
    expect(runTool({ name: 'bm25-search', args: { chunks: 1000, chunkWords: 150, k: 5 } }, [query])).toEqual(out);
    const nonsense = { ...query, payload: { query: 'qqqzzz xxyyzz', source_id: 'none' } };
    expect(() => runTool({ name: 'bm25-search', args: { chunks: 1000, chunkWords: 150, k: 5 } }, [nonsense])).toThrow(/matched 0 chunks, fewer than k = 5/);
    expect(() => runTool({ name: 'nope', args: {} }, [query])).toThrow(/unknown tool 'nope'/);
  });
});
