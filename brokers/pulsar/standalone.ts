// A local Apache Pulsar standalone from Maven jars: spawn a detached JVM (broker + bookie +
// RocksDB metadata store + WebSocket service), health-check it with a WebSocket produce/consume
// round trip, stop it (SIGTERM, then SIGKILL), kill -9 it, restart it on the same data dir, and
// report pid, RSS and CPU. State lives under <repo>/.brokers/pulsar (state.json with ports and
// memory, pulsar.pid, standalone.conf, log4j2.xml, data/, pulsar.log, stdout.log), so `brokers up`
// can exit while the broker keeps running and `brokers down` finds it again.
import { spawn, spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer, Socket } from 'node:net';
import { join, resolve } from 'node:path';
import { REPO_ROOT } from '../../core/paths.ts';
import { BrokerError } from '../errors.ts';
import { isProcessAlive, sampleProcess } from '../proc.ts';
import { PulsarAdmin } from './admin.ts';
import {
  DEFAULT_PULSAR_MEMORY,
  PULSAR_MAIN_CLASS,
  PULSAR_VERSION,
  type PulsarMemory,
  type PulsarPorts,
  type PulsarSlot,
  type PulsarUrls,
  log4j2Xml,
  pulsarJvmArgs,
  pulsarPorts,
  pulsarUrls,
  standaloneArgs,
  standaloneConf,
} from './config.ts';
import { WsConsumer, WsProducer, messageText } from './ws.ts';

export { BrokerError, PULSAR_VERSION, pulsarPorts, pulsarUrls, type PulsarMemory, type PulsarPorts, type PulsarSlot, type PulsarUrls };

/** State directory of `brokers up pulsar` and the tests (port slot 0). */
export const DEFAULT_PULSAR_DIR = join(REPO_ROOT, '.brokers', 'pulsar');
/** State directory of the failure experiment's standalone (port slot 1), killed on purpose. */
export const CHAOS_PULSAR_DIR = join(REPO_ROOT, '.brokers', 'pulsar-chaos');

const HEALTH_TOPIC = 'persistent://public/default/__flockbench_health';
const HEALTH_SUB = 'flockbench-health';

export function pulsarLibsDir(version = PULSAR_VERSION): string {
  return join(REPO_ROOT, '.cache', 'pulsar', version, 'libs');
}

/**
 * Dynamic AppCDS archive of the classes a standalone loads up to readiness (buildCdsArchive,
 * `flockbench brokers up pulsar --build-cds`). Starting with it cut the JVM's CPU time to
 * readiness by about a third here (README). Valid only for this JDK and this jar list at this
 * path; the JVM ignores a stale archive with a warning in stdout.log (-Xshare:auto).
 */
export function cdsArchivePath(version = PULSAR_VERSION): string {
  return join(REPO_ROOT, '.cache', 'pulsar', version, 'pulsar-cds.jsa');
}

/** Why the standalone cannot start without fetching first (its jars are not cached), or undefined when they are. */
export function pulsarJarsMissing(): string | undefined {
  const marker = join(pulsarLibsDir(), `pulsar-broker-${PULSAR_VERSION}.jar`);
  return existsSync(marker) ? undefined : `the Pulsar ${PULSAR_VERSION} jars are not in ${pulsarLibsDir()} (fetch them: bash scripts/pulsar/fetch.sh)`;
}

/** Makes sure the jars are in .cache/pulsar/<version>/libs, running scripts/pulsar/fetch.sh (Maven) if not. */
export function ensurePulsarJars(): string {
  const libs = pulsarLibsDir();
  const marker = join(libs, `pulsar-broker-${PULSAR_VERSION}.jar`);
  if (existsSync(marker)) return libs;
  const r = spawnSync('bash', [join(REPO_ROOT, 'scripts', 'pulsar', 'fetch.sh')], { stdio: 'inherit' });
  if (r.status !== 0 || !existsSync(marker)) {
    throw new BrokerError(`could not fetch Pulsar ${PULSAR_VERSION} jars; run: bash scripts/pulsar/fetch.sh (needs mvn, Java 17 and Maven Central)`);
  }
  return libs;
}

export interface PulsarState {
  version: string;
  baseDir: string;
  dataDir: string;
  ports: PulsarPorts;
  memory: PulsarMemory;
  journalSyncData: boolean;
  jvmExtraArgs: string[];
  /** When the current JVM was spawned (ms since epoch). */
  spawnedAtMs: number;
  /** When the data dir was first initialised. */
  createdAtMs: number;
  /** Full java command line of the current JVM. */
  command: string[];
}

