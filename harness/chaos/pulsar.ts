// The failure experiment on Pulsar: run the map workload through blackboard-pulsar while the
// standalone broker (broker, bookie and WebSocket service in one JVM) is SIGKILLed and
// restarted on its data dir mid-run, then read every type topic back with a fresh non-durable
// subscription and let the checker (checker.ts) count lost and duplicated artifacts. The
// outcome has the shape of the Kafka experiment's (run.ts), so the two tabulate side by side.
//
// What to expect from the guarantees (brokers/pulsar/client.ts): produce is idempotent across
// the restart (resends dropped by broker deduplication), consume is at-least-once (acks sent
// within about a second of the kill can be lost, and their inputs are delivered again; a consumer
// that still holds or acked the message skips it, any other processes it again). There is no
// transactional mode to compare with: the WebSocket API has no transactions.
//
// The outcome's fields, read for Pulsar: `schedule` is timed (TimedFaultSchedule, run.ts: no
// progress is visible mid-run), `hitLimit` is the run at its time limit, `dlq` counts what the
// agents dead-lettered (the run's <Type>-<agent>-DLQ topics, read back), and
// `unresolvedPartitions` is 0 by construction (see below). Fault events carry no progress.
import { load1 } from '../collect/machine.ts';
import { randomUUID } from 'node:crypto';
import { readTopicValues } from '../../brokers/pulsar/client.ts';
import { CHAOS_PULSAR_DIR, killPulsar, type PulsarUrls, pulsarUrls, readPulsarState, startPulsar, statusPulsar, stopPulsar } from '../../brokers/pulsar/standalone.ts';
import { describeError } from '../../core/errors.ts';
import { pulsarTypeTopic } from '../../systems/blackboard/stores/pulsar/layout.ts';
import { PulsarBlackboardStore } from '../../systems/blackboard/stores/pulsar/store.ts';
import { buildWorkload } from '../../workloads/registry.ts';
import { ERROR_TYPE } from '../../workloads/spec.ts';
import { runOnce } from '../runner/run-once.ts';
import { checkWorkload } from './checker.ts';
import type { ChaosEvent, ChaosOutcome, TimedFaultSchedule } from './run.ts';

export { CHAOS_PULSAR_DIR };

export interface PulsarChaosOptions {
  /** Map tasks; default 300. */
  tasks?: number;
  /** Map depth; default 2. */
  depth?: number;
  /** Broker SIGKILL + restart cycles; default 1 (a restart takes 20 s to minutes of a 2-core machine). */
  kills?: number;
  /** Seed of the simulated LLM; default 1. */
  seed?: number;
  /** Simulated latency multiplier; default 0.05. */
  latencyScale?: number;
  /** Partitions per type topic; default 4. */
  partitions?: number;
  /** Subscription type of every agent; default Failover (each partition to one consumer, like a Kafka group). */
  subscription?: 'Failover' | 'Shared' | 'Key_Shared';
  /** Consumers per agent subscription; default 1 (one per agent group, as the Kafka experiment). */
  consumers?: number;
  /** First kill this long after seeds start, ms; default 1500. */
  firstKillMs?: number;
  /** A killed broker stays down this long before its restart begins, ms; default 2000. */
  downMs?: number;
  /** Abort the run after this long, ms (a run at its limit is a failure, hitLimit); default 900_000 (restarts are slow on a busy machine). */
  timeoutMs?: number;
  /** State directory of the standalone; default CHAOS_PULSAR_DIR (port slot 1). */
  baseDir?: string;
  /** Progress lines (kills, restarts); default silent. */
  log?: (line: string) => void;
}

/** A later kill fires this long after the previous restart was healthy, ms. */
const AFTER_RESTART_MS = 1000;

/** Failed consumers a chaos run may restart (restartFailedWorkers). */
export const PULSAR_CHAOS_WORKER_RESTARTS = 30;

/**
 * Every artifact of `topics` as {type, key}, read from the start with a fresh subscription
 * (not the run's client): what a reader of the log sees after the run.
 */
export async function readPulsarLog(urls: Pick<PulsarUrls, 'webServiceUrl' | 'wsUrl'>, topics: string[]): Promise<{ type: string; key: string }[]> {
  const out: { type: string; key: string }[] = [];
  for (const m of await readTopicValues(urls.webServiceUrl, urls.wsUrl, topics, { timeoutMs: 300_000 })) {
    try {
      const a = JSON.parse(m.value) as { type?: unknown; key?: unknown };
      if (typeof a.type === 'string' && typeof a.key === 'string') out.push({ type: a.type, key: a.key });
    } catch {
      // Not an artifact (poison message): not the checker's business.
    }
  }
  return out;
}

/**
 * One chaos run against an already running standalone in `baseDir` (see withPulsarChaosBroker).
 * Never throws for a failed run: the failure is recorded and the log checked anyway, since a run
 * that dies mid-way is exactly when loss would show.
 */
