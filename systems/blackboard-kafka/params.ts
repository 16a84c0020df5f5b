// Parameters of blackboard-kafka (matrix `systemParams.blackboard-kafka`), declared once.
import { BadParamError, type ParamDefs } from '../../core/params.ts';

export const kafkaParams = {
  delivery: { type: 'string', default: 'at-least-once', choices: ['at-least-once', 'exactly-once'], doc: 'at-least-once: outputs, then offsets; exactly-once: outputs and offsets in one transaction, read-committed consumers' },
  partitions: { type: 'integer', default: 4, min: 1, doc: 'partitions per type topic' },
  keying: {
    type: 'string', default: 'correlation', choices: ['correlation', 'balanced'],
    doc: "record keys: correlation = partitionKey ?? correlationId (hashed, so partitions get uneven shares); balanced = one key per correlation chosen so the j-th task's correlation lands on partition j mod partitions (systems/blackboard/stores/keying.ts)",
  },
  processes: { type: 'integer', default: 0, min: 0, doc: 'consumer processes; 0 = the consumers run in the run\'s own process' },
  consumers: { type: 'integer', default: 2, min: 1, doc: 'consumers of every agent group (per process when processes >= 1); an agent with an unkeyed batch gets 1 in total' },
  maxInFlight: { type: 'integer', min: 1, doc: "executions in flight per consumer; derived: ceil(agent's maxConcurrency / consumers in its group)" },
  batchSize: { type: 'integer', default: 16, min: 1, doc: 'completions per transaction / offset commit' },
  lingerMs: { type: 'number', default: 5, min: 0, unit: 'ms', doc: 'wait for more completions before a commit' },
  replicas: { type: 'integer', default: 1, min: 1, doc: 'replication factor of the run\'s topics (3 on a 3-node cluster)' },
  nodes: { type: 'integer', default: 1, min: 1, max: 3, doc: 'brokers of the local cluster the run needs, 1 or 3 (a matrix brings up that cluster; partitions\' leaders spread over 3 nodes); replicas may not exceed it' },
  maxAttempts: { type: 'integer', default: 3, min: 1, doc: 'executions of one input before it goes to the dead-letter topic' },
  fetchMaxBytes: { type: 'integer', min: 1, unit: 'bytes', doc: "consumer fetch response limit (fetch.max.bytes); derived: the client's default (10 MB)" },
  bootstrap: { type: 'string-list', doc: 'broker addresses; derived: the cluster `brokers up kafka` started, else FLOCKBENCH_KAFKA_BOOTSTRAP' },
  deleteTopics: { type: 'boolean', default: true, doc: "delete the run's topics when it ends" },
  rejoinSoleMember: { type: 'boolean', default: false, doc: 'count (do not fail on) re-joins of single-consumer groups (coordinator failover in chaos runs)' },
  restartFailedWorkers: { type: 'integer', default: 0, min: 0, doc: 'restart a consumer that failed or stalled, up to this many times per run, the way a supervisor would (chaos runs)' },
} as const satisfies ParamDefs;

/** Constraints between parameters: a local cluster has 1 or 3 nodes, and no more replicas than nodes. */
export function checkKafkaParams(p: { nodes: number; replicas: number }): void {
  if (p.nodes !== 1 && p.nodes !== 3) throw new BadParamError(`systemParams.blackboard-kafka: 'nodes' must be 1 or 3, got ${p.nodes}`);
  if (p.replicas > p.nodes) throw new BadParamError(`systemParams.blackboard-kafka: 'replicas' (${p.replicas}) exceeds 'nodes' (${p.nodes}); use nodes: 3 for replicas up to 3`);
}
