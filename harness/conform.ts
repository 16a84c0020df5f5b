// Conformance: run one workload on several systems with the same seed and check they end with
// the same multiset of final artifacts (terminal types + WorkflowError), compared by content
// hash. The first system is the reference; every other one gets a diff against it. A system
// whose registry entry refuses the workload (a form that cannot express it) is listed as skipped.
import { contentHash } from '../core/canonical.ts';
import { buildWorkload } from '../workloads/registry.ts';
import { ERROR_TYPE, terminalTypes, type Artifact } from '../workloads/spec.ts';
import { SYSTEMS } from '../systems/registry.ts';
import type { System } from '../systems/types.ts';
import { UserError } from '../core/errors.ts';
import { resolveParams } from '../core/params.ts';
import { runOnce } from './runner/run-once.ts';

export interface ConformOptions {
  /** Default 0.01: a 700 ms call waits 7 ms. */
  latencyScale?: number;
  /** Per-system parameters by system name. */
  systemParams?: Record<string, Record<string, unknown>>;
  timeoutMs?: number;
}

/** One final artifact, as the diff shows it. */
export interface FinalArtifact {
  hash: string;
  type: string;
  key: string;
  correlationId: string;
}

export interface SystemConformance {
  system: string;
  /** The system cannot express this workload (its registry entry refuses it): not run, not compared, `ok` false. */
  unsupported?: string;
  finals: number;
  executions: number;
  makespanMs: number;
  lowerBoundMs: number;
  /** Same multiset of final artifacts as the reference. */
  ok: boolean;
  /** In the reference, not here (with multiplicity). */
  missing: FinalArtifact[];
  /** Here, not in the reference (with multiplicity). */
  extra: FinalArtifact[];
  /** Execution identities (agent + input keys) differ from the reference: a pairing problem. */
  executionsDiffer: boolean;
  /**
   * The workload's order-dependent agents (spec `orderDependent`): their outputs are not compared
   * by hash; instead every input each consumed must match the reference's (as a multiset), with
   * the same number of final artifacts per type; every other artifact (the other agents' outputs,
   * the seeds) by content hash, and all other executions the same identities.
   */
  orderDependent?: string[];
  /** Why an order-dependent comparison failed. */
  orderDependentMismatch?: string;
  counters: Record<string, number>;
}

export interface ConformReport {
  workload: string;
  params: Record<string, unknown>;
  seed: number;
  reference: string;
  /** Every system that can run the workload ended with the reference's final artifacts. */
  ok: boolean;
  systems: SystemConformance[];
}

function finalsOf(artifacts: readonly Artifact[], terminal: ReadonlySet<string>): FinalArtifact[] {
  return artifacts
    .filter((a) => terminal.has(a.type))
    .map((a) => ({ hash: contentHash(a), type: a.type, key: a.key, correlationId: a.correlationId }))
    .sort((x, y) => (x.hash < y.hash ? -1 : x.hash > y.hash ? 1 : 0));
}

/** Multiset difference a - b by hash. */
function minus(a: readonly FinalArtifact[], b: readonly FinalArtifact[]): FinalArtifact[] {
  const count = new Map<string, number>();
  for (const x of b) count.set(x.hash, (count.get(x.hash) ?? 0) + 1);
  const out: FinalArtifact[] = [];
  for (const x of a) {
    const n = count.get(x.hash) ?? 0;
    if (n > 0) count.set(x.hash, n - 1);
    else out.push(x);
  }
  return out;
}

