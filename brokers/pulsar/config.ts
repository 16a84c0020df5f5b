// Pure config for a local Pulsar standalone: the port plan, the memory plan, standalone.conf
// (rendered from standalone.conf.template), log4j2, JVM flags and the standalone's command line.
// Free of process I/O (it only reads the template) so it is unit-tested without a JVM.
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Pulsar version whose jars scripts/pulsar/fetch.sh resolves; must equal <pulsar.version> in scripts/pulsar/pom.xml. */
export const PULSAR_VERSION = '4.0.7';

/** Main class of the standalone (broker + bookie + metadata store + WebSocket service in one JVM). */
export const PULSAR_MAIN_CLASS = 'org.apache.pulsar.PulsarStandaloneStarter';

export interface PulsarPorts {
  /** Binary protocol (pulsar://). The WebSocket service inside the broker connects to it too. */
  brokerServicePort: number;
  /** HTTP: admin REST (/admin/v2), WebSocket API (/ws/v2), metrics (/metrics). */
  webServicePort: number;
  /** The in-process bookie. Its cookie pins this port for every later restart of the same data dir. */
  bookiePort: number;
}

/** Ports between the two slots of the plan; an offset stays below it so slots never overlap. */
export const PULSAR_SLOT_SPACING = 500;
/** Largest FLOCKBENCH_PULSAR_PORT_OFFSET: keeps every Pulsar port below 9092, Kafka's lowest. */
export const MAX_PULSAR_PORT_OFFSET = PULSAR_SLOT_SPACING - 1;

/** FLOCKBENCH_PULSAR_PORT_OFFSET shifts every Pulsar port, so two checkouts can run brokers side by side. */
export function pulsarPortOffset(env: NodeJS.ProcessEnv = process.env): number {
  const raw = env.FLOCKBENCH_PULSAR_PORT_OFFSET ?? '0';
  const v = Number(raw);
  if (!Number.isInteger(v) || v < 0 || v > MAX_PULSAR_PORT_OFFSET) {
    throw new Error(`FLOCKBENCH_PULSAR_PORT_OFFSET must be an integer in 0..${MAX_PULSAR_PORT_OFFSET}, got ${raw}`);
  }
  return v;
}

/**
 * Which standalone: slot 0 is the one `brokers up pulsar` and the tests use, slot 1 the failure
 * experiment's own (it is killed on purpose, so it never shares a broker with other work).
 */
export type PulsarSlot = 0 | 1;

/**
 * Port plan: Pulsar's defaults (bookie 3181, binary 6650, web 8080) plus 500 x slot plus the
 * offset (0..499). Every Kafka port of brokers/kafka/config.ts is >= 9092 for any Kafka offset,
 * and every Pulsar port here is <= 8080 + 500 + 499 = 9079, so the two plans cannot collide
 * whatever offsets two checkouts pick; and since each kind of port moves within its own band of
 * 1000, two Pulsar plans share no port unless slot and offset are both equal.
 */
export function pulsarPorts(slot: PulsarSlot = 0, offset = pulsarPortOffset()): PulsarPorts {
  const d = PULSAR_SLOT_SPACING * slot + offset;
  return { brokerServicePort: 6650 + d, webServicePort: 8080 + d, bookiePort: 3181 + d };
}

export interface PulsarMemory {
  /** -Xmx, MiB. */
  heapMb: number;
  /** -XX:MaxDirectMemorySize, MiB (Netty buffers + broker entry cache + bookie caches). */
  directMb: number;
}

/**
 * Default memory plan: 512 MiB heap + 512 MiB direct. Beside a 3-node Kafka (3 x 384 MiB heap)
 * that is ~2.5 GiB of JVM limits on a 24 GiB machine; measured RSS of the standalone is
 * 330-590 MB (README). The caches below take 64+64+32+16 MiB of the direct share.
 */
export const DEFAULT_PULSAR_MEMORY: PulsarMemory = { heapMb: 512, directMb: 512 };

export interface StandaloneConfOptions {
  ports: PulsarPorts;
  memory?: PulsarMemory;
  /** fsync the bookie journal before acking a write; default false as upstream standalone.conf. */
  journalSyncData?: boolean;
  /** brokerShutdownTimeoutMs; default 10_000 (upstream 60_000). */
  shutdownTimeoutMs?: number;
  /** webSocketSessionIdleTimeoutMillis; default 1 h (upstream 5 min). */
  wsIdleTimeoutMs?: number;
  /** Extra key=value entries; each replaces its key's line or is appended. */
  overrides?: Readonly<Record<string, string | number | boolean>>;
}

