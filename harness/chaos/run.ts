// The failure experiment: run the map workload through blackboard-kafka while brokers are
// SIGKILLed and restarted and workers crash between producing and committing, then read every
// type topic back with a fresh read-committed consumer and let the checker count lost and
// duplicated artifacts. Same seed and fault schedule for both delivery modes (the anchors are
// Kafka's transactions_test.py and Jepsen's 2024 analysis, see RESEARCH.md §4).
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { REPO_ROOT, killKafka, killNode, restartNode, startKafka, statusKafka, stopKafka, waitForKafka, type KafkaNodes } from '../../brokers/kafka/cluster.ts';
import '../../brokers/kafka/client-guard.ts';
import { describeError } from '../../core/errors.ts';
import { runOnce } from '../runner/run-once.ts';
import { onShutdown } from '../lifecycle.ts';
import type { DeliveryMode } from '../../systems/blackboard-kafka/worker.ts';
import { KafkaBlackboardStore } from '../../systems/blackboard/stores/kafka/store.ts';
import { dlqTopic } from '../../systems/blackboard/stores/kafka/layout.ts';
import { keyedRng } from '../../core/random.ts';
import { buildWorkload } from '../../workloads/registry.ts';
import { ERROR_TYPE, type WorkloadSpec } from '../../workloads/spec.ts';
import { checkWorkload, type CheckResult, type CheckTotals } from './checker.ts';
import { listEnds, readTopicValues } from '../../brokers/kafka/client.ts';

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
  /** Called after the log was read and before the run's topics are deleted (diagnostics). */
  inspect?: (run: { runId: string; bootstrap: string[]; topics: string[]; check: CheckResult }) => Promise<void>;
}

export interface ChaosEvent {
  atMs: number;
  kind: 'kill' | 'restarted' | 'restart-failed' | 'worker-crash';
  detail: string;
  /** Node index (0-based) for kills and restarts; the crashed seed key for worker crashes. */
  target?: string;
  /** Workload progress (0..1, see faultSchedule) when the fault fired. */
  progress?: number;
}

/**
 * The faults of one chaos run, a pure function of (seed, kills, workerCrashes, nodes, workload):
 * both delivery modes get the same one. Kills fire at fixed points of workload progress (not
 * of wall time, which differs between modes and machines), each on a seeded node (never the
 * one killed just before); a crash hits each crash key exactly once, whatever batch it is in.
 */
export interface FaultSchedule {
  kills: { atProgress: number; node: number }[];
  crashKeys: string[];
}

/**
 * The faults of a Pulsar chaos run (pulsar.ts): kills fire by wall time, not progress, since
 * blackboard-pulsar reports its executions only when the run ends (nothing tells the experiment
 * how far the work is). Kill 0 fires `afterMs` after the measured window opened, each later one
 * `afterMs` after the previous restart was healthy; all hit the one standalone (node 0). No
 * worker crashes: blackboard-pulsar has no produce-then-commit step to crash between.
 */
