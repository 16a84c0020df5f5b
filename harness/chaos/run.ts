// The failure experiment: run the map workload through blackboard-kafka while brokers are
// SIGKILLed and restarted and workers crash between producing and committing, then read every
// type topic back with a fresh read-committed consumer and let the checker count lost and
// duplicated artifacts. Same seed and fault schedule for both delivery modes (the anchors are
// Kafka's transactions_test.py and Jepsen's 2024 analysis, see RESEARCH.md §4).
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { REPO_ROOT, killNode, restartNode, startKafka, statusKafka, stopKafka, type KafkaNodes } from '../../brokers/kafka/cluster.ts';
import '../../brokers/kafka/client-guard.ts';
import { describeError } from '../../core/errors.ts';
import { runOnce } from '../runner/run-once.ts';
import type { DeliveryMode } from '../../systems/blackboard-kafka/worker.ts';
import { KafkaBlackboardStore } from '../../systems/blackboard/stores/kafka/store.ts';
import { keyedRng } from '../../core/random.ts';
import { buildWorkload } from '../../workloads/registry.ts';
import { ERROR_TYPE, type WorkloadSpec } from '../../workloads/spec.ts';
import { checkWorkload, type CheckResult, type CheckTotals } from './checker.ts';
import { Admin, clientBase, readTopicValues } from '../../brokers/kafka/client.ts';

/** Chaos clusters live apart from `brokers up` (default dir, port 9092) so a running experiment is never touched. */
export const CHAOS_KAFKA_DIR = join(REPO_ROOT, '.brokers', 'kafka-chaos');

export interface ChaosOptions {
  mode: DeliveryMode;
  /** Cluster size; default 3 (RF 3, min.insync.replicas 2). */
  nodes?: KafkaNodes;
  /** Map tasks; default 300. */
  tasks?: number;
  /** Map depth; default 2. */
  depth?: number;
  /** Broker SIGKILL + restart cycles; default 2. One node down at a time. */
  kills?: number;
  /** Worker crashes between produce and commit (faultAfterProduce), on distinct seed keys; default 3. */
  workerCrashes?: number;
  /** Seed of the simulated LLM and of the crash keys; default 1. */
  seed?: number;
  /** Simulated latency multiplier; default 0.05 (a run of a few tens of seconds at 300 tasks). */
  latencyScale?: number;
  /** Partitions per type topic; default 4. */
  partitions?: number;
  /** First kill this long after seeds start, ms; default 1500. */
  firstKillMs?: number;
  /** A killed broker stays down this long before restart, ms; default 2000. */
  downMs?: number;
  /** Abort the run after this long, ms; default 180_000. */
  timeoutMs?: number;
  /** Cluster state directory; default CHAOS_KAFKA_DIR. */
  baseDir?: string;
  /** Also read the log read-uncommitted (what aborted transactions left behind); default true. */
  readUncommitted?: boolean;
  /** Progress lines (kills, restarts); default silent. */
  log?: (line: string) => void;
}

export interface ChaosEvent {
  atMs: number;
  kind: 'kill' | 'restarted' | 'restart-failed' | 'worker-crash';
  detail: string;
}