export interface PulsarStatus {
  /** undefined when no standalone was ever started in this baseDir. */
  state?: PulsarState;
  pid?: number;
  /** The JVM is alive (not a health check; see waitForPulsar). */
  running: boolean;
  rssMb?: number;
  cpuTimeMs?: number;
}

export interface StartPulsarOptions {
  /** State directory; default DEFAULT_PULSAR_DIR. */
  baseDir?: string;
  /** Port slot of the plan (config.ts); default 0. Ignored for a data dir that already has ports. */
  slot?: PulsarSlot;
  /** Explicit ports (the CDS build); default the plan's. */
  ports?: PulsarPorts;
  memory?: PulsarMemory;
  /** Health-check deadline, ms; default 300_000 (a cold start took 27-60 s on a busy 2-core box, over 3 min at load average 50). */
  timeoutMs?: number;
  /** Wipe the data dir first (new topics, new subscriptions); default false = reuse it. */
  fresh?: boolean;
  journalSyncData?: boolean;
  /** Extra standalone.conf entries. */
  overrides?: Readonly<Record<string, string | number | boolean>>;
  /** Extra JVM flags (before -cp). */
  jvmExtraArgs?: readonly string[];
  /** Use the AppCDS archive (cdsArchivePath) when it exists; default true. */
  cds?: boolean;
}

export interface StartedPulsar {
  state: PulsarState;
  urls: PulsarUrls;
  /** False when an already running healthy standalone was reused. */
  started: boolean;
  /** True when the data dir was empty (first start: metadata, bookie format, namespaces). */
  coldDataDir: boolean;
  /** Spawn -> admin REST answers, ms; 0 when reused. */
  httpReadyMs: number;
  /** Spawn -> WebSocket produce/consume round trip passed, ms; 0 when reused. */
  startupMs: number;
  /** CPU time the JVM had used when it became ready, ms (steadier than wall time on a busy machine). */
  jvmCpuMsAtReady?: number;
  /** RSS of the JVM when it became ready, MiB. */
  rssMbAtReady?: number;
  /** Started with the AppCDS archive. */
  cds: boolean;
  pid: number;
}

/** Marker file: the standalone in this dir was started by a test suite (testing.ts), and the tests' global teardown stops it. */
export const testsMarker = (baseDir: string) => join(baseDir, 'started-by-tests');
const stateFile = (baseDir: string) => join(baseDir, 'state.json');
const pidFile = (baseDir: string) => join(baseDir, 'pulsar.pid');
const confFile = (baseDir: string) => join(baseDir, 'standalone.conf');
/** The JVM's command line holds its config path, unique per baseDir (guards against pid reuse and other standalones). */
const jvmMarker = (baseDir: string) => confFile(resolve(baseDir));

export function readPulsarState(baseDir = DEFAULT_PULSAR_DIR): PulsarState | undefined {
  try {
    return JSON.parse(readFileSync(stateFile(baseDir), 'utf8')) as PulsarState;
  } catch {
    return undefined;
  }
}

