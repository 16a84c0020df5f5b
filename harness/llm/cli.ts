// `flockbench llm serve`: run the simulated OpenAI-compatible provider until SIGINT, for
// external clients (Python systems, the openai SDK, curl) and for manual poking.
import { Command, InvalidArgumentError } from 'commander';
import type { TailMode } from './profiles.ts';
import { startLlmServer, type LlmLimits } from './server.ts';

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
}

export function registerLlmCommands(program: Command): Command {
  const llm = program.command('llm').description('the simulated LLM provider');
  llm
    .command('serve')
    .description('serve the simulated LLM as an OpenAI-compatible API on 127.0.0.1 until SIGINT')
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
    .action(async (f: ServeFlags) => {
      const anyLimit = f.limits || f.rpm !== undefined || f.tpm !== undefined || f.maxConcurrent !== undefined || f.windowMs !== undefined || f.queue;
      const limits: LlmLimits | undefined = anyLimit ? { rpm: f.rpm, tpm: f.tpm, maxConcurrent: f.maxConcurrent, windowMs: f.windowMs } : undefined;
      const server = await startLlmServer({
        port: f.port,
        seed: f.seed,
        latencyScale: f.latencyScale,
        tail: f.tail,
        limits,
        queueing: f.queue ?? false,
        faults: { http5xx: f.fault5xx, timeout: f.faultTimeout, malformed: f.faultMalformed },
      });
      console.log(server.url);
      await new Promise<void>((resolve) => {
        const stop = () => resolve();
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
      });
      console.error(JSON.stringify(server.metrics()));
      await server.close();
    });
  return program;
}