const HERE = dirname(fileURLToPath(import.meta.url));
export const STANDALONE_TEMPLATE = join(HERE, 'standalone.conf.template');

/** Cache sizes derived from the memory plan (all in direct memory). */
export function cachePlan(memory: PulsarMemory): { managedLedgerCacheMb: number; writeCacheMb: number; readCacheMb: number; rocksDbBlockCacheBytes: number } {
  const d = memory.directMb;
  return {
    managedLedgerCacheMb: Math.max(16, Math.floor(d / 8)),
    writeCacheMb: Math.max(16, Math.floor(d / 8)),
    readCacheMb: Math.max(16, Math.floor(d / 16)),
    rocksDbBlockCacheBytes: Math.max(8, Math.floor(d / 32)) * 1024 * 1024,
  };
}

/** Fills ${name} placeholders; throws on a placeholder without a value (a template/code mismatch). */
export function renderTemplate(template: string, values: Readonly<Record<string, string | number | boolean>>): string {
  return template.replace(/\$\{([A-Za-z0-9_]+)\}/g, (_, name: string) => {
    if (!(name in values)) throw new Error(`standalone.conf.template: no value for \${${name}}`);
    return String(values[name]);
  });
}

/**
 * Sets `key=value` in a properties text: replaces the existing line of that key, or appends.
 * A key must not appear twice: BookKeeper's commons-configuration loader turns a repeated key
 * into a list, while the broker's loader takes the last one.
 */
export function applyOverrides(text: string, overrides: Readonly<Record<string, string | number | boolean>>): string {
  let out = text;
  const appended: string[] = [];
  for (const [k, v] of Object.entries(overrides)) {
    if (!/^[A-Za-z0-9_.]+$/.test(k)) throw new Error(`bad config key ${k}`);
    const re = new RegExp(`^${k.replace(/\./g, '\\.')}=.*$`, 'm');
    if (re.test(out)) out = out.replace(re, `${k}=${v}`);
    else appended.push(`${k}=${v}`);
  }
  return appended.length ? `${out.replace(/\n*$/, '\n')}\n### --- overrides --- ###\n${appended.join('\n')}\n` : out;
}

/** standalone.conf text for the given ports and memory. */
export function standaloneConf(opts: StandaloneConfOptions, template = readFileSync(STANDALONE_TEMPLATE, 'utf8')): string {
  const memory = opts.memory ?? DEFAULT_PULSAR_MEMORY;
  const c = cachePlan(memory);
  const body = renderTemplate(template, {
    brokerServicePort: opts.ports.brokerServicePort,
    webServicePort: opts.ports.webServicePort,
    brokerShutdownTimeoutMs: opts.shutdownTimeoutMs ?? 10_000,
    webSocketSessionIdleTimeoutMillis: opts.wsIdleTimeoutMs ?? 3_600_000,
    journalSyncData: opts.journalSyncData ?? false,
    managedLedgerCacheSizeMB: c.managedLedgerCacheMb,
    dbStorageWriteCacheMb: c.writeCacheMb,
    dbStorageReadCacheMb: c.readCacheMb,
    dbStorageRocksDbBlockCacheBytes: c.rocksDbBlockCacheBytes,
  });
  return `# generated by brokers/pulsar/config.ts from standalone.conf.template; do not edit\n${applyOverrides(body, opts.overrides ?? {})}`;
}

/** log4j2 (XML: no extra parser jar needed): INFO to <dir>/pulsar.log, WARN and above also to stdout. */
export function log4j2Xml(logFile: string): string {
  const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;');
  return `<?xml version="1.0" encoding="UTF-8"?>
<!-- generated by brokers/pulsar/config.ts; do not edit -->
<Configuration status="WARN" shutdownHook="disable">
  <Appenders>
    <Console name="Console" target="SYSTEM_OUT">
      <ThresholdFilter level="WARN" onMatch="ACCEPT" onMismatch="DENY"/>
      <PatternLayout pattern="%d{ISO8601} [%t] %-5level %logger{36} - %msg%n"/>
    </Console>
    <RollingFile name="File" fileName="${esc(logFile)}" filePattern="${esc(logFile)}.%i" immediateFlush="true">
      <PatternLayout pattern="%d{ISO8601} [%t] %-5level %logger{36} - %msg%n"/>
      <Policies><SizeBasedTriggeringPolicy size="50 MB"/></Policies>
      <DefaultRolloverStrategy max="3"/>
    </RollingFile>
  </Appenders>
  <Loggers>
    <Logger name="org.apache.zookeeper" level="WARN"/>
    <Logger name="org.apache.bookkeeper.bookie.storage.ldb" level="WARN"/>
    <Logger name="org.eclipse.jetty" level="WARN"/>
    <Root level="INFO">
      <AppenderRef ref="File"/>
      <AppenderRef ref="Console"/>
    </Root>
  </Loggers>
</Configuration>
`;
}