function readPid(baseDir: string): number | undefined {
  try {
    const pid = Number(readFileSync(pidFile(baseDir), 'utf8').trim());
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

export function statusPulsar(baseDir = DEFAULT_PULSAR_DIR): PulsarStatus {
  const state = readPulsarState(baseDir);
  const pid = readPid(baseDir);
  const running = pid !== undefined && isProcessAlive(pid, jvmMarker(baseDir));
  const s = running && pid ? sampleProcess(pid) : undefined;
  return { state, pid, running, rssMb: s?.rssMb, cpuTimeMs: s?.cpuTimeMs };
}

/** Pids of the live standalone JVM (zero or one), for the harness's resource sampler. */
export function pulsarPids(baseDir = DEFAULT_PULSAR_DIR): number[] {
  const st = statusPulsar(baseDir);
  return st.running && st.pid ? [st.pid] : [];
}

/**
 * Where a run finds its broker: FLOCKBENCH_PULSAR_URL (the web service, http://host:port), else
 * the standalone `brokers up pulsar` started, else the port plan's slot 0.
 */
export function defaultPulsarUrls(baseDir = DEFAULT_PULSAR_DIR): PulsarUrls {
  const env = process.env.FLOCKBENCH_PULSAR_URL;
  if (env) {
    const u = new URL(env);
    return { serviceUrl: '', webServiceUrl: `http://${u.host}`, wsUrl: `ws://${u.host}` };
  }
  return pulsarUrls(readPulsarState(baseDir)?.ports ?? pulsarPorts(0));
}

// ---------------------------------------------------------------------------------------------
// Ports
// ---------------------------------------------------------------------------------------------

function canBind(port: number, host: string): Promise<boolean> {
  return new Promise((res) => {
    const srv = createServer();
    srv.once('error', () => res(false));
    srv.listen({ port, host, exclusive: true }, () => srv.close(() => res(true)));
  });
}

function somethingListens(port: number): Promise<boolean> {
  return new Promise((res) => {
    const s = new Socket();
    const done = (v: boolean) => {
      s.destroy();
      res(v);
    };
    s.setTimeout(500, () => done(false));
    s.once('connect', () => done(true));
    s.once('error', () => done(false));
    s.connect(port, '127.0.0.1');
  });
}

/** True when nothing listens on `port` and it can be bound on 127.0.0.1 and 0.0.0.0 (the bookie binds the wildcard). */
export async function isPortFree(port: number): Promise<boolean> {
  if (await somethingListens(port)) return false;
  return (await canBind(port, '127.0.0.1')) && (await canBind(port, '0.0.0.0'));
}

/**
 * A free port in [20000, 32767] (below Linux's ephemeral range, so an outgoing connection will
 * not take it between pick and bind), never one of `exclude`. Only for the throwaway CDS build.
 */
async function findFreePort(exclude: readonly number[]): Promise<number> {
  for (let i = 0; i < 200; i++) {
    const p = 20000 + Math.floor(Math.random() * 12768);
    if (!exclude.includes(p) && (await isPortFree(p))) return p;
  }
  throw new BrokerError('no free port found in 20000-32767');
}

/**
 * Checks that every port is free. A port can stay bound for a moment after the JVM that held it
 * died (its sockets close when its last thread exits), so a busy port is retried for up to 10 s.
 */
async function assertPortsFree(ports: PulsarPorts): Promise<void> {
  let busy: string[] = [];
  for (let attempt = 0; attempt < 20; attempt++) {
    busy = [];
    for (const [k, p] of Object.entries(ports)) if (!(await isPortFree(p))) busy.push(`${p} (${k})`);
    if (!busy.length) return;
    await sleep(500);
  }
  throw new BrokerError(
    `port(s) ${busy.join(', ')} already in use on 127.0.0.1; stop whatever listens there (flockbench brokers down pulsar) or set FLOCKBENCH_PULSAR_PORT_OFFSET`,
  );
}

// ---------------------------------------------------------------------------------------------
// Lifecycle
// ---------------------------------------------------------------------------------------------

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function spawnJvm(state: PulsarState, libs: string): number {
  const { baseDir } = state;
  const out = openSync(join(baseDir, 'stdout.log'), 'a');
  const args = [
    ...pulsarJvmArgs({ libsDir: libs, log4jFile: join(baseDir, 'log4j2.xml'), logDir: baseDir, memory: state.memory, extra: state.jvmExtraArgs }),
    PULSAR_MAIN_CLASS,
    ...standaloneArgs({ confFile: confFile(baseDir), dataDir: state.dataDir, bookiePort: state.ports.bookiePort }),
  ];
  // Detached + unref: the broker outlives the process that started it (the pid file finds it again).
  const child = spawn('java', args, { detached: true, stdio: ['ignore', out, out], cwd: baseDir });
  closeSync(out);
  child.unref();
  if (!child.pid) throw new BrokerError('could not spawn java; is a JDK 17+ on PATH? (apt-get install openjdk-17-jre-headless)');
  writeFileSync(pidFile(baseDir), `${child.pid}\n`);
  state.command = ['java', ...args];
  state.spawnedAtMs = Date.now();
  writeFileSync(stateFile(baseDir), JSON.stringify(state, null, 2));
  return child.pid;
}

/**
 * Starts the standalone (or reuses a healthy running one) and resolves once a WebSocket
 * produce/consume round trip has succeeded. An existing data dir is reused (same ports, topics,
 * subscriptions, unacked messages) unless `fresh`.
 */
export async function startPulsar(opts: StartPulsarOptions = {}): Promise<StartedPulsar> {
  const baseDir = resolve(opts.baseDir ?? DEFAULT_PULSAR_DIR);
  const timeoutMs = opts.timeoutMs ?? 300_000;
  const current = statusPulsar(baseDir);
  if (current.running && current.state && !opts.fresh) {
    await waitForPulsar(current.state.ports, Math.min(timeoutMs, 60_000), baseDir);
    const cds = current.state.jvmExtraArgs.some((a) => a.startsWith('-XX:SharedArchiveFile'));
    return { state: current.state, urls: pulsarUrls(current.state.ports), started: false, coldDataDir: false, httpReadyMs: 0, startupMs: 0, cds, pid: current.pid! };
  }
  await stopPulsar(baseDir);
  const libs = ensurePulsarJars();
  if (opts.fresh) rmSync(baseDir, { recursive: true, force: true });
  const previous = readPulsarState(baseDir);
  const dataDir = join(baseDir, 'data');
  const coldDataDir = !existsSync(join(dataDir, 'metadata'));
  const planned = opts.ports ?? pulsarPorts(opts.slot ?? 0);
  // The bookie's cookie pins the address:port of its first start: a data dir keeps its ports.
  const ports = !coldDataDir && previous ? previous.ports : planned;
  if (!coldDataDir && previous && opts.ports && JSON.stringify(opts.ports) !== JSON.stringify(previous.ports)) {
    throw new BrokerError(`the data dir in ${baseDir} is bound to ports ${JSON.stringify(previous.ports)} (bookie cookie); start it fresh to change them (brokers up pulsar --fresh)`);
  }
  await assertPortsFree(ports);
  if (!coldDataDir) dropStaleEphemerals(libs, join(dataDir, 'metadata'));
  const memory = opts.memory ?? previous?.memory ?? DEFAULT_PULSAR_MEMORY;
  const journalSyncData = opts.journalSyncData ?? previous?.journalSyncData ?? false;
  mkdirSync(dataDir, { recursive: true });
  writeFileSync(confFile(baseDir), standaloneConf({ ports, memory, journalSyncData, overrides: opts.overrides }));
  writeFileSync(join(baseDir, 'log4j2.xml'), log4j2Xml(join(baseDir, 'pulsar.log')));
  const useCds = opts.cds !== false && existsSync(cdsArchivePath());
  const state: PulsarState = {
    version: PULSAR_VERSION,
    baseDir,
    dataDir,
    ports,
    memory,
    journalSyncData,
    jvmExtraArgs: [...(useCds ? ['-Xshare:auto', `-XX:SharedArchiveFile=${cdsArchivePath()}`] : []), ...(opts.jvmExtraArgs ?? [])],
    spawnedAtMs: 0,
    createdAtMs: coldDataDir ? Date.now() : (previous?.createdAtMs ?? Date.now()),
    command: [],
  };
  // Whoever starts it owns it: a marker left by an earlier test run must not let the tests' teardown stop this one.
  rmSync(testsMarker(baseDir), { force: true });
  const t0 = performance.now();
  const pid = spawnJvm(state, libs);
  try {
    const r = await waitForPulsar(ports, timeoutMs, baseDir, t0);
    const startupMs = Math.round(performance.now() - t0);
    const s = sampleProcess(pid);
    return { state, urls: pulsarUrls(ports), started: true, coldDataDir, httpReadyMs: r.httpReadyMs, startupMs, jvmCpuMsAtReady: s?.cpuTimeMs, rssMbAtReady: s?.rssMb, cds: useCds, pid };
  } catch (e) {
    await stopPulsar(baseDir);
    throw e;
  }
}

/**
 * Removes what a killed standalone left in its RocksDB metadata store as ephemeral entries
 * (DropStaleEphemerals.java says why: without it, a bookie restarted after kill -9 can flap
 * between registered and unregistered for good, and no new ledger can be written). Runs the
 * Java file from source with the Pulsar jars; a few seconds. Nothing to do after a clean stop.
 */
function dropStaleEphemerals(libs: string, metadataDir: string): void {
  if (!existsSync(metadataDir)) return;
  const src = join(REPO_ROOT, 'brokers', 'pulsar', 'DropStaleEphemerals.java');
  const r = spawnSync('java', ['-cp', `${libs}/*`, src, metadataDir], { encoding: 'utf8', timeout: 300_000 });
  if (r.status !== 0) {
    throw new BrokerError(`could not clean the metadata store in ${metadataDir} (${(r.stderr || r.stdout || String(r.error)).trim().split('\n').pop()}); start fresh: flockbench brokers up pulsar --fresh`);
  }
}

/** The last line of the logs that looks like an error, for a one-line failure message. */
function logTail(baseDir: string): string {
  for (const f of ['stdout.log', 'pulsar.log']) {
    const p = join(baseDir, f);
    if (!existsSync(p)) continue;
    const lines = readFileSync(p, 'utf8').trim().split('\n').filter((l) => /ERROR|Exception|Error:/.test(l));
    if (lines.length) return lines[lines.length - 1]!.slice(0, 300);
  }
  return 'no error in the logs';
}

/**
 * Polls until the standalone is ready: the admin REST API answers, then a message produced over
 * the WebSocket API is consumed back over it (the first produce on a fresh broker takes seconds
 * after HTTP is up: bundle ownership, topic creation). Fails fast if the JVM exits.
 */
export async function waitForPulsar(ports: PulsarPorts, timeoutMs = 240_000, baseDir?: string, t0 = performance.now()): Promise<{ httpReadyMs: number }> {
  const deadline = Date.now() + timeoutMs;
  const urls = pulsarUrls(ports);
  const admin = new PulsarAdmin(urls.webServiceUrl, 5000);
  let httpReadyMs = -1;
  let lastError = 'no answer';
  while (Date.now() < deadline) {
    if (baseDir && !statusPulsar(baseDir).running) {
      throw new BrokerError(`pulsar exited during startup (${logTail(baseDir)}); see ${join(baseDir, 'pulsar.log')}`);
    }
    try {
      if (httpReadyMs < 0) {
        const clusters = await admin.clusters();
        if (!clusters.includes('standalone')) throw new Error(`clusters ${JSON.stringify(clusters)}`);
        httpReadyMs = Math.round(performance.now() - t0);
      }
      await wsRoundTrip(urls.wsUrl, Math.max(5000, Math.min(20_000, deadline - Date.now())));
      return { httpReadyMs };
    } catch (e) {
      lastError = (e as Error).message;
      await sleep(500);
    }
  }
  throw new BrokerError(`pulsar at ${urls.webServiceUrl} not healthy after ${timeoutMs} ms (${lastError}); see ${baseDir ? join(baseDir, 'pulsar.log') : 'its pulsar.log'}`);
}

/**
 * Produces a unique marker over WebSocket and consumes it back; resolves with the round trip in
 * ms. The consumer has its own non-durable subscription (gone when it disconnects), so concurrent
 * checks neither block nor steal each other's markers and nothing accumulates.
 */
export async function wsRoundTrip(wsUrl: string, timeoutMs = 20_000): Promise<number> {
  const t0 = performance.now();
  const deadline = Date.now() + timeoutMs;
  const consumer = await WsConsumer.connect(wsUrl, HEALTH_TOPIC, `${HEALTH_SUB}-${randomUUID().slice(0, 8)}`, {
    subscriptionType: 'Exclusive',
    subscriptionMode: 'NonDurable',
    receiverQueueSize: 100,
    connectTimeoutMs: timeoutMs,
  });
  let producer: WsProducer | undefined;
  try {
    producer = await WsProducer.connect(wsUrl, HEALTH_TOPIC, { connectTimeoutMs: Math.max(1000, deadline - Date.now()) });
    const marker = randomUUID();
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      producer.send({ payload: marker }),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error('health send not acknowledged in time')), Math.max(1000, deadline - Date.now()));
      }),
    ]).finally(() => clearTimeout(timer));
    for (;;) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error('health message not consumed back in time');
      const m = await consumer.receive(left);
      if (!m) throw new Error('health message not consumed back in time');
      consumer.ack(m);
      if (messageText(m) === marker) return performance.now() - t0;
    }
  } finally {
    await producer?.close().catch(() => {});
    await consumer.close().catch(() => {});
  }
}

