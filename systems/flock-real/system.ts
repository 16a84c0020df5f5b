// The real Flock (PyPI flock-core, pinned in scripts/flock/requirements.txt) as a reference
// system: runner.py drives Flock's own publish / matching / scheduling / semaphores / batching
// / store out of process; only its LLM engine is swapped for one HTTP call to the same
// simulated provider every TS system uses, so latency draws and payloads are paired.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { REPO_ROOT } from '../../core/paths.ts';
import { UserError } from '../../core/errors.ts';
import { drawLatency, costUsd } from '../../llm/draw.ts';
import { emptyStats } from '../../llm/types.ts';
import type { ExecutionRecord } from '../../workloads/execute.ts';
import type { TailMode } from '../../llm/profiles.ts';
import { startLlmServer } from '../../llm/server.ts';
import { makeArtifact } from '../../workloads/execute.ts';
import type { Artifact, WorkloadSpec } from '../../workloads/spec.ts';
import type { RunContext, System, SystemRunResult } from '../types.ts';

const ROOT = REPO_ROOT;
export const FLOCK_PYTHON = join(ROOT, '.venv/bin/python');
export const FLOCK_RUNNER = join(ROOT, 'systems/flock-real/runner.py');

export class FlockVenvMissingError extends UserError {}

/** Throws the one-line setup hint when the venv or flock-core is absent. */
export function assertFlockVenv(): void {
  if (!existsSync(FLOCK_PYTHON) || !existsSync(join(ROOT, '.venv/.flock-core-ok'))) {
    throw new FlockVenvMissingError('flock-real: Python venv with flock-core missing: run bash scripts/flock/setup.sh');
  }
}

/** An execution as the Python runner reports it: the harness adds the latency and cost fields. */
type ExecutionLine = { kind: 'execution' } & Omit<ExecutionRecord, 'drawnLatencyMs' | 'scaledLatencyMs' | 'costUsd'>;

interface DoneLine {
  kind: 'done';
  artifacts: { key: string; type: string; payload: Record<string, unknown>; correlationId: string; producedBy: string }[];
  makespanMs: number;
  pythonCpuMs: number;
  idleRounds: number;
  agentRuns: number;
  artifactsPublished: number;
  llmCalls: number;
  llmFailures: number;
}

type Line = ExecutionLine | DoneLine | { kind: 'ready'; flockVersion: string; python: string } | { kind: 'error'; message: string };

/**
 * The run's tail mode is not on the context; find the one whose draw matches the run's LLM
 * client, so the HTTP simulator the Python side calls draws exactly what the TS systems draw.
 */
function detectTail(ctx: RunContext): TailMode {
  const probe = { model: ctx.workload.agents[0]?.model ?? 'gpt-4.1', identity: 'flock-real-tail-probe', outputTokens: 100 };
  const want = ctx.llm.draw(probe).totalMs;
  for (const tail of ['calibrated', 'light'] as TailMode[]) {
    if (drawLatency({ seed: ctx.seed, tail }, probe).totalMs === want) return tail;
  }
  return 'calibrated';
}