export interface ChaosOutcome {
  runId: string;
  startedAt: string;
  mode: DeliveryMode;
  nodes: KafkaNodes;
  tasks: number;
  depth: number;
  seed: number;
  latencyScale: number;
  /** Broker kills actually executed (the run may end before the schedule does). */
  kills: number;
  /** Killed brokers back and the cluster healthy again. */
  recoveries: number;
  /** Injected worker crashes (fault hook returned true). */
  workerCrashes: number;
  makespanMs: number;
  /** Set when the run itself failed (timeout, client gave up); the log is still checked. */
  error?: string;
  /** What a read-committed reader sees: the verdict. */
  check: CheckResult;
  /** What the log holds including aborted transactional records (informational). */
  uncommitted?: CheckTotals;
  counters: Record<string, number>;
  events: ChaosEvent[];
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Seed keys whose first worker1 execution crashes after producing; seeded, same for both modes. */
export function crashKeys(w: WorkloadSpec, n: number, seed: number): Set<string> {
  const keys = w.tasks.map((i) => i.key);
  const rnd = keyedRng('chaos-crash', seed);
  const out = new Set<string>();
  // Skip the first tenth: a crash before any commit would only test the empty-start path.
  const lo = Math.floor(keys.length / 10);
  while (out.size < Math.min(n, keys.length - lo)) out.add(keys[lo + Math.floor(rnd() * (keys.length - lo))]!);
  return out;
}

/** Index (0-based) of the broker leading the most partitions of `topics`; node 1 if unknown. */
async function busiestLeader(bootstrap: string[], topics: string[]): Promise<number> {
  const admin = new Admin(clientBase(bootstrap, 'fb-chaos-admin', 5000));
  try {
    const md = await admin.metadata({ topics, forceUpdate: true });
    const led = new Map<number, number>();
    for (const t of md.topics.values()) for (const p of t.partitions) if (p && p.leader >= 0) led.set(p.leader, (led.get(p.leader) ?? 0) + 1);
    const best = [...led].sort((a, b) => b[1] - a[1])[0];
    return best ? best[0] - 1 : 0;
  } catch {
    return 0;
  } finally {
    await admin.close().catch(() => {});
  }
}

/**
 * Every record of `topics` up to their current ends, parsed as {type, key}. isolation 1 =
 * read-committed (ends = last stable offsets), 0 = read-uncommitted (ends = high watermarks).
 */
export async function readLog(bootstrap: string[], topics: string[], isolation: 0 | 1, timeoutMs = 60_000): Promise<{ type: string; key: string }[]> {
  const values = await readTopicValues(bootstrap, topics, isolation === 1 ? 'read-committed' : 'read-uncommitted', undefined, timeoutMs);
  const out: { type: string; key: string }[] = [];
  for (const v of values) {
    try {
      const a = JSON.parse(v) as { type?: unknown; key?: unknown };
      if (typeof a.type === 'string' && typeof a.key === 'string') out.push({ type: a.type, key: a.key });
    } catch {
      // Not an artifact (poison record): not the checker's business.
    }
  }
  return out;
}

/**
 * One chaos run against an already running cluster in `baseDir` (see withChaosCluster).
 * Never throws for a failed run: the failure is recorded and the log checked anyway, since a
 * run that dies mid-way is exactly when loss would show.
 */
export async function runChaos(o: ChaosOptions): Promise<ChaosOutcome> {
  const baseDir = o.baseDir ?? CHAOS_KAFKA_DIR;
  const st = statusKafka(baseDir);
  if (!st.cluster || !st.running) throw new Error(`no chaos cluster running in ${baseDir}`);
  const nodes = st.cluster.nodes;
  const bootstrap = st.cluster.bootstrap;
  const tasks = o.tasks ?? 300;
  const depth = o.depth ?? 2;
  const seed = o.seed ?? 1;
  const latencyScale = o.latencyScale ?? 0.05;
  const killsWanted = o.kills ?? 2;
  const downMs = o.downMs ?? 2000;
  const log = o.log ?? (() => {});
  const w = buildWorkload('map', { tasks, depth });
  const crash = crashKeys(w, o.workerCrashes ?? 3, seed);
  const runId = randomUUID();
  const startedAt = new Date().toISOString();
  const events: ChaosEvent[] = [];
  const t0 = Date.now();
  const note = (kind: ChaosEvent['kind'], detail: string) => {
    events.push({ atMs: Date.now() - t0, kind, detail });
    log(`[chaos ${o.mode}] +${((Date.now() - t0) / 1000).toFixed(1)}s ${kind} ${detail}`);
  };
  let workerCrashes = 0;
  const crashed = new Set<string>();
  let kills = 0;
  let recoveries = 0;
  let runDone = false;
  let schedule: Promise<void> = Promise.resolve();
  const store = new KafkaBlackboardStore({ bootstrap, runId, types: [...w.types.map((t) => t.name), ERROR_TYPE] });
  const topics = store.types.map((t) => store.topicOf(t));

  const chaosLoop = async () => {
    await sleep(o.firstKillMs ?? 1500);
    for (let k = 0; k < killsWanted && !runDone; k++) {
      const idx = nodes === 3 ? await busiestLeader(bootstrap, topics) : 0;
      if (runDone) break;
      try {
        await killNode(idx, baseDir);
      } catch (e) {
        note('restart-failed', `could not kill node ${idx + 1}: ${(e as Error).message}`);
        break;
      }
      kills++;
      note('kill', `node ${idx + 1} (SIGKILL)`);
      await sleep(downMs);
      try {
        await restartNode(idx, baseDir, 120_000);
        recoveries++;
        note('restarted', `node ${idx + 1}, cluster healthy`);
      } catch (e) {
        note('restart-failed', `node ${idx + 1}: ${(e as Error).message}`);
        break;
      }
      await sleep(1000);
    }
  };

  // @platformatic/kafka 1.35 retries a dead partition leader or coordinator instead of looking
  // it up again (fetches are re-routed by followLeaders, store.ts). 20 retries (~13 s) ride out a
  // short outage; past that the worker fails and is restarted (restartFailedWorkers).
  const retriesBefore = process.env.FLOCKBENCH_KAFKA_CLIENT_RETRIES;
  process.env.FLOCKBENCH_KAFKA_CLIENT_RETRIES = String(CHAOS_CLIENT_RETRIES);
  // The client timeout is also the transaction timeout: a transaction whose produce waits out a
  // leader's restart (~10 s) must not be aborted and fenced by its coordinator meanwhile.
  const timeoutBefore = process.env.FLOCKBENCH_KAFKA_CLIENT_TIMEOUT;
  process.env.FLOCKBENCH_KAFKA_CLIENT_TIMEOUT = String(CHAOS_CLIENT_TIMEOUT_MS);
  let makespanMs = Date.now();
  let error: string | undefined;
  let counters: Record<string, number> = {};
  try {
    const r = await runOnce({
      system: 'blackboard-kafka',
      onOpen: () => {
        schedule = chaosLoop();
      },
      faults: {
        afterProduce: ({ attempt, inputKeys }) => {
          const hit = attempt === 1 && inputKeys.find((k) => crash.has(k) && !crashed.has(k));
          if (!hit) return false;
          crashed.add(hit);
          workerCrashes++;
          note('worker-crash', `after producing, before commit; batch of ${inputKeys.length} incl. ${hit}`);
          return true;
        },
      },
      workload: w,
      seed,
      latencyScale,
      runId,
      timeoutMs: o.timeoutMs ?? 180_000,
      systemParams: {
        bootstrap,
        delivery: o.mode,
        partitions: o.partitions ?? 4,
        // One consumer per agent group: a second member would rebalance when its peer's
        // coordinator dies, and the system rightly invalidates runs that rebalance.
        consumers: 1,
        // ... but the group coordinator itself may be the killed broker: the sole member then
        // re-joins (same partitions, positions kept); counted in counters.rebalances.
        rejoinSoleMember: true,
        // What no client retry budget covers (a group or transaction coordinator that died:
        // the client never looks one up again) is handled as a deployment would: the failed
        // worker is restarted, fences its old producer and resumes from committed offsets.
        restartFailedWorkers: CHAOS_WORKER_RESTARTS,
        replicas: nodes,
        deleteTopics: false,
      },
    });
    makespanMs = r.makespanMs;
    counters = r.params.counters as Record<string, number>;
  } catch (e) {
    error = describeError(e);
    makespanMs = Date.now() - makespanMs;
    log(`[chaos ${o.mode}] run failed: ${error}`);
  } finally {
    if (retriesBefore === undefined) delete process.env.FLOCKBENCH_KAFKA_CLIENT_RETRIES;
    else process.env.FLOCKBENCH_KAFKA_CLIENT_RETRIES = retriesBefore;
    if (timeoutBefore === undefined) delete process.env.FLOCKBENCH_KAFKA_CLIENT_TIMEOUT;
    else process.env.FLOCKBENCH_KAFKA_CLIENT_TIMEOUT = timeoutBefore;
    runDone = true;
    // A node still down would make the read below (and the next run) fail: finish the cycle.
    await schedule;
  }
  try {
    const committed = await readLog(bootstrap, topics, 1);
    const check = checkWorkload(w, committed);
    const uncommitted = o.readUncommitted === false ? undefined : checkWorkload(w, await readLog(bootstrap, topics, 0)).totals;
    return { runId, startedAt, mode: o.mode, nodes, tasks, depth, seed, latencyScale, kills, recoveries, workerCrashes, makespanMs, error, check, uncommitted, counters, events };
  } finally {
    await store.deleteTopics().catch(() => {});
  }
}

/**
 * The controller notices a SIGKILLed broker only by missed heartbeats (KRaft default session
 * 9 s); the clients' retry budget (clientBase: 12 retries, <= 1 s apart, ~5 s) is shorter, so
 * with defaults every kill fails the run with "fetch failed 13 times" before leaders move.
 * A 3 s session makes failover fit the budget; the fault stays a hard kill.
 */
export const CHAOS_SERVER_PROPERTIES = {
  'broker.session.timeout.ms': 3000,
  'broker.heartbeat.interval.ms': 500,
  // The client caches group and transaction coordinators for its lifetime and never looks them
  // up again (@platformatic/kafka 1.35): requests pinned to a killed coordinator retry it until
  // it is back, then get NOT_COORDINATOR while it is a follower. Preferred-leader election moves
  // leadership (and with it the coordinators) back to the restarted broker within seconds
  // instead of 300 s, so those retries converge.
  'leader.imbalance.check.interval.seconds': 2,
} as const;

/** Client retries during chaos runs (see runChaos). */
export const CHAOS_CLIENT_RETRIES = 20;

/** Worker restarts allowed per chaos run (see restartFailedWorkers). */
export const CHAOS_WORKER_RESTARTS = 30;

/** Client request and transaction timeout during chaos runs, ms (see runChaos). */
export const CHAOS_CLIENT_TIMEOUT_MS = 60_000;

export async function startChaosCluster(nodes: KafkaNodes, baseDir = CHAOS_KAFKA_DIR): Promise<void> {
  await startKafka({ nodes, baseDir, fresh: true, timeoutMs: 150_000, serverProperties: CHAOS_SERVER_PROPERTIES });
}

/** Start a fresh chaos cluster, run `fn`, always stop the brokers afterwards. */
export async function withChaosCluster<T>(nodes: KafkaNodes, fn: () => Promise<T>, baseDir = CHAOS_KAFKA_DIR): Promise<T> {
  await startChaosCluster(nodes, baseDir);
  try {
    return await fn();
  } finally {
    await stopKafka(baseDir);
  }
}
