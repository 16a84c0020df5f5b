// The blackboard distributed over Kafka: artifacts live in per-type topics, every agent is a
// consumer group with `consumers` in-process consumers, and delivery is at-least-once or
// exactly-once (transactions). The same workload spec and agent body as the in-memory
// blackboard, so final artifacts match it by content hash.
import { Admin } from '@platformatic/kafka';
import { BrokerError, statusKafka } from '../../harness/brokers/kafka.ts';
import { sleepUntil } from '../../workloads/arrivals.ts';
import { seedArtifact } from '../../workloads/execute.ts';
import { ERROR_TYPE, type WorkloadSpec } from '../../workloads/spec.ts';
import { agentGroup, totalLag, tpKey, typeTopic } from '../blackboard/stores/kafka/layout.ts';
import { KafkaBlackboardStore, clientBase, listEnds } from '../blackboard/stores/kafka/store.ts';
import type { RunContext, System, SystemRunResult } from '../types.ts';
import { AgentWorker, type DeliveryMode, type WorkerCounters, type WorkerOptions } from './worker.ts';

/** System parameters (matrix `systemParams`), with defaults. */
export interface KafkaSystemParams {
  /** Partitions per type topic; default 4. */
  partitions: number;
  /** Consumers per agent group (in-process consumer instances); default 2. Agents with an unkeyed batch always get 1. */
  consumers: number;
  /** Default `at-least-once`. */
  mode: DeliveryMode;
  /** Executions in flight per consumer; default ceil(agent.maxConcurrency / consumers). */
  maxInFlight?: number;
  /** Completions per transaction / offset commit; default 16. */
  batchSize: number;
  /** Wait for more completions before committing, ms; default 5. */
  lingerMs: number;
  /** Replication factor of the run's topics; default 1 (use 3 on a 3-node cluster). */
  replicas: number;
  /** Executions of one input before the DLQ; default 3. */
  maxAttempts: number;
  /** Bootstrap list; default: the cluster started by `brokers up kafka`, else FLOCKBENCH_KAFKA_BOOTSTRAP, else 127.0.0.1:9092. */
  bootstrap: string[];
  /** Delete the run's topics at the end; default true. */
  deleteTopics: boolean;
  /** Test hook, see WorkerOptions.faultAfterProduce. */
  faultAfterProduce?: WorkerOptions['faultAfterProduce'];
  /** Tolerate (count) re-joins of single-consumer groups (chaos runs: coordinator failover); default false. */
  rejoinSoleMember: boolean;
}

export function resolveKafkaParams(p: Record<string, unknown>): KafkaSystemParams {
  const num = (k: string, d: number, min = 1) => {
    const v = p[k] ?? d;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min) throw new BrokerError(`blackboard-kafka: ${k} must be an integer >= ${min}, got ${JSON.stringify(v)}`);
    return v;
  };
  const mode = (p.mode ?? 'at-least-once') as string;
  if (mode !== 'at-least-once' && mode !== 'exactly-once') throw new BrokerError(`blackboard-kafka: mode must be at-least-once|exactly-once, got ${JSON.stringify(mode)}`);
  const envBootstrap = process.env.FLOCKBENCH_KAFKA_BOOTSTRAP?.split(',').filter(Boolean);
  const bootstrap = (p.bootstrap as string[] | string | undefined) ?? envBootstrap ?? statusKafka().cluster?.bootstrap ?? ['127.0.0.1:9092'];
  return {
    partitions: num('partitions', 4),
    consumers: num('consumers', 2),
    mode,
    maxInFlight: p.maxInFlight === undefined ? undefined : num('maxInFlight', 1),
    batchSize: num('batchSize', 16),
    lingerMs: num('lingerMs', 5, 0),
    replicas: num('replicas', 1),
    maxAttempts: num('maxAttempts', 3),
    bootstrap: typeof bootstrap === 'string' ? bootstrap.split(',') : bootstrap,
    deleteTopics: p.deleteTopics === undefined ? true : Boolean(p.deleteTopics),
    faultAfterProduce: p.faultAfterProduce as KafkaSystemParams['faultAfterProduce'],
    rejoinSoleMember: Boolean(p.rejoinSoleMember),
  };
}

