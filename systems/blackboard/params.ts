// Parameters of the in-memory blackboard systems (matrix `systemParams.blackboard-eager` /
// `systemParams.blackboard-deferred`), declared once.
import type { ParamDefs } from '../../core/params.ts';

export const blackboardParams = {
  maxAgentIterations: {
    type: 'integer', min: 1,
    doc: "circuit breaker: executions per agent between two idle points (Flock's default 1000); derived: max(1000, 2 x tasks x the product of the agents' fanOut), so a legitimate batch of many independent tasks (or their fan-outs) does not trip it",
  },
  agentConcurrency: {
    type: 'integer', min: 1,
    doc: "every agent's concurrency limit instead of the workload's maxConcurrency (H2: the in-memory reference at the same execution slots as a broker arm, partitions x consumers x maxInFlight); derived: the workload's",
  },
} as const satisfies ParamDefs;

export const deferredParams = {
  ...blackboardParams,
  batchWindowMs: {
    type: 'number', default: 0, min: 0, unit: 'ms',
    doc: 'open loop: collect published tasks for this long (unscaled, x latency scale) and dispatch them together; 0 = dispatch each arrival at once',
  },
  dispatchChunk: {
    type: 'integer', min: 1, unit: 'executions',
    doc: 'route at most this many pending tasks at a time, topping up as executions finish (queued + running executions stay under it); unset = everything pending in one pass (unset, not 0, so existing cells keep their resume keys)',
  },
} as const satisfies ParamDefs;
