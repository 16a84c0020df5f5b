// Parameters of the LangGraph.js systems (matrix `systemParams.langgraph-*`), declared once.
import type { ParamDefs } from '../../core/params.ts';

export const parallelParams = {
  maxConcurrency: {
    type: 'integer', default: 64, min: 2,
    doc: "LangGraph's global task limit per superstep window (invoke config); 1 would silently drop Send tasks (langgraphjs #2656)",
  },
  checkpointer: { type: 'string', default: 'none', choices: ['none', 'memory'], doc: 'none, or MemorySaver (state serialised every superstep)' },
  durability: { type: 'string', default: 'async', choices: ['async', 'sync', 'exit'], doc: 'when checkpoints are written (checkpointer memory only)' },
  perAgentLimit: { type: 'boolean', default: true, doc: "enforce each agent's maxConcurrency with a semaphore inside the node, as the blackboard does" },
  recursionLimit: { type: 'integer', min: 1, doc: 'supersteps per invoke; derived: 2 x agents + 25' },
} as const satisfies ParamDefs;

export const stepwiseParams = {
  recursionLimit: { type: 'integer', default: 25, min: 1, doc: 'supersteps per invoke (each invoke runs one)' },
} as const satisfies ParamDefs;

export const perItemParams = {
  maxConcurrency: {
    type: 'integer', default: 64, min: 2,
    doc: "LangGraph's task limit per superstep of each task's graph run (invoke config); 1 would silently drop Send tasks (langgraphjs #2656)",
  },
  maxInvocations: {
    type: 'integer', min: 1,
    doc: 'graph runs in flight at once, over all tasks (a task arriving beyond it waits for a run to end); derived: unbounded, every task starts its run on arrival',
  },
  perAgentLimit: { type: 'boolean', default: true, doc: "enforce each agent's maxConcurrency with one semaphore per agent shared by every graph run, as the blackboard does" },
  recursionLimit: { type: 'integer', min: 1, doc: 'supersteps per invoke; derived: 2 x agents + 25' },
} as const satisfies ParamDefs;

export const subgraphParams = {
  maxConcurrency: {
    type: 'integer', default: 1024, min: 2,
    doc: "LangGraph's task limit per superstep (invoke config, inherited by the task subgraphs); in the outer graph it bounds the task subgraphs running at once, so below the task count it queues whole tasks",
  },
  perAgentLimit: { type: 'boolean', default: true, doc: "enforce each agent's maxConcurrency with one semaphore per agent shared by every subgraph, as the blackboard does" },
  recursionLimit: { type: 'integer', min: 1, doc: 'supersteps per invoke (outer graph and each subgraph); derived: 2 x agents + 25' },
} as const satisfies ParamDefs;
