// The blackboard distributed over Pulsar: artifacts live in per-type partitioned topics, every
// agent has one durable subscription (Failover, Shared or Key_Shared) with `consumers`
// consumers in each of `processes` worker processes (or in this process, processes = 0). The
// same workload spec, routing and agent body as the in-memory blackboard, so final artifacts
// match it by content hash; the process pool and the drain loop are shared with blackboard-kafka
// (../blackboard/distributed/).
//
// Delivery guarantees through the WebSocket API (the only Pulsar client Node can use here):
//   consume: at-least-once (per-message acks after the outputs are stored; acks are
//            fire-and-forget, so a broker crash can lose recent acks and their inputs come again);
//   produce: idempotent per partition (named producers, own sequence ids, broker deduplication);
//   consume-transform-produce: NOT exactly-once — the WebSocket API has no transactions, so a
//            redelivered input processed again stores its outputs again. There is no
//            `delivery: exactly-once` here; the failure experiment measures what that costs.
import { BrokerError } from '../../brokers/errors.ts';
import { PulsarAdmin, keyPartition, type SubscriptionType } from '../../brokers/pulsar/client.ts';
import { RecordKeys, partitionCounts, type Keying } from '../blackboard/stores/keying.ts';
import { pooledSlots } from '../blackboard/distributed/slots.ts';
import { defaultPulsarUrls } from '../../brokers/pulsar/standalone.ts';
import { describeError } from '../../core/errors.ts';
import { seedArtifact } from '../../workloads/execute.ts';
import { type AgentSpec, ERROR_TYPE, type WorkloadSpec } from '../../workloads/spec.ts';
import { drainUntilIdle } from '../blackboard/distributed/drain.ts';
import { clockAnchor, refreshAll, sumStats } from '../blackboard/distributed/pool.ts';
import { agentSubscription, pulsarTypeTopic } from '../blackboard/stores/pulsar/layout.ts';
import { PulsarBlackboardStore } from '../blackboard/stores/pulsar/store.ts';
import type { RunContext, Session, System } from '../types.ts';
import { PulsarAgentWorker, type PulsarConsumerView, type PulsarWorkerCounters } from './worker.ts';
import { type PulsarConsumerAssignment, PulsarWorkerProcess } from './worker-pool.ts';

/** System parameters as resolved against params.ts (matrix `systemParams.blackboard-pulsar`). */
export interface PulsarSystemParams {
  subscription: 'Failover' | 'Shared' | 'Key_Shared';
  partitions: number;
  keying: Keying;
  processes: number;
  consumers: number;
  maxInFlight?: number;
  receiverQueueSize?: number;
  maxRedeliverCount: number;
  nackDelayMs: number;
  backlogPollMs: number;
  url?: string;
  deleteTopics: boolean;
  restartFailedWorkers: number;
}

/** Web service and WebSocket URLs of the broker a run uses (the parameter, else defaultPulsarUrls). */
export function pulsarUrlsFor(p: Pick<PulsarSystemParams, 'url'>): { webServiceUrl: string; wsUrl: string } {
  if (p.url) {
    const u = new URL(p.url);
    return { webServiceUrl: `http://${u.host}`, wsUrl: `ws://${u.host}` };
  }
  return defaultPulsarUrls();
}

/** An agent that batches or joins keeps a correlation's inputs together: Shared would scatter them. */
export function subscriptionTypeFor(agent: AgentSpec, wanted: PulsarSystemParams['subscription']): SubscriptionType {
  return wanted === 'Shared' && (agent.consumes.batch || agent.consumes.join) ? 'Key_Shared' : wanted;
}

/** Batching or joining agents hold inputs unacked until their group is complete. */
function holdsInputs(agent: AgentSpec): boolean {
  return Boolean(agent.consumes.batch || agent.consumes.join);
}

const DEBUG = Boolean(process.env.FLOCKBENCH_DEBUG_PULSAR);
const debug = (...a: unknown[]) => { if (DEBUG) console.error('[blackboard-pulsar]', ...a); };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The broker's delay before a Failover subscription hands a partition to a newly joined consumer (standalone.conf). */
const FAILOVER_DELAY_MS = 200;

/** What a test can reach once the consumers are up (to inject poison messages or kill a process). */
export interface PulsarRunHandle {
  store: PulsarBlackboardStore;
  /** Consumers in this process (processes = 0). */
  workers: PulsarAgentWorker[];
  /** Worker processes (processes >= 1). */
  processes: PulsarWorkerProcess[];
}

