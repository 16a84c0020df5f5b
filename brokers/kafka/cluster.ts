// Local Kafka (KRaft) clusters from Maven jars: format, spawn detached JVMs, health-check,
// stop, inspect, and kill/restart single nodes for failure tests. State lives under
// <repo>/.brokers/kafka/ (pid files, configs, data, logs) so `brokers up` can exit while
// the brokers keep running and `brokers down` finds them again.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync, closeSync } from 'node:fs';
import { join, } from 'node:path';
import { randomUUID } from 'node:crypto';
import { Admin, Consumer, Producer, TRANSACTIONAL_INIT, forceClose, stringDeserializers, stringSerializers } from './client.ts';
import {
  KAFKA_VERSION,
  type KafkaNodes,
  kafkaBootstrap,
  kafkaJvmArgs,
  kafkaLog4jProperties,
  kafkaPorts,
  kafkaServerProperties,
  randomKafkaClusterId,
} from './config.ts';
import { isProcessAlive, sampleProcess } from '../proc.ts';

export { KAFKA_VERSION, kafkaBootstrap, type KafkaNodes } from './config.ts';

/** A broker problem a user can hit; `message` is one line and says how to fix it. */
export class BrokerError extends Error {
  override name = 'BrokerError';
}

import { REPO_ROOT } from '../../core/paths.ts';
export { REPO_ROOT };
/** Default state directory for the Kafka cluster (git-ignored). */
export const DEFAULT_KAFKA_DIR = join(REPO_ROOT, '.brokers', 'kafka');
/** Marker in the JVM command line used to tell our brokers from a reused pid. */
const JVM_MARKER = 'kafka.Kafka';

export function kafkaLibsDir(version = KAFKA_VERSION): string {
  return join(REPO_ROOT, '.cache', 'kafka', version, 'libs');
}

/**
 * Makes sure the broker jars are in .cache/kafka/<version>/libs, running scripts/kafka/fetch.sh
 * (Maven) when they are not. Returns the libs directory.
 */
export function ensureJars(): string {
  const libs = kafkaLibsDir();
  if (existsSync(join(libs, `kafka_2.13-${KAFKA_VERSION}.jar`))) return libs;
  const r = spawnSync('bash', [join(REPO_ROOT, 'scripts', 'kafka', 'fetch.sh')], { stdio: 'inherit' });
  if (r.status !== 0 || !existsSync(join(libs, `kafka_2.13-${KAFKA_VERSION}.jar`))) {
    throw new BrokerError(`could not fetch Kafka ${KAFKA_VERSION} jars; run: bash scripts/kafka/fetch.sh (needs mvn and Maven Central)`);
  }
  return libs;
}

export interface KafkaClusterInfo {
  nodes: KafkaNodes;
  clusterId: string;
  bootstrap: string[];
  baseDir: string;
  kafkaVersion: string;
  startedAtMs: number;
}

export interface KafkaNodeStatus {
  index: number;
  nodeId: number;
  brokerPort: number;
  pid?: number;
  alive: boolean;
  rssMb?: number;
  cpuTimeMs?: number;
}

export interface KafkaStatus {
  /** undefined when no cluster has been started in this baseDir. */
  cluster?: KafkaClusterInfo;
  nodes: KafkaNodeStatus[];
  /** True when every node's JVM is alive (not a health check; see waitForKafka). */
  running: boolean;
}

export interface StartKafkaOptions {
  /** Cluster size; default 1. */
  nodes?: KafkaNodes;
  /** State directory; default <repo>/.brokers/kafka. */
  baseDir?: string;
  /** Max heap per broker JVM, MiB; default 384. */
  heapMb?: number;
  /** Health-check deadline, ms; default 90_000 (3 JVMs on 2 cores are slow to elect). */
  timeoutMs?: number;
  /** Wipe data and re-format even if a cluster is running (of any size); default false. */
  fresh?: boolean;
  /** Extra/overriding server.properties entries (e.g. faster failure detection for chaos runs); default none. */
  serverProperties?: Readonly<Record<string, string | number | boolean>>;
}

export interface StartedKafka extends KafkaClusterInfo {
  /** False when an already-running healthy cluster was reused. */
  started: boolean;
  /** Wall time from spawn to passing health check, ms (0 when reused). */
  startupMs: number;
}

const clusterFile = (baseDir: string) => join(baseDir, 'cluster.json');
const nodeDir = (baseDir: string, index: number) => join(baseDir, `node-${index + 1}`);
const pidFile = (baseDir: string, index: number) => join(nodeDir(baseDir, index), 'kafka.pid');

