// `flockbench llm serve`: run the simulated OpenAI-compatible provider until SIGINT, for
// external clients (Python systems, the openai SDK, curl) and for manual poking.
import { availableParallelism, loadavg } from 'node:os';
import { type Command, InvalidArgumentError } from 'commander';
import { UserError } from '../core/errors.ts';
import type { TailMode } from '../llm/profiles.ts';
import type { LlmLimits } from '../llm/server.ts';

function num(kind: 'int' | 'rate' | 'nonneg') {
  return (v: string): number => {
    const n = Number(v);
    if (!Number.isFinite(n) || n < 0) throw new InvalidArgumentError('expected a non-negative number');
    if (kind === 'int' && !Number.isInteger(n)) throw new InvalidArgumentError('expected an integer');
    if (kind === 'rate' && n > 1) throw new InvalidArgumentError('expected a rate in [0, 1]');
    return n;
  };
}

function tailMode(v: string): TailMode {
  if (v !== 'calibrated' && v !== 'light') throw new InvalidArgumentError("expected 'calibrated' or 'light'");
  return v;
}

interface ServeFlags {
  port: number;
  seed: number;
  latencyScale: number;
  tail: TailMode;
  limits?: boolean;
  rpm?: number;
  tpm?: number;
  maxConcurrent?: number;
  windowMs?: number;
  queue?: boolean;
  fault5xx?: number;
  faultTimeout?: number;
  faultMalformed?: number;
  maxBodyBytes?: number;
}

export function registerLlmCommands(program: Command): Command {
  const llm = program.command('llm').description('the simulated LLM provider');
  llm
    .command('serve')
    .description('serve the simulated LLM as an OpenAI-compatible API on 127.0.0.1 until SIGINT (GET /metrics, POST /metrics/reset between runs)')
    .option('--port <n>', 'port (0: any free port)', num('int'), 0)
    .option('--seed <n>', 'seed of the latency, content and fault draws', num('int'), 1)
    .option('--latency-scale <x>', 'multiply every latency (0.01: a 700 ms call takes 7 ms)', num('nonneg'), 1)
    .option('--tail <mode>', 'TTFT tail: calibrated | light', tailMode, 'calibrated')
    .option('--limits', "enable rate limits with the profiles' RPM/TPM (implied by --rpm/--tpm/--max-concurrent)")
    .option('--rpm <n>', 'requests per window per model (default: profile)', num('int'))
    .option('--tpm <n>', 'tokens per window per model (default: profile)', num('int'))
    .option('--max-concurrent <n>', 'admitted requests in flight, all models', num('int'))
    .option('--window-ms <ms>', 'rate-limit window (default 60000 x latency scale)', num('nonneg'))
    .option('--queue', 'queue over-limit requests instead of answering 429')
    .option('--fault-5xx <rate>', 'share of attempts answered HTTP 500', num('rate'))
    .option('--fault-timeout <rate>', 'share of attempts that hang past the client deadline', num('rate'))
    .option('--fault-malformed <rate>', 'share of attempts with a truncated JSON body', num('rate'))
    .option('--max-body-bytes <n>', 'largest request body; larger ones get HTTP 413 (default 8 MiB)', num('int'))
    .action(async (f: ServeFlags) => {
      const anyLimit = f.limits || f.rpm !== undefined || f.tpm !== undefined || f.maxConcurrent !== undefined || f.windowMs !== undefined || f.queue;
      const limits: LlmLimits | undefined = anyLimit ? { rpm: f.rpm, tpm: f.tpm, maxConcurrent: f.maxConcurrent, windowMs: f.windowMs } : undefined;
      // The HTTP server loads with this command only.
      const { startLlmServer } = await import('../llm/server.ts');
      const server = await startLlmServer({
        port: f.port,
        seed: f.seed,
        latencyScale: f.latencyScale,
        tail: f.tail,
        limits,
        queueing: f.queue ?? false,
        faults: { http5xx: f.fault5xx, timeout: f.faultTimeout, malformed: f.faultMalformed },
        maxBodyBytes: f.maxBodyBytes,
      });
      // Printed once it listens with the tokenizer loaded: clients can start at once.
      console.log(server.url);
      await new Promise<void>((resolve) => {
        const stop = () => resolve();
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
      });
      console.error(JSON.stringify(server.metrics()));
      await server.close();
    });
  llm
    .command('probe')
    .description('measure the HTTP simulator as a client sees it: configured vs drawn vs measured TTFT and total, per percentile')
    .option('--model <id>', 'model profile', 'gpt-4o-mini')
    .option('--requests <n>', 'streamed requests', num('int'), 2000)
    .option('--concurrency <n>', 'requests in flight', num('int'), 8)
    .option('--output-tokens <n>', 'target output tokens per request', num('int'), 30)
    .option('--seed <s>', 'seed', num('int'), 1)
    .option('--latency-scale <x>', 'multiply latencies', num('nonneg'), 0.1)
    .option('--tail <mode>', 'calibrated | light', tailMode, 'calibrated')
    .option('--url <url>', 'probe a running `llm serve` instead of an in-process server')
    .option('--json', 'print JSON')
    .action(async (o: { model: string; requests: number; concurrency: number; outputTokens: number; seed: number; latencyScale: number; tail: TailMode; url?: string; json?: boolean }) => {
      const { profile } = await import('../llm/profiles.ts');
      profile(o.model); // unknown model: one-line error, exit 2
      if (o.requests < 1 || o.concurrency < 1) throw new UserError('--requests and --concurrency must be >= 1');
      const { probeLatency } = await import('../llm/probe.ts');
      const r = await probeLatency(o);
      if (o.json) {
        process.stdout.write(JSON.stringify({ ...o, ...r }, null, 2) + '\n');
        return;
      }
      process.stdout.write(`${o.model}, ${r.requests} streamed requests (${r.failures} failed), ${o.concurrency} in flight, latency x${o.latencyScale}, tail ${o.tail}\n`);
      const head = ['', 'TTFT configured', 'TTFT drawn', 'TTFT measured', 'total drawn', 'total measured'];
      process.stdout.write('  ' + head.map((h, j) => (j ? h.padStart(15) : h.padEnd(4))).join(' ') + '\n');
      for (const x of r.rows) {
        const cells = [x.configuredTtftMs, x.drawnTtftMs, x.measuredTtftMs, x.drawnTotalMs, x.measuredTotalMs].map((v) => `${v.toFixed(1)} ms`.padStart(15));
        process.stdout.write(`  ${x.percentile.padEnd(4)} ${cells.join(' ')}\n`);
      }
      process.stdout.write(`  answered before their draw: ${r.early} (load average ${loadavg()[0].toFixed(1)} on ${availableParallelism()} CPUs)\n`);
      if (r.failures || r.early) process.exitCode = 1;
    });

  return program;
}