export async function conform(
  workloadName: string,
  params: Record<string, unknown>,
  systems: readonly (System<unknown> | string)[],
  seed: number,
  opts: ConformOptions = {},
): Promise<ConformReport> {
  if (systems.length < 2) throw new Error('conform needs at least two systems');
  const w = buildWorkload(workloadName, params);
  const terminal = new Set([...terminalTypes(w), ERROR_TYPE]);
  const results: { name: string; finals: FinalArtifact[]; identities: string[]; out: Awaited<ReturnType<typeof runOnce>> }[] = [];
  const refused = new Map<string, string>();
  for (const s of systems) {
    const name = typeof s === 'string' ? s : s.name;
    // A system that cannot express the workload is reported, not run (it would refuse at start()).
    const entry = typeof s === 'string' ? SYSTEMS.find((e) => e.name === s) : undefined;
    const why = entry?.refuses?.(w, resolveParams(`systemParams.${name}`, entry.params, opts.systemParams?.[name]));
    if (why) { refused.set(name, why); continue; }
    // A fresh spec per run: systems must not be able to leak state through it.
    const out = await runOnce({
      system: s,
      workload: buildWorkload(workloadName, params),
      seed,
      latencyScale: opts.latencyScale ?? 0.01,
      systemParams: opts.systemParams?.[name] ?? {},
      timeoutMs: opts.timeoutMs,
    });
    results.push({ name, finals: finalsOf(out.artifacts, terminal), identities: out.executions.map((e) => e.identity).sort(), out });
  }
  if (results.length < 2) {
    throw new UserError(`conform ${w.name}: fewer than two of the systems can run this workload (${[...refused.values()].join('; ')})`);
  }
  const ref = results[0]!;
  const od = new Set(w.orderDependent ?? []);
  /** What a run shows of its order-dependent agents: the inputs they consumed and their finals per type. */
  const orderFree = (r: (typeof results)[number]) => ({
    identities: r.out.executions.filter((e) => !od.has(e.agent)).map((e) => e.identity).sort().join('\n'),
    consumed: r.out.executions.filter((e) => od.has(e.agent)).flatMap((e) => e.inputKeys.map((k) => `${e.agent}|${k}`)).sort().join('\n'),
    finalsByType: [...r.finals.reduce((m, f) => m.set(f.type, (m.get(f.type) ?? 0) + 1), new Map<string, number>())].sort().join(','),
    // Everything the other agents made (and the seeds), by content: only the order-dependent
    // agents' outputs are exempt from the content comparison.
    others: r.out.artifacts.filter((a) => !od.has(a.producedBy)).map((a) => contentHash(a)).sort().join('\n'),
  });
  const refOrderFree = od.size ? orderFree(ref) : undefined;
  const ran = new Map(results.map((r) => {
    let missing = minus(ref.finals, r.finals);
    let extra = minus(r.finals, ref.finals);
    let executionsDiffer = r.identities.join('\n') !== ref.identities.join('\n');
    let orderFreeDiffers: string | undefined;
    if (refOrderFree) {
      const mine = orderFree(r);
      orderFreeDiffers = mine.consumed !== refOrderFree.consumed ? 'the order-dependent agents consumed other inputs'
        : mine.finalsByType !== refOrderFree.finalsByType ? 'a different number of final artifacts per type'
          : mine.others !== refOrderFree.others ? 'other agents\' artifacts differ in content' : undefined;
      // Their finals' content depends on completion order: not compared.
      missing = []; extra = [];
      executionsDiffer = mine.identities !== refOrderFree.identities;
    }
    const row: SystemConformance = {
      system: r.name,
      finals: r.finals.length,
      executions: r.out.executions.length,
      makespanMs: r.out.makespanMs,
      lowerBoundMs: r.out.lowerBoundMs,
      ok: missing.length === 0 && extra.length === 0 && !orderFreeDiffers && !(refOrderFree && executionsDiffer),
      missing,
      extra,
      executionsDiffer,
      ...(od.size ? { orderDependent: [...od] } : {}),
      ...(orderFreeDiffers ? { orderDependentMismatch: orderFreeDiffers } : {}),
      counters: (r.out.params.counters as Record<string, number>) ?? {},
    };
    return [r.name, row];
  }));
  const rows: SystemConformance[] = systems.map((s) => {
    const name = typeof s === 'string' ? s : s.name;
    return ran.get(name) ?? {
      system: name, unsupported: refused.get(name), finals: 0, executions: 0, makespanMs: 0, lowerBoundMs: 0,
      ok: false, missing: [], extra: [], executionsDiffer: false, counters: {},
    };
  });
  return { workload: w.name, params: w.params, seed, reference: ref.name, ok: [...ran.values()].every((r) => r.ok), systems: rows };
}

/** Human-readable summary: one line per system, then the first differences. */
export function formatConformReport(r: ConformReport, maxDiff = 5): string {
  const lines = [`conform ${r.workload} ${JSON.stringify(r.params)} seed ${r.seed}: ${r.ok ? 'OK' : 'MISMATCH'} (reference ${r.reference})`];
  const od = r.systems.find((s) => s.orderDependent)?.orderDependent;
  if (od) lines.push(`  order-dependent: ${od.join(', ')} (batches gather inputs across tasks as they arrive): compared by the inputs consumed and the finals per type, not by content`);
  for (const s of r.systems) {
    if (s.unsupported) {
      lines.push(`  skip ${s.system.padEnd(24)} ${s.unsupported}`);
      continue;
    }
    lines.push(`  ${s.ok ? 'ok  ' : 'FAIL'} ${s.system.padEnd(24)} finals ${String(s.finals).padStart(5)}  executions ${String(s.executions).padStart(6)}  makespan ${s.makespanMs.toFixed(0).padStart(7)} ms  bound ${s.lowerBoundMs.toFixed(0).padStart(7)} ms${s.executionsDiffer ? '  (execution identities differ)' : ''}`);
    if (s.orderDependentMismatch) lines.push(`       ${s.orderDependentMismatch}`);
    for (const m of s.missing.slice(0, maxDiff)) lines.push(`       missing ${m.type} ${m.key} (${m.correlationId}) ${m.hash.slice(0, 12)}`);
    for (const m of s.extra.slice(0, maxDiff)) lines.push(`       extra   ${m.type} ${m.key} (${m.correlationId}) ${m.hash.slice(0, 12)}`);
    const more = s.missing.length + s.extra.length - Math.min(maxDiff, s.missing.length) - Math.min(maxDiff, s.extra.length);
    if (more > 0) lines.push(`       ... ${more} more differences`);
  }
  return lines.join('\n');
}
