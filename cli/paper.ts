// `flockbench paper` on the command line. Kept light so `flockbench --help` stays instant:
// DuckDB and vega load inside the action (paper/build.ts).
import type { Command } from 'commander';

export function registerPaperCommand(program: Command): Command {
  return program
    .command('paper')
    .description('regenerate paper/paper.md, its figures and paper/verdicts.json from the shipped reference runs (or --db); --check recomputes every decision from a replication DB')
    .option('--db <path>', 'a results DuckDB file (default: the reference runs in results/reference/)')
    .option('--out <dir>', 'output directory (paper.md, figures/, verdicts.json)', 'paper')
    .option('--template <path>', 'paper template (default paper/paper.template.md)')
    .option('--check', 'recompute every decision the --db replication covers (fresh seeds) and compare with --verdicts; exit 1 if a decided verdict flips')
    .option('--verdicts <path>', 'recorded verdicts for --check', 'paper/verdicts.json')
    .option('--export-reference <db>', 'write the runs of this results DB to results/reference/*.parquet (what the paper is built from by default)')
    .option('--timeline-runs <ids>', 'with --export-reference: comma-separated run ids whose executions the timeline figure draws')
    .action(async (o: { db?: string; out: string; template?: string; check?: boolean; verdicts: string; exportReference?: string; timelineRuns?: string }) => {
      if (o.exportReference) {
        const { exportReference } = await import('../paper/data.ts');
        const files = await exportReference(o.exportReference, undefined, o.timelineRuns?.split(',').filter(Boolean));
        process.stdout.write(`${files.map((f) => `wrote ${f}`).join('\n')}\n`);
        return;
      }
      if (o.check) {
        const { UserError } = await import('../core/errors.ts');
        if (!o.db) throw new UserError('--check needs --db <replication.duckdb> (a run of paper/experiments/replication.yaml on fresh seeds)');
        const { runCheck } = await import('../paper/build.ts');
        const r = await runCheck(o.db, o.verdicts);
        for (const l of r.lines) process.stdout.write(`${l.status.padEnd(14)} ${l.id}: recorded ${l.recorded}, now ${l.now} (${l.detail})\n`);
        const count = (s: string) => r.lines.filter((l) => l.status === s).length;
        process.stdout.write(`replication: ${count('held')} held, ${count('changed')} changed, ${count('FLIPPED')} flipped, ${count('not replicated')} not replicated, of ${r.lines.length} recorded decisions\n`);
        if (!r.replicated) process.stderr.write('flockbench paper --check: the replication re-decided none of the recorded decisions (not in its matrix, or too few pairs): nothing was checked\n');
        if (r.seedOverlap.length) process.stderr.write(`flockbench paper --check: the replication reuses recorded seeds ${r.seedOverlap.join(', ')}: it must run on fresh seeds\n`);
        if (!r.ok) process.exitCode = 1;
        return;
      }
      const { buildPaper } = await import('../paper/build.ts');
      const res = await buildPaper({ dbPath: o.db, outDir: o.out, template: o.template });
      for (const f of res.verdicts.families) process.stdout.write(`${f.id.padEnd(28)} ${f.verdict.padEnd(12)} ${f.summary}\n`);
      for (const f of res.figures) process.stdout.write(f.state === 'written' ? `figure ${f.name}: ${f.files.join(', ')}\n` : `figure ${f.name}: skipped (${f.reason})\n`);
      process.stdout.write(`wrote ${res.paperPath}\n`);
    });
}