export function blackboardPulsarSystem(name = 'blackboard-pulsar', hooks: { onStarted?(h: PulsarRunHandle): void | Promise<void> } = {}): System<PulsarSystemParams> {
  return {
    name,
    async start(w: WorkloadSpec, ctx: RunContext<PulsarSystemParams>): Promise<Session> {
      const p = ctx.params;
      if (ctx.faults?.afterProduce) throw new BrokerError(`${name}: the afterProduce fault hook is not supported (no transactions to abort); the failure experiment kills the broker instead`);
      const urls = pulsarUrlsFor(p);
      const admin = new PulsarAdmin(urls.webServiceUrl, 15_000);
      try {
        await admin.clusters();
      } catch {
        throw new BrokerError(`pulsar not reachable at ${urls.webServiceUrl}; run: flockbench brokers up pulsar`);
      }
      // How the broker deals a Shared subscription's messages (per round-robin turn), as it runs:
      // recorded per run, since Shared throughput depends on it (standalone.conf.template).
      const roundRobin = await admin.runtimeConfiguration().then((c) => c.dispatcherMaxRoundRobinBatchSize ?? 'unknown', () => 'unknown');
      const types = [...new Set([...w.types.map((t) => t.name), ...w.tasks.map((i) => i.type), ERROR_TYPE])];
      const deadLetters = w.agents.flatMap((a) => [...new Set(a.consumes.types)].map((type) => ({ type, agent: a.name })));
      const keys = new RecordKeys(p.keying, p.partitions, w.tasks.map((t) => t.correlationId), keyPartition);
      const store = new PulsarBlackboardStore({ ...urls, runId: ctx.runId, types, partitions: p.partitions, deadLetters, keys });
      const workers: PulsarAgentWorker[] = [];
      const procs: PulsarWorkerProcess[] = [];
      const retired: PulsarAgentWorker[] = [];
      let sampler: NodeJS.Timeout | undefined;
      const stop = async () => {
        clearInterval(sampler);
        await Promise.all([...workers.map((x) => x.close()), ...procs.map((x) => x.close())]);
        await store.close();
        if (p.deleteTopics) await store.deleteTopics().catch(() => {});
      };
      const t0 = ctx.clock();
      const slots = Math.max(1, p.processes);
      const subscriptionTypes = Object.fromEntries(w.agents.map((a) => [a.name, subscriptionTypeFor(a, p.subscription)]));
      // Per process k: which consumers of which agent it runs. An unkeyed batch must see every
      // artifact, so that agent gets one consumer in total (in the first process).
      const plan: PulsarConsumerAssignment[][] = Array.from({ length: slots }, (_, k) =>
        w.agents.flatMap((agent) => {
          const unkeyed = Boolean(agent.consumes.batch && agent.consumes.batch.by !== 'correlationId');
          const n = unkeyed ? (k === 0 ? 1 : 0) : p.consumers;
          const inSubscription = unkeyed ? 1 : p.consumers * slots;
          const maxInFlight = p.maxInFlight ?? Math.max(1, Math.ceil(agent.maxConcurrency / inSubscription));
          const receiverQueueSize = p.receiverQueueSize ?? (holdsInputs(agent) ? 1000 : Math.min(1000, 2 * maxInFlight));
          return Array.from({ length: n }, (_, i) => ({ agent: agent.name, index: k * p.consumers + i, subscriptionType: subscriptionTypes[agent.name]!, maxInFlight, receiverQueueSize }));
        }),
      );
      const expected = new Map(w.agents.map((a) => [a.name, plan.flat().filter((c) => c.agent === a.name).length]));
      let views: PulsarConsumerView[];
      try {
        await store.init();
        for (const t of new Set(w.tasks.map((x) => x.type))) await store.sender.prepare(store.topicOf(t), p.partitions);
        if (p.processes === 0) {
          for (const c of plan[0]!) {
            workers.push(new PulsarAgentWorker({
              wsUrl: urls.wsUrl, runId: ctx.runId, agent: w.agents.find((a) => a.name === c.agent)!, index: c.index, workload: w, runtime: ctx,
              partitions: p.partitions, subscriptionType: c.subscriptionType, maxInFlight: c.maxInFlight, receiverQueueSize: c.receiverQueueSize,
              latencyScale: ctx.latencyScale, maxRedeliverCount: p.maxRedeliverCount, nackDelayMs: p.nackDelayMs, sender: store.sender, keys,
            }));
          }
          await Promise.all(workers.map((x) => x.start()));
        } else {
          const started = await Promise.allSettled(plan.map((consumers, k) => PulsarWorkerProcess.spawn(k, {
            wsUrl: urls.wsUrl, runId: ctx.runId, partitions: p.partitions, consumers, maxRedeliverCount: p.maxRedeliverCount, nackDelayMs: p.nackDelayMs,
            producerRole: `worker-${k}`, keying: p.keying, workload: w, latencyScale: ctx.latencyScale, seed: ctx.seed, llm: ctx.llmConfig,
          }, w.agents)));
          for (const r of started) if (r.status === 'fulfilled') procs.push(r.value);
          const failed = started.find((r) => r.status === 'rejected');
          if (failed) throw (failed as PromiseRejectedResult).reason;
        }
        views = [...workers, ...procs.flatMap((x) => x.consumers)];
        await waitForConsumers(admin, w, ctx.runId, p.partitions, expected);
        if (Object.values(subscriptionTypes).includes('Failover')) await sleep(3 * FAILOVER_DELAY_MS);
        for (const x of workers) x.measuring = true;
        await hooks.onStarted?.({ store, workers, processes: procs });
      } catch (e) {
        await stop();
        throw e;
      }
      const setupMs = ctx.clock() - t0;
      const refresh = () => refreshAll(procs);
      // Backlog (messages not yet acked) of every agent subscription, per consumed topic.
      const watched = new Map<string, string[]>();
      for (const a of w.agents) {
        for (const t of new Set(a.consumes.types)) {
          const topic = pulsarTypeTopic(ctx.runId, t);
          watched.set(topic, [...(watched.get(topic) ?? []), agentSubscription(ctx.runId, a.name)]);
        }
      }
      const backlog = async (): Promise<number> => {
        const counts = await Promise.all([...watched].map(async ([topic, subs]) => {
          const st = await admin.partitionedStats(topic);
          let n = 0;
          for (const s of subs) {
            const sub = st.subscriptions?.[s];
            // A subscription missing from the stats (broker restarting) must not read as idle.
            if (!sub) throw new Error(`no stats for subscription ${s} on ${topic}`);
            n += sub.msgBacklog;
          }
          return n;
        }));
        return counts.reduce((s, n) => s + n, 0);
      };
      let lastBacklog = 0;
      let restarts = 0;
      let monitorErrors = 0;
      let drainLagMs = 0;
      const restart = async (x: PulsarAgentWorker) => {
        restarts++;
        debug('restarting', x.name, 'after', describeError(x.failure));
        retired.push(x);
        await x.close();
        const nx = new PulsarAgentWorker(x.o);
        workers[workers.indexOf(x)] = nx;
        views[views.indexOf(x)] = nx;
        try {
          await nx.start();
          nx.measuring = true;
        } catch (e) {
          nx.failure ??= e;
          await sleep(1000);
        }
      };

      return {
        async open() {
          const anchor = clockAnchor(ctx.clock);
          await Promise.all(procs.map((x) => x.measure(anchor)));
          // Queue depth while tasks arrive; the drain loop samples on its own.
          sampler = setInterval(() => {
            backlog().then((n) => { lastBacklog = n; }, () => { monitorErrors++; });
          }, p.backlogPollMs);
        },
        async publish(arrivals) {
          // Tasks that arrive together are published together: the producers pipeline them.
          await Promise.all(arrivals.map((arr) => store.publish(seedArtifact(w, arr.index, ctx.clock()))));
        },
        queueDepth: () => ({
          pending: Math.max(0, lastBacklog - views.reduce((s, x) => s + x.inFlightInputs, 0)),
          inFlight: views.reduce((s, x) => s + x.inFlight, 0),
        }),
        async drain() {
          clearInterval(sampler);
          const r = await drainUntilIdle<PulsarConsumerView>({
            signal: ctx.signal,
            pollMs: p.backlogPollMs,
            nothingWaiting: async () => {
              lastBacklog = await backlog();
              debug('backlog', lastBacklog, 'busy', views.filter((x) => x.busy()).map((x) => `${x.name}(inflight ${x.inFlight} held ${x.buffered()})`).join(' '));
              // A chaos run is not idle while faults are still scheduled (ctx.faults.holdIdle).
              return lastBacklog === 0 && !ctx.faults?.holdIdle?.();
            },
            refresh,
            consumers: () => views,
            restart: async (x) => {
              if (!(x instanceof PulsarAgentWorker) || restarts >= p.restartFailedWorkers) return false;
              await restart(x);
              return true;
            },
          });
          monitorErrors += r.monitorErrors;
          // The work ended with the last ack (its outputs were stored before it); the looks that
          // confirm idleness from the broker's stats come after and are not the system's work.
          const endMs = Math.max(-1, ...views.map((x) => x.lastDoneMs), ...retired.map((x) => x.lastDoneMs));
          drainLagMs = endMs >= 0 ? ctx.clock() - endMs : 0;
          return endMs >= 0 ? { endMs } : undefined;
        },
        async collect() {
          const finished = await Promise.all(procs.map((x) => x.finish()));
          for (const f of finished) for (const e of f.executions) ctx.onExecution(e);
          const artifacts = await store.all();
          const dlq = (await store.dlq()).length;
          const every = [...views, ...retired];
          const sum = (k: keyof PulsarWorkerCounters) => every.reduce((s, x) => s + x.counters[k], 0);
          const producers = store.sender.counters();
          const consumed = [...new Set(w.agents.flatMap((a) => a.consumes.types))];
          const partitionRecords = Object.fromEntries(consumed.map((t) => [t, partitionCounts(keys, artifacts.filter((a) => a.type === t))]));
          return {
            artifacts,
            settings: {
              store: 'pulsar',
              keying: p.keying,
              partitionRecords,
              subscriptionTypes,
              consumersPerSubscription: p.consumers * slots,
              maxInFlight: p.maxInFlight ?? 'maxConcurrency/consumersPerSubscription',
              receiverQueueSize: p.receiverQueueSize ?? '2 x maxInFlight; 1000 for batching/joining agents',
              dispatcherMaxRoundRobinBatchSize: roundRobin,
              url: urls.webServiceUrl,
              client: 'WebSocket API (ws)',
              delivery: 'at-least-once consume, idempotent produce (broker deduplication); no transactions',
            },
            counters: {
              setupMs,
              executions: sum('executions'),
              redelivered: sum('redelivered'),
              nacks: sum('nacks'),
              dlq,
              dlqCounted: sum('dlq'),
              filtered: sum('filtered'),
              peakInFlight: Math.max(0, ...every.map((x) => x.counters.peakInFlight)),
              joinsExpired: sum('joinsExpired'),
              consumerReconnects: sum('reconnects'),
              droppedAcks: sum('droppedAcks'),
              // The run process's producers (seeds, and outputs of consumers in this process).
              producerReconnects: producers.reconnects,
              producerResent: producers.resent,
              producerDuplicates: producers.duplicates,
              producers: producers.producers,
              workerRestarts: restarts,
              monitorErrors,
              drainLagMs,
            },
            // Shared: any consumer of the subscription takes any message, so the bound pools its
            // consumers' slots. Failover and Key_Shared hand partitions / key ranges to consumers
            // by a broker-side choice the WebSocket client does not see: no partition-aware bound.
            ...(w.agents.every((a) => subscriptionTypes[a.name] === 'Shared')
              ? { slots: pooledSlots(plan.flat().map((c) => ({ agent: c.agent, maxInFlight: c.maxInFlight }))) }
              : {}),
            ...(procs.length ? {
              llmStats: sumStats([ctx.llm.stats(), ...finished.map((f) => f.llm)]),
              helperCpuMs: finished.reduce((s, f) => s + f.cpuMs, 0),
              helperRssPeakMb: finished.reduce((s, f) => s + f.rssPeakMb, 0),
            } : {}),
          };
        },
        stop,
      };
    },
  };
}

/**
 * Wait until every agent's subscription has its consumers on every partition of every topic it
 * consumes (the proxy subscribes before it accepts the socket, so this is a check more than a
 * wait), so no consumer joins while the run is measured.
 */
async function waitForConsumers(admin: PulsarAdmin, w: WorkloadSpec, runId: string, partitions: number, expected: Map<string, number>, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let missing = '';
  while (Date.now() < deadline) {
    missing = '';
    for (const a of w.agents) {
      const sub = agentSubscription(runId, a.name);
      for (const t of new Set(a.consumes.types)) {
        const topic = pulsarTypeTopic(runId, t);
        const st = await admin.topicStats(topic, { perPartition: true });
        for (let i = 0; i < partitions; i++) {
          const n = st.partitions?.[`${topic}-partition-${i}`]?.subscriptions?.[sub]?.consumers?.length ?? 0;
          if (n < expected.get(a.name)!) missing ||= `${sub} on ${topic}-partition-${i}: ${n}/${expected.get(a.name)} consumers`;
        }
      }
    }
    if (!missing) return;
    await sleep(100);
  }
  throw new BrokerError(`pulsar consumers did not all subscribe within ${timeoutMs} ms (${missing})`);
}
