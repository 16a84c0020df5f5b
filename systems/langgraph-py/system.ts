// LangGraph for Python (PyPI langgraph, pinned in scripts/flock/requirements.txt) as a
// reference system out of process, the way flock-real runs: runner.py compiles the workload into
// a real LangGraph StateGraph in the chosen form (per-item by default: one ainvoke per task, all
// concurrent) and makes one HTTP call per execution to the run's simulated LLM, keyed by the
// execution's identity, so its draws pair with every other system's. The harness owns the
// arrivals (JSON lines: go, publish, drain); the runner reports executions and its artifacts.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { REPO_ROOT } from '../../core/paths.ts';
import { UserError } from '../../core/errors.ts';
import { drawLatency, costUsd } from '../../llm/draw.ts';
import type { TailMode } from '../../llm/profiles.ts';
import { startLlmServer } from '../../llm/server.ts';
import { emptyStats } from '../../llm/types.ts';
import type { ExecutionRecord } from '../../workloads/execute.ts';
import { makeArtifact } from '../../workloads/execute.ts';
import type { Artifact, WorkloadSpec } from '../../workloads/spec.ts';
import { langgraphPyRefusal } from '../langgraph/refusals.ts';
import { UnsupportedWorkloadError, type RunContext, type Session, type System } from '../types.ts';

export const LANGGRAPH_PY_PYTHON = join(REPO_ROOT, '.venv/bin/python');
export const LANGGRAPH_PY_RUNNER = join(REPO_ROOT, 'systems/langgraph-py/runner.py');

export class LangGraphPyVenvMissingError extends UserError {}

export interface LangGraphPyParams {
  form: 'per-item' | 'subgraph' | 'one-graph';
  maxConcurrency: number;
  maxInvocations?: number;
  perAgentLimit: boolean;
  recursionLimit?: number;
}

/** Throws the one-line setup hint when the venv or langgraph is absent. */
export function assertLangGraphPyVenv(): void {
  if (!existsSync(LANGGRAPH_PY_PYTHON) || !existsSync(join(REPO_ROOT, '.venv/.flock-core-ok')) || !hasLangGraph()) {
    throw new LangGraphPyVenvMissingError('langgraph-py: Python venv with langgraph missing: run bash scripts/flock/setup.sh');
  }
}

let langGraphFound: boolean | undefined;
function hasLangGraph(): boolean {
  langGraphFound ??= spawnSync(LANGGRAPH_PY_PYTHON, ['-c', 'import langgraph.graph'], { stdio: 'ignore' }).status === 0;
  return langGraphFound;
}

/** An execution as the Python runner reports it: the harness adds the latency and cost fields. */
type ExecutionLine = { kind: 'execution' } & Omit<ExecutionRecord, 'drawnLatencyMs' | 'scaledLatencyMs' | 'costUsd'>;

interface DoneLine {
  kind: 'done';
  artifacts: { key: string; type: string; payload: Record<string, unknown>; correlationId: string; producedBy: string }[];
  makespanMs: number;
  pythonCpuMs: number;
  supersteps: number;
  llmCalls: number;
  llmFailures: number;
  invokes: number;
  executions: number;
  peakInFlight: number;
}

interface ReadyLine {
  kind: 'ready';
  langgraphVersion: string;
  langchainCoreVersion: string;
  python: string;
}

type Line = ExecutionLine | DoneLine | ReadyLine | { kind: 'error'; message: string };

export function langgraphPySystem(): System<LangGraphPyParams> {
  return {
    name: 'langgraph-py',
    async start(w: WorkloadSpec, ctx: RunContext<LangGraphPyParams>): Promise<Session> {
      const refusal = langgraphPyRefusal(w, ctx.params);
      if (refusal) throw new UnsupportedWorkloadError(refusal);
      assertLangGraphPyVenv();
      const tail: TailMode = ctx.llmConfig.tail ?? 'calibrated';
      const server = await startLlmServer({ port: 0, seed: ctx.seed, latencyScale: ctx.latencyScale, tail });
      const proc = spawn(LANGGRAPH_PY_PYTHON, [LANGGRAPH_PY_RUNNER], {
        cwd: REPO_ROOT,
        stdio: ['pipe', 'pipe', 'pipe'],
        // No LangSmith tracing: a run must not try to reach the network.
        env: { ...process.env, PYTHONUNBUFFERED: '1', LANGSMITH_TRACING: 'false', LANGCHAIN_TRACING_V2: 'false' },
      });
      let stderrTail = '';
      proc.stderr!.on('data', (b: Buffer) => { stderrTail = (stderrTail + b.toString('utf8')).slice(-4000); });
      const exited = new Promise<number | null>((res) => proc.on('close', (code) => res(code)));
      const byName = new Map(w.agents.map((a) => [a.name, a]));
      const executions: ExecutionRecord[] = [];
      let offsetMs = 0;
      let failure: string | undefined;
      const fail = (why: string) => new Error(`langgraph-py: ${why}${stderrTail ? `\n${stderrTail.trim().split('\n').slice(-8).join('\n')}` : ''}`);
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
            const d = a ? drawLatency({ seed: ctx.seed, tail }, { model: a.model, identity: line.identity, outputTokens: a.outputTokens }) : undefined;
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
              superstep: line.superstep,
            };
            executions.push(rec);
            ctx.onExecution(rec);
          } else if (line.kind === 'done') {
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
        send(JSON.stringify({ workload: w, seed: ctx.seed, params: ctx.params, latencyScale: ctx.latencyScale, llmUrl: server.url, runId: ctx.runId }));
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
          const llmStats = { ...emptyStats(), calls: d.llmCalls, failures: d.llmFailures };
          for (const e of executions) { llmStats.tokensIn += e.tokensIn; llmStats.tokensOut += e.tokensOut; llmStats.costUsd += e.costUsd; }
          return {
            artifacts,
            llmStats,
            // The Python process's CPU inside the measured window belongs to this system's cost.
            helperCpuMs: d.pythonCpuMs,
            settings: {
              langgraphVersion: readyLine.langgraphVersion,
              langchainCoreVersion: readyLine.langchainCoreVersion,
              python: readyLine.python,
              language: 'python',
              form: ctx.params.form,
              maxConcurrency: ctx.params.maxConcurrency,
              maxInvocations: ctx.params.maxInvocations ?? 'unbounded',
              perAgentLimit: ctx.params.perAgentLimit,
              recursionLimit: ctx.params.recursionLimit ?? 2 * w.agents.length + 25,
              tail,
              llmServer: { requests: metrics.requests, connections: metrics.connections, inFlightPeak: metrics.inFlightPeak },
            },
            counters: {
              invokes: d.invokes,
              supersteps: d.supersteps,
              executions: d.executions,
              peakInFlight: d.peakInFlight,
              pythonCpuMs: Math.round(d.pythonCpuMs),
              pythonMakespanMs: Math.round(d.makespanMs),
              llmCalls: d.llmCalls,
              llmFailures: d.llmFailures,
            },
          };
        },
        queueDepth: () => ({ pending: 0, inFlight: server.metrics().inFlight }),
        stop,
      };
    },
  };
}
