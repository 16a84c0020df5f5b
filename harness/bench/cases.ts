// Micro-benchmark cases: no-op workloads that isolate what an engine itself costs per event.
// Each case is a plain WorkloadSpec, so every system runs exactly the same thing.
import type { AgentSpec, ArtifactTypeSpec, WorkloadSpec } from '../../workloads/spec.ts';

const schema: ArtifactTypeSpec['schema'] = { type: 'object', required: ['text'], properties: { text: { type: 'string', minLength: 4, maxLength: 16 } } };
const t = (name: string): ArtifactTypeSpec => ({ name, schema });
const agent = (name: string, consumes: AgentSpec['consumes'], publishes: string, maxConcurrency = 1_000_000): AgentSpec => ({
  name, consumes, publishes, maxConcurrency, model: 'gpt-4.1-mini', promptTokens: 1, outputTokens: 1,
});
const seed = (type: string, i: number, correlationId = `c${i}`) => ({ type, key: `${type.toLowerCase()}-${i}`, correlationId, payload: { text: `in ${i}` } });

function spec(name: string, params: Record<string, unknown>, types: ArtifactTypeSpec[], agents: AgentSpec[], inputs: WorkloadSpec['tasks']): WorkloadSpec {
  return { name, description: name, params, types, agents, tasks: inputs, arrival: { kind: 'all-at-once' } };
}

export interface BenchCase {
  name: string;
  /** Size parameter (subscribers, items, depth...). */
  n: number;
  /** Agent executions one run performs: the denominator of per-event overhead. */
  events: number;
  workload: WorkloadSpec;
}

/** One publish wakes `n` subscribers. */
export function fanOut(n: number): BenchCase {
  const agents = Array.from({ length: n }, (_, i) => agent(`s${i}`, { types: ['In'] }, 'Out'));
  return { name: `fan-out-${n}`, n, events: n, workload: spec('bench-fan-out', { n }, [t('In'), t('Out')], agents, [seed('In', 0)]) };
}

/** `n` independent items through one agent. */
export function items(n: number): BenchCase {
  const inputs = Array.from({ length: n }, (_, i) => seed('In', i));
  return { name: `items-${n}`, n, events: n, workload: spec('bench-items', { n }, [t('In'), t('Out')], [agent('w', { types: ['In'] }, 'Out')], inputs) };
}

/** One item through a chain of `n` agents. */
export function chain(n: number): BenchCase {
  const types = Array.from({ length: n + 1 }, (_, i) => t(`T${i}`));
  const agents = Array.from({ length: n }, (_, i) => agent(`a${i + 1}`, { types: [`T${i}`] }, `T${i + 1}`));
  return { name: `chain-${n}`, n, events: n, workload: spec('bench-chain', { n }, types, agents, [seed('T0', 0)]) };
}

/** `n` items collected into one batch of `n`. */
export function batch(n: number): BenchCase {
  const inputs = Array.from({ length: n }, (_, i) => seed('In', i, 'c'));
  const a = agent('collector', { types: ['In'], batch: { size: n, timeoutMs: 60_000 } }, 'Out');
  return { name: `batch-${n}`, n, events: 1, workload: spec('bench-batch', { n }, [t('In'), t('Out')], [a], inputs) };
}

/** One artifact of each of `n` types joined by correlation id (AND gate). */
export function join(n: number): BenchCase {
  const types = Array.from({ length: n }, (_, i) => t(`J${i}`));
  const a = agent('joiner', { types: types.map((x) => x.name), join: { by: 'correlationId' } }, 'Out');
  const inputs = types.map((x, i) => ({ ...seed(x.name, i, 'c') }));
  return { name: `join-${n}`, n, events: 1, workload: spec('bench-join', { n }, [...types, t('Out')], [a], inputs) };
}

/** The case list. */
export function standardCases(): BenchCase[] {
  return [items(1), fanOut(8), fanOut(64), fanOut(1024), chain(10), items(10_000), batch(8), join(8)];
}

/**
 * Growth series for the scaling figure: per-event cost as fan-out grows from 10 to 10,000 and
 * item counts from 10 to 100,000 (where a quadratic engine is long over its budget).
 */
export function growthCases(): BenchCase[] {
  return [...[10, 100, 1000, 10_000].flatMap((n) => [fanOut(n), items(n)]), items(100_000)];
}

/** Case family: the name without its size (`items-10000` -> `items`). */
export const family = (name: string) => name.replace(/-\d+$/, '');

const BUILDERS: Record<string, (n: number) => BenchCase> = { 'fan-out': fanOut, items, chain, batch, join };

/** Rebuild a case from its name (a case's own process gets only the name). */
export function caseByName(name: string): BenchCase {
  const m = /^(.*)-(\d+)$/.exec(name);
  const build = m ? BUILDERS[m[1]!] : undefined;
  if (!m || !build) throw new Error(`unknown bench case '${name}' (families: ${Object.keys(BUILDERS).join(', ')})`);
  return build(Number(m[2]));
}
