// `flockbench paper`: regenerate paper/paper.md, its figures and paper/verdicts.json from the
// stored runs (by default the reference data shipped in results/reference/). The prose lives in
// paper/paper.template.md; every number in the output comes from a placeholder filled here from
// a query or from the code that defines a method constant, never typed into the template. The
// build is deterministic: the same data gives the same bytes.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from '../core/paths.ts';
import { UserError } from '../core/errors.ts';
import { medianCi } from '../core/stats/single.ts';
import type { ResultsDb } from '../harness/results/db.ts';
import { MODELS, PRICES_AS_OF } from '../llm/profiles.ts';
import { SYSTEMS } from '../systems/registry.ts';
import { OLD_READ_FILTER, READ_FILTER } from '../brokers/kafka/config.ts';
import { STANDARD_CASES_SQL, writeFigures, type FigureOutcome } from './figures.ts';
import { growthClass, loglogSlope } from '../harness/bench/growth.ts';
import { LATEST_BENCH } from '../harness/bench/figure.ts';
import { openPaperData } from './data.ts';
import { ALPHA, EQUIVALENCE_BAND, FAMILIES, GRAPH_FORMS, H1_DECISION_SCALE, H2_DECISION_SCALE, H2_KEYING, H2_PARTITIONS, MIN_PAIRS, MIN_SESSIONS, NEAR_LINEAR, nodesOf, REPLICATION_MIN_PAIRS } from './rules.ts';
import { atProjectionRate, BROKER_SYSTEMS, h2Costs, h2Rows, projectThroughput, type H2Costs } from './h2.ts';
import { checkReplication, computeVerdicts, toRecord, type CheckOutcome, type Comparison, type FamilyResult, type VerdictRecord, type Verdicts } from './verdicts.ts';
import { armLabel, fanOutParallelism, pairBySeed, peakInFlight, type RunRec } from './analysis.ts';
import { comparePaired } from '../core/stats/paired.ts';
import { keyedRng } from '../core/random.ts';
import { buildWorkload } from '../workloads/registry.ts';

const HERE = join(REPO_ROOT, 'paper');
export const DEFAULT_TEMPLATE = join(HERE, 'paper.template.md');
export const DEFAULT_VERDICTS = join(HERE, 'verdicts.json');

// ---------------------------------------------------------------- formatting

const num = (x: number | null | undefined, d = 2) => (x !== null && x !== undefined && Number.isFinite(x) ? x.toFixed(d) : 'n/a');
/** 3 significant digits for ratios, whole numbers for large values. */
export const sig = (x: number | null | undefined) => (x !== null && x !== undefined && Number.isFinite(x) ? (Math.abs(x) >= 100 ? x.toFixed(0) : x.toPrecision(3)) : 'n/a');
const ci = (c: [number, number]) => (Number.isFinite(c[0]) ? `[${sig(c[0])}, ${sig(c[1])}]` : 'n/a');
const pct = (x: number) => `${Number((100 * x).toPrecision(4))}%`;
const pval = (p: number) => (!Number.isFinite(p) ? 'n/a' : p < 0.0001 ? '<0.0001' : p.toFixed(4));