export async function runPulsarChaos(o: PulsarChaosOptions = {}): Promise<ChaosOutcome> {
  const baseDir = o.baseDir ?? CHAOS_PULSAR_DIR;
  const st = statusPulsar(baseDir);
  if (!st.state || !st.running) throw new Error(`no chaos standalone running in ${baseDir}; start one with withPulsarChaosBroker`);
  const urls = pulsarUrls(st.state.ports);
  const tasks = o.tasks ?? 300;
  const depth = o.depth ?? 2;
  const seed = o.seed ?? 1;
  const latencyScale = o.latencyScale ?? 0.05;
  const killsWanted = o.kills ?? 1;
  const downMs = o.downMs ?? 2000;
  const log = o.log ?? (() => {});
  const w = buildWorkload('map', { tasks, depth });
  const runId = randomUUID();
  const startedAt = new Date().toISOString();
  const events: ChaosEvent[] = [];
  const t0 = Date.now();
  const loadStart = load1();
  const firstKillMs = o.firstKillMs ?? 1500;
  const schedule: TimedFaultSchedule = {
    kills: Array.from({ length: killsWanted }, (_, k) => (k === 0 ? { afterMs: firstKillMs, from: 'open' as const, node: 0 as const } : { afterMs: AFTER_RESTART_MS, from: 'previous-restart' as const, node: 0 as const })),
    crashKeys: [],
  };
  // Target '0': the one standalone, as Kafka's node indexes. No progress: blackboard-pulsar
  // reports executions only when the run ends.
  const note = (kind: ChaosEvent['kind'], detail: string) => {
    events.push({ atMs: Date.now() - t0, kind, detail, target: '0' });
    log(`[chaos pulsar] +${((Date.now() - t0) / 1000).toFixed(1)}s ${kind} ${detail}`);
  };
  let kills = 0;
  let recoveries = 0;
  let runDone = false;
  let scheduleDone = schedule.kills.length === 0;
  let chaos: Promise<void> = Promise.resolve();
  const chaosLoop = async () => {
    try {
      for (const k of schedule.kills) {
        await sleep(k.afterMs);
        if (runDone) break;
        try {
          await killPulsar(baseDir);
        } catch (e) {
          note('restart-failed', `could not kill the standalone: ${(e as Error).message}`);
          break;
        }
        kills++;
        note('kill', 'standalone (SIGKILL): broker, bookie and WebSocket service');
        await sleep(downMs);
        try {
          const r = await startPulsar({ baseDir, timeoutMs: 600_000 });
          recoveries++;
          note('restarted', `healthy after ${(r.startupMs / 1000).toFixed(1)} s (JVM CPU ${((r.jvmCpuMsAtReady ?? 0) / 1000).toFixed(1)} s)`);
        } catch (e) {
          note('restart-failed', (e as Error).message);
          break;
        }
      }
    } finally {
      scheduleDone = true;
    }
  };

  let makespanMs = Date.now();
  let error: string | undefined;
  let counters: Record<string, number> = {};
  try {
    const r = await runOnce({
      system: 'blackboard-pulsar',
      onOpen: () => {
        chaos = chaosLoop();
      },
      // The run is not over before its kills are (a small run could finish before the first):
      // the session holds its end, not its work (makespan ends with the last ack).
      faults: { holdIdle: () => !scheduleDone },
      workload: w,
      seed,
      latencyScale,
      runId,
      timeoutMs: o.timeoutMs ?? 900_000,
      systemParams: {
        url: urls.webServiceUrl,
        subscription: o.subscription ?? 'Failover',
        partitions: o.partitions ?? 4,
        consumers: o.consumers ?? 1,
        restartFailedWorkers: PULSAR_CHAOS_WORKER_RESTARTS,
        deleteTopics: false,
      },
    });
    makespanMs = r.makespanMs;
    counters = r.params.counters as Record<string, number>;
  } catch (e) {
    error = describeError(e);
    makespanMs = Date.now() - makespanMs;
    log(`[chaos pulsar] run failed: ${error}`);
  } finally {
    runDone = true;
    // A broker still down would make the read below (and the next run) fail: finish the cycle.
    await chaos;
  }
  const types = [...w.types.map((t) => t.name), ERROR_TYPE];
  // The same dead-letter topics the system created (blackboard-pulsar/system.ts), so they are
  // read back and deleted with the run's other topics.
  const deadLetters = w.agents.flatMap((a) => [...new Set(a.consumes.types)].map((type) => ({ type, agent: a.name })));
  const store = new PulsarBlackboardStore({ ...urls, runId, types, partitions: o.partitions ?? 4, deadLetters });
  try {
    const observed = await readPulsarLog(urls, types.map((t) => pulsarTypeTopic(runId, t)));
    const check = checkWorkload(w, observed);
    // What the agents dead-lettered (poison inputs): an artifact there is lost to the checker.
    // -1 when the topics could not be read, so an unreadable DLQ never reads as an empty one.
    const dlq = await store.dlq().then((d) => d.length, (e) => {
      log(`[chaos pulsar] could not read the dead-letter topics: ${describeError(e)}`);
      return -1;
    });
    // Kafka counts partitions with a transaction still open when the log is read. Over the
    // WebSocket API nothing is transactional: a stored message is visible at once and no commit
    // or abort can still change what a reader sees, so there is nothing to wait for or count.
    const unresolvedPartitions = 0;
    const hitLimit = Boolean(error && /run exceeded \d+ ms/.test(error));
    return { runId, startedAt, mode: 'at-least-once', nodes: 1, tasks, depth, seed, latencyScale, kills, schedule, hitLimit, unresolvedPartitions, dlq, recoveries, workerCrashes: 0, makespanMs, error, check, counters, events, loadStart };
  } finally {
    await store.deleteTopics().catch(() => {});
    await store.close();
  }
}

/** Start a fresh standalone for chaos runs (own state dir and port slot, apart from `brokers up`). */
export async function startPulsarChaosBroker(baseDir = CHAOS_PULSAR_DIR): Promise<void> {
  await startPulsar({ baseDir, slot: 1, fresh: true, timeoutMs: 600_000 });
}

/** Start a fresh chaos standalone, run `fn`, always stop it afterwards. */
export async function withPulsarChaosBroker<T>(fn: () => Promise<T>, baseDir = CHAOS_PULSAR_DIR): Promise<T> {
  await startPulsarChaosBroker(baseDir);
  try {
    return await fn();
  } finally {
    if (readPulsarState(baseDir)) await stopPulsar(baseDir);
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
