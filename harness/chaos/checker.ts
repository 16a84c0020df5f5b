// Exactly-once checker for chaos runs: derives from the workload which artifacts must exist
// (one per logical execution identity) and compares that multiset with what a reader of the
// log actually sees. Counts by logical `key`, never by `id` (ids are minted per publish, so a
// reprocessed input yields a new id for the same logical output). Pure: no I/O.
import { executionIdentity } from '../../workloads/execute.ts';
import { ERROR_TYPE, topoAgents, type WorkloadSpec } from '../../workloads/spec.ts';

/** An artifact as seen in the log; only the logical identity matters here. */
export interface ObservedArtifact {
  type: string;
  key: string;
}

export interface TypeCheck {
  type: string;
  /** Logical artifacts the workload must produce of this type. */
  expected: number;
  /** Records of this type the reader saw (duplicates included). */
  observed: number;
  /** Expected keys with no record, sorted. */
  lost: string[];
  /** Expected keys seen more than once; `count` is how often (>= 2). */
  duplicated: { key: string; count: number }[];
  /** Keys seen that the workload never produces (a torn or foreign write), sorted. */
  unexpected: string[];
}

export interface CheckTotals {
  expected: number;
  observed: number;
  /** Lost logical artifacts. */
  lost: number;
  /** Logical artifacts seen more than once (not extra records; see `extraRecords`). */
  duplicated: number;
  /** Records beyond the first per key: sum of (count - 1) over duplicated keys. */
  extraRecords: number;
  unexpected: number;
}

export interface CheckResult {
  byType: TypeCheck[];
  totals: CheckTotals;
  /** True when nothing was lost, duplicated or unexpected. */
  exact: boolean;
}

export class UnsupportedWorkloadError extends Error {
  override name = 'UnsupportedWorkloadError';
}

/**
 * Expected logical keys per type, replaying the workload's data flow on keys alone: seeds are
 * the inputs; an agent consuming type T runs once per T artifact and publishes
 * `executionIdentity(agent, [key])` (`#i` suffixes for a fan-out, `error:<identity>` as a
 * WorkflowError when `failWhen` matches). Batches, joins and `where` filters depend on timing
 * or payloads, not on keys alone, so they are rejected rather than guessed.
 */
export function expectedKeys(w: WorkloadSpec): Map<string, string[]> {
  const out = new Map<string, string[]>();
  const add = (type: string, key: string) => {
    const l = out.get(type) ?? [];
    l.push(key);
    out.set(type, l);
  };
  for (const t of w.types) out.set(t.name, []);
  for (const i of w.tasks) add(i.type, i.key);
  for (const a of topoAgents(w)) {
    if (a.consumes.batch || a.consumes.join || a.consumes.where || a.consumes.types.length !== 1 || a.allowSelfTrigger) {
      throw new UnsupportedWorkloadError(`checker: agent ${a.name} batches, joins, filters or self-triggers; only chains of single-input agents are supported (e.g. map without join)`);
    }
    for (const inKey of out.get(a.consumes.types[0]!) ?? []) {
      const identity = executionIdentity(a.name, [inKey]);
      if (a.failWhen && identity.includes(a.failWhen.inputKeyIncludes)) {
        add(ERROR_TYPE, `error:${identity}`);
        continue;
      }
      const n = a.fanOut ?? 1;
      for (let i = 0; i < n; i++) add(a.publishes, n === 1 ? identity : `${identity}#${i}`);
    }
  }
  return out;
}

const count = (keys: Iterable<string>) => {
  const m = new Map<string, number>();
  for (const k of keys) m.set(k, (m.get(k) ?? 0) + 1);
  return m;
};

/**
 * Compare expected keys with observed artifacts, per type. Types come from both sides, so a
 * record of a type the workload never produces shows up as unexpected. An expected key listed
 * twice (a workload that legitimately produces it twice) needs two records to be complete.
 */
export function checkArtifacts(expected: ReadonlyMap<string, readonly string[]>, observed: readonly ObservedArtifact[]): CheckResult {
  const seenByType = new Map<string, string[]>();
  for (const a of observed) {
    const l = seenByType.get(a.type) ?? [];
    l.push(a.key);
    seenByType.set(a.type, l);
  }
  const types = [...new Set([...expected.keys(), ...seenByType.keys()])].sort();
  const byType: TypeCheck[] = [];
  for (const type of types) {
    const want = count(expected.get(type) ?? []);
    const seen = count(seenByType.get(type) ?? []);
    const lost: string[] = [];
    const duplicated: { key: string; count: number }[] = [];
    const unexpected: string[] = [];
    for (const [k, n] of want) {
      const s = seen.get(k) ?? 0;
      if (s < n) for (let i = s; i < n; i++) lost.push(k);
      else if (s > n) duplicated.push({ key: k, count: s });
    }
    for (const k of seen.keys()) if (!want.has(k)) unexpected.push(k);
    lost.sort();
    unexpected.sort();
    duplicated.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    byType.push({ type, expected: expected.get(type)?.length ?? 0, observed: seenByType.get(type)?.length ?? 0, lost, duplicated, unexpected });
  }
  const sum = (f: (t: TypeCheck) => number) => byType.reduce((s, t) => s + f(t), 0);
  const totals: CheckTotals = {
    expected: sum((t) => t.expected),
    observed: sum((t) => t.observed),
    lost: sum((t) => t.lost.length),
    duplicated: sum((t) => t.duplicated.length),
    extraRecords: sum((t) => t.duplicated.reduce((s, d) => s + d.count - (expected.get(t.type)?.filter((k) => k === d.key).length ?? 1), 0)),
    unexpected: sum((t) => t.unexpected.length),
  };
  return { byType, totals, exact: totals.lost === 0 && totals.duplicated === 0 && totals.unexpected === 0 };
}

/** Convenience: expected keys from the workload, then compare. */
export function checkWorkload(w: WorkloadSpec, observed: readonly ObservedArtifact[]): CheckResult {
  return checkArtifacts(expectedKeys(w), observed);
}