export function mdTable(head: string[], rows: string[][]): string {
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

const decisionText = (c: Comparison) => (c.decided ? `**${c.decision}**` : `(${c.decision === 'inconclusive' ? 'not decided' : c.decision})`);

/** One row per comparison: what, n, sessions, estimate, interval at its level, decision, p and Holm p, HL check. */
export function comparisonTable(cs: Comparison[]): string {
  return mdTable(
    ['matrix', 'configuration', 'arms (num / den)', 'n pairs', 'sessions', 'estimate', 'interval', 'level', 'decision', 'p (t)', 'p Holm', 'Hodges-Lehmann [CI, level]'],
    cs.map((c) => [
      c.matrix, c.config, `${c.num} / ${c.den}`, String(c.n), String(c.sessions), sig(c.estimate), ci(c.ci), pct(c.level), decisionText(c),
      pval(c.p), pval(c.pHolm), c.hl ? `${sig(c.hl.estimate)} ${ci(c.hl.ci)}, ${pct(c.hl.level)}` : 'n/a',
    ]),
  );
}

function familySection(f: FamilyResult): string {
  const out = [`#### ${f.title}: ${f.verdict}`, '', `*Claim.* ${f.claim}`, '', `*Rule.* ${f.rule}`, '', `*Outcome.* ${f.summary}${f.m ? `; intervals of decided configurations at ${pct(f.level)} (m = ${f.m})` : ''}.`, ''];
  out.push(f.comparisons.length ? comparisonTable(f.comparisons) : '_No runs of this comparison are stored._', '');
  return out.join('\n');
}

// ---------------------------------------------------------------- placeholder values

export type Values = Record<string, string>;

interface MatrixRow { matrix: string; runs: number; failed: number; sessions: number; seeds: string; scales: string; first: string; last: string }
interface EnvRow { node: string; platform: string; cpu: string; cores: number; mem_gb: number; git_sha: string; git_dirty: string; runs: number }

/** The strongest-baseline sentence: H1 against per-task graphs first, then the other forms. */
function headline(v: Verdicts): string {
  const byId = new Map(v.families.map((f) => [f.id, f]));
  const parts: string[] = [];
  for (const { system } of GRAPH_FORMS) {
    const f = byId.get(`H1 ${system}`);
    const decided = f?.comparisons.filter((c) => c.decided) ?? [];
    if (!f || !decided.length) continue;
    const lo = Math.min(...decided.map((c) => c.estimate)), hi = Math.max(...decided.map((c) => c.estimate));
    const range = lo === hi ? sig(lo) : `${sig(lo)} to ${sig(hi)}`;
    parts.push(`against ${system}, makespan ratios (graph / blackboard-deferred) of ${range} over ${decided.length} decided configuration(s) at latency x${H1_DECISION_SCALE}: **${f.verdict}** (${f.summary.replace(/; \d+ shown but not decided$/, '')})`);
  }
  if (!parts.length) return 'No H1 configuration has enough paired runs to be decided in this data.';
  return `Measured ${parts.join('; ')}.`;
}

/** Median overhead (makespan / ideal), policy cost (bound / ideal) and CPU per task, per system, over decision-scale closed-loop runs. */
/** H2's measured rows: per broker arm, throughput and E against the three ideals, records per partition, CPU shares. */
function h2Table(configs: Verdicts['configs']): string {
  const rows = h2Rows(configs);
  if (!rows.length) return `_No H2 configuration is stored yet (map workload, closed loop, latency x${H2_DECISION_SCALE}): nothing to show until \`paper/experiments/h2-decide.yaml\` (or \`h2.yaml\`) has run._`;
  const r3 = (x: { estimate: number; lo: number; hi: number; n: number } | undefined) => (x ? `${sig(x.estimate)} [${sig(x.lo)}, ${sig(x.hi)}] (n=${x.n})` : 'n/a');
  const share = (x: number | undefined) => (x === undefined ? 'n/a' : `${Math.round(100 * x)}%`);
  return mdTable(
    ['matrix', 'configuration', 'arm', 'layout', 'nodes', 'p', 'slots', 'runs', 'throughput (tasks/s, median)', 'E_lin = thr / (p x thr(1))', 'E_lin of the bounds (draws only, no broker)', 'E_mem = thr / in-memory at equal slots', 'E_bound = partition-aware bound / makespan', 'records per partition (min-max)', 'CPU run / broker / other (median share)', 'saturated runs'],
    rows.map((r) => [r.matrix, r.config, r.arm, r.layout, String(r.nodes), String(r.partitions), r.slots === undefined ? 'n/a' : String(r.slots), String(r.runs), sig(r.throughputTps),
      r3(r.eLin), r3(r.eLinBound), r3(r.eMem), r3(r.eBound), r.recordsPerPartition, r.cpu ? `${share(r.cpu.run)} / ${share(r.cpu.broker)} / ${share(r.cpu.other)}` : 'n/a', String(r.saturated)]),
  );
}

/**
 * The projection beyond one machine, from the measured per-task costs (never a measurement). A
 * broker's cost per task depends on the replication factor, so costs are taken per measured
 * cluster: a 1-broker projection from the 1-node runs (replication 1), a 3- or 9-broker one from
 * the 3-node runs (replication 3) where any were measured, else from the 1-node runs, said so.
 */
function h2Projection(configs: Verdicts['configs']): string {
  const out: string[] = [];
  for (const system of BROKER_SYSTEMS) {
    const one = h2Costs(configs, system, (r) => nodesOf(r.sp) === 1 && atProjectionRate(r));
    const three = h2Costs(configs, system, (r) => nodesOf(r.sp) === 3 && atProjectionRate(r));
    if (!one && !three) {
      out.push(`_${system}: no unsaturated H2 run with CPU shares is stored, so there are no measured costs to project from._`);
      continue;
    }
    const label = (k: H2Costs) => (k === one ? '1 node, replication 1' : '3 nodes, replication 3');
    const costLine = (k: H2Costs) => `${label(k)}: costs from ${k.runs} runs: broker ${sig(k.brokerCpuMsPerTask)} CPU-ms/task (all brokers together), client ${sig(k.clientCpuMsPerTask)} CPU-ms/task, ${sig(k.perSlotTps)} tasks/s per execution slot`;
    const rows: string[][] = [];
    for (const brokers of [1, 3, 9]) {
      const k = (brokers === 1 ? one ?? three : three ?? one)!;
      for (const partitions of [4, 16, 64, 256]) {
        const c = { partitions, inFlight: 4, brokers, coresPerBroker: 2, clientHosts: Math.max(1, Math.ceil(partitions / 16)), coresPerClientHost: 2 };
        const pr = projectThroughput(k, c);
        rows.push([String(brokers), String(partitions), String(c.clientHosts), sig(pr.tps), pr.limit, label(k)]);
      }
    }
    out.push(`**${system}** (${[one, three].filter((k) => k !== undefined).map(costLine).join('; ')})\n\n`
      + mdTable(['brokers (2 cores each)', 'partitions (4 in flight each)', 'client hosts (2 cores each)', 'PROJECTED throughput (tasks/s)', 'projected limit', 'per-task costs measured on'], rows));
  }
  return out.join('\n\n');
}

function efficiencyTable(v: Verdicts): string {
  const by = new Map<string, { overhead: number[]; policy: number[]; cpu: number[] }>();
  for (const c of v.configs) {
    if (c.sample.latencyScale !== H1_DECISION_SCALE || (c.sample.wp.arrival ?? 'all-at-once') !== 'all-at-once') continue;
    for (const runs of c.arms.values()) {
      for (const r of runs) {
        if (!(r.idealMs && r.idealMs > 0)) continue;
        // A broker arm's own cost is over the replay under its partition -> consumer slots (the
        // partition-aware bound): against the slot-free ideal, a p = 1 arm's 4 slots would read as
        // engine cost. Broker runs without that bound (Pulsar Failover) are left out.
        const ideal = BROKER_SYSTEMS.includes(r.system) ? r.bounds.partitionAwareMs : r.idealMs;
        if (!(ideal && ideal > 0)) continue;
        let e = by.get(r.system);
        if (!e) by.set(r.system, (e = { overhead: [], policy: [], cpu: [] }));
        e.overhead.push(r.makespanMs / ideal);
        e.policy.push(r.lowerBoundMs / r.idealMs);
        e.cpu.push(r.cpuMs / r.tasks);
      }
    }
  }
  const rows = [...by].sort(([a], [b]) => (a < b ? -1 : 1)).map(([system, e]) => {
    const show = (xs: number[]) => {
      const m = medianCi(xs);
      return m.ci ? `${sig(m.median)} [${sig(m.ci.lo)}, ${sig(m.ci.hi)}]` : sig(m.median);
    };
    const level = medianCi(e.overhead).ci?.level;
    return [system, String(e.overhead.length), show(e.overhead), show(e.policy), show(e.cpu), level === undefined ? 'n/a' : pct(level)];
  });
  return mdTable(['system', 'runs', 'overhead = makespan / ideal (median [CI])', 'policy = bound / ideal', 'CPU ms per task', 'interval level (order statistics)'], rows);
}

/**
 * The tutorial's workload, side by side: every closed-loop configuration at the decision scale
 * that has the real Flock as shipped (flock-real engine=dspy), each arm against it on the same
 * seeds. Per arm: makespan, the paired ratio to Flock as shipped, the most executions in flight,
 * LLM calls per execution, CPU per execution and (one story) the analysts' parallelism P.
 */
/**
 * Most LLM calls in flight: measured by the simulator for a system that calls it over HTTP out of
 * process (settings.llmServer.inFlightPeak); else from the execution records (one call each).
 */
function llmPeak(r: RunRec): number {
  const server = (r.settings.llmServer as { inFlightPeak?: number } | undefined)?.inFlightPeak;
  return typeof server === 'number' ? server : r.execs.length ? peakInFlight(r.execs) : NaN;
}

function tutorialTable(v: Verdicts): string {
  const shipped = (r: RunRec) => r.system === 'flock-real' && r.sp.engine === 'dspy';
  const blocks: string[] = [];
  for (const c of v.configs) {
    if (c.sample.latencyScale !== H1_DECISION_SCALE || (c.sample.wp.arrival ?? 'all-at-once') !== 'all-at-once') continue;
    const ref = [...c.arms.values()].find((rs) => shipped(rs[0]!));
    if (!ref) continue;
    const w = buildWorkload(c.sample.workload, c.sample.wp);
    const firstStage = new Set(w.agents.filter((a) => a.consumes.types.includes(w.tasks[0]!.type)).map((a) => a.name));
    const med = (xs: number[], d?: number) => {
      const ys = xs.filter(Number.isFinite);
      if (!ys.length) return 'n/a';
      const m = medianCi(ys);
      return d === undefined ? sig(m.median) : m.median.toFixed(d);
    };
    const rows = [...c.arms.values()].map((arm) => {
      const label = armLabel(arm[0]!.system, arm[0]!.sp);
      const pairs = arm === ref ? [] : pairBySeed(arm, ref, (r) => r.makespanMs).pairs;
      const cmp = pairs.length >= 2 ? comparePaired(pairs, { level: 0.95, rng: keyedRng('paper-tutorial', `${c.key}|${label}`), resamples: 200 }) : undefined;
      const ratio = shipped(arm[0]!) ? '1 (reference)' : cmp?.t ? `${sig(cmp.estimate)} [${sig(cmp.t.ci.lo)}, ${sig(cmp.t.ci.hi)}], n = ${cmp.n}` : 'n/a';
      const m = medianCi(arm.map((r) => r.makespanMs));
      return {
        makespan: m.median,
        cells: [
          label, String(arm.length),
          m.ci ? `${sig(m.median / 1000)} [${sig(m.ci.lo / 1000)}, ${sig(m.ci.hi / 1000)}]` : sig(m.median / 1000),
          ratio,
          med(arm.map(llmPeak), 0),
          med(arm.map((r) => (r.execs.length ? r.llmCalls / r.execs.length : NaN))),
          med(arm.map((r) => (r.execs.length ? r.cpuMs / r.execs.length : NaN))),
          Number(c.sample.wp.tasks) === 1 ? med(arm.map((r) => fanOutParallelism(r.execs, firstStage) ?? NaN)) : 'n/a',
        ],
      };
    }).sort((a, b) => a.makespan - b.makespan || (a.cells[0]! < b.cells[0]! ? -1 : 1));
    blocks.push(`*${c.matrix}: ${c.label}.*\n\n${mdTable(
      ['arm', 'runs', 'makespan s (median [CI])', 'makespan / Flock as shipped (paired, 95%)', 'most LLM calls in flight (median)', 'LLM calls per execution', 'CPU ms per execution', 'analyst parallelism P (one story)'],
      rows.map((r) => r.cells))}`);
  }
  return blocks.length ? blocks.join('\n\n') : '_No configuration at the decision scale has a `flock-real` engine=dspy arm._';
}

async function placeholderValues(db: ResultsDb, v: Verdicts, figs: FigureOutcome[], source: string): Promise<Values> {
  const val: Values = {};
  const matrices = await db.query<MatrixRow>(
    `SELECT matrix, count(*) FILTER (WHERE state = 'completed')::INTEGER AS runs, count(*) FILTER (WHERE state = 'failed')::INTEGER AS failed,
            count(DISTINCT session)::INTEGER AS sessions, CAST(min(seed) AS VARCHAR) || '-' || CAST(max(seed) AS VARCHAR) AS seeds,
            string_agg(DISTINCT CAST(latency_scale AS VARCHAR), ', ' ORDER BY CAST(latency_scale AS VARCHAR)) AS scales,
            CAST(min(started_at) AS VARCHAR) AS first, CAST(max(started_at) AS VARCHAR) AS last
       FROM runs GROUP BY matrix ORDER BY matrix`);
  val.source = source;
  val.runs_total = String(matrices.reduce((a, r) => a + Number(r.runs), 0));
  val.runs_failed = String(matrices.reduce((a, r) => a + Number(r.failed), 0));
  val.data_through = matrices.map((r) => r.last ?? '').sort().pop()?.slice(0, 19) ?? 'n/a';
  val.matrices_table = mdTable(['matrix', 'completed runs', 'failed runs', 'sessions', 'seeds', 'latency scales', 'first run', 'last run'],
    matrices.map((r) => [r.matrix, String(r.runs), String(r.failed), String(r.sessions), r.seeds, `x${r.scales.split(', ').join(', x')}`, (r.first ?? '').slice(0, 19), (r.last ?? '').slice(0, 19)]));
  const dup = v.families.flatMap((f) => f.comparisons).reduce((a, c) => a + c.duplicates, 0);
  val.exclusions = `${v.loaded.length} completed run(s) started under heavy external load (1-minute load average above the run's CPUs + 1) were left out of every comparison; `
    + `${erredText(v.erred)}`
    + `${val.runs_failed} run(s) failed and are listed in the \`failed_runs\` view; ${dup} duplicate seed(s) within an arm were dropped (the earliest run kept). `
    + 'No comparison pools runs of different workload or system parameters: every parameter set is its own arm.';

  // Verdicts and rules.
  val.verdict_table = mdTable(['hypothesis family', 'verdict', 'decided configurations', 'claim'], v.families.map((f) => [f.title, `**${f.verdict}**`, f.summary, f.claim]));
  val.headline = headline(v);
  val.rules = FAMILIES.map((f) => `- **${f.id}.** ${f.rule}`).join('\n');
  val.alpha = String(ALPHA);
  val.min_pairs = String(MIN_PAIRS);
  val.min_sessions = String(MIN_SESSIONS);
  val.replication_min_pairs = String(REPLICATION_MIN_PAIRS);
  val.band = `[${EQUIVALENCE_BAND.join(', ')}]`;
  val.near_linear = String(NEAR_LINEAR);
  val.h2_partitions = H2_PARTITIONS.join(' and ');
  val.h1_scale = String(H1_DECISION_SCALE);
  const fam = (prefix: string) => v.families.filter((f) => f.id.startsWith(prefix)).map(familySection).join('\n');
  val.h1_sections = fam('H1 ');
  val.h1b_section = fam('H1b');
  val.h2_sections = fam('H2 ');
  val.h2_table = h2Table(v.configs);
  val.h2_projection = h2Projection(v.configs);
  val.h2_scale = String(H2_DECISION_SCALE);
  val.h2_keying = H2_KEYING;
  val.h3_sections = fam('H3 ');
  val.efficiency_table = efficiencyTable(v);
  val.tutorial_table = tutorialTable(v);
  val.systems_list = SYSTEMS.map((s) => `- \`${s.name}\` (${s.store}): ${s.description}.`).join('\n');

  // Failure experiment: every stored chaos run (a run at its limit is a failure, never dropped),
  // per broker, delivery mode and planned faults.
  // Kafka rows name the read-committed filter the workers and the checker ran (READ_FILTER);
  // rows from before it was recorded used the client's filter, which drops committed records.
  const planned = `coalesce(env->>'$.broker', 'kafka') AS broker,
            CASE WHEN coalesce(env->>'$.broker', 'kafka') <> 'kafka' THEN 'n/a' ELSE coalesce(env->>'$.readFilter', '${OLD_READ_FILTER}') END AS read_filter, mode, nodes, tasks,
            json_array_length(env->'$.schedule.kills')::INTEGER AS kills_planned, coalesce(json_array_length(env->'$.schedule.crashKeys'), 0)::INTEGER AS crashes_planned`;
  // Per run, the time some broker was down: each kill to that node's next restart (or to the run's
  // end when none came first). A run at its limit on a loaded machine can spend most of it there.
  const downSql = `(SELECT run_id, sum(coalesce(back_ms, c.makespan_ms) - at_ms) / 1000 AS down_s
       FROM (SELECT run_id, kind, at_ms, lead(CASE WHEN kind = 'restarted' THEN at_ms END) OVER (PARTITION BY run_id, target ORDER BY seq) AS back_ms
               FROM faults WHERE kind IN ('kill', 'restarted')) k JOIN chaos c USING (run_id)
      WHERE kind = 'kill' GROUP BY run_id)`;
  const chaosRows = await db.query<{ broker: string; read_filter: string; mode: string; nodes: number; tasks: number; kills_planned: number; crashes_planned: number; runs: number; clean: number; lost_runs: number; dup_runs: number; dup_keys: number; limit_runs: number; kills: number; makespan_s: number; load_start: number | null; down_s: number | null }>(
    `SELECT ${planned}, count(*)::INTEGER AS runs,
            count(*) FILTER (WHERE lost = 0 AND duplicated = 0 AND (env->>'error') IS NULL)::INTEGER AS clean,
            count(*) FILTER (WHERE lost > 0)::INTEGER AS lost_runs, count(*) FILTER (WHERE duplicated > 0)::INTEGER AS dup_runs,
            sum(duplicated)::INTEGER AS dup_keys,
            count(*) FILTER (WHERE (env->>'error') IS NOT NULL)::INTEGER AS limit_runs, sum(kills)::INTEGER AS kills,
            median(makespan_ms) / 1000 AS makespan_s, median(CAST(env->>'$.loadStart' AS DOUBLE)) AS load_start, median(d.down_s) AS down_s
       FROM chaos LEFT JOIN ${downSql} d USING (run_id) GROUP BY ALL ORDER BY broker, read_filter DESC, mode DESC, kills_planned, crashes_planned, nodes, tasks`);
  val.chaos_table = chaosRows.length
    ? mdTable(['broker', 'read-committed filter', 'delivery', 'faults planned per run (broker kills, worker crashes)', 'runs', 'clean (0 lost, 0 duplicated, completed)', 'runs with loss', 'runs with duplicates', 'duplicated keys (sum)', 'runs that failed or hit the limit', 'broker kills done', 'median run (s)', 'median time with a broker down (s)', 'median 1-min load at start'],
      chaosRows.map((r) => [r.broker, r.read_filter, r.mode, `${r.kills_planned}, ${r.crashes_planned} (${r.nodes} node(s), ${r.tasks} tasks)`, String(r.runs), String(r.clean), String(r.lost_runs), String(r.dup_runs), String(r.dup_keys), String(r.limit_runs), String(r.kills), sig(r.makespan_s), r.down_s === null ? 'n/a' : sig(r.down_s), r.load_start === null ? 'n/a' : sig(r.load_start)]))
    : '_No `flockbench chaos` run is stored._';
  // The invocations behind them: one command per stored invocation (its id and flags); rows from
  // before invocations were recorded are grouped by broker, planned faults and size.
  const invocations = await db.query<{ broker: string; nodes: number; tasks: number; kills_planned: number; crashes_planned: number; seed: number; runs: number; scale: number; modes: string; limit_s: number | null; planned_runs: number | null }>(
    `SELECT broker, nodes, tasks, kills_planned, crashes_planned, min(seed)::BIGINT AS seed, count(DISTINCT seed)::INTEGER AS runs,
            any_value(scale) AS scale, string_agg(DISTINCT mode, ',' ORDER BY mode) AS modes, any_value(limit_s) AS limit_s, any_value(planned_runs) AS planned_runs
       FROM (SELECT ${planned}, CAST(env->>'$.seed' AS BIGINT) AS seed, CAST(env->>'$.latencyScale' AS DOUBLE) AS scale,
                    CAST(env->>'$.invocation.runLimitS' AS DOUBLE) AS limit_s, CAST(env->>'$.invocation.runs' AS INTEGER) AS planned_runs,
                    coalesce(env->>'$.invocation.id', '') AS invocation, started_at FROM chaos)
      GROUP BY invocation, broker, read_filter, nodes, tasks, kills_planned, crashes_planned ORDER BY min(started_at)`);
  val.chaos_commands = invocations.length
    ? invocations.map((r) => {
      const pulsarRun = r.broker === 'pulsar';
      const flags = [
        pulsarRun ? '--broker pulsar' : '', `--runs ${r.runs}`, `--kills ${r.kills_planned}`, pulsarRun ? '' : `--worker-crashes ${r.crashes_planned}`,
        !pulsarRun && Number(r.nodes) !== 3 ? `--nodes ${r.nodes}` : '', !pulsarRun && !r.modes.includes(',') ? `--mode ${r.modes}` : '',
        `--tasks ${r.tasks}`, `--seed ${r.seed}`, Number(r.scale) !== 0.05 ? `--latency-scale ${r.scale}` : '',
        r.limit_s !== null && Number(r.limit_s) !== 180 ? `--run-limit-s ${r.limit_s}` : '',
      ].filter(Boolean);
      // An invocation that ended early (it stores each run as it finishes) shows its own --runs
      // and how many of them were stored.
      const planned = r.planned_runs === null ? undefined : Number(r.planned_runs);
      const cmd = `    flockbench chaos ${flags.join(' ')}`;
      return planned !== undefined && planned > Number(r.runs)
        ? `${cmd.replace(`--runs ${r.runs} `, `--runs ${planned} `)}   # ended early: ${r.runs} of ${planned} run(s) stored`
        : cmd;
    }).join('\n')
    : '    (none stored)';
  const chaos = await db.query<{ read_filter: string; mode: string; runs: number; clean: number; dup_runs: number; failed: number; unsafe: number; errored: number }>(
    `SELECT coalesce(env->>'$.readFilter', '${OLD_READ_FILTER}') AS read_filter, mode, count(*)::INTEGER AS runs, count(*) FILTER (WHERE lost = 0 AND duplicated = 0 AND (env->>'error') IS NULL)::INTEGER AS clean,
            count(*) FILTER (WHERE (env->>'error') IS NULL AND (lost > 0 OR duplicated > 0))::INTEGER AS unsafe,
            count(*) FILTER (WHERE (env->>'error') IS NOT NULL)::INTEGER AS errored,
            count(*) FILTER (WHERE duplicated > 0)::INTEGER AS dup_runs, count(*) FILTER (WHERE lost > 0 OR (env->>'error') IS NOT NULL)::INTEGER AS failed
       FROM chaos WHERE coalesce(env->>'$.broker', 'kafka') = 'kafka' GROUP BY ALL ORDER BY read_filter, mode`);
  // Exactly-once is judged on the current filter's rows; the older rows are reported beside them.
  const eos = chaos.find((r) => r.mode === 'exactly-once' && r.read_filter === READ_FILTER);
  const eosOld = chaos.find((r) => r.mode === 'exactly-once' && r.read_filter === OLD_READ_FILTER);
  val.chaos_bound = eos?.runs
    ? eos.clean === eos.runs
      ? `With the \`${READ_FILTER}\` filter, all ${eos.runs} exactly-once runs were clean; with 0 failures in n = ${eos.runs} runs, the 95% upper confidence bound on the per-run failure probability is ${pct(1 - 0.05 ** (1 / eos.runs))} (exact binomial, 1 - 0.05^(1/n)).`
      : `With the \`${READ_FILTER}\` filter, ${eos.runs - eos.clean} of ${eos.runs} exactly-once runs were not clean: exactly-once did not hold`
        // A run stopped at its limit is a failure, but its missing outputs include work it had
        // not done yet: say which kind of failure the unclean runs were.
        + ` (${eos.unsafe} completed run(s) with loss or duplicates; ${eos.errored} run(s) failed or stopped at the time limit, whose missing outputs count as lost, unfinished work included).`
        // Safety (nothing lost or duplicated in a run that finished) and liveness (finishing within
        // the limit) fail differently; the verdict above counts both, this line separates them.
        + (eos.unsafe === 0 && eos.runs > eos.errored
          ? ` Safety alone: none of the ${eos.runs - eos.errored} completed runs lost or duplicated anything; the 95% upper confidence bound on a completed run's probability of loss or duplication is ${pct(1 - 0.05 ** (1 / (eos.runs - eos.errored)))} (exact binomial). The runs at their limit are liveness failures: their start load is in the table below.`
          : '')
    : `No exactly-once run with the \`${READ_FILTER}\` filter is stored: exactly-once is not decided.`;
  if (eosOld?.runs) val.chaos_bound += ` Through the older \`${OLD_READ_FILTER}\` filter, ${eosOld.runs - eosOld.clean} of ${eosOld.runs} exactly-once runs were not clean.`;
  // Every exactly-once run that was not clean, with what the log shows about it.
  const unclean = await db.query<{ broker: string; read_filter: string; seed: number; kills: number; crashes: number; lost: number; duplicated: number; by_type: string; uncommitted_lost: number | null; aborts: number | null; failed_commits: number | null; recreations: number | null; load_start: number | null; down_s: number | null; error: string | null }>(
    `SELECT coalesce(env->>'$.broker', 'kafka') AS broker, coalesce(env->>'$.readFilter', '${OLD_READ_FILTER}') AS read_filter, CAST(env->>'$.seed' AS BIGINT) AS seed, kills, worker_crashes AS crashes, lost, duplicated,
            coalesce(array_to_string(list_transform(list_sort(list_distinct(list_transform(CAST(env->'$.lostKeys' AS VARCHAR[]), x -> split_part(x, ':', 1)))),
              t -> t || ' ' || CAST(len(list_filter(CAST(env->'$.lostKeys' AS VARCHAR[]), x -> split_part(x, ':', 1) = t)) AS VARCHAR)), ', '), '') AS by_type,
            CAST(env->>'$.uncommitted.lost' AS INTEGER) AS uncommitted_lost, CAST(env->>'$.counters.aborts' AS INTEGER) AS aborts,
            CAST(env->>'$.counters.failedCommits' AS INTEGER) AS failed_commits, CAST(env->>'$.counters.producerRecreations' AS INTEGER) AS recreations,
            CAST(env->>'$.loadStart' AS DOUBLE) AS load_start, d.down_s, env->>'$.error' AS error
       FROM chaos LEFT JOIN ${downSql} d USING (run_id) WHERE mode = 'exactly-once' AND (lost > 0 OR duplicated > 0 OR (env->>'error') IS NOT NULL) ORDER BY started_at`);
  val.chaos_unclean = unclean.length
    ? `Exactly-once runs that were not clean (lost keys by type, up to the first 100 stored; "read-uncommitted lost": the same log read without the transaction filter):\n\n${mdTable(
      ['broker', 'read-committed filter', 'seed', 'kills, crashes done', 'lost', 'duplicated', 'lost by type', 'read-uncommitted lost', 'aborts', 'failed commits', 'producer re-creations', '1-min load at start', 'time with a broker down (s)', 'error'],
      unclean.map((r) => [r.broker, r.read_filter, String(r.seed), `${r.kills}, ${r.crashes}`, String(r.lost), String(r.duplicated), r.by_type || '-', r.uncommitted_lost === null ? 'n/a' : String(r.uncommitted_lost), String(r.aborts ?? 'n/a'), String(r.failed_commits ?? 'n/a'), String(r.recreations ?? 'n/a'), r.load_start === null ? 'n/a' : sig(r.load_start), r.down_s === null ? 'n/a' : sig(r.down_s), r.error ?? '-']))}`
    : '';
  const aloRows = chaos.filter((r) => r.mode === 'at-least-once');
  const alo = aloRows.length ? aloRows.reduce((a, r) => ({ ...a, runs: a.runs + r.runs, dup_runs: a.dup_runs + r.dup_runs, failed: a.failed + r.failed })) : undefined;
  if (alo?.runs) {
    val.chaos_bound += `${val.chaos_bound ? ' ' : ''}The negative control: under the same faults, the checker counted duplicates in ${alo.dup_runs} of ${alo.runs} at-least-once runs (Kafka)${alo.dup_runs ? '' : ': the control did not fire'}`
      + `${alo.failed ? `; ${alo.failed} at-least-once run(s) lost data or failed, which at-least-once must not` : ''}.`;
  }

  // Orchestration overhead (latest bench session): the standard cases, then the growth series.
  const bench = await db.query<{ case_name: string; system: string; per_event_us: number; p50_ms: number | null; p95_ms: number | null; events: number }>(
    `SELECT case_name, system, per_event_us, p50_ms, p95_ms, events FROM bench
      WHERE ${LATEST_BENCH} AND per_event_us IS NOT NULL AND case_name IN (${STANDARD_CASES_SQL})
      ORDER BY case_name, system`);
  const benchSession = await db.query<{ started_at: string; budget_ms: number | null; budget_mb: number | null }>(
    `SELECT strftime(min(started_at), '%Y-%m-%d %H:%M') AS started_at, max(budget_ms) AS budget_ms, max(budget_mb) AS budget_mb FROM bench WHERE ${LATEST_BENCH}`);
  val.overhead_table = bench.length
    ? `Standard cases of the bench session of ${benchSession[0]?.started_at ?? 'n/a'} UTC (\`flockbench bench\`; per run, a time budget of ${num((benchSession[0]?.budget_ms ?? NaN) / 1000, 0)} s and a memory budget of ${num(benchSession[0]?.budget_mb ?? NaN, 0)} MiB).\n\n`
      + mdTable(['case', 'system', 'p50 per event (us)', 'p95 per event (us)', 'mean per event (us)'], bench.map((b) => [b.case_name, b.system, num(b.p50_ms === null ? NaN : (b.p50_ms * 1000) / b.events, 2), num(b.p95_ms === null ? NaN : (b.p95_ms * 1000) / b.events, 2), num(b.per_event_us, 2)]))
    : '_No `flockbench bench` session is stored._';
  const growth = await db.query<{ system: string; family: string; n: number; state: string; p50_ms: number | null; per_event_p50_us: number | null; first_run_ms: number | null; events: number; reason: string | null }>(
    `SELECT system, family, n, state, p50_ms, per_event_p50_us, first_run_ms, events, reason FROM bench
      WHERE ${LATEST_BENCH} AND family IN ('items', 'fan-out') AND n >= 10 ORDER BY family, system, n`);
  val.overhead_growth = growth.length ? growthText(growth) : '_The stored bench session has no growth series (`flockbench bench` without `--no-growth`)._';

  // The harness at scale: what a run costs as a whole process beside what it measured.
  const scale = await db.query<{ system: string; tasks: number; heap: number | null; runs: number; loaded: number; makespan: number; wall: number; overhead: number; rss: number; cpu: number; rows: number | null; import_ms: number | null; collectors: number | null }>(
    `SELECT system, tasks, harness_heap_limit_mb AS heap, count(*)::INT AS runs, count(*) FILTER (WHERE loaded)::INT AS loaded,
            median(makespan_ms) AS makespan, median(process_wall_ms) AS wall, median(harness_overhead_ms) AS overhead,
            median(process_rss_peak_mb) AS rss, median(process_cpu_ms) AS cpu, median(harness_rows_ms) AS rows, median(harness_import_ms) AS import_ms,
            median(CAST(params->>'$.collectorsMs' AS DOUBLE)) AS collectors
       FROM run_configs WHERE matrix = 'scale' AND state = 'completed' AND harness_overhead_ms IS NOT NULL
      GROUP BY system, tasks, heap ORDER BY system, tasks, heap DESC NULLS FIRST`);
  val.scale_table = scale.length
    ? `Whole-process cost of a run of \`paper/experiments/scale.yaml\` (medians per system and size; harness overhead = process wall - makespan: module loading, warm-up, collectors (hashes, ideal replay, bound, task latencies after the window), row writing and the import; "loaded": runs started with the 1-minute load above cores + 1).\n\n${mdTable(
      ['system', 'tasks', 'heap limit (MiB)', 'runs (loaded)', 'makespan (s)', 'process wall (s)', 'harness overhead (s)', 'collectors (s)', 'rows + import (s)', 'process CPU (s)', 'peak RSS (MB)'],
      scale.map((r) => [r.system, String(r.tasks), r.heap === null ? 'n/a' : String(r.heap), `${r.runs} (${r.loaded})`, num(r.makespan / 1000, 1), num(r.wall / 1000, 1), num(r.overhead / 1000, 1),
        num(r.collectors === null ? NaN : r.collectors / 1000, 1), num(r.rows === null || r.import_ms === null ? NaN : (r.rows + r.import_ms) / 1000, 1), num(r.cpu / 1000, 1), num(r.rss, 0)]))}`
    : '_No run of `paper/experiments/scale.yaml` with its whole-process cost is stored._';

  // Figures.
  val.figures = figs.map((f) => (f.state === 'written'
    ? `![${f.title}](${f.files.find((x) => x.endsWith('.svg'))})\n\n*${f.title}.* ${f.caption} Spec: [${f.files[0]}](${f.files[0]}).`
    : `*${f.name}: not drawn (${f.reason}).*`)).join('\n\n');

  // Method: calibration from the simulator's own source and profiles.
  const prof = headerComment(join(REPO_ROOT, 'llm/profiles.ts'));
  val.calibration_sources = prof.split('\n').filter((l) => l.startsWith('- ')).join('\n');
  val.calibration_shape = prof.split('\n').filter((l) => !l.startsWith('- ') && !/^Sources|^Latency and price/.test(l)).join(' ').replace(/\s+/g, ' ').trim();
  val.prices_as_of = PRICES_AS_OF;
  val.models_table = mdTable(['model', 'TTFT p50 (ms)', 'p95', 'p99', 'output tok/s', '$ / M in', '$ / M out'],
    Object.values(MODELS).map((m) => [m.id, String(m.ttftMs.p50), String(m.ttftMs.p95), String(m.ttftMs.p99), String(m.outputTokensPerSec), String(m.priceInPerMTok), String(m.priceOutPerMTok)]));
  val.lower_bound_definition = headerComment(join(REPO_ROOT, 'harness/collect/lower-bound.ts')).replace(/\n/g, ' ');
  val.ideal_definition = headerComment(join(REPO_ROOT, 'harness/collect/ideal.ts')).split('\n\n')[0]!.replace(/\n/g, ' ');

  // Environment, from the runs themselves.
  const env = await db.query<EnvRow>(
    `SELECT env->>'node' AS node, env->>'platform' AS platform, env->>'cpuModel' AS cpu, CAST(env->>'cores' AS INTEGER) AS cores,
            CAST(env->>'memGb' AS INTEGER) AS mem_gb, env->>'gitSha' AS git_sha, env->>'gitDirty' AS git_dirty, count(*)::INTEGER AS runs
       FROM runs WHERE state = 'completed' GROUP BY ALL ORDER BY runs DESC, git_sha`);
  val.env_table = mdTable(['node', 'platform', 'CPU', 'cores', 'memory (GB)', 'git sha', 'dirty tree', 'runs'],
    env.map((e) => [e.node, e.platform, e.cpu, String(e.cores), String(e.mem_gb), (e.git_sha ?? '').slice(0, 12), String(e.git_dirty), String(e.runs)]));
  val.cores = [...new Set(env.map((e) => e.cores))].join('/') || 'n/a';
  // One command per session, with the seed, reps and latency scale it ran with: the data's own
  // invocations, not the matrix files' defaults.
  // The matrix file is the one the session recorded (a file may join another matrix's
  // configuration under its name, e.g. h2-decide-p1.yaml); older sessions ran <matrix>.yaml.
  const sessions = await db.query<{ file: string; seed: number; reps: number; scale: number; runs: number }>(
    `SELECT coalesce(any_value(env->>'$.matrixFile'), 'paper/experiments/' || matrix || '.yaml') AS file, min(seed)::BIGINT AS seed,
            count(DISTINCT seed)::INTEGER AS reps, any_value(latency_scale) AS scale,
            count(*) FILTER (WHERE state = 'completed')::INTEGER AS runs, min(started_at) AS first
       FROM runs GROUP BY matrix, session ORDER BY first, matrix`);
  val.reproduce = sessions.map((r) => `    flockbench run ${r.file} --seed ${r.seed} --reps ${r.reps} --latency-scale ${r.scale}   # ${r.runs} runs`).join('\n');
  return val;
}

interface GrowthBenchRow { system: string; family: string; n: number; state: string; p50_ms: number | null; per_event_p50_us: number | null; first_run_ms: number | null; events: number; reason: string | null }

/**
 * The growth series as a table: per case family and system, the median per-event cost at each
 * size (a size stopped by the budget as the least it cost, a skipped one with why), and the
 * least-squares log-log slope of total median time on n over the completed sizes (1: a constant
 * cost per event; 2: a cost per event growing linearly, quadratic in total).
 */
export function growthText(rows: readonly GrowthBenchRow[]): string {
  const sizes = [...new Set(rows.map((r) => r.n))].sort((a, b) => a - b);
  const groups = new Map<string, GrowthBenchRow[]>();
  for (const r of rows) {
    const k = `${r.family}|${r.system}`;
    groups.set(k, [...(groups.get(k) ?? []), r]);
  }
  const cell = (r: GrowthBenchRow | undefined): string => {
    if (!r) return '';
    if (r.state === 'completed' && r.per_event_p50_us !== null) return num(r.per_event_p50_us, 2);
    if (r.state === 'over-budget' && r.first_run_ms !== null && r.events > 0) return `>= ${num((r.first_run_ms * 1000) / r.events, 2)} (stopped)`;
    return r.state;
  };
  const table = [...groups.entries()].sort(([a], [b]) => a.localeCompare(b, 'en')).map(([, rs]) => {
    const done = rs.filter((r) => r.state === 'completed' && r.p50_ms !== null && r.p50_ms > 0).map((r) => ({ n: r.n, ms: r.p50_ms! }));
    const slope = done.length >= 2 ? loglogSlope(done) : NaN;
    // The first size stopped by the budget above the largest completed one bounds the slope from
    // below: its total time was at least the time it had run when stopped.
    const last = done.at(-1);
    const stop = last && rs.find((r) => r.state === 'over-budget' && r.n > last.n && r.first_run_ms !== null && r.first_run_ms > 0);
    const toStop = last && stop ? Math.log(stop.first_run_ms! / last.ms) / Math.log(stop.n / last.n) : NaN;
    return [rs[0]!.family, rs[0]!.system, ...sizes.map((n) => cell(rs.find((r) => r.n === n))), num(slope, 2), Number.isFinite(slope) ? growthClass(slope) : 'n/a',
      Number.isFinite(toStop) ? `>= ${num(toStop, 2)} (${last!.n} to ${stop!.n})` : '-'];
  });
  const stopped = rows.filter((r) => r.state !== 'completed' && r.reason).map((r) => `${r.system} ${r.family}-${r.n}: ${r.state}, ${r.reason}`);
  return `${mdTable(['family', 'system', ...sizes.map((n) => `n = ${n} (us/event, p50)`), 'slope of total time on n (log-log, completed sizes)', 'growth (completed sizes)', 'slope from the largest completed size to the first stopped one'], table)}`
    + (stopped.length ? `\n\nSizes not completed: ${stopped.join('; ')}.` : '');
}

/** Runs whose agents failed, per matrix and arm: left out of every comparison, and said so. */
function erredText(erred: readonly RunRec[]): string {
  if (!erred.length) return '0 completed run(s) had failed agent executions; ';
  const by = new Map<string, { n: number; errors: number }>();
  for (const r of erred) {
    const k = `${r.matrix}: ${armLabel(r.system, r.sp)}`;
    const c = by.get(k) ?? { n: 0, errors: 0 };
    c.n++; c.errors += r.errors;
    by.set(k, c);
  }
  const parts = [...by].sort(([a], [b]) => (a < b ? -1 : 1)).map(([k, c]) => `${k} (${c.n} run(s), ${c.errors} failed execution(s))`);
  return `${erred.length} completed run(s) had failed agent executions and were left out of every comparison, since they did not do the same work: ${parts.join('; ')}; `;
}

// ---------------------------------------------------------------- template

export function fillTemplate(template: string, values: Values): string {
  const missing = new Set<string>();
  // The template's own leading HTML comment (notes for editors) is not part of the paper.
  const body = template.replace(/^\s*<!--[\s\S]*?-->\s*/, '');
  const out = body.replace(/\{\{\s*([\w.]+)\s*\}\}/g, (_, name: string) => {
    if (!(name in values)) { missing.add(name); return ''; }
    return values[name]!;
  });
  if (missing.size) throw new UserError(`paper template uses unknown placeholders: ${[...missing].join(', ')}`);
  if (out.includes('{{')) throw new UserError('paper template has a malformed placeholder (a `{{` is left after filling)');
  return out;
}

export interface BuildOptions {
  /** A results DuckDB file; default: the reference data shipped in results/reference/. */
  dbPath?: string;
  /** Where the reference data is (tests); default results/reference/. */
  referenceDir?: string;
  outDir: string;
  template?: string;
  verdictsPath?: string;
}

export async function buildPaper(o: BuildOptions): Promise<{ paperPath: string; verdicts: Verdicts; figures: FigureOutcome[] }> {
  const template = readFileSync(o.template ?? DEFAULT_TEMPLATE, 'utf8');
  const { db, source } = await openPaperData(o.dbPath, o.referenceDir);
  try {
    mkdirSync(o.outDir, { recursive: true });
    const verdicts = await computeVerdicts(db);
    const figures = await writeFigures(db, verdicts, o.outDir);
    const values = await placeholderValues(db, verdicts, figures, source);
    const paperPath = join(o.outDir, 'paper.md');
    writeFileSync(paperPath, fillTemplate(template, values));
    writeFileSync(o.verdictsPath ?? join(o.outDir, 'verdicts.json'), `${JSON.stringify(toRecord(verdicts), null, 2)}\n`);
    return { paperPath, verdicts, figures };
  } finally {
    db.close();
  }
}

/** Recompute decisions from a replication DB (fresh seeds) and compare with the recorded ones. */
export async function runCheck(dbPath: string, verdictsPath = DEFAULT_VERDICTS): Promise<CheckOutcome> {
  if (!existsSync(verdictsPath)) throw new UserError(`no recorded verdicts at ${verdictsPath} (run \`flockbench paper\` and commit it)`);
  const recorded = JSON.parse(readFileSync(verdictsPath, 'utf8')) as VerdictRecord;
  if (!Array.isArray(recorded.comparisons) || !Array.isArray(recorded.families)) {
    throw new UserError(`${verdictsPath} has no recorded comparisons (written by an older \`flockbench paper\`): regenerate it with \`flockbench paper\` and commit it`);
  }
  const { db } = await openPaperData(dbPath);
  try {
    const fresh = await computeVerdicts(db, { minPairs: REPLICATION_MIN_PAIRS, minSessions: 1, recordedM: new Map(recorded.families.map((f) => [f.id, f.m])) });
    return checkReplication(recorded, fresh);
  } finally {
    db.close();
  }
}