/**
 * True once `pid` has fully exited: gone, or a zombie whose threads have all exited. Not the same
 * as "its cmdline is empty": the JVM's sockets close only when its last thread exits, and a
 * restart that waited for less found the ports still bound.
 */
function hasExited(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (e) {
    return (e as NodeJS.ErrnoException).code !== 'EPERM';
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    if (state !== 'Z' && state !== 'X') return false;
    return readdirSync(`/proc/${pid}/task`).length <= 1;
  } catch {
    return true;
  }
}

async function killPid(pid: number, signal: NodeJS.Signals, waitMs: number, marker: string): Promise<boolean> {
  if (!isProcessAlive(pid, marker)) return true; // not ours (pid reused) or already gone
  try {
    process.kill(pid, signal);
  } catch {
    return true;
  }
  const deadline = Date.now() + waitMs;
  while (Date.now() < deadline) {
    if (hasExited(pid)) return true;
    await sleep(50);
  }
  return hasExited(pid);
}

/** Stops the JVM: SIGTERM (closes broker, bookie, metadata store), SIGKILL after graceMs. Keeps the data. */
export async function stopPulsar(baseDir = DEFAULT_PULSAR_DIR, graceMs = 30_000): Promise<{ stopped: boolean; ms: number; forced: boolean }> {
  const t0 = performance.now();
  const st = statusPulsar(baseDir);
  let forced = false;
  if (st.running && st.pid) {
    if (!(await killPid(st.pid, 'SIGTERM', graceMs, jvmMarker(baseDir)))) {
      forced = true;
      await killPid(st.pid, 'SIGKILL', 10_000, jvmMarker(baseDir));
    }
  }
  rmSync(pidFile(baseDir), { force: true });
  return { stopped: st.running, ms: Math.round(performance.now() - t0), forced };
}