export function flockRealSystem(): System {
  let child: ChildProcess | undefined;
  return {
    name: 'flock-real',
    description: '',
    store: 'flock-memory',
    async run(w: WorkloadSpec, ctx: RunContext): Promise<SystemRunResult> {
      assertFlockVenv();
      const tail = detectTail(ctx);
      const server = await startLlmServer({ port: 0, seed: ctx.seed, latencyScale: ctx.latencyScale, tail });
      const proc = spawn(FLOCK_PYTHON, [FLOCK_RUNNER], {
        cwd: ROOT,
        stdio: ['pipe', 'pipe', 'pipe'],
        env: { ...process.env, PYTHONUNBUFFERED: '1', FLOCK_AUTO_TRACE: 'false', FLOCK_TRACE_FILE: 'false', LITELLM_LOG: 'ERROR' },
      });
      child = proc;
      let stderrTail = '';
      proc.stderr!.on('data', (b: Buffer) => { stderrTail = (stderrTail + b.toString('utf8')).slice(-4000); });
      const exited = new Promise<number | null>((res) => proc.on('close', (code) => res(code)));
      const byModel = new Map(w.agents.map((a) => [a.name, a]));
      let offsetMs = 0;
      let ready: { flockVersion: string; python: string } | undefined;
      let done: DoneLine | undefined;
      let failure: string | undefined;
      // Flock's queue lives in Python; what the harness can see cheaply is the LLM calls in flight.
      ctx.setQueueProbe(() => ({ pending: 0, inFlight: server.metrics().inFlight }));
      const onAbort = () => proc.kill('SIGTERM');
      ctx.signal.addEventListener('abort', onAbort, { once: true });
      try {
        proc.stdin!.write(`${JSON.stringify({
          workload: w, seed: ctx.seed, consoleOutput: ctx.systemParams.consoleOutput === true, latencyScale: ctx.latencyScale, llmUrl: server.url,
          arrivals: ctx.arrivals.map((a) => ({ index: a.index, intendedAtMs: a.intendedAtMs })),
        })}\n`);
        const executions: ExecutionRecord[] = [];
        const rl = createInterface({ input: proc.stdout! });
        for await (const raw of rl) {
          if (!raw.trim()) continue;
          const line = JSON.parse(raw) as Line;
          if (line.kind === 'ready') {
            ready = line;
            ctx.markMeasureStart?.();
            offsetMs = ctx.clock();
            proc.stdin!.write('go\n');
          } else if (line.kind === 'execution') {
            const a = byModel.get(line.agent);
            const d = a ? drawLatency({ seed: ctx.seed, tail }, { model: a.model, identity: line.identity, outputTokens: a.outputTokens }) : undefined;
            const rec = {
              agent: line.agent,
              identity: line.identity,
              inputKeys: line.inputKeys,
              correlationIds: line.correlationIds,
              outputKeys: line.outputKeys,
              startMs: offsetMs + line.startMs,
              endMs: offsetMs + line.endMs,
              drawnLatencyMs: d && line.tokensOut ? d.totalMs : 0,
              scaledLatencyMs: d && line.tokensOut ? d.totalMs * ctx.latencyScale : 0,
              tokensIn: line.tokensIn,
              tokensOut: line.tokensOut,
              costUsd: a && line.tokensOut ? costUsd(a.model, line.tokensIn, line.tokensOut) : 0,
              error: line.error,
            };
            executions.push(rec);
            ctx.onExecution(rec);
          } else if (line.kind === 'done') {
            // Done means Flock is idle; interpreter teardown is not part of the run.
            done = line;
            rl.close();
            break;
          } else if (line.kind === 'error') {
            failure = line.message;
          }
        }
        const code = done ? 0 : await exited;
        if (failure || !done) {
          throw new Error(`flock-real: ${failure ?? `runner exited with code ${code} before finishing`}${stderrTail ? `\n${stderrTail.trim().split('\n').slice(-8).join('\n')}` : ''}`);
        }
        const now = ctx.clock();
        const artifacts: Artifact[] = done.artifacts.map((x) => makeArtifact(x, now));
        const maxConcurrency = Object.fromEntries(w.agents.map((a) => [a.name, a.maxConcurrency]));
        const metrics = server.metrics();
        // The Python side calls its own endpoint, not ctx.llm: account its usage from the executions.
        const llmStats = { ...emptyStats(), calls: done.llmCalls, failures: done.llmFailures };
        for (const e of executions) { llmStats.tokensIn += e.tokensIn; llmStats.tokensOut += e.tokensOut; llmStats.costUsd += e.costUsd; }
        return {
          artifacts,
          llmStats,
          params: {
            flockVersion: ready?.flockVersion,
            python: ready?.python,
            engine: 'flockbench-http',
            store: 'flock-memory',
            tail,
            maxConcurrency: [...new Set(Object.values(maxConcurrency))].length === 1 ? w.agents[0].maxConcurrency : maxConcurrency,
            llmServer: { requests: metrics.requests, connections: metrics.connections, inFlightPeak: metrics.inFlightPeak },
          },
          counters: {
            agentRuns: done.agentRuns,
            artifactsPublished: done.artifactsPublished,
            idleRounds: done.idleRounds,
            pythonCpuMs: Math.round(done.pythonCpuMs),
            pythonMakespanMs: Math.round(done.makespanMs),
            llmCalls: done.llmCalls,
            llmFailures: done.llmFailures,
          },
        };
      } finally {
        ctx.signal.removeEventListener('abort', onAbort);
        if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGTERM');
        child = undefined;
        await server.close();
      }
    },
    async close() {
      child?.kill('SIGTERM');
    },
  };
}
