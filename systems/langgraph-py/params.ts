// Parameters of langgraph-py (matrix `systemParams.langgraph-py`), declared once.
import type { ParamDefs } from '../../core/params.ts';

export const langgraphPyParams = {
  form: {
    type: 'string', default: 'per-item', choices: ['per-item', 'subgraph', 'one-graph'],
    doc: 'per-item: one ainvoke per task, all concurrent (refuses global batches); subgraph: Send each task to a per-task subgraph in one run; one-graph: one run over every task published together (as langgraph-parallel)',
  },
  maxConcurrency: {
    type: 'integer', default: 1024, min: 1,
    doc: "LangGraph's max_concurrency per superstep (invoke config); in the subgraph and one-graph forms it bounds the task subgraphs / executions of one superstep, so keep it above the task count there",
  },
  maxInvocations: { type: 'integer', min: 1, doc: 'graph runs in flight at once; derived: unbounded, every run starts on its arrival' },
  perAgentLimit: { type: 'boolean', default: true, doc: "enforce each agent's maxConcurrency with one asyncio.Semaphore per agent shared by every graph run" },
  recursionLimit: { type: 'integer', min: 1, doc: 'supersteps per ainvoke; derived: 2 x agents + 25' },
} as const satisfies ParamDefs;