/** kill -9, as a crash would. Keeps the data. */
export async function killPulsar(baseDir = DEFAULT_PULSAR_DIR): Promise<void> {
  const st = statusPulsar(baseDir);
  if (!st.running || !st.pid) throw new BrokerError(`pulsar in ${baseDir} is not running`);
  await killPid(st.pid, 'SIGKILL', 10_000, jvmMarker(baseDir));
  rmSync(pidFile(baseDir), { force: true });
}

/** Restarts on the same data dir and ports (graceful stop first unless it is already dead); resolves when healthy. */
export async function restartPulsar(baseDir = DEFAULT_PULSAR_DIR, opts: Omit<StartPulsarOptions, 'baseDir' | 'fresh' | 'ports' | 'slot'> = {}): Promise<StartedPulsar> {
  if (!readPulsarState(baseDir)) throw new BrokerError(`no pulsar state in ${baseDir}; start it first: flockbench brokers up pulsar`);
  await stopPulsar(baseDir);
  return startPulsar({ ...opts, baseDir });
}

/** Stops the standalone and deletes its state directory. */
export async function wipePulsar(baseDir = DEFAULT_PULSAR_DIR): Promise<void> {
  await stopPulsar(baseDir);
  rmSync(baseDir, { recursive: true, force: true });
}