/**
 * JVM flags: the --add-opens list and system properties of upstream bin/pulsar and
 * conf/pulsar_env.sh (Java 17), the BookKeeper metadata drivers (bookie and BK client use the
 * Pulsar metadata store), and a small G1 heap. The log4j2 shutdown hook is off as bin/pulsar sets
 * it for the standalone (PulsarStandaloneStarter's own hook shuts log4j down after the broker).
 */
export function pulsarJvmArgs(opts: { libsDir: string; log4jFile: string; logDir: string; memory?: PulsarMemory; extra?: readonly string[] }): string[] {
  const m = opts.memory ?? DEFAULT_PULSAR_MEMORY;
  return [
    `-Xms${Math.min(m.heapMb, 256)}m`,
    `-Xmx${m.heapMb}m`,
    `-XX:MaxDirectMemorySize=${m.directMb}m`,
    '-XX:+UseG1GC',
    '-XX:MaxGCPauseMillis=10',
    '-XX:+ParallelRefProcEnabled',
    '-XX:+DisableExplicitGC',
    '-XX:+ExitOnOutOfMemoryError',
    '-XX:+PerfDisableSharedMem',
    '-Djava.awt.headless=true',
    '--add-opens', 'java.base/java.io=ALL-UNNAMED',
    '--add-opens', 'java.base/java.util.zip=ALL-UNNAMED',
    '--add-opens', 'java.base/java.nio=ALL-UNNAMED',
    '--add-opens', 'java.base/jdk.internal.misc=ALL-UNNAMED',
    '--add-opens', 'java.base/sun.net=ALL-UNNAMED',
    '--add-opens', 'java.management/sun.management=ALL-UNNAMED',
    '--add-opens', 'jdk.management/com.sun.management.internal=ALL-UNNAMED',
    '-Dio.netty.tryReflectionSetAccessible=true',
    '-Dio.netty.recycler.maxCapacityPerThread=4096',
    '-Dpulsar.allocator.exit_on_oom=true',
    '-Djute.maxbuffer=10485760',
    '-Djava.net.preferIPv4Stack=true',
    '-Dbookkeeper.metadata.bookie.drivers=org.apache.pulsar.metadata.bookkeeper.PulsarMetadataBookieDriver',
    '-Dbookkeeper.metadata.client.drivers=org.apache.pulsar.metadata.bookkeeper.PulsarMetadataClientDriver',
    `-Dlog4j.configurationFile=${opts.log4jFile}`,
    '-Dlog4j.shutdownHookEnabled=false',
    '-Dlog4j2.is.webapp=false',
    `-Dpulsar.log.dir=${opts.logDir}`,
    ...(opts.extra ?? []),
    '-cp',
    `${opts.libsDir}/*`,
  ];
}

/**
 * Arguments after the main class: config, no functions worker (-nfw), no stream storage (-nss),
 * state under `dataDir`, the bookie on its own port, advertised on 127.0.0.1. With the RocksDB
 * metadata store (PIP-117, the default since 2.11) there is no ZooKeeper and no ZooKeeper port.
 */
export function standaloneArgs(opts: { confFile: string; dataDir: string; bookiePort: number }): string[] {
  return [
    '--config', opts.confFile,
    '-nfw',
    '-nss',
    '--metadata-dir', join(opts.dataDir, 'metadata'),
    '--bookkeeper-dir', join(opts.dataDir, 'bookkeeper'),
    '--bookkeeper-port', String(opts.bookiePort),
    '--num-bookies', '1',
    '--advertised-address', '127.0.0.1',
  ];
}

export interface PulsarUrls {
  /** pulsar://127.0.0.1:<binary port> */
  serviceUrl: string;
  /** http://127.0.0.1:<web port>: admin REST */
  webServiceUrl: string;
  /** ws://127.0.0.1:<web port>: WebSocket API */
  wsUrl: string;
}

/** Base URLs of a standalone on `ports`. */
export function pulsarUrls(ports: PulsarPorts): PulsarUrls {
  return {
    serviceUrl: `pulsar://127.0.0.1:${ports.brokerServicePort}`,
    webServiceUrl: `http://127.0.0.1:${ports.webServicePort}`,
    wsUrl: `ws://127.0.0.1:${ports.webServicePort}`,
  };
}
