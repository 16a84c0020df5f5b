// `flockbench bench`: per-event engine overhead, side by side, written to the `bench` table.
import { randomUUID } from 'node:crypto';
import { InvalidArgumentError, type Command } from 'commander';
import { UserError } from '../core/errors.ts';
import { SYSTEMS } from '../systems/registry.ts';
// The bench engine loads with the command's action, not with every other command's start-up.
import type { BenchOutcome, CompletedBench, growthTable } from '../harness/bench/bench.ts';
import type { BenchCase } from '../harness/bench/cases.ts';

/** Stores of the systems whose sessions run inside this process (what bench can time). */
const BENCHABLE_STORES = new Set(['memory', 'graph-state']);
const IN_PROCESS = ['blackboard-eager', 'blackboard-deferred', 'langgraph-stepwise', 'langgraph-parallel'];

function dedupeCases(cs: BenchCase[]): BenchCase[] {
  const seen = new Set<string>();
  return cs.filter((c) => {
    if (seen.has(c.name)) return false;
    seen.add(c.name);
    return true;
  });
}

export function registerBenchCommand(program: Command): Command {
  return program
    .command('bench')
    .description('per-event orchestration overhead with zero-latency agents (tinybench), every system side by side')
    .option('--systems <names>', `comma-separated systems (default: ${IN_PROCESS.join(',')})`)
    .option('--no-growth', 'skip the growth series (fan-out from 10 to 10,000, items from 10 to 100,000)')
    .option('--time <ms>', 'tinybench time budget per case and system', (v) => {
      const n = Number(v);
      if (!(n > 0)) throw new InvalidArgumentError('--time must be a positive number of ms');
      return n;
    }, 400)
    .option('--max-run <ms>', 'time budget of one run: a run past it is stopped (the first size included), a size predicted past it skipped', (v) => {
      const n = Number(v);
      if (!(n > 0)) throw new InvalidArgumentError('--max-run must be a positive number of ms');
      return n;
    }, 15_000)
    .option('--max-rss <MiB>', "memory budget of a case's process (resident set): past it the case is stopped", (v) => {
      const n = Number(v);
      if (!(n >= 64)) throw new InvalidArgumentError('--max-rss must be a number of MiB >= 64');
      return n;
    }, 2048)
    .option('--db <path>', 'DuckDB results file', 'results/flockbench.duckdb')
    .option('--json', 'print JSON')
    .action(async (o: { systems?: string; growth: boolean; time: number; maxRun: number; maxRss: number; db: string; json?: boolean }) => {
      const systems = o.systems ? o.systems.split(',').map((s) => s.trim()).filter(Boolean) : IN_PROCESS;
      for (const s of systems) {
        const entry = SYSTEMS.find((x) => x.name === s);
        if (!entry) throw new UserError(`unknown system '${s}' (known: ${SYSTEMS.map((x) => x.name).join(', ')})`);
        // tinybench times whole sessions in this process with zero-latency agents counted here;
        // an out-of-process or broker-backed system would time process start-up and round trips.
        if (!BENCHABLE_STORES.has(entry.store)) {
          throw new UserError(`bench measures in-process engines only (${SYSTEMS.filter((x) => BENCHABLE_STORES.has(x.store)).map((x) => x.name).join(', ')}); '${s}' runs ${entry.store === 'kafka' || entry.store === 'pulsar' ? 'on a broker' : 'out of process'}: its CPU per run is in \`flockbench report\` (CPU ms) and per execution in the paper's reference table`);
        }
      }
      const { agentBodyUs, growthTable, ratioToBlackboard, runBench } = await import('../harness/bench/bench.ts');
      const { family, growthCases, standardCases } = await import('../harness/bench/cases.ts');
      const { environment } = await import('../harness/env.ts');
      const cases = dedupeCases([...standardCases(), ...(o.growth ? growthCases() : [])]);
      const bodyUs = await agentBodyUs();
      const results = await runBench({
        systems, cases, timeMs: o.time, maxRunMs: o.maxRun, maxRssMb: o.maxRss,
        onProgress: (m) => { if (!o.json && process.stderr.isTTY) process.stderr.write(`\r${m}`.padEnd(60)); },
      });
      if (!o.json && process.stderr.isTTY) process.stderr.write('\r'.padEnd(61) + '\r');
      const ratios = ratioToBlackboard(results);
      const growth = growthTable(results);
      const benchId = randomUUID();
      const env = environment();
      const { ResultsDb } = await import('../harness/results/db.ts');
      const { bench } = await import('../harness/results/schema.ts');
      const db = await ResultsDb.open(o.db);
      const startedAt = new Date().toISOString();
      try {
        await db.append([[bench, results.map((r) => {
          const done = r.state === 'completed' ? r : undefined;
          const ran = r.state === 'completed' || r.state === 'over-budget' || r.state === 'errored' ? r : undefined;
          return {
            bench_id: benchId, started_at: startedAt, system: r.system, case_name: r.caseName, family: family(r.caseName), n: r.n, events: r.events,
            state: r.state, reason: r.state === 'completed' ? null : r.reason,
            samples: done?.samples ?? 0, mean_ms: done?.meanMs ?? null, p50_ms: done?.p50Ms ?? null, p95_ms: done?.p95Ms ?? null,
            p99_ms: done?.p99Ms ?? null, per_event_us: done?.perEventUs ?? null, per_event_p50_us: done?.perEventP50Us ?? null,
            per_event_p95_us: done?.perEventP95Us ?? null, ratio_to_blackboard: ratios.get(r) ?? null,
            heap_mb_per_10k: done?.heapMbPer10k ?? null,
            first_run_ms: r.state === 'completed' || r.state === 'over-budget' ? (r.firstRunMs ?? null) : null,
            case_wall_ms: ran?.caseWallMs ?? null, rss_peak_mb: ran?.rssPeakMb ?? null, budget_ms: o.maxRun, budget_mb: o.maxRss,
            env: JSON.stringify({ ...env, agentBodyUs: bodyUs }),
          };
        })]]);
      } finally {
        db.close();
      }
      if (o.json) {
        process.stdout.write(JSON.stringify({ benchId, agentBodyUs: bodyUs, results: results.map((r) => ({ ...r, ratioToBlackboard: ratios.get(r) })), growth }, null, 2) + '\n');
        return;
      }
      process.stdout.write(formatBench(results, ratios, bodyUs) + '\n\n' + formatGrowth(growth) + '\n');
      process.stdout.write(`stored as bench ${benchId} in ${o.db}\n`);
    });
}

