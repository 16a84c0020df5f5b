// `flockbench paper` on the command line. Kept light so `flockbench --help` stays instant:
// DuckDB, vega and resvg load inside the action (paper/build.ts).
import { join } from 'node:path';
import type { Command } from 'commander';

export function registerPaperCommand(program: Command): Command {
  return program
    .command('paper')
    .description('regenerate paper/paper.md, its figures and paper/verdicts.json from the results DB; --check compares verdicts instead')
    .option('--db <path>', 'DuckDB results file', 'results/flockbench.duckdb')
    .option('--out <dir>', 'output directory (paper.md, figures/, verdicts.json)', 'paper')
    .option('--template <path>', 'paper template (default paper/paper.template.md)')
    .option('--check', 'recompute the verdicts of --matrix and compare with --verdicts; exit 1 if a robust one differs')
    .option('--matrix <name>', 'matrix whose verdicts --check compares (the one CI re-runs)', 'quick')
    .option('--verdicts <path>', 'recorded verdicts for --check', 'paper/verdicts.json')
    .action(async (o: { db: string; out: string; template?: string; check?: boolean; matrix: string; verdicts: string }) => {
      if (o.check) {
        const { runCheck } = await import('../paper/build.ts');
        const r = await runCheck(o.db, o.verdicts, o.matrix);
        for (const c of r.checked) process.stdout.write(`${c.same ? 'same' : 'DIFF'}  ${c.id}: recorded ${c.recorded}, now ${c.now}\n`);
        for (const s of r.skipped) process.stdout.write(`skip  ${s.id}: ${s.why}\n`);
        for (const p of r.problems) process.stderr.write(`flockbench paper --check: ${p}\n`);
        process.stdout.write(`${r.checked.filter((c) => c.same).length}/${r.checked.length} robust verdicts of matrix '${o.matrix}' reproduced, ${r.skipped.length} not checked\n`);
        if (!r.ok) process.exitCode = 1;
        return;
      }
      const { buildPaper } = await import('../paper/build.ts');
      const res = await buildPaper({ dbPath: o.db, outDir: o.out, template: o.template });
      for (const h of res.verdicts) process.stdout.write(`${h.hypothesis.padEnd(24)} ${h.verdict.padEnd(12)} ${h.reason}\n`);
      if (!res.verdicts.some((h) => h.evidence.some((e) => e.scope.matrix === o.matrix && e.robust))) {
        process.stderr.write(`warning: no robust verdict for matrix '${o.matrix}' in this DB, so \`flockbench paper --check\` (CI) will have nothing to check: run \`flockbench run paper/experiments/${o.matrix}.yaml\` into this DB first\n`);
      }
      for (const f of res.figures) process.stdout.write(f.state === 'written' ? `figure ${f.name}: ${f.files.join(', ')}\n` : `figure ${f.name}: skipped (${f.reason})\n`);
      process.stdout.write(`wrote ${res.paperPath} and ${join(o.out, 'verdicts.json')}\n`);
    });
}