/**
 * Builds the AppCDS archive: starts a throwaway standalone (own state dir, free ports) with
 * -XX:ArchiveClassesAtExit, waits for readiness (which exercises the WebSocket produce/consume
 * path), stops it gracefully (the JVM writes the archive at exit) and moves the archive into
 * place. Costs one extra cold start plus the dump (~3 min here).
 */
export async function buildCdsArchive(): Promise<{ file: string; bytes: number; ms: number }> {
  const t0 = performance.now();
  const final = cdsArchivePath();
  const tmp = `${final}.tmp.${process.pid}`;
  const dir = join(REPO_ROOT, '.brokers', `pulsar-cds-build-${process.pid}`);
  rmSync(tmp, { force: true });
  try {
    const taken: number[] = [];
    const pick = async () => {
      const p = await findFreePort(taken);
      taken.push(p);
      return p;
    };
    const ports = { brokerServicePort: await pick(), webServicePort: await pick(), bookiePort: await pick() };
    await startPulsar({ baseDir: dir, fresh: true, cds: false, ports, timeoutMs: 900_000, jvmExtraArgs: [`-XX:ArchiveClassesAtExit=${tmp}`] });
    const st = await stopPulsar(dir, 300_000);
    if (st.forced || !existsSync(tmp)) throw new BrokerError('the JVM did not write the CDS archive (killed before it exited?)');
    renameSync(tmp, final);
    return { file: final, bytes: statSync(final).size, ms: Math.round(performance.now() - t0) };
  } finally {
    await wipePulsar(dir);
    rmSync(tmp, { force: true });
  }
}
