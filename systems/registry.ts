// Registered systems: add one by copying a folder under systems/ and adding one entry here.
// Each entry declares its parameters (validated before anything runs) and loads its
// implementation lazily, so listing systems or running one never pays for importing the others.
import { UserError } from '../core/errors.ts';
import { resolveParams, type ParamDefs } from '../core/params.ts';
import { blackboardParams, deferredParams } from './blackboard/params.ts';
import { kafkaParams } from './blackboard-kafka/params.ts';
import { pulsarParams } from './blackboard-pulsar/params.ts';
import { flockRealParams, flockRealSettings } from './flock-real/params.ts';
import { langgraphPyParams } from './langgraph-py/params.ts';
import { parallelParams, perItemParams, stepwiseParams, subgraphParams } from './langgraph/params.ts';
import { langgraphPyRefusal, openLoopRefusal, perItemRefusal, subgraphRefusal } from './langgraph/refusals.ts';
import type { System, SystemEntry } from './types.ts';

export type { SystemEntry };

/** Checks that the implementation takes the parameters the entry declares. */
function entry<D extends ParamDefs>(e: SystemEntry<D>): SystemEntry<ParamDefs, unknown> {
  return e as unknown as SystemEntry<ParamDefs, unknown>;
}

export const SYSTEMS: SystemEntry<ParamDefs, unknown>[] = [
  entry({
    name: 'blackboard-eager', store: 'memory', params: blackboardParams, policy: () => ({ kind: 'dataflow' }),
    description: 'Flock-style blackboard, in-memory store; publish() schedules at once (real Flock 0.5 behaviour)',
    load: async () => (await import('./blackboard/system.ts')).blackboardSystem('blackboard-eager', 'eager'),
  }),
  entry({
    name: 'blackboard-deferred', store: 'memory', params: deferredParams,
    policy: (p, open) => ({ kind: 'dataflow', ...(open && p.batchWindowMs > 0 ? { dispatchEveryMs: p.batchWindowMs } : {}) }),
    description: 'Flock-style blackboard, in-memory store; publish() enqueues, run_until_idle() dispatches the batch',
    load: async () => (await import('./blackboard/system.ts')).blackboardSystem('blackboard-deferred', 'deferred'),
  }),
  entry({
    name: 'langgraph-stepwise', store: 'graph-state', params: stepwiseParams, policy: () => ({ kind: 'serial' }),
    refuses: (w) => openLoopRefusal(w, 'langgraph-stepwise'),
    description: "LangGraph.js, one node execution per superstep, each superstep its own invoke (the seeds' baseline)",
    load: async () => (await import('./langgraph/system.ts')).langgraphStepwiseSystem(),
  }),
  entry({
    name: 'langgraph-parallel', store: 'graph-state', params: parallelParams, policy: (p) => ({ kind: 'superstep', maxConcurrency: p.maxConcurrency, agentLimits: p.perAgentLimit }),
    refuses: (w) => openLoopRefusal(w, 'langgraph-parallel'),
    description: 'LangGraph.js, Send fan-out within supersteps, bounded maxConcurrency, one graph run over all tasks published together',
    load: async () => (await import('./langgraph/system.ts')).langgraphParallelSystem(),
  }),
  entry({
    name: 'langgraph-per-item', store: 'graph-state', params: perItemParams,
    policy: (p) => ({ kind: 'superstep-per-task', maxConcurrency: p.maxConcurrency, agentLimits: p.perAgentLimit, ...(p.maxInvocations ? { maxRuns: p.maxInvocations } : {}) }),
    refuses: (w) => perItemRefusal(w, 'langgraph-per-item'),
    description: 'LangGraph.js, one compiled graph, one graph run per task, all concurrent, per-agent limits shared across runs (refuses global batches)',
    load: async () => (await import('./langgraph/per-task.ts')).langgraphPerItemSystem(),
  }),
  entry({
    name: 'langgraph-subgraph', store: 'graph-state', params: subgraphParams,
    policy: (p) => ({ kind: 'superstep-subgraph', maxConcurrency: p.maxConcurrency, agentLimits: p.perAgentLimit }),
    refuses: (w) => subgraphRefusal(w, 'langgraph-subgraph'),
    description: 'LangGraph.js map-reduce in one graph run: Send each task to a per-task subgraph, deferred joins, global batches in the outer graph',
    load: async () => (await import('./langgraph/per-task.ts')).langgraphSubgraphSystem(),
  }),
  entry({
    name: 'blackboard-kafka', store: 'kafka', params: kafkaParams, policy: () => ({ kind: 'dataflow' }),
    description: 'Flock-style blackboard distributed over Kafka: per-type topics, one consumer group per agent, at-least-once or exactly-once',
    load: async () => (await import('./blackboard-kafka/system.ts')).blackboardKafkaSystem(),
  }),
  entry({
    name: 'blackboard-pulsar', store: 'pulsar', params: pulsarParams, policy: () => ({ kind: 'dataflow' }),
    description: 'Flock-style blackboard distributed over Pulsar (WebSocket API): per-type partitioned topics, one subscription per agent (Failover, Shared, Key_Shared), at-least-once consume, deduplicated produce',
    load: async () => (await import('./blackboard-pulsar/system.ts')).blackboardPulsarSystem(),
  }),
  entry({
    name: 'flock-real', store: 'flock-memory', params: flockRealParams,
    // Flock's own dataflow (per-agent semaphores, BatchSpec and its timeouts) in both engines.
    // DSPyEngine calls the DSPy program synchronously on the event loop (all but the one call it
    // streams), so its LLM calls go one at a time: llmInFlightPeak was 1 in every measured run,
    // closed and open arrivals. Not `serial`: a batch timeout still flushes while analysts wait
    // for the loop, and the replay must see that partial batch.
    policy: (p) => (p.engine === 'dspy' ? { kind: 'dataflow', maxConcurrency: 1 } : { kind: 'dataflow' }),
    check: (p) => { flockRealSettings(p); },
    ownLlmSimulator: true,
    // Its Python runner makes one LLM call per agent execution with one output: it has no tool
    // agents and no coalescing batches, so it would run something else. Refuse instead.
    refuses: (w) => {
      const tool = w.agents.find((a) => a.tool);
      if (tool) return `workload ${w.name}: agent ${tool.name} is a tool agent, which the real Flock runner does not implement`;
      const co = w.agents.find((a) => a.consumes.batch?.coalesce);
      if (co) return `workload ${w.name}: agent ${co.name} coalesces its batch into one call, which the real Flock runner does not implement`;
      return undefined;
    },
    description: 'The real Flock (PyPI flock-core 0.5.7, Python, out of process): its publish/matching/semaphores/BatchSpec/store; engine: http (idealized: one async HTTP call per execution, default) or dspy (its DSPyEngine + LiteLLM, as shipped)',
    load: async () => (await import('./flock-real/system.ts')).flockRealSystem(),
  }),
  entry({
    name: 'langgraph-py', store: 'python-graph-state', params: langgraphPyParams,
    policy: (p) => ({
      kind: p.form === 'per-item' ? 'superstep-per-task' : p.form === 'subgraph' ? 'superstep-subgraph' : 'superstep',
      maxConcurrency: p.maxConcurrency, agentLimits: p.perAgentLimit, ...(p.maxInvocations ? { maxRuns: p.maxInvocations } : {}),
    }),
    description: 'LangGraph for Python (PyPI langgraph 1.2.24, out of process): per-item ainvoke per task by default (or subgraph / one-graph), one HTTP call per execution to the simulator',
    refuses: langgraphPyRefusal,
    ownLlmSimulator: true,
    load: async () => (await import('./langgraph-py/system.ts')).langgraphPySystem(),
  }),
];

export class UnknownSystemError extends UserError {}

/** A workload a system cannot run faithfully (it refuses rather than run something else). */
export class UnsupportedBySystemError extends UserError {}

export function systemEntry(name: string): SystemEntry<ParamDefs, unknown> {
  const s = SYSTEMS.find((x) => x.name === name);
  if (!s) throw new UnknownSystemError(`unknown system '${name}' (known: ${SYSTEMS.map((x) => x.name).join(', ')})`);
  return s;
}

/**
 * A system's parameters as given (`systemParams.<name>`), resolved against its declaration and
 * checked across parameters: a bad one is a BadParamError naming the key, before anything runs.
 */
export function resolveSystemParams(entry: SystemEntry<ParamDefs, unknown>, given: Record<string, unknown> = {}): Record<string, unknown> {
  const resolved = resolveParams(`systemParams.${entry.name}`, entry.params, given) as Record<string, unknown>;
  entry.check?.(resolved);
  return resolved;
}

export async function loadSystem(name: string): Promise<System<unknown>> {
  return systemEntry(name).load();
}
