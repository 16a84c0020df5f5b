// Worker processes of a broker-backed blackboard, child side: the body of a worker process's
// entry module. It makes the same LLM client as the run, builds the consumers it is given (the
// broker-specific part, passed in), and answers the coordinator's requests (pool.ts): init,
// measure (anchor the clock, start CPU/RSS accounting), status, finish, close. It exits when
// told to close or when the coordinator goes away.
import { describeError } from '../../../core/errors.ts';
import { HttpLlm } from '../../../llm/http-client.ts';
import { SimulatedLlm } from '../../../llm/simulator.ts';
import type { LlmClient } from '../../../llm/types.ts';
import type { AgentRuntime, ExecutionRecord } from '../../../workloads/execute.ts';
import type { FromWorker, SnapshotBase, ToWorker, WorkerInitBase } from './pool.ts';

/** A consumer as a worker process hosts it (AgentWorker of Kafka, PulsarAgentWorker). */
export interface HostedConsumer<S> {
  start(): Promise<void>;
  close(): Promise<void>;
  /** Set once the measured window opened. */
  measuring: boolean;
  snapshot(describe: (e: unknown) => string): S;
}

/** What the broker-specific part builds from the init message: the consumers, and what else to close after them. */
export interface HostedConsumers<S> {
  consumers: HostedConsumer<S>[];
  close?(): Promise<void>;
}

function makeLlm(init: WorkerInitBase): LlmClient {
  const { transport, tail, url } = init.llm;
  if (transport === 'inprocess') return new SimulatedLlm({ seed: init.seed, latencyScale: init.latencyScale, tail });
  if (!url) throw new Error('http LLM transport without a server url');
  // The coordinator's server: one simulated provider for all processes (shared limits, metrics).
  return new HttpLlm({ url, seed: init.seed, tail, latencyScale: init.latencyScale });
}

/** Serve the coordinator on this process's IPC channel; `build` makes the consumers of one init message. */
export function serveWorker<Init extends WorkerInitBase, S extends SnapshotBase>(build: (init: Init, runtime: AgentRuntime) => HostedConsumers<S>): void {
  let hosted: HostedConsumers<S> = { consumers: [] };
  const executions: ExecutionRecord[] = [];
  let llm: LlmClient | undefined;
  let anchorAbsMs: number | undefined;
  const localT0 = performance.now();
  let cpu0 = process.cpuUsage();
  let rssPeak = 0;
  let rssTimer: NodeJS.Timeout | undefined;

  const clock = () => (anchorAbsMs === undefined ? performance.now() - localT0 : performance.timeOrigin + performance.now() - anchorAbsMs);
  const send = (m: FromWorker<S>) => process.send?.(m);
  const sampleRss = () => {
    const r = process.memoryUsage.rss() / 1048576;
    if (r > rssPeak) rssPeak = r;
  };
  const closeAll = async () => {
    await Promise.all(hosted.consumers.map((w) => w.close()));
    await hosted.close?.();
  };

  async function handle(m: ToWorker<Init>): Promise<void> {
    switch (m.type) {
      case 'init': {
        const init = m.init;
        llm = makeLlm(init);
        const runtime: AgentRuntime = { workload: init.workload, llm, seed: init.seed, clock, onExecution: (r) => executions.push(r) };
        hosted = build(init, runtime);
        await Promise.all(hosted.consumers.map((w) => w.start()));
        send({ id: m.id, type: 'ok' });
        return;
      }
      case 'measure':
        anchorAbsMs = m.anchorAbsMs;
        cpu0 = process.cpuUsage();
        rssPeak = 0;
        sampleRss();
        rssTimer = setInterval(sampleRss, 100);
        for (const w of hosted.consumers) w.measuring = true;
        send({ id: m.id, type: 'ok' });
        return;
      case 'status':
        send({ id: m.id, type: 'status', consumers: hosted.consumers.map((w) => w.snapshot(describeError)) });
        return;
      case 'finish': {
        const cpu = process.cpuUsage(cpu0);
        clearInterval(rssTimer);
        sampleRss();
        send({
          id: m.id,
          type: 'finished',
          result: {
            consumers: hosted.consumers.map((w) => w.snapshot(describeError)),
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
        await closeAll();
        await llm?.close().catch(() => {});
        send({ id: m.id, type: 'ok' });
        process.disconnect?.();
        setImmediate(() => process.exit(0));
        return;
    }
  }

  process.on('message', (m: ToWorker<Init>) => {
    handle(m).catch((e) => send({ id: m.id, type: 'error', error: describeError(e) }));
  });
  // The coordinator died or gave up on us: leave no orphan consumers behind.
  process.on('disconnect', () => {
    void closeAll().finally(() => process.exit(0));
    setTimeout(() => process.exit(1), 5000).unref();
  });
}