export interface TimedFaultSchedule {
  kills: { afterMs: number; from: 'open' | 'previous-restart'; node: 0 }[];
  crashKeys: [];
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
  /** Broker kills executed (equal to the schedule's unless a kill or restart failed). */
  kills: number;
  /** The planned faults (identical for both modes of one seed); timed on Pulsar. */
  schedule: FaultSchedule | TimedFaultSchedule;
  /** The run hit its time limit (a failure, never dropped). */
  hitLimit: boolean;
  /** Partitions whose high watermark stayed above the last stable offset (open transactions) when the log was read. */
  unresolvedPartitions: number;
  /** Records in the run's dead-letter topic(s) (an artifact sent there is lost to the checker); -1 when they could not be read (Pulsar). */
  dlq: number;
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

/** Seed keys whose worker1 execution crashes (once each) after producing; seeded, same for both modes. */
export function crashKeys(w: WorkloadSpec, n: number, seed: number): Set<string> {
  const keys = w.tasks.map((i) => i.key);
  const rnd = keyedRng('chaos-crash', seed);
  const out = new Set<string>();
  // Skip the first tenth: a crash before any commit would only test the empty-start path.
  const lo = Math.floor(keys.length / 10);
  while (out.size < Math.min(n, keys.length - lo)) out.add(keys[lo + Math.floor(rnd() * (keys.length - lo))]!);
  return out;
}

/**
 * The run's faults (see FaultSchedule). Kill k of K fires when the fraction of agent
 * executions that reached their commit point passes (k + 1) / (K + 1) * 0.8 (so every kill
 * happens while work remains, and a restarted broker has work to rejoin); its node is seeded.
 */
export function faultSchedule(w: WorkloadSpec, o: { kills: number; workerCrashes: number; seed: number; nodes: KafkaNodes }): FaultSchedule {
  const rnd = keyedRng('chaos-kill', o.seed);
  const kills: FaultSchedule['kills'] = [];
  let prev = -1;
  for (let k = 0; k < o.kills; k++) {
    let node = Math.floor(rnd() * o.nodes);
    if (o.nodes > 1 && node === prev) node = (node + 1 + Math.floor(rnd() * (o.nodes - 1))) % o.nodes;
    prev = node;
    kills.push({ atProgress: Math.round(((k + 1) / (o.kills + 1)) * 0.8 * 1000) / 1000, node });
  }
  return { kills, crashKeys: [...crashKeys(w, o.workerCrashes, o.seed)].sort() };
}

/** Waits (bounded) until no partition of `topics` has an open transaction (high watermark = last stable offset); returns how many still do. */
export async function waitResolved(bootstrap: string[], topics: string[], timeoutMs: number): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  let open = -1;
  for (;;) {
    try {
      const lso = await listEnds(bootstrap, topics, 10_000);
      const hw = await listEnds(bootstrap, topics, 10_000, undefined, 'read-uncommitted');
      open = [...hw].filter(([tp, e]) => e > (lso.get(tp) ?? 0n)).length;
      if (open === 0) return 0;
    } catch {
      // A broker still restarting: try again.
    }
    if (Date.now() >= deadline) return open < 0 ? topics.length : open;
    await sleep(500);
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
  const schedule = faultSchedule(w, { kills: killsWanted, workerCrashes: o.workerCrashes ?? 3, seed, nodes });
  const crash = new Set(schedule.crashKeys);
  const runId = randomUUID();
  const startedAt = new Date().toISOString();
  const events: ChaosEvent[] = [];
  const t0 = Date.now();
  // Progress: distinct (agent, input) executions that reached their commit point, of all expected.
  const totalExecutions = w.tasks.length * w.agents.length;
  const reached = new Set<string>();
  const progress = () => reached.size / totalExecutions;
  const note = (kind: ChaosEvent['kind'], detail: string, target?: string) => {
    events.push({ atMs: Date.now() - t0, kind, detail, target, progress: Math.round(progress() * 1000) / 1000 });
    log(`[chaos ${o.mode}] +${((Date.now() - t0) / 1000).toFixed(1)}s (${new Date().toISOString().slice(11, 23)}) p=${progress().toFixed(2)} ${kind} ${detail}`);
  };
  let workerCrashes = 0;
  const crashed = new Set<string>();
  let kills = 0;
  let recoveries = 0;
  let runDone = false;
  let scheduleDone = schedule.kills.length === 0;
  let chaos: Promise<void> = Promise.resolve();
  const store = new KafkaBlackboardStore({ bootstrap, runId, types: [...w.types.map((t) => t.name), ERROR_TYPE] });
  const topics = store.types.map((t) => store.topicOf(t));

  const chaosLoop = async () => {
    try {
      for (const k of schedule.kills) {
        while (!runDone && progress() < k.atProgress) await sleep(20);
        if (runDone) break;
        try {
          await killNode(k.node, baseDir);
        } catch (e) {
          note('restart-failed', `could not kill node ${k.node + 1}: ${(e as Error).message}`, String(k.node));
          break;
        }
        kills++;
        note('kill', `node ${k.node + 1} (SIGKILL)`, String(k.node));
        await sleep(downMs);
        // A JVM can take minutes to start on a loaded 2-core machine: wait long, then try again
        // (a failed restart would cut the schedule short and make the modes differ).
        let back = false;
        for (let attempt = 1; attempt <= 3 && !back; attempt++) {
          try {
            // Still booting from the previous attempt: wait for it rather than start another JVM.
            if (attempt > 1 && statusKafka(baseDir).nodes[k.node]?.alive) await waitForKafka(bootstrap, nodes, 300_000, baseDir);
            else await restartNode(k.node, baseDir, 300_000);
            back = true;
          } catch (e) {
            note('restart-failed', `node ${k.node + 1} (attempt ${attempt}): ${(e as Error).message}`, String(k.node));
          }
        }
        if (!back) break;
        recoveries++;
        note('restarted', `node ${k.node + 1}, cluster healthy`, String(k.node));
      }
    } finally {
      scheduleDone = true;
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
        chaos = chaosLoop();
      },
      faults: {
        afterProduce: ({ inputKeys }) => {
          for (const k of inputKeys) reached.add(k);
          // Every crash key crashes exactly once, whichever batch and attempt it is in, so the
          // number of crashes is the schedule's in both modes.
          const hit = inputKeys.find((k) => crash.has(k) && !crashed.has(k));
          if (!hit) return false;
          crashed.add(hit);
          workerCrashes++;
          note('worker-crash', `after producing, before commit; batch of ${inputKeys.length} incl. ${hit}`, hit);
          return true;
        },
        // The run is not over before the fault schedule is (kills fire at progress <= 0.8, so
        // this only holds the end, never the work).
        holdIdle: () => !scheduleDone,
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
        // Each crash is one more execution of its batch; with every crash key in one batch the
        // last re-run must still be below the DLQ threshold.
        maxAttempts: schedule.crashKeys.length + 2,
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
    await chaos;
  }
  try {
    // Read once every transaction has resolved (bounded): a transaction still open when the
    // log is read would count its outputs as lost although they may commit a moment later.
    const unresolvedPartitions = await waitResolved(bootstrap, store.allTopics(), 60_000);
    if (unresolvedPartitions) log(`[chaos ${o.mode}] ${unresolvedPartitions} partition(s) still have an open transaction; reading anyway`);
    const committed = await readLog(bootstrap, topics, 1);
    const dlq = (await readTopicValues(bootstrap, [dlqTopic(runId)], 'read-committed').catch(() => [])).length;
    const check = checkWorkload(w, committed);
    const uncommitted = o.readUncommitted === false ? undefined : checkWorkload(w, await readLog(bootstrap, topics, 0)).totals;
    await o.inspect?.({ runId, bootstrap, topics: store.allTopics(), check });
    const hitLimit = Boolean(error && /run exceeded \d+ ms/.test(error));
    return { runId, startedAt, mode: o.mode, nodes, tasks, depth, seed, latencyScale, kills, schedule, hitLimit, unresolvedPartitions, dlq, recoveries, workerCrashes, makespanMs, error, check, uncommitted, counters, events };
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
  // A signal exits without running `finally`: the cluster must not outlive an interrupted
  // experiment (registered before it starts, so a Ctrl-C during start-up is covered too).
  const unregister = onShutdown(() => killKafka(baseDir));
  try {
    await startChaosCluster(nodes, baseDir);
    return await fn();
  } finally {
    await stopKafka(baseDir);
    unregister();
  }
}