function readCluster(baseDir: string): KafkaClusterInfo | undefined {
  try {
    return JSON.parse(readFileSync(clusterFile(baseDir), 'utf8')) as KafkaClusterInfo;
  } catch {
    return undefined;
  }
}

function readPid(baseDir: string, index: number): number | undefined {
  try {
    const pid = Number(readFileSync(pidFile(baseDir, index), 'utf8').trim());
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

/** Liveness and /proc figures for every node of the cluster in baseDir. */
export function statusKafka(baseDir = DEFAULT_KAFKA_DIR): KafkaStatus {
  const cluster = readCluster(baseDir);
  if (!cluster) return { nodes: [], running: false };
  const nodes = kafkaPorts(cluster.nodes).map((p, index): KafkaNodeStatus => {
    const pid = readPid(baseDir, index);
    const alive = pid !== undefined && isProcessAlive(pid, JVM_MARKER);
    const s = alive && pid ? sampleProcess(pid) : undefined;
    return { index, nodeId: p.nodeId, brokerPort: p.brokerPort, pid, alive, rssMb: s?.rssMb, cpuTimeMs: s?.cpuTimeMs };
  });
  return { cluster, nodes, running: nodes.length > 0 && nodes.every((n) => n.alive) };
}

/** Pids of the live broker JVMs, for the harness's resource sampler. */
export function kafkaPids(baseDir = DEFAULT_KAFKA_DIR): number[] {
  return statusKafka(baseDir)
    .nodes.filter((n) => n.alive && n.pid)
    .map((n) => n.pid!);
}

function spawnNode(baseDir: string, index: number, libs: string, heapMb: number): number {
  const dir = nodeDir(baseDir, index);
  const out = openSync(join(dir, 'stdout.log'), 'a');
  const args = [
    ...kafkaJvmArgs({ libsDir: libs, log4jFile: join(dir, 'log4j.properties'), logsDir: dir, heapMb }),
    'kafka.Kafka',
    join(dir, 'server.properties'),
  ];
  // Detached + unref: the broker outlives the CLI process that started it.
  const child = spawn('java', args, { detached: true, stdio: ['ignore', out, out], cwd: dir });
  closeSync(out);
  child.unref();
  if (!child.pid) throw new BrokerError('could not spawn java; is a JDK 17+ on PATH? (apt-get install openjdk-17-jre-headless)');
  writeFileSync(pidFile(baseDir, index), `${child.pid}\n`);
  return child.pid;
}

/**
 * Starts a KRaft cluster (formatting fresh storage with a random cluster id) and waits until it
 * passes a health check: all brokers in metadata, a produce/consume round trip, and a committed
 * transaction. Reuses a healthy running cluster of the same size unless `fresh` is set.
 */
export async function startKafka(opts: StartKafkaOptions = {}): Promise<StartedKafka> {
  const nodes = opts.nodes ?? 1;
  const baseDir = opts.baseDir ?? DEFAULT_KAFKA_DIR;
  const heapMb = opts.heapMb ?? 384;
  const timeoutMs = opts.timeoutMs ?? 90_000;
  const current = statusKafka(baseDir);
  if (current.running && current.cluster && current.cluster.nodes === nodes && !opts.fresh) {
    await waitForKafka(current.cluster.bootstrap, nodes, Math.min(timeoutMs, 30_000));
    return { ...current.cluster, started: false, startupMs: 0 };
  }
  if (current.running && current.cluster && current.cluster.nodes !== nodes && !opts.fresh) {
    throw new BrokerError(`a ${current.cluster.nodes}-node kafka cluster is running; stop it first: flockbench brokers down kafka`);
  }
  await stopKafka(baseDir);
  assertPortsFree(nodes);
  const libs = ensureJars();
  rmSync(baseDir, { recursive: true, force: true });
  const clusterId = randomKafkaClusterId();
  for (let i = 0; i < nodes; i++) {
    const dir = nodeDir(baseDir, i);
    mkdirSync(join(dir, 'data'), { recursive: true });
    writeFileSync(join(dir, 'server.properties'), kafkaServerProperties(nodes, i, join(dir, 'data'), opts.serverProperties));
    writeFileSync(join(dir, 'log4j.properties'), kafkaLog4jProperties(join(dir, 'server.log')));
    const fmt = spawnSync(
      'java',
      [
        ...kafkaJvmArgs({ libsDir: libs, log4jFile: join(dir, 'log4j.properties'), logsDir: dir, heapMb: 256 }),
        'kafka.tools.StorageTool',
        'format',
        '-t',
        clusterId,
        '-c',
        join(dir, 'server.properties'),
      ],
      { encoding: 'utf8' },
    );
    if (fmt.status !== 0) {
      throw new BrokerError(`kafka storage format failed for node ${i + 1}: ${(fmt.stderr || fmt.stdout).trim().split('\n').pop()}`);
    }
  }
  const info: KafkaClusterInfo = {
    nodes,
    clusterId,
    bootstrap: kafkaBootstrap(nodes),
    baseDir,
    kafkaVersion: KAFKA_VERSION,
    startedAtMs: Date.now(),
  };
  writeFileSync(clusterFile(baseDir), JSON.stringify(info, null, 2));
  const t0 = Date.now();
  for (let i = 0; i < nodes; i++) spawnNode(baseDir, i, libs, heapMb);
  try {
    await waitForKafka(info.bootstrap, nodes, timeoutMs, baseDir);
  } catch (e) {
    await stopKafka(baseDir);
    throw e;
  }
  return { ...info, started: true, startupMs: Date.now() - t0 };
}

function assertPortsFree(nodes: KafkaNodes): void {
  // A foreign process on our port would make the health check pass against the wrong broker.
  const busy: number[] = [];
  for (const p of kafkaPorts(nodes)) {
    for (const port of [p.brokerPort, p.controllerPort]) {
      const r = spawnSync('bash', ['-c', `exec 3<>/dev/tcp/127.0.0.1/${port}`], { stdio: 'ignore' });
      if (r.status === 0) busy.push(port);
    }
  }
  if (busy.length) {
    throw new BrokerError(`port(s) ${busy.join(', ')} already in use on 127.0.0.1; stop whatever listens there (brokers down kafka, or check .brokers/)`);
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** `p`, or a rejection after `ms` (the timer never keeps the process alive). */
export function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const t = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} timed out after ${ms} ms`)), ms);
    timer.unref();
  });
  return Promise.race([p, t]).finally(() => clearTimeout(timer));
}

/**
 * Polls until the cluster answers: metadata lists `nodes` brokers, a record produced to
 * `__flockbench_health` is consumed back, and a transaction commits (proves the transaction
 * state log is available; on one node this fails unless its RF is 1).
 */
export async function waitForKafka(bootstrap: string[], nodes: KafkaNodes, timeoutMs = 90_000, baseDir?: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastError = 'no answer';
  while (Date.now() < deadline) {
    if (baseDir) {
      const st = statusKafka(baseDir);
      const dead = st.nodes.filter((n) => !n.alive);
      if (dead.length) {
        const log = join(nodeDir(baseDir, dead[0]!.index), 'stdout.log');
        const tail = existsSync(log) ? readFileSync(log, 'utf8').trim().split('\n').slice(-1)[0] : '';
        throw new BrokerError(`kafka node ${dead[0]!.nodeId} exited during startup (${tail ?? 'no output'}); see ${log}`);
      }
    }
    try {
      // Bounded: a client call that never settles (seen with @platformatic/kafka 1.35 right
      // after a broker restart) must not hang the wait past its deadline.
      await withTimeout(healthCheck(bootstrap, nodes), Math.max(1000, Math.min(30_000, deadline - Date.now())), 'health check');
      return;
    } catch (e) {
      lastError = (e as Error).message;
      await sleep(1000);
    }
  }
  throw new BrokerError(`kafka at ${bootstrap.join(',')} not healthy after ${timeoutMs} ms (${lastError}); see .brokers/kafka/node-*/server.log`);
}

async function healthCheck(bootstrap: string[], nodes: KafkaNodes): Promise<void> {
  const topic = '__flockbench_health';
  const base = { bootstrapBrokers: bootstrap, timeout: 5000, retries: 1, retryDelay: 200 };
  const admin = new Admin({ ...base, clientId: 'flockbench-health-admin' });
  try {
    const md = await admin.metadata({ topics: [] });
    if (md.brokers.size < nodes) throw new Error(`${md.brokers.size}/${nodes} brokers registered`);
    const existing = await admin.listTopics();
    if (!existing.includes(topic)) {
      try {
        await admin.createTopics({ topics: [topic], partitions: 1, replicas: nodes });
      } catch (e) {
        if (!/exists/i.test(String((e as Error).message) + JSON.stringify((e as { errors?: unknown }).errors ?? ''))) throw e;
      }
    }
  } finally {
    await admin.close().catch(() => {});
  }
  const marker = randomUUID();
  const producer = new Producer({
    ...base,
    clientId: 'flockbench-health-producer',
    serializers: stringSerializers,
    idempotent: true,
    transactionalId: 'flockbench-health',
    ...TRANSACTIONAL_INIT,
  });
  try {
    const tx = await producer.beginTransaction();
    await tx.send({ messages: [{ topic, key: 'health', value: marker }] });
    await tx.commit();
  } finally {
    await producer.close().catch(() => {});
  }
  const consumer = new Consumer({
    ...base,
    clientId: 'flockbench-health-consumer',
    groupId: `flockbench-health-${marker}`,
    deserializers: stringDeserializers,
    maxWaitTime: 500,
    isolationLevel: 1,
  });
  try {
    const stream = await consumer.consume({ topics: [topic], mode: 'earliest', autocommit: false, sessionTimeout: 10000, heartbeatInterval: 1000 });
    const found = await new Promise<boolean>((res) => {
      const timer = setTimeout(() => res(false), 10_000);
      stream.on('data', (m) => {
        if (m.value === marker) {
          clearTimeout(timer);
          res(true);
        }
      });
      stream.on('error', () => {
        clearTimeout(timer);
        res(false);
      });
    });
    await stream.close().catch(() => {});
    if (!found) throw new Error('health record not consumed back within 10 s');
  } finally {
    await forceClose(consumer);
  }
}

async function killPid(pid: number, signal: NodeJS.Signals, waitMs: number): Promise<boolean> {
  try {
    process.kill(pid, signal);
  } catch {
    return true;
  }
  const deadline = Date.now() + waitMs;
  while (Date.now() < deadline) {
    if (!isProcessAlive(pid, JVM_MARKER)) return true;
    await sleep(100);
  }
  return !isProcessAlive(pid, JVM_MARKER);
}

/** Stops every node (SIGTERM = controlled shutdown, SIGKILL after 20 s). Keeps data; see wipeKafka. */
export async function stopKafka(baseDir = DEFAULT_KAFKA_DIR): Promise<{ stopped: number }> {
  const st = statusKafka(baseDir);
  const live = st.nodes.filter((n) => n.alive && n.pid);
  await Promise.all(
    live.map(async (n) => {
      if (!(await killPid(n.pid!, 'SIGTERM', 20_000))) await killPid(n.pid!, 'SIGKILL', 5_000);
    }),
  );
  for (const n of st.nodes) rmSync(pidFile(baseDir, n.index), { force: true });
  return { stopped: live.length };
}

/** SIGKILL every node of a cluster at once, without waiting (an interrupted command's cleanup). */
export function killKafka(baseDir = DEFAULT_KAFKA_DIR): void {
  for (const n of statusKafka(baseDir).nodes) {
    if (!n.alive || !n.pid) continue;
    try {
      process.kill(n.pid, 'SIGKILL');
    } catch {
      // already gone
    }
    rmSync(pidFile(baseDir, n.index), { force: true });
  }
}

/** Hard-kills node `index` (0-based) with SIGKILL, as a crash would. */
export async function killNode(index: number, baseDir = DEFAULT_KAFKA_DIR): Promise<void> {
  const pid = readPid(baseDir, index);
  if (pid === undefined || !isProcessAlive(pid, JVM_MARKER)) throw new BrokerError(`kafka node ${index + 1} is not running`);
  await killPid(pid, 'SIGKILL', 5_000);
  rmSync(pidFile(baseDir, index), { force: true });
}

/** Restarts node `index` (0-based) on its existing storage; resolves once the cluster is healthy again. */
export async function restartNode(index: number, baseDir = DEFAULT_KAFKA_DIR, timeoutMs = 90_000): Promise<void> {
  const cluster = readCluster(baseDir);
  if (!cluster) throw new BrokerError(`no kafka cluster in ${baseDir}; run: flockbench brokers up kafka`);
  const pid = readPid(baseDir, index);
  if (pid !== undefined && isProcessAlive(pid, JVM_MARKER)) await killPid(pid, 'SIGTERM', 20_000);
  spawnNode(baseDir, index, ensureJars(), 384);
  await waitForKafka(cluster.bootstrap, cluster.nodes, timeoutMs, baseDir);
}

/** Stops the cluster and deletes its state directory. */
export async function wipeKafka(baseDir = DEFAULT_KAFKA_DIR): Promise<void> {
  await stopKafka(baseDir);
  rmSync(baseDir, { recursive: true, force: true });
}
