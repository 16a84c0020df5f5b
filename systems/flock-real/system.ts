// The real Flock (PyPI flock-core, pinned in scripts/flock/requirements.txt) as a reference
// system: runner.py drives Flock's own publish / matching / scheduling / semaphores / batching
// / store out of process; only its LLM engine is swapped for one HTTP call to the same
// simulated provider every TS system uses, so latency draws and payloads are paired.
import { spawn, } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, } from 'node:path';
import { createInterface } from 'node:readline';
import { REPO_ROOT } from '../../core/paths.ts';
import { UserError } from '../../core/errors.ts';
import { drawLatency, costUsd } from '../../llm/draw.ts';
import { emptyStats } from '../../llm/types.ts';
import type { ExecutionRecord } from '../../workloads/execute.ts';
import type { TailMode } from '../../llm/profiles.ts';
import { startLlmServer } from '../../llm/server.ts';
import { makeArtifact } from '../../workloads/execute.ts';
import type { Artifact, WorkloadSpec } from '../../workloads/spec.ts';
import type { RunContext, Session, System } from '../types.ts';

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

interface ReadyLine {
  kind: 'ready';
  flockVersion: string;
  python: string;
}

type Line = ExecutionLine | DoneLine | ReadyLine | { kind: 'error'; message: string };

export interface FlockRealParams {
  consoleOutput: boolean;
}

export function flockRealSystem(): System<FlockRealParams> {
  return {
    name: 'flock-real',
    async start(w: WorkloadSpec, ctx: RunContext<FlockRealParams>): Promise<Session> {
      assertFlockVenv();
      const tail: TailMode = ctx.llmConfig.tail ?? 'calibrated';
      const server = await startLlmServer({ port: 0, seed: ctx.seed, latencyScale: ctx.latencyScale, tail });
      const proc = spawn(FLOCK_PYTHON, [FLOCK_RUNNER], {
        cwd: ROOT,
        stdio: ['pipe', 'pipe', 'pipe'],
        env: { ...process.env, PYTHONUNBUFFERED: '1', FLOCK_AUTO_TRACE: 'false', FLOCK_TRACE_FILE: 'false', LITELLM_LOG: 'ERROR' },
      });
      let stderrTail = '';
      proc.stderr!.on('data', (b: Buffer) => { stderrTail = (stderrTail + b.toString('utf8')).slice(-4000); });
      const exited = new Promise<number | null>((res) => proc.on('close', (code) => res(code)));
      const byName = new Map(w.agents.map((a) => [a.name, a]));
      const executions: ExecutionRecord[] = [];
      let offsetMs = 0;
      let failure: string | undefined;
      const fail = (why: string) => new Error(`flock-real: ${why}${stderrTail ? `\n${stderrTail.trim().split('\n').slice(-8).join('\n')}` : ''}`);
      // One reader of the protocol: lines resolve `ready` and `done`, executions are recorded as they come.
      let onReady!: (l: ReadyLine) => void;
      let onDone!: (l: DoneLine) => void;
      const ready = new Promise<ReadyLine>((r) => { onReady = r; });
      const done = new Promise<DoneLine>((r) => { onDone = r; });
      const ended = (async () => {
        const rl = createInterface({ input: proc.stdout! });
        for await (const raw of rl) {
          if (!raw.trim()) continue;
          const line = JSON.parse(raw) as Line;
          if (line.kind === 'ready') onReady(line);
          else if (line.kind === 'execution') {
            const a = byName.get(line.agent);
            const d = a ? drawLatency({ seed: ctx.seed, tail }, { model: a.model, identity: line.identity, outputTokens: a.outputTokens, promptTokens: line.tokensIn }) : undefined;
            const rec: ExecutionRecord = {
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
            onDone(line);
            rl.close();
            return;
          } else if (line.kind === 'error') failure = line.message;
        }
        const code = await exited;
        throw fail(failure ?? `runner exited with code ${code} before finishing`);
      })();
      ended.catch(() => undefined);
      const send = (line: string) => { proc.stdin!.write(`${line}\n`); };
      const stop = async () => {
        if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGTERM');
        await server.close();
      };
      let readyLine: ReadyLine;
      try {
        send(JSON.stringify({ workload: w, seed: ctx.seed, consoleOutput: ctx.params.consoleOutput, latencyScale: ctx.latencyScale, llmUrl: server.url }));
        readyLine = await Promise.race([ready, ended as Promise<never>]);
      } catch (e) {
        await stop();
        throw e;
      }
      let doneLine: DoneLine | undefined;
      return {
        async open() {
          offsetMs = ctx.clock();
          send('go');
        },
        async publish(arrivals) {
          send(JSON.stringify({ publish: arrivals.map((a) => a.index) }));
        },
        async drain() {
          send('drain');
          doneLine = await Promise.race([done, ended as Promise<never>]);
          if (failure) throw fail(failure);
        },
        async collect() {
          const d = doneLine!;
          const now = ctx.clock();
          const artifacts: Artifact[] = d.artifacts.map((x) => makeArtifact(x, now));
          const metrics = server.metrics();
          // The Python side calls its own endpoint, not ctx.llm: account its usage from the executions.
          const llmStats = { ...emptyStats(), calls: d.llmCalls, failures: d.llmFailures };
          for (const e of executions) { llmStats.tokensIn += e.tokensIn; llmStats.tokensOut += e.tokensOut; llmStats.costUsd += e.costUsd; }
          return {
            artifacts,
            llmStats,
            settings: {
              flockVersion: readyLine.flockVersion,
              python: readyLine.python,
              engine: 'flockbench-http',
              store: 'flock-memory',
              tail,
              llmServer: { requests: metrics.requests, connections: metrics.connections, inFlightPeak: metrics.inFlightPeak },
            },
            counters: {
              agentRuns: d.agentRuns,
              artifactsPublished: d.artifactsPublished,
              idleRounds: d.idleRounds,
              pythonCpuMs: Math.round(d.pythonCpuMs),
              pythonMakespanMs: Math.round(d.makespanMs),
              llmCalls: d.llmCalls,
              llmFailures: d.llmFailures,
            },
          };
        },
        // Flock's queue lives in Python; what the harness can see cheaply is the LLM calls in flight.
        queueDepth: () => ({ pending: 0, inFlight: server.metrics().inFlight }),
        stop,
      };
    },
  };
}
