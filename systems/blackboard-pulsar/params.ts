// Parameters of blackboard-pulsar (matrix `systemParams.blackboard-pulsar`), declared once.
import type { ParamDefs } from '../../core/params.ts';

export const pulsarParams = {
  subscription: {
    type: 'string', default: 'Failover', choices: ['Failover', 'Shared', 'Key_Shared'],
    doc: "subscription type of every agent: Failover (each partition to one consumer, like a Kafka group), Shared (messages round-robin over all consumers, more consumers than partitions useful), Key_Shared (by correlation id). A batching or joining agent gets Key_Shared when Shared is asked for, so a correlation's artifacts meet in one consumer",
  },
  partitions: { type: 'integer', default: 4, min: 1, doc: 'partitions per type topic' },
  keying: {
    type: 'string', default: 'correlation', choices: ['correlation', 'balanced'],
    doc: "record keys: correlation = partitionKey ?? correlationId (hashed, so partitions get uneven shares); balanced = one key per correlation chosen so the j-th task's correlation lands on partition j mod partitions (systems/blackboard/stores/keying.ts)",
  },
  processes: { type: 'integer', default: 0, min: 0, doc: "consumer processes; 0 = the consumers run in the run's own process" },
  consumers: { type: 'integer', default: 2, min: 1, doc: 'consumers of every agent subscription (per process when processes >= 1); an agent with an unkeyed batch gets 1 in total' },
  maxInFlight: { type: 'integer', min: 1, doc: "executions in flight per consumer; derived: ceil(agent's maxConcurrency / consumers of its subscription)" },
  receiverQueueSize: {
    type: 'integer', min: 1, max: 1000,
    doc: 'messages the broker may push to a consumer before it acks (the WebSocket proxy caps it at 1000); derived: 2 x maxInFlight, 1000 for an agent that batches or joins (it holds its inputs unacked)',
  },
  maxRedeliverCount: { type: 'integer', default: 3, min: 1, doc: 'redeliveries of a poison message (negative acks) before it goes to the dead-letter topic' },
  nackDelayMs: { type: 'number', default: 100, min: 0, unit: 'ms', doc: 'delay before a negatively acked message is delivered again (Pulsar client default 60 s)' },
  backlogPollMs: { type: 'number', default: 50, min: 10, unit: 'ms', doc: 'how often the subscriptions\' backlog is sampled (queue depth, idle detection), via the admin REST API' },
  url: { type: 'string', doc: 'web service of the broker, http://host:port; derived: FLOCKBENCH_PULSAR_URL, else the standalone `brokers up pulsar` started' },
  deleteTopics: { type: 'boolean', default: true, doc: "delete the run's topics when it ends" },
  restartFailedWorkers: { type: 'integer', default: 0, min: 0, doc: 'restart a consumer that failed, up to this many times per run, the way a supervisor would (consumers in the run\'s process only)' },
} as const satisfies ParamDefs;