const DEBUG = Boolean(process.env.FLOCKBENCH_DEBUG_KAFKA);
const debug = (...a: unknown[]) => { if (DEBUG) console.error('[blackboard-kafka]', ...a); };

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface KafkaRunHandle {
  store: KafkaBlackboardStore;
  workers: AgentWorker[];
}

export function blackboardKafkaSystem(opts: { name?: string; onStarted?: (h: KafkaRunHandle) => void | Promise<void> } = {}): System {
  return {
    name: opts.name ?? 'blackboard-kafka',
    description: 'Flock-style blackboard distributed over Kafka: per-type topics, one consumer group per agent, at-least-once or exactly-once (transactions)',
    store: 'kafka',
    async run(w: WorkloadSpec, ctx: RunContext): Promise<SystemRunResult> {
      const p = resolveKafkaParams(ctx.systemParams);
      const admin = new Admin(clientBase(p.bootstrap, 'fb-run-admin'));
      try {
        await admin.metadata({ topics: [] });
      } catch {
        await admin.close().catch(() => {});
        throw new BrokerError(`kafka not reachable at ${p.bootstrap.join(',')}; run: flockbench brokers up kafka`);
      }
      const types = [...new Set([...w.types.map((t) => t.name), ...w.inputs.map((i) => i.type), ERROR_TYPE])];
      const store = new KafkaBlackboardStore({ bootstrap: p.bootstrap, runId: ctx.runId, types, partitions: p.partitions, replicas: p.replicas });
      const workers: AgentWorker[] = [];
      const t0 = ctx.clock();
      try {
        await store.init();
        for (const agent of w.agents) {
          // An unkeyed batch must see every record: one consumer owns all partitions.
          const n = agent.consumes.batch && agent.consumes.batch.by !== 'correlationId' ? 1 : p.consumers;
          const maxInFlight = p.maxInFlight ?? Math.max(1, Math.ceil(agent.maxConcurrency / n));
          for (let i = 0; i < n; i++) {
            workers.push(new AgentWorker({
              bootstrap: p.bootstrap, runId: ctx.runId, groupId: agentGroup(ctx.runId, agent.name), index: i, agent, workload: w, runtime: ctx,
              mode: p.mode, maxInFlight, batchSize: p.batchSize, lingerMs: p.lingerMs, latencyScale: ctx.latencyScale, maxAttempts: p.maxAttempts,
              faultAfterProduce: p.faultAfterProduce, allowRejoin: p.rejoinSoleMember && n === 1,
            }));
          }
        }
        await Promise.all(workers.map((x) => x.start()));
        await waitForStableGroups(w, ctx.runId, p.partitions, workers);
        for (const x of workers) x.measuring = true;
        await opts.onStarted?.({ store, workers });
        const setupMs = ctx.clock() - t0;
        // Topics and stable consumer groups are provisioning, not workload: measure from here.
        ctx.markMeasureStart?.();

        const groupTopics = new Map<AgentWorker, string[]>(workers.map((x) => [x, x.o.agent.consumes.types.map((t) => typeTopic(ctx.runId, t))]));
        const consumedTopics = [...new Set([...groupTopics.values()].flat())];
        let lastLag = 0;
        ctx.setQueueProbe(() => ({
          pending: lastLag + workers.reduce((s, x) => s + Math.max(0, x.buffered()), 0),
          inFlight: workers.reduce((s, x) => s + x.inFlight, 0),
        }));

        const open = ctx.arrivals.some((a) => a.intendedAtMs > 0);
        for (const arr of ctx.arrivals) {
          if (open) await sleepUntil(ctx.clock, arr.intendedAtMs, ctx.signal);
          await store.publish(seedArtifact(w, arr.index, ctx.clock()));
        }

        // Idle = no worker busy and every group's fetch position has reached the end offsets, twice in a row.
        let idleChecks = 0;
        while (idleChecks < 2) {
          if (ctx.signal.aborted) throw ctx.signal.reason;
          const failed = workers.find((x) => x.failure);
          if (failed) throw failed.failure;
          await sleep(25);
          const ends = await listEnds(p.bootstrap, consumedTopics, 10_000, admin);
          let lag = 0;
          const byGroup = new Map<string, Map<string, bigint>>();
          for (const x of workers) {
            const m = byGroup.get(x.o.groupId) ?? new Map<string, bigint>();
            for (const [tp, pos] of x.positions()) m.set(tp, pos);
            byGroup.set(x.o.groupId, m);
          }
          for (const x of workers.filter((y, i, all) => all.findIndex((z) => z.o.groupId === y.o.groupId) === i)) {
            const groupEnds = new Map([...ends].filter(([tp]) => groupTopics.get(x)!.some((t) => tp.startsWith(`${t}:`))));
            lag += totalLag(groupEnds, byGroup.get(x.o.groupId)!);
            if (DEBUG) debug(x.o.groupId, [...groupEnds].map(([tp, e]) => `${tp.slice(-12)} end ${e} pos ${byGroup.get(x.o.groupId)!.get(tp)}`).join(', '));
          }
          lastLag = lag;
          debug('lag', lag, 'busy', workers.filter((x) => x.busy()).map((x) => `${x.name}(inflight ${x.inFlight} buffered ${x.buffered()})`).join(' '));
          idleChecks = lag === 0 && !workers.some((x) => x.busy()) ? idleChecks + 1 : 0;
        }
        const artifacts = await store.all();
        const dlq = (await store.dlq()).length;
        const sum = (k: keyof WorkerCounters) => workers.reduce((s, x) => s + x.counters[k], 0);
        return {
          artifacts,
          params: {
            store: 'kafka',
            mode: p.mode,
            partitions: p.partitions,
            consumers: p.consumers,
            maxInFlight: p.maxInFlight ?? 'maxConcurrency/consumers',
            batchSize: p.batchSize,
            lingerMs: p.lingerMs,
            replicas: p.replicas,
            maxAttempts: p.maxAttempts,
            bootstrap: p.bootstrap.join(','),
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
            producerRecreations: sum('producerRecreations'),
            commits: sum('commits'),
            peakInFlight: Math.max(0, ...workers.map((x) => x.counters.peakInFlight)),
            pauses: sum('pauses'),
            rebalances: sum('rebalances'),
          },
        };
      } finally {
        await Promise.all(workers.map((x) => x.close()));
        await admin.close().catch(() => {});
        if (p.deleteTopics) await store.deleteTopics().catch(() => {});
        await store.close();
      }
    },
  };
}

