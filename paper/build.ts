// `flockbench paper`: regenerate paper/paper.md from the results DB. The text lives in
// paper/paper.template.md; every number in the output comes from a placeholder filled here from a
// query (or from the code that defines a method constant), never typed into the template.
// `--check` recomputes the verdicts of one matrix and compares them with paper/verdicts.json.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { UserError } from '../core/errors.ts';
import type { ResultsDb } from '../harness/results/db.ts';
import { openReadOnly } from '../harness/notebook.ts';
import { MODELS, PRICES_AS_OF } from '../llm/profiles.ts';
import { writeFigures, type FigureOutcome } from './figures.ts';
import {
  BOOTSTRAP_RESAMPLES, CI_LEVEL, EQUIVALENCE_BAND, H2_PARTITIONS, IDEAL_REPS, MIN_REPS, NEAR_LINEAR, ROBUST_MARGIN, RULES,
  checkVerdicts, computeVerdicts, toRecord, type CheckOutcome, type HypothesisResult, type VerdictRecordFile,
} from './verdicts.ts';

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = join(HERE, '..');
export const DEFAULT_TEMPLATE = join(HERE, 'paper.template.md');
export const DEFAULT_VERDICTS = join(HERE, 'verdicts.json');

// ---------------------------------------------------------------- formatting

const num = (x: number, d = 2) => (Number.isFinite(x) ? x.toFixed(d) : 'n/a');
/** 3 significant digits for ratios, whole ms for times. */
const sig = (x: number) => (Number.isFinite(x) ? (Math.abs(x) >= 100 ? x.toFixed(0) : x.toPrecision(3)) : 'n/a');
const ci = (c: [number, number]) => `[${sig(c[0])}, ${sig(c[1])}]`;

