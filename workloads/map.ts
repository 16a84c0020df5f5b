// Map: N independent tasks through a chain of `depth` agent layers, optionally joined at the
// end by a reducer that batches every item. The independence knob of H1 and the unit of H2.
// `coalesceTasks` lets every layer coalesce up to that many tasks into one LLM call (a global
// batch closed by size or by `coalesceWindowMs`); the artifacts stay those of one call per task.
import { BadParamError, resolveParams, type ParamDefs } from '../core/params.ts';
import { ARRIVAL_PARAMS, arrivalFrom } from './arrivals.ts';
import { SIZE_FIELDS, type AgentSpec, type ArtifactTypeSpec, type SubscriptionSpec, type WorkloadSpec } from './spec.ts';

export const mapParams = {
  tasks: { type: 'integer', default: 10, min: 1, doc: 'independent tasks' },
  depth: { type: 'integer', default: 1, min: 1, doc: 'agent layers each task passes through (chain)' },
  join: { type: 'boolean', default: false, doc: 'add a reducer that batches all tasks at the end' },
  model: { type: 'string', default: 'gpt-4.1-mini', doc: 'simulated model of every agent' },
  maxConcurrency: { type: 'integer', default: 16, min: 1, doc: 'per-agent concurrency limit' },
  promptTokens: { type: 'integer', default: 300, min: 1, doc: 'prompt tokens per call (before inputs)' },
  outputTokens: { type: 'integer', default: 120, min: 1, doc: 'target output tokens per call' },
  joinTimeoutMs: { type: 'number', default: 600_000, min: 1, unit: 'ms', doc: 'reducer batch timeout, unscaled' },
  // No declared defaults below: a configuration without them resolves exactly as before.
  coalesceTasks: { type: 'integer', min: 1, doc: 'coalesce up to this many tasks into one call at every layer (a global batch; default 1: one call per task)' },
  coalesceWindowMs: { type: 'number', min: 1, unit: 'ms', doc: 'how long a coalescing batch waits to fill, unscaled (default 1000)' },
  ...ARRIVAL_PARAMS,
} satisfies ParamDefs;

/** Task payloads may carry a size (SIZE_FIELDS), e.g. from trace arrivals. */
export const TASK_SIZE_PROPERTIES = {
  [SIZE_FIELDS.promptTokens]: { type: 'integer', minimum: 1 },
  [SIZE_FIELDS.outputTokens]: { type: 'integer', minimum: 1 },
} as const;

const stage = (i: number) => (i === 0 ? 'Task' : `Stage${i}`);

export function map(given: Record<string, unknown> = {}): WorkloadSpec {
  const p = resolveParams('workload map', mapParams, given);
  const types: ArtifactTypeSpec[] = [];
  for (let i = 0; i <= p.depth; i++) {
    types.push({
      name: stage(i),
      schema: {
        type: 'object',
        required: ['text', 'score'],
        properties: {
          text: { type: 'string', minLength: 20, maxLength: 120 },
          score: { type: 'number', minimum: 0, maximum: 1 },
          // Only the seed type has a size: later stages are generated, sized by their agents.
          ...(i === 0 ? TASK_SIZE_PROPERTIES : {}),
        },
      },
    });
  }
  if (p.coalesceWindowMs !== undefined && p.coalesceTasks === undefined) throw new BadParamError(`workload map: 'coalesceWindowMs' needs 'coalesceTasks'`);
  const consumes = (type: string): SubscriptionSpec => (p.coalesceTasks ?? 1) > 1
    ? { types: [type], batch: { size: p.coalesceTasks!, timeoutMs: p.coalesceWindowMs ?? 1000, coalesce: true } }
    : { types: [type] };
  const agents: AgentSpec[] = [];
  for (let i = 1; i <= p.depth; i++) {
    agents.push({
      name: `worker${i}`,
      consumes: consumes(stage(i - 1)),
      publishes: stage(i),
      maxConcurrency: p.maxConcurrency,
      model: p.model,
      promptTokens: p.promptTokens,
      outputTokens: p.outputTokens,
    });
  }
  if (p.join) {
    types.push({
      name: 'Summary',
      schema: { type: 'object', required: ['text', 'count'], properties: { text: { type: 'string', minLength: 40 }, count: { type: 'integer', minimum: 1, maximum: 1_000_000 } } },
    });
    agents.push({
      name: 'reducer',
      consumes: { types: [stage(p.depth)], batch: { size: p.tasks, timeoutMs: p.joinTimeoutMs } },
      publishes: 'Summary',
      maxConcurrency: 1,
      model: p.model,
      promptTokens: p.promptTokens,
      outputTokens: p.outputTokens * 2,
      outputFields: { count: p.tasks },
    });
  }
  const tasks = Array.from({ length: p.tasks }, (_, i) => {
    // One string for key and correlation id: a million tasks, a million strings fewer.
    const key = `task-${i}`;
    return { type: 'Task', key, correlationId: key, payload: { text: `independent task number ${i} of ${p.tasks}`, score: 0.5 } };
  });
  return {
    name: 'map',
    description: `${p.tasks} tasks x depth ${p.depth}${p.join ? ' + join' : ''}`,
    params: p,
    types,
    agents,
    tasks,
    arrival: arrivalFrom(p),
  };
}
