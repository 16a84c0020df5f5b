// `flockbench conform <workload>`: run a workload on several systems with one seed and check they
// end with the same final artifacts. Exit 0 when they agree, 1 on a mismatch.
import { InvalidArgumentError, type Command } from 'commander';
import { UserError } from '../core/errors.ts';
import { SYSTEMS } from '../systems/registry.ts';
import { workload as lookupWorkload } from '../workloads/registry.ts';

/** `k=v` -> value parsed as JSON when it parses (numbers, booleans), else the raw string. */
function parseParam(v: string, prev: Record<string, unknown> = {}): Record<string, unknown> {
  const i = v.indexOf('=');
  if (i <= 0) throw new InvalidArgumentError(`--param expects key=value, got '${v}'`);
  const raw = v.slice(i + 1);
  let val: unknown = raw;
  try { val = JSON.parse(raw); } catch { /* keep the string */ }
  return { ...prev, [v.slice(0, i)]: val };
}

/** `system.key=value` -> { system: { key: value } }, the value parsed as in --param. */
function parseSystemParam(v: string, prev: Record<string, Record<string, unknown>> = {}): Record<string, Record<string, unknown>> {
  const dot = v.indexOf('.');
  if (dot <= 0) throw new InvalidArgumentError(`--system-param expects system.key=value, got '${v}'`);
  const system = v.slice(0, dot);
  return { ...prev, [system]: parseParam(v.slice(dot + 1), prev[system]) };
}

export function registerConformCommand(program: Command): Command {
  return program
    .command('conform')
    .description('run one workload on several systems (same seed) and compare their final artifacts by content hash')
    .argument('<workload>', 'workload name, e.g. review-analysis')
    .option('--systems <names>', 'comma-separated systems; the first is the reference (default: every in-memory system)')
    .option('-p, --param <key=value>', 'workload parameter (repeatable), e.g. -p analysts=4', parseParam, {})
    .option('-s, --system-param <system.key=value>', 'system parameter (repeatable), e.g. -s langgraph-py.form=subgraph', parseSystemParam, {})
    .option('--seed <s>', 'seed', (v) => {
      const n = Number(v);
      if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError('--seed must be a non-negative integer');
      return n;
    }, 42)
    .option('--latency-scale <x>', 'multiply simulated latencies (default 0.01)', (v) => {
      const n = Number(v);
      if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError('--latency-scale must be a positive number');
      return n;
    }, 0.01)
    .option('--json', 'print the full report as JSON')
    .action(async (workloadName: string, o: { systems?: string; param: Record<string, unknown>; systemParam: Record<string, Record<string, unknown>>; seed: number; latencyScale: number; json?: boolean }) => {
      lookupWorkload(workloadName);
      const names = o.systems
        ? o.systems.split(',').map((s) => s.trim()).filter(Boolean)
        : SYSTEMS.filter((s) => s.store === 'memory' || s.store === 'graph-state').map((s) => s.name);
      for (const n of names) if (!SYSTEMS.some((s) => s.name === n)) throw new UserError(`unknown system '${n}' (known: ${SYSTEMS.map((s) => s.name).join(', ')})`);
      if (names.length < 2) throw new UserError('conform needs at least two systems (--systems a,b)');
      for (const n of Object.keys(o.systemParam)) if (!names.includes(n)) throw new UserError(`--system-param ${n}.*: '${n}' is not among the systems (${names.join(', ')})`);
      // The conformance engine (every system's runner) loads with this command only.
      const { conform, formatConformReport } = await import('../harness/conform.ts');
      const report = await conform(workloadName, o.param, names, o.seed, { latencyScale: o.latencyScale, systemParams: o.systemParam });
      process.stdout.write((o.json ? JSON.stringify(report, null, 2) : formatConformReport(report)) + '\n');
      if (!report.ok) process.exitCode = 1;
    });
}
