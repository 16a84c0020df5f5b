// The dependency rule of the code base, checked from the imports themselves: top-level folders
// form layers and a module (tests aside) imports only from its own folder or a lower layer; no module is
// part of an import cycle; only brokers/kafka/ talks to the Kafka client library.
// `npx tsx scripts/layers.ts` prints every violation (exit 1) or a one-line OK.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, posix, relative } from 'node:path';
import { REPO_ROOT } from '../core/paths.ts';

/** Lower number = lower layer. Folders on one rank may not import each other. */
export const LAYERS: Record<string, number> = {
  core: 0,
  llm: 1,
  brokers: 1,
  workloads: 2,
  systems: 3,
  harness: 4,
  paper: 5,
  cli: 6,
  scripts: 6,
};

/** Third-party packages only one folder may import. */
export const OWNED_PACKAGES: Record<string, string> = {
  '@platformatic/kafka': 'brokers/kafka/',
  ws: 'brokers/pulsar/',
};

export interface ImportEdge {
  from: string;
  to: string;
}

const IMPORT = /(?:^|\n)\s*(?:import|export)\s[^'"]*?from\s*['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)|(?:^|\n)\s*import\s*['"]([^'"]+)['"]/g;

function sourceFiles(dir: string, out: string[] = []): string[] {
  for (const name of readdirSync(dir)) {
    if (name === 'node_modules' || name.startsWith('.')) continue;
    const p = join(dir, name);
    if (statSync(p).isDirectory()) sourceFiles(p, out);
    else if (/\.(ts|mts|mjs)$/.test(name)) out.push(p);
  }
  return out;
}

/** Every import of every source file under the layer folders (tests included), repo-relative. */
export function importGraph(root = REPO_ROOT): { files: string[]; edges: ImportEdge[]; packages: ImportEdge[] } {
  const files = Object.keys(LAYERS).flatMap((d) => {
    try {
      return sourceFiles(join(root, d));
    } catch {
      return [];
    }
  }).map((f) => relative(root, f).split('\\').join('/'));
  const edges: ImportEdge[] = [];
  const packages: ImportEdge[] = [];
  for (const f of files) {
    const text = readFileSync(join(root, f), 'utf8');
    for (const m of text.matchAll(IMPORT)) {
      const spec = m[1] ?? m[2] ?? m[3];
      if (!spec) continue;
      if (spec.startsWith('.')) edges.push({ from: f, to: posix.normalize(posix.join(posix.dirname(f), spec)) });
      else packages.push({ from: f, to: spec });
    }
  }
  return { files, edges, packages };
}

const layerOf = (f: string) => f.split('/')[0]!;
const isTest = (f: string) => /\.test\.ts$/.test(f);

/** Human-readable violations; empty when the tree obeys the rules. */
export function violations(root = REPO_ROOT): string[] {
  const { files, edges, packages } = importGraph(root);
  const out: string[] = [];
  // Tests may reach up: a system's test drives it through the harness the way a run does.
  for (const e of edges) {
    if (isTest(e.from)) continue;
    const a = layerOf(e.from), b = layerOf(e.to);
    if (a === b) continue;
    if (!(b in LAYERS)) continue;
    if (!(LAYERS[b]! < LAYERS[a]!)) out.push(`${e.from} imports ${e.to}: ${a} (layer ${LAYERS[a]}) may not depend on ${b} (layer ${LAYERS[b]})`);
  }
  for (const p of packages) {
    for (const [pkg, owner] of Object.entries(OWNED_PACKAGES)) {
      if ((p.to === pkg || p.to.startsWith(`${pkg}/`)) && !p.from.startsWith(owner)) out.push(`${p.from} imports ${pkg}: only ${owner} may`);
    }
  }
  // Cycles between files (Tarjan's strongly connected components), tests excluded: a test may
  // import its subject's neighbours freely.
  const known = new Set(files);
  const adj = new Map<string, string[]>();
  for (const e of edges) {
    if (isTest(e.from) || !known.has(e.to)) continue;
    let l = adj.get(e.from);
    if (!l) adj.set(e.from, (l = []));
    l.push(e.to);
  }
  let index = 0;
  const idx = new Map<string, number>(), low = new Map<string, number>(), stack: string[] = [], on = new Set<string>();
  const strong = (v: string) => {
    idx.set(v, index); low.set(v, index); index++;
    stack.push(v); on.add(v);
    for (const w of adj.get(v) ?? []) {
      if (!idx.has(w)) { strong(w); low.set(v, Math.min(low.get(v)!, low.get(w)!)); }
      else if (on.has(w)) low.set(v, Math.min(low.get(v)!, idx.get(w)!));
    }
    if (low.get(v) === idx.get(v)) {
      const comp: string[] = [];
      let w: string;
      do { w = stack.pop()!; on.delete(w); comp.push(w); } while (w !== v);
      if (comp.length > 1) out.push(`import cycle: ${comp.sort().join(' -> ')}`);
    }
  };
  for (const f of files) if (!idx.has(f)) strong(f);
  return out;
}

if (process.argv[1] && dirname(process.argv[1]).endsWith('scripts') && process.argv[1].endsWith('layers.ts')) {
  const v = violations();
  if (v.length) {
    for (const line of v) process.stderr.write(`${line}\n`);
    process.exit(1);
  }
  process.stdout.write(`layers ok: ${Object.entries(LAYERS).map(([k, r]) => `${k}=${r}`).join(' ')}\n`);
}