function mdTable(head: string[], rows: string[][]): string {
  if (!rows.length) return '_(no rows)_';
  const esc = (s: string) => s.replace(/\|/g, '\\|');
  return [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`, ...rows.map((r) => `| ${r.map(esc).join(' | ')} |`)].join('\n');
}

/** The leading `//` comment block of a source file (the module's own description). */
export function headerComment(path: string): string {
  const out: string[] = [];
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    if (!line.startsWith('//')) break;
    out.push(line.replace(/^\/\/ ?/, ''));
  }
  return out.join('\n').trim();
}

// ---------------------------------------------------------------- placeholder values

export type Values = Record<string, string>;

function verdictTable(rs: HypothesisResult[]): string {
  return mdTable(['hypothesis', 'verdict', 'configurations', 'claim'], rs.map((r) => [r.hypothesis, `**${r.verdict}**`, r.reason.replace(/^\d+ configuration\(s\): /, ''), r.claim]));
}

function verdictDetails(rs: HypothesisResult[]): string {
  const out: string[] = [];
  for (const r of rs) {
    out.push(`#### ${r.hypothesis}: ${r.verdict}`, '');
    if (!r.evidence.length) { out.push('_No runs to decide on._', ''); continue; }
    out.push(mdTable(
      ['matrix', 'configuration', 'tail', 'ratio', '95% CI', 'n (num, den)', 'verdict', 'why', 'checked in CI'],
      r.evidence.map((e) => {
        const ev = e.evidence[0];
        return [e.scope.matrix, e.scope.label, e.scope.tail, sig(ev.estimate), ci(ev.ci), `${ev.n.num}, ${ev.n.den}`, e.verdict, e.reason, e.robust ? 'yes' : 'no'];
      }),
    ), '');
  }
  return out.join('\n').trim();
}

interface CountRow { matrix: string; runs: number; first: string; last: string }
interface EnvRow { node: string; platform: string; cpu: string; cores: number; mem_gb: number; git_sha: string; git_dirty: string; runs: number }
interface BenchPivot { case_name: string; system: string; per_event_us: number; ratio: number | null }

export async function placeholderValues(db: ResultsDb, rs: HypothesisResult[], figs: FigureOutcome[], dbPath: string): Promise<Values> {
  const v: Values = {};
  const counts = (await db.query<CountRow>(
    `SELECT matrix, count(*)::INTEGER AS runs, CAST(min(started_at) AS VARCHAR) AS first, CAST(max(started_at) AS VARCHAR) AS last
       FROM runs WHERE state = 'completed' GROUP BY matrix ORDER BY matrix`)).map((r) => ({ ...r, runs: Number(r.runs) }));
  // Reps per configuration: runs per (matrix, system, workload params, cell params, tail, scale).
  const reps = (await db.query<{ matrix: string; min_reps: number; max_reps: number }>(
    `WITH c AS (SELECT matrix, system, CAST(workload_params AS VARCHAR) AS wp, CAST(system_params AS VARCHAR) AS sp,
                       tail, latency_scale, count(*) AS reps FROM run_configs GROUP BY ALL)
     SELECT matrix, min(reps)::INTEGER AS min_reps, max(reps)::INTEGER AS max_reps FROM c GROUP BY matrix ORDER BY matrix`));
  const repsOf = new Map(reps.map((r) => [r.matrix, r]));
  v.db_path = dbPath;
  v.runs_total = String(counts.reduce((a, r) => a + r.runs, 0));
  v.matrices_table = mdTable(['matrix', 'runs', 'reps per configuration', 'first run', 'last run'],
    counts.map((r) => [r.matrix, String(r.runs), `${repsOf.get(r.matrix)?.min_reps}-${repsOf.get(r.matrix)?.max_reps}`, r.first?.slice(0, 19) ?? '', r.last?.slice(0, 19) ?? '']));
  v.data_through = counts.map((r) => r.last).sort().pop()?.slice(0, 19) ?? 'n/a';

  // Verdicts and rules.
  v.verdict_table = verdictTable(rs);
  v.verdict_details = verdictDetails(rs);
  v.rule_h1 = RULES.H1;
  v.rule_h1b = RULES.H1b;
  v.rule_h2 = RULES.H2;
  v.rule_h3 = RULES.H3;
  v.rule_aggregate = RULES.aggregate;
  v.min_reps = String(MIN_REPS);
  v.ideal_reps = String(IDEAL_REPS);
  v.ci_level_pct = String(CI_LEVEL * 100);
  v.resamples = String(BOOTSTRAP_RESAMPLES);
  v.band = `[${EQUIVALENCE_BAND.join(', ')}]`;
  v.near_linear = String(NEAR_LINEAR);
  v.h2_partitions = H2_PARTITIONS.join(' and ');
  v.robust_margin_pct = String(ROBUST_MARGIN * 100);
  const verdictOf = (h: string) => rs.find((r) => r.hypothesis === h)?.verdict ?? 'no data';
  v.verdict_h1_stepwise = verdictOf('H1 langgraph-stepwise');
  v.verdict_h1_parallel = verdictOf('H1 langgraph-parallel');
  v.verdict_h1b = verdictOf('H1b');
  v.verdict_h2_alo = verdictOf('H2 at-least-once');
  v.verdict_h2_eos = verdictOf('H2 exactly-once');
  v.verdict_h3 = verdictOf('H3');

  // Headline sentence: the quick matrix's ratios.
  const quick = (h: string) => rs.find((r) => r.hypothesis === h)?.evidence.find((e) => e.scope.matrix === 'quick');
  const qs = quick('H1 langgraph-stepwise'), qp = quick('H1 langgraph-parallel'), qe = quick('H1b');
  v.headline = qs || qp || qe
    ? `On the headline configuration (matrix quick, ${(qs ?? qp ?? qe)!.scope.label}, ${(qs ?? qp ?? qe)!.scope.tail} tail), blackboard-deferred's median makespan was `
      + `${sig((qs ?? qp ?? qe)!.evidence[0].median.den)} ms; langgraph-stepwise took ${qs ? `${sig(qs.evidence[0].estimate)}x as long (95% CI ${ci(qs.evidence[0].ci)})` : 'n/a'}, `
      + `langgraph-parallel ${qp ? `${sig(qp.evidence[0].estimate)}x (${ci(qp.evidence[0].ci)})` : 'n/a'}, and blackboard-eager ${qe ? `${sig(qe.evidence[0].estimate)}x (${ci(qe.evidence[0].ci)})` : 'n/a'}.`
    : 'The headline matrix (quick) has no runs in this database.';

  // Figures.
  v.figures = figs.map((f) => f.state === 'written'
    ? `![${f.title}](${f.files.find((x) => x.endsWith('.svg'))})\n\n*${f.title}.* ${f.caption} Spec: [${f.files[0]}](${f.files[0]}).`
    : `*${f.name}: not drawn (${f.reason}).*`).join('\n\n');

  // Orchestration overhead (latest bench session).
  const bench = await db.query<BenchPivot>(
    `SELECT case_name, system, per_event_us, ratio_to_blackboard AS ratio FROM bench
      WHERE bench_id = (SELECT bench_id FROM bench ORDER BY started_at DESC LIMIT 1) AND per_event_us IS NOT NULL
      ORDER BY case_name, per_event_us`);
  v.overhead_table = bench.length
    ? mdTable(['case', 'system', 'per event (us)', 'x blackboard-eager'], bench.map((b) => [b.case_name, b.system, num(b.per_event_us, 2), b.ratio == null ? '' : num(b.ratio, 2)]))
    : '_No `flockbench bench` session stored._';

  // H2 throughput table.
  const h2 = await db.query<{ mode: string; layout: string; partitions: number; processes: number; consumers: number; n: number; tps: number; setup: number; cpu: number; bcpu: number; rss: number }>(
    `SELECT sys_delivery AS mode, sys_layout AS layout, sys_partitions AS partitions, sys_processes AS processes,
            sys_consumers * greatest(sys_processes, 1) AS consumers,
            count(*)::INTEGER AS n, median(throughput_tps) AS tps, median(setup_ms) AS setup,
            median(cpu_ms * 100.0 / makespan_ms) AS cpu,
            median(broker_cpu_pct_mean) AS bcpu, max(broker_rss_peak_mb) AS rss
       FROM run_configs WHERE system = 'blackboard-kafka' GROUP BY ALL ORDER BY mode, layout, partitions`);
  const mem = await db.query<{ system: string; n: number; tps: number }>(
    `SELECT system, count(*)::INTEGER AS n, median(throughput_tps) AS tps FROM run_configs
      WHERE store = 'memory' AND matrix IN (SELECT matrix FROM run_configs WHERE system = 'blackboard-kafka') GROUP BY system ORDER BY system`);
  v.h2_table = h2.length
    ? mdTable(['mode', 'layout', 'partitions', 'processes', 'consumers / group', 'n', 'throughput (tasks/s)', 'setup (ms)', 'client CPU %', 'broker CPU %', 'broker RSS peak (MB)'],
      h2.map((r) => [r.mode, r.layout, String(r.partitions), String(r.processes), String(r.consumers), String(r.n), num(r.tps, 1), num(r.setup, 0), num(r.cpu, 0), num(r.bcpu, 0), num(r.rss, 0)]))
      + (mem.length ? `\n\nIn-memory reference on the same matrix: ${mem.map((m) => `${m.system} ${num(m.tps, 1)} tasks/s (n=${m.n})`).join('; ')}.` : '')
    : '_No blackboard-kafka runs stored._';

  // Failure experiment: the stored chaos runs, newest first.
  const chaos = await db.query<{ started: string; mode: string; nodes: number; tasks: number; kills: number; recoveries: number | null; crashes: number; expected: number; observed: number; lost: number; duplicated: number; error: string | null }>(
    `SELECT strftime(started_at, '%Y-%m-%d %H:%M') AS started, mode, nodes, tasks, kills, CAST(env->>'recoveries' AS INTEGER) AS recoveries,
            worker_crashes AS crashes, expected, observed, lost, duplicated, env->>'error' AS error
       FROM chaos ORDER BY started_at DESC LIMIT 12`);
  v.chaos_table = chaos.length
    ? mdTable(['started (UTC)', 'mode', 'nodes', 'tasks', 'broker kills', 'recovered', 'worker crashes', 'expected', 'observed', 'lost', 'duplicated', 'run error'],
      chaos.map((r) => [r.started, r.mode, String(r.nodes), String(r.tasks), String(r.kills), r.recoveries == null ? '' : String(r.recoveries), String(r.crashes),
        String(r.expected), String(r.observed), String(r.lost), String(r.duplicated), r.error ? r.error.slice(0, 80) : '']))
    : '_No `flockbench chaos` run stored._';
  const eos = chaos.filter((r) => r.mode === 'exactly-once');
  const alo = chaos.filter((r) => r.mode === 'at-least-once');
  v.chaos_summary = chaos.length
    ? `Exactly-once: ${eos.filter((r) => !r.error && r.lost === 0 && r.duplicated === 0).length} of ${eos.length} listed run(s) completed with 0 lost and 0 duplicated. ` +
      `At-least-once: ${alo.filter((r) => r.duplicated > 0).length} of ${alo.length} listed run(s) reported duplicates, ${alo.filter((r) => r.lost > 0).length} reported losses. ` +
      `Runs with broker kills: ${chaos.filter((r) => r.kills > 0).length}.`
    : '';

  // Method: calibration from the simulator's own source and profiles.
  const prof = headerComment(join(ROOT, 'llm/profiles.ts'));
  v.calibration_sources = prof.split('\n').filter((l) => l.startsWith('- ')).join('\n');
  v.calibration_shape = prof.split('\n').filter((l) => !l.startsWith('- ') && !/^Sources|^Latency and price/.test(l)).join(' ').replace(/\s+/g, ' ').trim();
  v.prices_as_of = PRICES_AS_OF;
  v.models_table = mdTable(['model', 'TTFT p50 (ms)', 'p95', 'p99', 'output tok/s', '$ / M in', '$ / M out'],
    Object.values(MODELS).map((m) => [m.id, String(m.ttftMs.p50), String(m.ttftMs.p95), String(m.ttftMs.p99), String(m.outputTokensPerSec), String(m.priceInPerMTok), String(m.priceOutPerMTok)]));
  v.lower_bound_definition = headerComment(join(ROOT, 'harness/collect/lower-bound.ts')).replace(/\n/g, ' ');
  const scales = await db.query<{ s: number }>(`SELECT DISTINCT latency_scale AS s FROM run_configs ORDER BY s`);
  v.latency_scales = scales.length ? scales.map((s) => `x${s.s}`).join(', ') : 'n/a';

  // Environment, from the runs themselves.
  const env = await db.query<EnvRow>(
    `SELECT env->>'node' AS node, env->>'platform' AS platform, env->>'cpuModel' AS cpu, CAST(env->>'cores' AS INTEGER) AS cores,
            CAST(env->>'memGb' AS INTEGER) AS mem_gb, env->>'gitSha' AS git_sha, env->>'gitDirty' AS git_dirty, count(*)::INTEGER AS runs
       FROM run_configs GROUP BY ALL ORDER BY runs DESC`);
  v.env_table = mdTable(['node', 'platform', 'CPU', 'cores', 'memory (GB)', 'git sha', 'dirty tree', 'runs'],
    env.map((e) => [e.node, e.platform, e.cpu, String(e.cores), String(e.mem_gb), (e.git_sha ?? '').slice(0, 12), String(e.git_dirty), String(e.runs)]));
  const cores = [...new Set(env.map((e) => e.cores))];
  v.cores = cores.length ? cores.join('/') : 'n/a';
  v.dirty_runs = String(env.filter((e) => String(e.git_dirty) === 'true').reduce((a, e) => a + Number(e.runs), 0));
  return v;
}

// ---------------------------------------------------------------- template

/** Replace `{{name}}` placeholders; an unknown name is an error, so nothing is left unfilled. */
export function fillTemplate(template: string, values: Values): string {
  const missing = new Set<string>();
  // The template's own leading HTML comment (notes for editors) is not part of the paper.
  const body = template.replace(/^\s*<!--[\s\S]*?-->\s*/, '');
  const out = body.replace(/\{\{\s*([\w.]+)\s*\}\}/g, (_, name: string) => {
    if (!(name in values)) { missing.add(name); return ''; }
    return values[name];
  });
  if (missing.size) throw new UserError(`paper template uses unknown placeholders: ${[...missing].join(', ')}`);
  if (out.includes('{{')) throw new UserError('paper template has a malformed placeholder (a `{{` is left after filling)');
  return out;
}

export interface BuildOptions { dbPath: string; outDir: string; template?: string; verdictsPath?: string }

export async function buildPaper(o: BuildOptions): Promise<{ paperPath: string; verdicts: HypothesisResult[]; figures: FigureOutcome[] }> {
  const template = readFileSync(o.template ?? DEFAULT_TEMPLATE, 'utf8');
  const db = await openReadOnly(o.dbPath);
  try {
    mkdirSync(o.outDir, { recursive: true });
    const verdicts = await computeVerdicts(db);
    const figures = await writeFigures(db, o.outDir);
    const values = await placeholderValues(db, verdicts, figures, o.dbPath);
    const paperPath = join(o.outDir, 'paper.md');
    writeFileSync(paperPath, fillTemplate(template, values));
    writeFileSync(o.verdictsPath ?? join(o.outDir, 'verdicts.json'), JSON.stringify(toRecord(verdicts), null, 2) + '\n');
    return { paperPath, verdicts, figures };
  } finally {
    db.close();
  }
}

export async function runCheck(dbPath: string, verdictsPath: string, matrix: string): Promise<CheckOutcome> {
  if (!existsSync(verdictsPath)) throw new UserError(`no recorded verdicts at ${verdictsPath} (run \`flockbench paper\` and commit it)`);
  const recorded = JSON.parse(readFileSync(verdictsPath, 'utf8')) as VerdictRecordFile;
  const db = await openReadOnly(dbPath);
  try {
    return checkVerdicts(recorded, await computeVerdicts(db), matrix);
  } finally {
    db.close();
  }
}
