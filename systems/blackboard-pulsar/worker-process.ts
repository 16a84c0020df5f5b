// Entry of one blackboard-pulsar worker process (forked by worker-pool.ts): runs the consumers
// it is given, each a PulsarAgentWorker exactly as in the single-process mode, sharing this
// process's deduplicating producers, and answers the coordinator's requests
// (../blackboard/distributed/host.ts).
import { KeyedSender, keyPartition } from '../../brokers/pulsar/client.ts';
import { RecordKeys } from '../blackboard/stores/keying.ts';
import { serveWorker } from '../blackboard/distributed/host.ts';
import { producerName } from '../blackboard/stores/pulsar/layout.ts';
import { PulsarAgentWorker, type PulsarConsumerSnapshot } from './worker.ts';
import type { PulsarWorkerInit } from './worker-pool.ts';

serveWorker<PulsarWorkerInit, PulsarConsumerSnapshot>((init, runtime) => {
  const sender = new KeyedSender(init.wsUrl, producerName(init.runId, init.producerRole));
  // The same keys as the coordinator's store: derived from the workload, never sent.
  const keys = new RecordKeys(init.keying, init.partitions, init.workload.tasks.map((t) => t.correlationId), keyPartition);
  const consumers = init.consumers.map((c) => {
    const agent = init.workload.agents.find((a) => a.name === c.agent);
    if (!agent) throw new Error(`unknown agent ${c.agent}`);
    return new PulsarAgentWorker({
      wsUrl: init.wsUrl, runId: init.runId, agent, index: c.index, workload: init.workload, runtime, partitions: init.partitions,
      subscriptionType: c.subscriptionType, maxInFlight: c.maxInFlight, receiverQueueSize: c.receiverQueueSize,
      latencyScale: init.latencyScale, maxRedeliverCount: init.maxRedeliverCount, nackDelayMs: init.nackDelayMs, sender, keys,
    });
  });
  return { consumers, close: () => sender.close() };
});
