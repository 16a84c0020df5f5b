// The blackboard distributed over Kafka: artifacts live in per-type topics, every agent is a
// consumer group with `consumers` consumers in each of `processes` worker processes (or in this
// process, processes = 0), and delivery is at-least-once or
// exactly-once (transactions). The same workload spec and agent body as the in-memory
// blackboard, so final artifacts match it by content hash.
import { BrokerError, statusKafka } from '../../brokers/kafka/cluster.ts';
import { seedArtifact } from '../../workloads/execute.ts';
import { ERROR_TYPE, type WorkloadSpec } from '../../workloads/spec.ts';
import { agentGroup, partitionLag, totalLag, tpKey, typeTopic } from '../blackboard/stores/kafka/layout.ts';
import { KafkaBlackboardStore } from '../blackboard/stores/kafka/store.ts';
import type { RunContext, Session, System } from '../types.ts';
import { describeError } from '../../core/errors.ts';
import { AgentWorker, type ConsumerView, type DeliveryMode, type WorkerCounters, } from './worker.ts';
import { WorkerProcess, clockAnchor, type ConsumerAssignment } from './worker-pool.ts';
import { refreshAll, sumStats } from '../blackboard/distributed/pool.ts';
import { Admin, clientBase, keyPartition, listEnds } from '../../brokers/kafka/client.ts';
import { RecordKeys, partitionCounts, type Keying } from '../blackboard/stores/keying.ts';
import { consumerSlots, lastCommitAt, type Ownership } from '../blackboard/distributed/slots.ts';

/** System parameters as resolved against params.ts (matrix `systemParams.blackboard-kafka`). */
export interface KafkaSystemParams {
  delivery: DeliveryMode;
  partitions: number;
  keying: Keying;
  processes: number;
  consumers: number;
  maxInFlight?: number;
  batchSize: number;
  lingerMs: number;
  replicas: number;
  nodes: number;
  maxAttempts: number;
  fetchMaxBytes?: number;
  bootstrap?: string[];
  deleteTopics: boolean;
  rejoinSoleMember: boolean;
  restartFailedWorkers: number;
}

/** Where the brokers are: the parameter, else FLOCKBENCH_KAFKA_BOOTSTRAP, else the cluster `brokers up kafka` started. */
export function kafkaBootstrapFor(p: Pick<KafkaSystemParams, 'bootstrap'>): string[] {
  return p.bootstrap ?? process.env.FLOCKBENCH_KAFKA_BOOTSTRAP?.split(',').filter(Boolean) ?? statusKafka().cluster?.bootstrap ?? ['127.0.0.1:9092'];
}

const DEBUG = Boolean(process.env.FLOCKBENCH_DEBUG_KAFKA);
const debug = (...a: unknown[]) => { if (DEBUG) console.error(new Date().toISOString().slice(11, 23), '[blackboard-kafka]', ...a); };

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * A supervised consumer holding work (records to fetch, or received records not committed)
 * whose fetch positions and successful commits do not move for this long is restarted.
 * Aborted transactions and re-executions are not progress: a consumer whose every commit
 * fails (e.g. evicted from its group) would otherwise look busy forever.
 */
const STALL_MS = 15_000;


/** What a test can reach once the consumers are up (to inject poison records or kill a process). */
export interface KafkaRunHandle {
  store: KafkaBlackboardStore;
  /** Consumers in this process (processes = 0). */
  workers: AgentWorker[];
  /** Worker processes (processes >= 1). */
  processes: WorkerProcess[];
}

