// `flockbench brokers ...`: start, stop and inspect local broker processes (Kafka KRaft, Pulsar
// standalone). Wired into cli/main.ts with registerBrokerCommands(program). A broker's module
// (and its client) loads only when a brokers command for it runs, so other commands start fast.
import { existsSync, readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import type { Command } from 'commander';
import { REPO_ROOT } from '../core/paths.ts';
import { UserError } from '../core/errors.ts';
import type { KafkaNodes } from '../brokers/kafka/cluster.ts';

const DEFAULT_KAFKA_DIR = join(REPO_ROOT, '.brokers', 'kafka');
const DEFAULT_PULSAR_DIR = join(REPO_ROOT, '.brokers', 'pulsar');
const kafka = () => import('../brokers/kafka/cluster.ts');
const pulsar = () => import('../brokers/pulsar/standalone.ts');

const KINDS = ['kafka', 'pulsar'] as const;

async function fail(e: unknown, verbose: boolean): Promise<never> {
  if (e instanceof UserError) throw e; // bad input: the CLI edge prints it and exits 2
  // Both brokers' errors (brokers/errors.ts, brokers/kafka/cluster.ts) are named BrokerError.
  const msg = e instanceof Error && e.name === 'BrokerError' ? e.message : `unexpected error: ${(e as Error)?.message ?? String(e)}`;
  console.error(`flockbench brokers: ${msg.split('\n')[0]}`);
  if (verbose && e instanceof Error && e.stack) console.error(e.stack);
  process.exit(1);
}

function checkKind(kind: string): void {
  if (!(KINDS as readonly string[]).includes(kind)) {
    throw new UserError(`unknown broker '${kind}'; known: ${KINDS.join(', ')}`);
  }
}

const dirFor = (kind: string, dir?: string) => dir ?? (kind === 'pulsar' ? DEFAULT_PULSAR_DIR : DEFAULT_KAFKA_DIR);

/**
 * Every state directory of `kind` the project started under .brokers/: `brokers up` uses
 * .brokers/<kind>, `chaos` .brokers/<kind>-chaos, and others may add .brokers/<kind>-<name>.
 * The default directory comes first and is listed even when it holds nothing yet.
 */
export function brokerDirs(kind: string, root = join(REPO_ROOT, '.brokers')): string[] {
  const marker = kind === 'pulsar' ? 'state.json' : 'cluster.json';
  const others = existsSync(root)
    ? readdirSync(root).filter((d) => d.startsWith(`${kind}-`) && existsSync(join(root, d, marker))).sort().map((d) => join(root, d))
    : [];
  return [join(root, kind), ...others];
}

const label = (kind: string, dir: string) => (dir === dirFor(kind) ? kind : `${kind} (${relative(REPO_ROOT, dir)})`);

function parsePositive(name: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new UserError(`${name} must be a positive integer, got '${v}'`);
  return n;
}

function parseNodes(v: string): KafkaNodes {
  if (v === '1' || v === '3') return Number(v) as KafkaNodes;
  throw new UserError(`--nodes must be 1 or 3, got '${v}'`);
}

/** Adds `brokers up|down|status` to the root command. */
export function registerBrokerCommands(program: Command): Command {
  const brokers = program.command('brokers').description('start, stop and inspect local broker processes (Kafka KRaft and Pulsar standalone from Maven jars)');
  const verbose = () => Boolean(program.opts().verbose);

  brokers
    .command('up')
    .argument('<kind>', `broker kind (${KINDS.join(', ')})`)
    .option('--nodes <n>', 'kafka: cluster size, 1 (127.0.0.1:9092) or 3 (127.0.0.1:19092,29092,39092)', '1')
    .option('--fresh', 'wipe data (and re-format) even if a healthy broker is running', false)
    .option('--heap-mb <mb>', 'max heap per broker JVM, MiB (kafka default 384, pulsar 512)')
    .option('--direct-mb <mb>', 'pulsar: max direct memory, MiB (default 512)')
    .option('--build-cds', 'pulsar: first build the AppCDS archive that cuts start-up CPU (once per checkout, ~3 min)', false)
    .option('--dir <path>', 'state directory (default .brokers/<kind>)')
    .description('start a broker in the background and wait until it is healthy (pulsar: ports 3181/6650/8080 + FLOCKBENCH_PULSAR_PORT_OFFSET)')
    .action(async (kind: string, o: { nodes: string; fresh: boolean; heapMb?: string; directMb?: string; buildCds: boolean; dir?: string }) => {
      try {
        checkKind(kind);
        const heapMb = parsePositive('--heap-mb', o.heapMb);
        if (kind === 'pulsar') {
          const directMb = parsePositive('--direct-mb', o.directMb);
          const { buildCdsArchive, cdsArchivePath, startPulsar, PULSAR_VERSION } = await pulsar();
          if (o.buildCds && !existsSync(cdsArchivePath())) {
            const c = await buildCdsArchive();
            console.log(`pulsar CDS archive built: ${c.file} (${(c.bytes / 1048576).toFixed(0)} MiB, ${(c.ms / 1000).toFixed(0)} s)`);
          }
          const memory = heapMb || directMb ? { heapMb: heapMb ?? 512, directMb: directMb ?? 512 } : undefined;
          const r = await startPulsar({ baseDir: dirFor(kind, o.dir), fresh: o.fresh, memory });
          console.log(
            r.started
              ? `pulsar ${PULSAR_VERSION} standalone up at ${r.urls.webServiceUrl} (${r.urls.serviceUrl}): healthy after ${(r.startupMs / 1000).toFixed(1)} s, JVM CPU ${((r.jvmCpuMsAtReady ?? 0) / 1000).toFixed(1)} s, RSS ${r.rssMbAtReady?.toFixed(0)} MiB${r.cds ? ', CDS' : ''}`
              : `pulsar already up at ${r.urls.webServiceUrl}`,
          );
          return;
        }
        const { startKafka } = await kafka();
        const r = await startKafka({ nodes: parseNodes(o.nodes), fresh: o.fresh, heapMb: heapMb ?? 384, baseDir: dirFor(kind, o.dir) });
        console.log(
          r.started
            ? `kafka ${r.kafkaVersion} up: ${r.nodes} node(s) at ${r.bootstrap.join(',')} (healthy after ${(r.startupMs / 1000).toFixed(1)} s)`
            : `kafka already up: ${r.nodes} node(s) at ${r.bootstrap.join(',')}`,
        );
      } catch (e) {
        await fail(e, verbose());
      }
    });

  brokers
    .command('down')
    .argument('<kind>', `broker kind (${KINDS.join(', ')})`)
    .option('--wipe', 'also delete data and logs', false)
    .option('--dir <path>', 'state directory (default .brokers/<kind>)')
    .description('stop the brokers of this kind the project started (`brokers up`, `chaos`), or the one in --dir')
    .action(async (kind: string, o: { wipe: boolean; dir?: string }) => {
      try {
        checkKind(kind);
        // Without --dir: every cluster of this kind the project started (brokers up, chaos, ...).
        const dirs = o.dir ? [o.dir] : brokerDirs(kind);
        for (const dir of dirs) {
          if (kind === 'pulsar') {
            const { stopPulsar, wipePulsar } = await pulsar();
            const r = await stopPulsar(dir);
            if (o.wipe) await wipePulsar(dir);
            console.log(`${label(kind, dir)} down: ${r.stopped ? `stopped in ${(r.ms / 1000).toFixed(1)} s${r.forced ? ' (SIGKILL)' : ''}` : 'was not running'}${o.wipe ? ', data wiped' : ''}`);
            continue;
          }
          const { stopKafka, wipeKafka } = await kafka();
          const { stopped } = await stopKafka(dir);
          if (o.wipe) await wipeKafka(dir);
          console.log(`${label(kind, dir)} down: stopped ${stopped} node(s)${o.wipe ? ', data wiped' : ''}`);
        }
      } catch (e) {
        await fail(e, verbose());
      }
    });

  brokers
    .command('status')
    .argument('[kind]', `broker kind (${KINDS.join(', ')}); default all`)
    .option('--json', 'print JSON', false)
    .option('--dir <path>', 'state directory (default .brokers/<kind>; needs a kind)')
    .description('show broker processes, pids, RSS')
    .action(async (kind: string | undefined, o: { json: boolean; dir?: string }) => {
      try {
        if (kind !== undefined) checkKind(kind);
        if (o.dir && kind === undefined) throw new UserError('--dir needs a broker kind (brokers status kafka|pulsar --dir ...)');
        const kinds = kind ? [kind] : [...KINDS];
        const out: Record<string, unknown> = {};
        const lines: string[] = [];
        // One entry per state directory: the default one, and every other the project started
        // (chaos's cluster, ...), so a cluster an interrupted command left behind is visible.
        const key = (k: string, dir: string) => (dir === dirFor(k) || o.dir ? k : `${k}:${relative(join(REPO_ROOT, '.brokers'), dir)}`);
        if (kinds.includes('kafka')) {
          const { statusKafka } = await kafka();
          for (const dir of o.dir ? [o.dir] : brokerDirs('kafka')) {
            const st = statusKafka(dir);
            out[key('kafka', dir)] = st;
            if (!st.cluster) lines.push(`${label('kafka', dir)}: not started`);
            else {
              lines.push(`${label('kafka', dir)} ${st.cluster.kafkaVersion}: ${st.running ? 'running' : 'not running'} (${st.cluster.nodes} node(s), ${st.cluster.bootstrap.join(',')})`);
              for (const n of st.nodes) {
                lines.push(`  node ${n.nodeId} :${n.brokerPort} ${n.alive ? `pid ${n.pid} rss ${n.rssMb?.toFixed(0)} MiB cpu ${((n.cpuTimeMs ?? 0) / 1000).toFixed(1)} s` : 'down'}`);
              }
            }
          }
        }
        if (kinds.includes('pulsar')) {
          const { statusPulsar, pulsarUrls } = await pulsar();
          for (const dir of o.dir ? [o.dir] : brokerDirs('pulsar')) {
            const st = statusPulsar(dir);
            out[key('pulsar', dir)] = { ...st, state: st.state ? { ...st.state, command: st.state.command.join(' ') } : undefined };
            if (!st.state) lines.push(`${label('pulsar', dir)}: not started`);
            else {
              const u = pulsarUrls(st.state.ports);
              lines.push(`${label('pulsar', dir)} ${st.state.version}: ${st.running ? `running, pid ${st.pid} rss ${st.rssMb?.toFixed(0)} MiB cpu ${((st.cpuTimeMs ?? 0) / 1000).toFixed(1)} s` : 'not running'} (${u.webServiceUrl}, ${u.serviceUrl}, bookie :${st.state.ports.bookiePort})`);
            }
          }
        }
        console.log(o.json ? JSON.stringify(out, null, 2) : lines.join('\n'));
      } catch (e) {
        await fail(e, verbose());
      }
    });
  return brokers;
}
