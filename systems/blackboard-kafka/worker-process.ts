// Entry of one blackboard-kafka worker process (forked by worker-pool.ts): runs the consumers
// it is given, each an AgentWorker exactly as in the single-process mode, and answers the
// coordinator's requests (../blackboard/distributed/host.ts). Exits when told to close or when
// the coordinator goes away.
import '../../brokers/kafka/client-guard.ts';
import { serveWorker } from '../blackboard/distributed/host.ts';
import { keyPartition } from '../../brokers/kafka/client.ts';
import { RecordKeys } from '../blackboard/stores/keying.ts';
import { AgentWorker, type ConsumerSnapshot } from './worker.ts';
import type { WorkerInit } from './worker-pool.ts';

serveWorker<WorkerInit, ConsumerSnapshot>((init, runtime) => {
  // The same keys as the coordinator's store: derived from the workload, never sent.
  const keys = new RecordKeys(init.keying, init.partitions, init.workload.tasks.map((t) => t.correlationId), keyPartition);
  return {
  consumers: init.consumers.map((c) => {
    const agent = init.workload.agents.find((a) => a.name === c.agent);
    if (!agent) throw new Error(`unknown agent ${c.agent}`);
    return new AgentWorker({
      bootstrap: init.bootstrap, runId: init.runId, groupId: c.groupId, index: c.index, agent, workload: init.workload, runtime,
      mode: init.mode, maxInFlight: c.maxInFlight, batchSize: init.batchSize, lingerMs: init.lingerMs, latencyScale: init.latencyScale,
      maxAttempts: init.maxAttempts, fetchMaxBytes: init.fetchMaxBytes, allowRejoin: c.allowRejoin, keys,
    });
  }),
  };
});