const f = (x: number | undefined, d = 1) => (x === undefined || !Number.isFinite(x) ? '-' : x.toFixed(d));

export function formatBench(results: BenchOutcome[], ratios: Map<BenchOutcome, number | undefined>, bodyUs: number): string {
  const head = ['case', 'system', 'runs', 'us/event p50', 'p95', 'mean', 'x blackboard', 'run ms p50', 'first ms', 'heap MB/10k', 'RSS MB'];
  const done = results.filter((r): r is CompletedBench => r.state === 'completed');
  const table = [head, ...done.map((r) => [r.caseName, r.system, String(r.samples), f(r.perEventP50Us), f(r.perEventP95Us), f(r.perEventUs), f(ratios.get(r), 1), f(r.p50Ms, 3), f(r.firstRunMs, 1), f(r.heapMbPer10k, 1), f(r.rssPeakMb, 0)])];
  const w = head.map((_, i) => Math.max(...table.map((row) => row[i].length), ...results.map((r) => (i === 0 ? r.caseName : i === 1 ? r.system : '').length)));
  const line = (row: string[]) => '  ' + row.map((c, i) => (i < 2 ? c.padEnd(w[i]) : c.padStart(w[i]))).join('  ');
  const rows = results.map((r) => (r.state === 'completed' ? line(table[done.indexOf(r) + 1]) : `  ${r.caseName.padEnd(w[0])}  ${r.system.padEnd(w[1])}  ${r.state}: ${r.reason}`));
  return [
    `agent body alone (shared by every system): ${bodyUs.toFixed(1)} us per execution`,
    'per event: run time / agent executions; the median (p50) is the headline, the mean is kept beside it',
    line(head), ...rows,
  ].join('\n');
}

export function formatGrowth(rows: ReturnType<typeof growthTable>): string {
  const sizes = [10, 100, 1000, 10_000, 100_000];
  const out = ['growth: median us per event by size; slope = d log(median run time) / d log(n) (1 = constant per event, 2 = linear per event)'];
  const last = 2 + sizes.length + 1;
  out.push('  ' + ['family', 'system', ...sizes.map((n) => `n=${n}`), 'slope', 'growth'].map((c, i) => (i < 2 ? c.padEnd(20) : c.padStart(9))).join(' '));
  for (const r of rows) out.push('  ' + [r.family, r.system, ...sizes.map((n) => (r.perEventUs[n] == null ? '-' : f(r.perEventUs[n]!))), f(r.slope, 2), r.growth].map((c, i) => (i < 2 ? c.padEnd(20) : i === last ? ' ' + c : c.padStart(9))).join(' '));
  return out.join('\n');
}
