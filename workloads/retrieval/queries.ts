// Seeded known-item queries over a corpus: query i picks a chunk (keyed draw) and takes its
// `terms` highest-TF-IDF content words (>= 4 letters, not a stopword, in >= 5 chunks and in
// <= 5% of them), in the order they first occur, e.g. "parcel post cuba parcels". Each query
// carries the chunk it came from, so recall@k of the retriever can be checked. Terms are
// tokenized the way the index tokenizes (minisearch's tokenizer), and a query is only kept if
// some term occurs in >= `minHits` chunks, so an OR search returns at least that many; else the
// next keyed draw is tried. Query i depends on (corpus, terms, minHits, i) only.
import { keyedRng } from '../../core/random.ts';
import type { Chunk } from './corpus.ts';
import { tokenize } from './search.ts';

export interface Query {
  text: string;
  sourceId: string;
}

const STOP = new Set(`a about above after again against all also am an and any are as at be because been before
being below between both but by can could did do does doing down during each few for from further had has have
having he her here hers herself him himself his how i if in into is it its itself just me more most my myself no
nor not now of off on once only or other our ours ourselves out over own same shall she should so some such than
that the their theirs them themselves then there these they this those through to too under until up upon very
was we were what when where which while who whom why will with would you your yours yourself yourselves may must
might many much every within without among hereafter therefore however thus hence whereas whether
year years time made make great government united states congress people country public present`.split(/\s+/));

const dfCache = new WeakMap<readonly Chunk[], Map<string, number>>();

/** Document frequency of every term over the corpus (cached per corpus array). */
function documentFrequency(chunks: readonly Chunk[]): Map<string, number> {
  let df = dfCache.get(chunks);
  if (!df) {
    df = new Map();
    for (const c of chunks) for (const t of new Set(tokenize(c.text))) df.set(t, (df.get(t) ?? 0) + 1);
    dfCache.set(chunks, df);
  }
  return df;
}

export function makeQueries(chunks: readonly Chunk[], o: { n: number; terms?: number; minHits?: number }): Query[] {
  const terms = o.terms ?? 4;
  const minHits = o.minHits ?? 1;
  const df = documentFrequency(chunks);
  const N = chunks.length;
  const out: Query[] = [];
  for (let i = 0; i < o.n; i++) {
    const rng = keyedRng('sotu-query', terms, minHits, i);
    for (let attempt = 0; ; attempt++) {
      if (attempt > 1000) throw new Error(`query ${i}: no chunk of this corpus yields ${terms} terms with >= ${minHits} hits`);
      const c = chunks[Math.floor(rng() * N)]!;
      const toks = tokenize(c.text);
      const tf = new Map<string, number>();
      for (const t of toks) {
        const d = df.get(t)!;
        if (t.length >= 4 && /^[a-z]+$/.test(t) && !STOP.has(t) && d >= 5 && d <= 0.05 * N) tf.set(t, (tf.get(t) ?? 0) + 1);
      }
      const chosen = [...tf]
        .map(([t, f]) => [t, f * Math.log(N / df.get(t)!)] as const)
        .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
        .slice(0, terms)
        .map(([t]) => t);
      if (!chosen.length || Math.max(...chosen.map((t) => df.get(t)!)) < minHits) continue;
      const first = new Map<string, number>();
      toks.forEach((t, j) => { if (!first.has(t)) first.set(t, j); });
      out.push({ text: chosen.sort((a, b) => first.get(a)! - first.get(b)!).join(' '), sourceId: c.id });
      break;
    }
  }
  return out;
}