export function blackboardKafkaSystem(name = 'blackboard-kafka', hooks: { onStarted?(h: KafkaRunHandle): void | Promise<void> } = {}): System<KafkaSystemParams> {
  return {
    name,
    async start(w: WorkloadSpec, ctx: RunContext<KafkaSystemParams>): Promise<Session> {
      const p = ctx.params;
      const bootstrap = kafkaBootstrapFor(p);
      // The local cluster must be the size the run asked for (a matrix brings it up; see runner.ts).
      const status = !p.bootstrap && !process.env.FLOCKBENCH_KAFKA_BOOTSTRAP ? statusKafka() : undefined;
      const local = status?.running ? status.cluster : undefined;
      if (local && local.nodes !== p.nodes) throw new BrokerError(`${name}: nodes: ${p.nodes} asked for, the local cluster has ${local.nodes}; run: flockbench brokers down kafka && flockbench brokers up kafka${p.nodes === 3 ? ' --nodes 3' : ''}`);
      if (ctx.faults?.afterProduce && p.processes) throw new BrokerError(`${name}: fault hooks reach consumers in this process only: use processes: 0`);
      let admin = new Admin(clientBase(bootstrap, 'fb-run-admin'));
      try {
        await admin.metadata({ topics: [] });
      } catch {
        await admin.close().catch(() => {});
        throw new BrokerError(`kafka not reachable at ${bootstrap.join(',')}; run: flockbench brokers up kafka`);
      }
      const types = [...new Set([...w.types.map((t) => t.name), ...w.tasks.map((i) => i.type), ERROR_TYPE])];
      const keys = new RecordKeys(p.keying, p.partitions, w.tasks.map((t) => t.correlationId), keyPartition);
      const store = new KafkaBlackboardStore({ bootstrap, runId: ctx.runId, types, partitions: p.partitions, replicas: p.replicas, keys });
      const workers: AgentWorker[] = [];
      const procs: WorkerProcess[] = [];
      const retired: AgentWorker[] = [];
      const stop = async () => {
        await Promise.all([...workers.map((x) => x.close()), ...procs.map((x) => x.close())]);
        await admin.close().catch(() => {});
        if (p.deleteTopics) await store.deleteTopics().catch(() => {});
        await store.close();
      };
      const t0 = ctx.clock();
      let views: ConsumerView[];
      let ownership: Ownership;
      let limits: Map<string, number>;
      try {
        await store.init();
        await store.warm();
        const slots = Math.max(1, p.processes);
        // Per process k: which consumers of which group it runs. An unkeyed batch must see
        // every record, so that agent gets one consumer in total (in the first process).
        const plan: ConsumerAssignment[][] = Array.from({ length: slots }, (_, k) =>
          w.agents.flatMap((agent) => {
            const unkeyed = Boolean(agent.consumes.batch && agent.consumes.batch.by !== 'correlationId');
            const n = unkeyed ? (k === 0 ? 1 : 0) : p.consumers;
            const inGroup = unkeyed ? 1 : p.consumers * slots;
            const maxInFlight = p.maxInFlight ?? Math.max(1, Math.ceil(agent.maxConcurrency / inGroup));
            // A group's only consumer gets its own partitions back after a re-join (coordinator failover).
            const allowRejoin = p.rejoinSoleMember && inGroup === 1;
            return Array.from({ length: n }, (_, i) => ({ agent: agent.name, index: k * p.consumers + i, groupId: agentGroup(ctx.runId, agent.name), maxInFlight, allowRejoin }));
          }),
        );
        limits = new Map(plan.flat().map((c) => [`${c.agent}#${c.index}`, c.maxInFlight]));
        if (p.processes === 0) {
          for (const c of plan[0]!) {
            workers.push(new AgentWorker({
              bootstrap, runId: ctx.runId, groupId: c.groupId, index: c.index, agent: w.agents.find((a) => a.name === c.agent)!, workload: w, runtime: ctx,
              mode: p.delivery, maxInFlight: c.maxInFlight, batchSize: p.batchSize, lingerMs: p.lingerMs, latencyScale: ctx.latencyScale, maxAttempts: p.maxAttempts,
              fetchMaxBytes: p.fetchMaxBytes, faultAfterProduce: ctx.faults?.afterProduce, allowRejoin: c.allowRejoin, keys,
            }));
          }
          await Promise.all(workers.map((x) => x.start()));
        } else {
          const started = await Promise.allSettled(plan.map((consumers, k) => WorkerProcess.spawn(k, {
            bootstrap, runId: ctx.runId, workload: w, consumers, mode: p.delivery, batchSize: p.batchSize, lingerMs: p.lingerMs,
            latencyScale: ctx.latencyScale, maxAttempts: p.maxAttempts, fetchMaxBytes: p.fetchMaxBytes, keying: p.keying, partitions: p.partitions, seed: ctx.seed, llm: ctx.llmConfig,
          }, w.agents)));
          for (const r of started) if (r.status === 'fulfilled') procs.push(r.value);
          const failed = started.find((r) => r.status === 'rejected');
          if (failed) throw (failed as PromiseRejectedResult).reason;
        }
        views = [...workers, ...procs.flatMap((x) => x.consumers)];
        await waitForStableGroups(w, ctx.runId, p.partitions, views, () => refreshAll(procs));
        // Who owns which partition as the window opens (no rebalance may move it after: the run fails then).
        ownership = views.map((x) => ({ agent: x.agent.name, consumer: x.name, partitions: x.assigned() }));
        for (const x of workers) x.measuring = true;
        await hooks.onStarted?.({ store, workers, processes: procs });
      } catch (e) {
        await stop();
        throw e;
      }
      const setupMs = ctx.clock() - t0;
      const refresh = () => refreshAll(procs);
      const groupTopics = new Map(w.agents.map((a) => [agentGroup(ctx.runId, a.name), a.consumes.types.map((t) => typeTopic(ctx.runId, t))]));
      const consumedTopics = [...new Set([...groupTopics.values()].flat())];
      // Every topic the run writes: all type topics (the terminal ones included, which nobody
      // consumes), the consumption log and the DLQ. A run is done when all of it is resolved.
      const writtenTopics = store.allTopics();
      let lastLag = 0;
      let restarts = 0;
      let lastRestartAt = 0;
      let monitorErrors = 0;
      const progress = new Map<AgentWorker, { key: string; since: number }>();
      const restart = async (x: AgentWorker) => {
        // Back off while restarts keep failing (a coordinator still down): 1, 2, 4 s, at most 8 s.
        const backoff = Math.min(8000, 1000 * 2 ** Math.max(0, Math.min(3, restarts - 1)));
        const wait = lastRestartAt + backoff - Date.now();
        if (wait > 0) await sleep(wait);
        restarts++;
        lastRestartAt = Date.now();
        debug('restarting', x.name, 'after', describeError(x.failure));
        retired.push(x);
        await x.close();
        const nx = new AgentWorker(x.o);
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
        },
        async publish(arrivals) {
          // Tasks that arrive together are published as a batch: the store's sender coalesces
          // concurrent publishes into few produce requests (one awaited round trip per seed
          // would cap throughput at 1 / produce latency and make the seeds the bottleneck).
          await Promise.all(arrivals.map((arr) => store.publish(seedArtifact(w, arr.index, ctx.clock()))));
        },
        queueDepth: () => ({
          pending: lastLag + views.reduce((s, x) => s + Math.max(0, x.buffered()), 0),
          inFlight: views.reduce((s, x) => s + x.inFlight, 0),
        }),
        async drain() {
          // Idle = no consumer busy and every group's fetch position has reached the end offsets, twice in a row.
          let idleChecks = 0;
          while (idleChecks < 2) {
            if (ctx.signal.aborted) throw ctx.signal.reason;
            await sleep(25);
            // Ends first, then consumer state: a record that lands in between is either below
            // the end we read (and then counted as lag) or makes a consumer busy.
            let ends: Map<string, bigint>;
            try {
              ends = await listEnds(bootstrap, consumedTopics, 10_000, admin);
            } catch (e) {
              // The monitor's own client may be pinned to a broker that died: start a fresh one.
              // Not seeing the end offsets for a while only delays the idle decision.
              debug('listEnds failed, new admin client', describeError(e));
              monitorErrors++;
              await admin.close().catch(() => {});
              admin = new Admin(clientBase(bootstrap, 'fb-run-admin'));
              idleChecks = 0;
              continue;
            }
            await refresh();
            const failed = views.find((x) => x.failure);
            if (failed instanceof AgentWorker && restarts < p.restartFailedWorkers) {
              await restart(failed);
              idleChecks = 0;
              continue;
            }
            if (failed) throw failed.failure;
            let lag = 0;
            for (const [groupId, topics] of groupTopics) {
              const positions = new Map<string, bigint>();
              for (const x of views) if (x.groupId === groupId) for (const [tp, pos] of x.positions()) positions.set(tp, pos);
              const groupEnds = new Map([...ends].filter(([tp]) => topics.some((t) => tp.startsWith(`${t}:`))));
              lag += totalLag(groupEnds, positions);
              if (DEBUG) debug(groupId, [...groupEnds].map(([tp, e]) => `${tp.slice(-12)} end ${e} pos ${positions.get(tp)}`).join(', '));
            }
            lastLag = lag;
            // Supervision (restartFailedWorkers > 0): a consumer with work (records to fetch on
            // its partitions, or received records not committed) whose fetch positions and
            // successful commits do not move for STALL_MS is stuck (a request pinned to a broker
            // that died, or evicted from its group with every commit failing) and is restarted
            // like a failed one. Aborts and re-executions are not progress.
            if (p.restartFailedWorkers > 0) {
              const now = Date.now();
              for (const x of views) {
                if (!(x instanceof AgentWorker) || x.failure) continue;
                const pos = x.positions();
                const own = x.assigned().reduce((s, tp) => s + Number(partitionLag(ends.get(tp) ?? 0n, pos.get(tp))), 0);
                const key = JSON.stringify([[...pos].map(([tp, o]) => [tp, String(o)]), x.counters.commits]);
                const seen = progress.get(x);
                if (!seen || seen.key !== key || (own === 0 && !x.busy())) progress.set(x, { key, since: now });
                else if (now - seen.since > STALL_MS) x.failure = new Error(`${x.name}: no progress for ${STALL_MS} ms with ${own} record(s) to fetch and ${x.buffered()} held`);
              }
            }
            debug('lag', lag, 'busy', views.filter((x) => x.busy()).map((x) => `${x.name}(inflight ${x.inFlight} buffered ${x.buffered()})`).join(' '));
            // Exactly-once: a transaction still open (e.g. its coordinator is failing over, or its
            // commit markers are not written yet) holds the last stable offset below the high
            // watermark; what it wrote is neither visible nor aborted yet, so the run is not idle
            // until every partition of every topic the run writes resolved (the terminal topics,
            // the consumption log and the DLQ too: nobody consumes them, so no lag shows their
            // open transactions).
            let unresolved = 0;
            if (lag === 0 && p.delivery === 'exactly-once' && !views.some((x) => x.busy())) {
              try {
                const [lso, hw] = await Promise.all([
                  listEnds(bootstrap, writtenTopics, 10_000, admin),
                  listEnds(bootstrap, writtenTopics, 10_000, admin, 'read-uncommitted'),
                ]);
                for (const [tp, e] of hw) if (e > (lso.get(tp) ?? 0n)) unresolved++;
              } catch {
                unresolved = 1;
              }
              if (unresolved) debug('open transactions on', unresolved, 'partition(s)');
            }
            // A chaos run is not idle while faults are still scheduled (ctx.faults.holdIdle).
            idleChecks = lag === 0 && unresolved === 0 && !views.some((x) => x.busy()) && !ctx.faults?.holdIdle?.() ? idleChecks + 1 : 0;
          }
          // The work ended at the last commit, not at the idle poll that noticed it.
          const endMs = lastCommitAt([...views, ...retired]);
          return endMs === undefined ? undefined : { endMs };
        },
        async collect() {
          const finished = await Promise.all(procs.map((x) => x.finish()));
          for (const f of finished) for (const e of f.executions) ctx.onExecution(e);
          const artifacts = await store.all();
          const dlq = (await store.dlq()).length;
          const everyConsumer = [...views, ...retired];
          const sum = (k: keyof WorkerCounters) => everyConsumer.reduce((s, x) => s + x.counters[k], 0);
          const helperCpuMs = finished.reduce((s, f) => s + f.cpuMs, 0);
          // Records per partition of every type an agent consumes, through the client's own key mapping.
          const consumed = [...new Set(w.agents.flatMap((a) => a.consumes.types))];
          const partitionRecords = Object.fromEntries(consumed.map((t) => [t, partitionCounts(keys, artifacts.filter((a) => a.type === t))]));
          return {
            artifacts,
            settings: {
              store: 'kafka',
              keying: p.keying,
              partitionRecords,
              consumersPerGroup: p.consumers * Math.max(1, p.processes),
              maxInFlight: p.maxInFlight ?? 'maxConcurrency/consumersPerGroup',
              fetchMaxBytes: p.fetchMaxBytes ?? 'client default (10 MB)',
              bootstrap: bootstrap.join(','),
              brokers: local?.nodes ?? 'external',
              isolationLevel: 'read_committed',
              idempotentProducer: true,
            },
            counters: {
              setupMs,
              executions: sum('executions'),
              reprocessed: sum('reprocessed'),
              dlq,
              filtered: sum('filtered'),
              transactions: sum('transactions'),
              aborts: sum('aborts'),
              failedCommits: sum('failedCommits'),
              producedNotCommitted: sum('producedNotCommitted'),
              producerRecreations: sum('producerRecreations'),
              commits: sum('commits'),
              peakInFlight: Math.max(0, ...everyConsumer.map((x) => x.counters.peakInFlight)),
              pauses: sum('pauses'),
              rebalances: sum('rebalances'),
              joinsExpired: sum('joinsExpired'),
              workerRestarts: restarts,
              monitorErrors,
            },
            slots: consumerSlots(ownership, limits, (type) => typeTopic(ctx.runId, type), keys),
            ...(procs.length ? {
              llmStats: sumStats([ctx.llm.stats(), ...finished.map((f) => f.llm)]),
              helperCpuMs,
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
 * Wait until every agent group has all its partitions assigned, no consumer is still joining,
 * and every consumer has a fetch position for each partition it owns, so no rebalance moves
 * partitions while the run is measured and the first records are fetched at once.
 */
async function waitForStableGroups(w: WorkloadSpec, runId: string, partitions: number, views: ConsumerView[], refresh: () => Promise<void>, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let stableSince = 0;
  while (Date.now() < deadline) {
    await refresh();
    const failed = views.find((x) => x.failure);
    if (failed) throw failed.failure;
    let ok = true;
    // A consumer with partitions but no fetch position for one of them has not looked up its
    // offsets yet: records published now would wait for it (350-480 ms after the window opened
    // in a third of the p=16 runs of issue 15).
    for (const x of views) {
      const pos = x.positions();
      if (x.assigned().some((tp) => !pos.has(tp))) ok = false;
    }
    for (const agent of w.agents) {
      const ws = views.filter((x) => x.agent.name === agent.name);
      const want = agent.consumes.types.length * partitions;
      const got = new Set(ws.flatMap((x) => x.assigned()));
      const expectedMembers = Math.min(ws.length, want);
      if (got.size !== want || ws.filter((x) => x.assigned().length > 0).length < expectedMembers) ok = false;
      for (const t of agent.consumes.types) for (let i = 0; i < partitions; i++) if (!got.has(tpKey(typeTopic(runId, t), i))) ok = false;
    }
    debug('groups', views.map((x) => `${x.name}:${x.assigned().length}`).join(' '));
    if (ok) {
      stableSince ||= Date.now();
      if (Date.now() - stableSince >= 300) return;
    } else stableSince = 0;
    await sleep(50);
  }
  throw new BrokerError(`kafka consumer groups did not stabilise within ${timeoutMs} ms`);
}

