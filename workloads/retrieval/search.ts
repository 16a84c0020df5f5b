// BM25 search over the shipped corpus with minisearch 7.2.0 (MIT; BM25+ scoring, k1 1.2, b 0.7,
// d 0.5). One index per corpus configuration and process, built before a run's measured window
// (tools' prepare) and cached; the serialized index is also cached on disk under .cache/, since
// every isolated run is a fresh process (building 11,008 chunks costs ~5-7 s of CPU, loading the
// serialized index ~1 s). Queries run synchronously: their CPU is spent where the agent runs.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import MiniSearch from 'minisearch';
import { REPO_ROOT } from '../../core/paths.ts';
import { corpus, SOTU_DIR, type Chunk, type CorpusParams } from './corpus.ts';

export const MINISEARCH_VERSION: string = (() => {
  try {
    return String(JSON.parse(readFileSync(join(REPO_ROOT, 'node_modules', 'minisearch', 'package.json'), 'utf8')).version);
  } catch {
    return 'unknown';
  }
})();

const OPTIONS = { fields: ['text'], idField: 'id' } as const;

/** minisearch's own tokenizer and term processing, so query terms are chosen the way the index sees them. */
export function tokenize(text: string): string[] {
  const split = MiniSearch.getDefault('tokenize') as (t: string, f?: string) => string[];
  return split(text, 'text').map((t) => t.toLowerCase()).filter((t) => t.length > 0);
}

export interface SearchIndex {
  params: CorpusParams;
  chunks: Chunk[];
  byId: Map<string, Chunk>;
  search: MiniSearch<Chunk>;
  /** How the index came to be in this process, and what it cost (wall ms, CPU ms). */
  build: { source: 'built' | 'disk-cache'; wallMs: number; cpuMs: number; chunks: number };
}

export interface Hit {
  chunk: Chunk;
  score: number;
}

const indexes = new Map<string, SearchIndex>();

function cachePath(p: CorpusParams): string {
  const manifest = readFileSync(join(SOTU_DIR, 'MANIFEST.json'), 'utf8');
  const tag = createHash('sha256').update(`${manifest}\0${MINISEARCH_VERSION}\0${JSON.stringify(OPTIONS)}`).digest('hex').slice(0, 12);
  return join(REPO_ROOT, '.cache', 'minisearch', `sotu-${tag}-n${p.chunks}-w${p.chunkWords}.json`);
}

/** The index of a corpus configuration: from this process's cache, the disk cache, or built now. */
export function searchIndex(p: CorpusParams): SearchIndex {
  const key = `${p.chunks}:${p.chunkWords}`;
  const hit = indexes.get(key);
  if (hit) return hit;
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  const chunks = corpus(p);
  const path = cachePath({ chunks: chunks.length, chunkWords: p.chunkWords });
  let search: MiniSearch<Chunk> | undefined;
  let source: SearchIndex['build']['source'] = 'disk-cache';
  if (existsSync(path)) {
    try {
      search = MiniSearch.loadJSON<Chunk>(readFileSync(path, 'utf8'), OPTIONS as unknown as ConstructorParameters<typeof MiniSearch<Chunk>>[0]);
      if (search.documentCount !== chunks.length) search = undefined;
    } catch {
      search = undefined; // a torn or stale file: rebuild
    }
  }
  if (!search) {
    source = 'built';
    search = new MiniSearch<Chunk>({ ...OPTIONS, fields: [...OPTIONS.fields] });
    search.addAll(chunks);
    try {
      mkdirSync(join(REPO_ROOT, '.cache', 'minisearch'), { recursive: true });
      const tmp = `${path}.${process.pid}.tmp`;
      writeFileSync(tmp, JSON.stringify(search));
      renameSync(tmp, path); // atomic: a concurrent reader sees the old file or the whole new one
    } catch {
      /* a read-only checkout: keep the in-memory index */
    }
  }
  const cpu = process.cpuUsage(c0);
  const idx: SearchIndex = {
    params: p,
    chunks,
    byId: new Map(chunks.map((c) => [c.id, c])),
    search,
    build: { source, wallMs: performance.now() - t0, cpuMs: (cpu.user + cpu.system) / 1000, chunks: chunks.length },
  };
  indexes.set(key, idx);
  return idx;
}

/** The top k chunks for a query (BM25+, terms OR-combined), ties broken by chunk id so every run agrees. */
export function topK(idx: SearchIndex, query: string, k: number): Hit[] {
  const results = idx.search.search(query, { combineWith: 'OR' });
  results.sort((a, b) => b.score - a.score || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  return results.slice(0, k).map((r) => ({ chunk: idx.byId.get(r.id as string)!, score: r.score }));
}
