// `flockbench brokers ...`: start, stop and inspect local broker processes. Wired into
// cli/main.ts with registerBrokerCommands(program). The Kafka module (and its client)
// loads only when a brokers command runs, so other commands start fast.
import { join, } from 'node:path';
import type { Command } from 'commander';
import { REPO_ROOT } from '../core/paths.ts';
import { UserError } from '../core/errors.ts';
import type { KafkaNodes } from '../brokers/kafka/cluster.ts';

const DEFAULT_KAFKA_DIR = join(REPO_ROOT, '.brokers', 'kafka');
const kafka = () => import('../brokers/kafka/cluster.ts');

const KINDS = ['kafka'] as const;

async function fail(e: unknown, verbose: boolean): Promise<never> {
  if (e instanceof UserError) throw e; // bad input: the CLI edge prints it and exits 2
  const { BrokerError } = await kafka();
  const msg = e instanceof BrokerError ? e.message : `unexpected error: ${(e as Error)?.message ?? String(e)}`;
  console.error(`flockbench brokers: ${msg.split('\n')[0]}`);
  if (verbose && e instanceof Error && e.stack) console.error(e.stack);
  process.exit(1);
}

function checkKind(kind: string): void {
  if (!(KINDS as readonly string[]).includes(kind)) {
    throw new UserError(`unknown broker '${kind}'; known: ${KINDS.join(', ')}`);
  }
}

function parseNodes(v: string): KafkaNodes {
  if (v === '1' || v === '3') return Number(v) as KafkaNodes;
  throw new UserError(`--nodes must be 1 or 3, got '${v}'`);
}

/** Adds `brokers up|down|status` to the root command. */
export function registerBrokerCommands(program: Command): Command {
  const brokers = program.command('brokers').description('start, stop and inspect local broker processes (Kafka KRaft from Maven jars)');
  const verbose = () => Boolean(program.opts().verbose);

  brokers
    .command('up')
    .argument('<kind>', `broker kind (${KINDS.join(', ')})`)
    .option('--nodes <n>', 'cluster size: 1 (127.0.0.1:9092) or 3 (127.0.0.1:19092,29092,39092)', '1')
    .option('--fresh', 'wipe data and re-format even if a healthy cluster is running', false)
    .option('--heap-mb <mb>', 'max heap per broker JVM, MiB', '384')
    .option('--dir <path>', 'state directory', DEFAULT_KAFKA_DIR)
    .description('start a broker cluster in the background and wait until it is healthy')
    .action(async (kind: string, o: { nodes: string; fresh: boolean; heapMb: string; dir: string }) => {
      try {
        checkKind(kind);
        const { startKafka } = await kafka();
        const r = await startKafka({ nodes: parseNodes(o.nodes), fresh: o.fresh, heapMb: Number(o.heapMb), baseDir: o.dir });
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
    .option('--dir <path>', 'state directory', DEFAULT_KAFKA_DIR)
    .description('stop a broker cluster started with `brokers up`')
    .action(async (kind: string, o: { wipe: boolean; dir: string }) => {
      try {
        checkKind(kind);
        const { stopKafka, wipeKafka } = await kafka();
        const { stopped } = await stopKafka(o.dir);
        if (o.wipe) await wipeKafka(o.dir);
        console.log(`kafka down: stopped ${stopped} node(s)${o.wipe ? ', data wiped' : ''}`);
      } catch (e) {
        await fail(e, verbose());
      }
    });

  brokers
    .command('status')
    .option('--json', 'print JSON', false)
    .option('--dir <path>', 'kafka state directory', DEFAULT_KAFKA_DIR)
    .description('show broker processes, pids, RSS')
    .action(async (o: { json: boolean; dir: string }) => {
      try {
        const { statusKafka } = await kafka();
        const st = statusKafka(o.dir);
        if (o.json) {
          console.log(JSON.stringify({ kafka: st }, null, 2));
          return;
        }
        if (!st.cluster) {
          console.log('kafka: not started');
          return;
        }
        console.log(`kafka ${st.cluster.kafkaVersion}: ${st.running ? 'running' : 'not running'} (${st.cluster.nodes} node(s), ${st.cluster.bootstrap.join(',')})`);
        for (const n of st.nodes) {
          console.log(
            `  node ${n.nodeId} :${n.brokerPort} ${n.alive ? `pid ${n.pid} rss ${n.rssMb?.toFixed(0)} MiB cpu ${((n.cpuTimeMs ?? 0) / 1000).toFixed(1)} s` : 'down'}`,
          );
        }
      } catch (e) {
        await fail(e, verbose());
      }
    });
  return brokers;
}
