// Entry of one blackboard-kafka worker process (forked by worker-pool.ts): runs the consumers
// it is given, each an AgentWorker exactly as in the single-process mode, and answers the
// coordinator's requests. Exits when told to close or when the coordinator goes away.
import '../../brokers/kafka/client-guard.ts';
import { describeError } from '../../core/errors.ts';
import { HttpLlm } from '../../llm/http-client.ts';
import { SimulatedLlm } from '../../llm/simulator.ts';
import type { LlmClient } from '../../llm/types.ts';
import type { ExecutionRecord } from '../../workloads/execute.ts';
import { AgentWorker } from './worker.ts';
import type { FromWorker, ToWorker, WorkerInit } from './worker-pool.ts';

const workers: AgentWorker[] = [];
const executions: ExecutionRecord[] = [];
let llm: LlmClient | undefined;
let anchorAbsMs: number | undefined;
const localT0 = performance.now();
let cpu0 = process.cpuUsage();
let rssPeak = 0;
let rssTimer: NodeJS.Timeout | undefined;

const clock = () => (anchorAbsMs === undefined ? performance.now() - localT0 : performance.timeOrigin + performance.now() - anchorAbsMs);
const send = (m: FromWorker) => process.send?.(m);
const sampleRss = () => {
  const r = process.memoryUsage.rss() / 1048576;
  if (r > rssPeak) rssPeak = r;
};

function makeLlm(init: WorkerInit): LlmClient {
  const { transport, tail, url } = init.llm;
  if (transport === 'inprocess') return new SimulatedLlm({ seed: init.seed, latencyScale: init.latencyScale, tail });
  if (!url) throw new Error('http LLM transport without a server url');
  // The coordinator's server: one simulated provider for all processes (shared limits, metrics).
  return new HttpLlm({ url, seed: init.seed, tail, latencyScale: init.latencyScale });
}

async function handle(m: ToWorker): Promise<void> {
  switch (m.type) {
    case 'init': {
      const init = m.init;
      llm = makeLlm(init);
      const runtime = { workload: init.workload, llm, seed: init.seed, clock, onExecution: (r: ExecutionRecord) => executions.push(r) };
      for (const c of init.consumers) {
        const agent = init.workload.agents.find((a) => a.name === c.agent);
        if (!agent) throw new Error(`unknown agent ${c.agent}`);
        workers.push(new AgentWorker({
          bootstrap: init.bootstrap, runId: init.runId, groupId: c.groupId, index: c.index, agent, workload: init.workload, runtime,
          mode: init.mode, maxInFlight: c.maxInFlight, batchSize: init.batchSize, lingerMs: init.lingerMs, latencyScale: init.latencyScale,
          maxAttempts: init.maxAttempts, fetchMaxBytes: init.fetchMaxBytes, allowRejoin: c.allowRejoin,
        }));
      }
      await Promise.all(workers.map((w) => w.start()));
      send({ id: m.id, type: 'ok' });
      return;
    }
    case 'measure':
      anchorAbsMs = m.anchorAbsMs;
      cpu0 = process.cpuUsage();
      rssPeak = 0;
      sampleRss();
      rssTimer = setInterval(sampleRss, 100);
      for (const w of workers) w.measuring = true;
      send({ id: m.id, type: 'ok' });
      return;
    case 'status':
      send({ id: m.id, type: 'status', consumers: workers.map((w) => w.snapshot(describeError)) });
      return;
    case 'finish': {
      const cpu = process.cpuUsage(cpu0);
      clearInterval(rssTimer);
      sampleRss();
      send({
        id: m.id,
        type: 'finished',
        result: {
          consumers: workers.map((w) => w.snapshot(describeError)),
          executions: executions.splice(0),
          llm: llm!.stats(),
          cpuMs: (cpu.user + cpu.system) / 1000,
          rssPeakMb: rssPeak,
        },
      });
      return;
    }
    case 'close':
      clearInterval(rssTimer);
      await Promise.all(workers.map((w) => w.close()));
      await llm?.close().catch(() => {});
      send({ id: m.id, type: 'ok' });
      process.disconnect?.();
      setImmediate(() => process.exit(0));
      return;
  }
}

process.on('message', (m: ToWorker) => {
  handle(m).catch((e) => send({ id: m.id, type: 'error', error: describeError(e) }));
});
// The coordinator died or gave up on us: leave no orphan consumers behind.
process.on('disconnect', () => {
  void Promise.all(workers.map((w) => w.close())).finally(() => process.exit(0));
  setTimeout(() => process.exit(1), 5000).unref();
});