/**
 * Wait until every agent group has all its partitions assigned and no consumer is still
 * joining, so no rebalance moves partitions while the run is measured.
 */
async function waitForStableGroups(w: WorkloadSpec, runId: string, partitions: number, workers: AgentWorker[], timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let stableSince = 0;
  while (Date.now() < deadline) {
    let ok = true;
    for (const agent of w.agents) {
      const ws = workers.filter((x) => x.o.agent.name === agent.name);
      const want = agent.consumes.types.length * partitions;
      const got = new Set(ws.flatMap((x) => x.assigned()));
      const expectedMembers = Math.min(ws.length, want);
      if (got.size !== want || ws.filter((x) => x.assigned().length > 0).length < expectedMembers) ok = false;
      for (const t of agent.consumes.types) for (let i = 0; i < partitions; i++) if (!got.has(tpKey(typeTopic(runId, t), i))) ok = false;
    }
    debug('groups', workers.map((x) => `${x.name}:${x.assigned().length}`).join(' '));
    if (ok) {
      stableSince ||= Date.now();
      if (Date.now() - stableSince >= 300) return;
    } else stableSince = 0;
    await sleep(50);
  }
  throw new BrokerError(`kafka consumer groups did not stabilise within ${timeoutMs} ms`);
}

export const blackboardKafka = blackboardKafkaSystem();
