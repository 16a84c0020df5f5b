// `flockbench sql`: run a SQL notebook or a query against the results, read-only.
import type { Command } from 'commander';
import { UserError } from '../core/errors.ts';
import { DEFAULT_DB } from '../harness/results/db.ts';

export function registerSqlCommand(program: Command): Command {
  return program
    .command('sql')
    .description('run a SQL notebook (notebooks/*.sql) or a query against the results DB, read-only')
    .argument('<fileOrQuery>', 'a .sql file of named statements, or SQL text')
    .option('--db <path>', 'DuckDB results file', DEFAULT_DB)
    .option('--json', 'print JSON: [{name, columns, rows}]')
    .option('--max-rows <n>', 'rows printed per table', (v) => Number(v), 200)
    .action(async (fileOrQuery: string, o: { db: string; json?: boolean; maxRows: number }) => {
      // DuckDB and the notebook reader load with this command only.
      const { formatTable, loadNotebook, openReadOnly, runStatements } = await import('../harness/notebook.ts');
      const nb = loadNotebook(fileOrQuery);
      if (!nb.statements.length) throw new UserError('no SQL statements found');
      const db = await openReadOnly(o.db);
      try {
        const res = await runStatements(db, nb.statements);
        if (o.json) process.stdout.write(JSON.stringify(res, null, 2) + '\n');
        else {
          if (nb.header) process.stdout.write(nb.header.split('\n').map((l) => `# ${l}`).join('\n') + '\n\n');
          process.stdout.write(res.map((r) => formatTable(r, o.maxRows)).join('\n\n') + '\n');
        }
      } finally {
        db.close();
      }
    });
}
