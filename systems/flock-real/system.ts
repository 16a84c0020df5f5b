// The real Flock (PyPI flock-core, pinned in scripts/flock/requirements.txt) as a reference
// system: runner.py drives Flock's own publish / matching / scheduling / semaphores / batching
// / store out of process, against a simulated provider started for the run. Two engines
// (system parameter `engine`, params.ts):
// - http (default, idealized): Flock's engine swapped for one async HTTP call per execution
//   carrying the harness's identity headers, so latency draws and payloads are paired.
// - dspy (as shipped): Flock's own DSPyEngine through LiteLLM (OPENAI_BASE_URL at the run's
//   simulator), with Flock's defaults for adapter, auto-trace, console output and
//   max_agent_iterations unless set. Its calls carry no identity: the simulator keys them by
//   pairing markers (each agent's description, each seed's longest string, then the outputs it
//   wrote), so a call of `agent(keys)` draws what the TS systems draw for that execution;
//   DSPy's extra calls (a fallback, a retry) are keyed `agent(keys)#n` and are not paired.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { UserError } from '../../core/errors.ts';
import { REPO_ROOT } from '../../core/paths.ts';
import { costUsd, drawLatency } from '../../llm/draw.ts';
import type { TailMode } from '../../llm/profiles.ts';
import { payloadMarker, startLlmServer, type LlmCallInfo, type PairingHints } from '../../llm/server.ts';
import { emptyStats } from '../../llm/types.ts';
import { executionIdentity, makeArtifact, type ExecutionRecord } from '../../workloads/execute.ts';
import type { Artifact, WorkloadSpec } from '../../workloads/spec.ts';
import type { NativeSpan, RunContext, Session, System } from '../types.ts';
import { flockRealSettings, type FlockRealParams } from './params.ts';

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

/** Pairing markers for the DSPy engine's calls: agent descriptions and seed payloads. */
export function pairingFor(w: WorkloadSpec): PairingHints {
  const descriptions = new Map<string, number>();
  for (const a of w.agents) { const d = a.description || a.name; descriptions.set(d, (descriptions.get(d) ?? 0) + 1); }
  const markers = new Map<string, number>();
  for (const t of w.tasks) { const m = payloadMarker(t.payload); markers.set(m, (markers.get(m) ?? 0) + 1); }
  return {
    // An ambiguous marker (two agents with one description, two seeds with one text) pairs nothing.
    agents: w.agents.filter((a) => descriptions.get(a.description || a.name) === 1).map((a) => ({ agent: a.name, marker: a.description || a.name, outputTokens: a.outputTokens })),
    inputs: w.tasks.map((t) => ({ key: t.key, marker: payloadMarker(t.payload) })).filter((x) => markers.get(x.marker) === 1),
    identity: executionIdentity,
  };
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
  /** Flock's auto-trace spans of the measured window (Flock's DuckDB row layout, times as strings). */
  spans?: (Omit<NativeSpan, 'start_time' | 'end_time'> & { start_time: string; end_time: string })[];
}

interface ReadyLine {
  kind: 'ready';
  flockVersion: string;
  python: string;
}

type Line = ExecutionLine | DoneLine | ReadyLine | { kind: 'error'; message: string };

/** Per logical execution (identity without `#n`): the calls the simulator answered for it. */
interface CallTotals { calls: number; tokensIn: number; tokensOut: number; latencyMs: number; costUsd: number }

export function flockRealSystem(): System<FlockRealParams> {
  return {
    name: 'flock-real',
    async start(w: WorkloadSpec, ctx: RunContext<FlockRealParams>): Promise<Session> {
      assertFlockVenv();
      const fp = flockRealSettings(ctx.params);
      const dspy = fp.engine === 'dspy';
      const tail: TailMode = ctx.llmConfig.tail ?? 'calibrated';
      const byExecution = new Map<string, CallTotals>();
      const callTotals: CallTotals = { calls: 0, tokensIn: 0, tokensOut: 0, latencyMs: 0, costUsd: 0 };
      const onCall = (c: LlmCallInfo) => {
        const cost = costUsd(c.model, c.promptTokens, c.completionTokens);
        const e = byExecution.get(c.logicalIdentity) ?? { calls: 0, tokensIn: 0, tokensOut: 0, latencyMs: 0, costUsd: 0 };
        for (const t of [e, callTotals]) { t.calls++; t.tokensIn += c.promptTokens; t.tokensOut += c.completionTokens; t.latencyMs += c.latencyMs; t.costUsd += cost; }
        byExecution.set(c.logicalIdentity, e);
      };
      // engine http sends the harness's headers (counts need no tokenizer); dspy needs counts and pairing.
      const server = await startLlmServer({
        port: 0, seed: ctx.seed, latencyScale: ctx.latencyScale, tail,
        ...(dspy ? { pairing: pairingFor(w), onCall } : { loadTokenizer: false }),
      });
      // Flock writes .flock/ (logs, traces) where it runs: keep it out of the repo.
      const cwd = dspy ? mkdtempSync(join(tmpdir(), 'flock-real-')) : ROOT;
      const proc = spawn(FLOCK_PYTHON, [FLOCK_RUNNER], {
        cwd,
        stdio: ['pipe', 'pipe', 'pipe'],
        env: {
          ...process.env, PYTHONUNBUFFERED: '1', FLOCK_AUTO_TRACE: String(fp.autoTrace), FLOCK_TRACE_FILE: 'false', LITELLM_LOG: 'ERROR',
          // No network here: LiteLLM would try to fetch its price map at import.
          LITELLM_LOCAL_MODEL_COST_MAP: 'True',
          ...(dspy ? { OPENAI_BASE_URL: `${server.url}/v1`, OPENAI_API_KEY: 'sk-flockbench' } : {}),
        },
      });
      let stderrTail = '';
      proc.stderr!.on('data', (b: Buffer) => { stderrTail = (stderrTail + b.toString('utf8')).slice(-4000); });
      const exited = new Promise<number | null>((res) => proc.on('close', (code) => res(code)));
      const byName = new Map(w.agents.map((a) => [a.name, a]));
      const executions: ExecutionRecord[] = [];
      let offsetMs = 0;
      let failure: string | undefined;
      const fail = (why: string) => new Error(`flock-real: ${why}${stderrTail ? `\n${stderrTail.trim().split('\n').slice(-8).join('\n')}` : ''}`);
      /** The harness's record of one execution: latency, tokens and cost from the draw (http) or the simulator's calls (dspy). */
      const record = (line: ExecutionLine): ExecutionRecord => {
        const base = {
          agent: line.agent, identity: line.identity, inputKeys: line.inputKeys, correlationIds: line.correlationIds, outputKeys: line.outputKeys,
          startMs: offsetMs + line.startMs, endMs: offsetMs + line.endMs, error: line.error,
        };
        if (dspy) {
          // The DSPy engine's calls, as the simulator answered them (paired by markers).
          const e = byExecution.get(line.identity);
          return {
            ...base, drawnLatencyMs: e?.latencyMs ?? 0, scaledLatencyMs: (e?.latencyMs ?? 0) * ctx.latencyScale,
            tokensIn: e?.tokensIn ?? 0, tokensOut: e?.tokensOut ?? 0, costUsd: e?.costUsd ?? 0,
          };
        }
        const a = byName.get(line.agent);
        const d = a && line.tokensOut ? drawLatency({ seed: ctx.seed, tail }, { model: a.model, identity: line.identity, outputTokens: a.outputTokens, promptTokens: line.tokensIn }) : undefined;
        return {
          ...base, drawnLatencyMs: d?.totalMs ?? 0, scaledLatencyMs: (d?.totalMs ?? 0) * ctx.latencyScale,
          tokensIn: line.tokensIn, tokensOut: line.tokensOut, costUsd: a && d ? costUsd(a.model, line.tokensIn, line.tokensOut) : 0,
        };
      };
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
            const rec = record(line);
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
        // Wait for it, so its temp dir can go; a runner stuck in a synchronous call gets SIGKILL.
        const kill = setTimeout(() => proc.kill('SIGKILL'), 5000);
        await exited;
        clearTimeout(kill);
        await server.close();
        if (cwd !== ROOT) rmSync(cwd, { recursive: true, force: true });
      };
      let readyLine: ReadyLine;
      try {
        send(JSON.stringify({
          workload: w, seed: ctx.seed, latencyScale: ctx.latencyScale, llmUrl: server.url,
          engine: fp.engine, adapter: fp.adapter, consoleOutput: fp.consoleOutput, maxAgentIterations: fp.maxAgentIterations,
        }));
        readyLine = await Promise.race([ready, ended as Promise<never>]);
      } catch (e) {
        await stop();
        throw e;
      }
      let doneLine: DoneLine | undefined;
      return {
        async open() {
          // The in-flight peak and the per-run repeats count from the measured window on.
          server.reset();
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
          // The Python side calls its own endpoint, not ctx.llm: account its usage from the
          // executions (http) or from every call the simulator answered (dspy: fallbacks too).
          const llmStats = { ...emptyStats(), calls: d.llmCalls, failures: d.llmFailures };
          if (dspy) {
            Object.assign(llmStats, { calls: callTotals.calls, tokensIn: callTotals.tokensIn, tokensOut: callTotals.tokensOut, costUsd: callTotals.costUsd });
            llmStats.failures = Object.entries(metrics.byStatus).filter(([k]) => k !== '200').reduce((n, [, v]) => n + v, 0);
          } else {
            for (const e of executions) { llmStats.tokensIn += e.tokensIn; llmStats.tokensOut += e.tokensOut; llmStats.costUsd += e.costUsd; }
          }
          return {
            artifacts,
            llmStats,
            spans: (d.spans ?? []).map((x) => ({ ...x, start_time: BigInt(x.start_time), end_time: BigInt(x.end_time) })),
            // The Python runner's CPU in the measured window belongs to the run (as langgraph-py's).
            helperCpuMs: d.pythonCpuMs,
            settings: {
              flockVersion: readyLine.flockVersion,
              python: readyLine.python,
              ...fp,
              store: 'flock-memory',
              cpuIncludesPython: true,
              tail,
              llmServer: { requests: metrics.requests, connections: metrics.connections, inFlightPeak: metrics.inFlightPeak, identities: metrics.identities, truncated: metrics.truncated },
            },
            counters: {
              agentRuns: d.agentRuns,
              artifactsPublished: d.artifactsPublished,
              idleRounds: d.idleRounds,
              pythonCpuMs: Math.round(d.pythonCpuMs),
              pythonMakespanMs: Math.round(d.makespanMs),
              llmCalls: llmStats.calls,
              llmFailures: llmStats.failures,
              llmInFlightPeak: metrics.inFlightPeak,
              llmCallsPaired: metrics.identities.paired + metrics.identities.header,
              flockSpans: d.spans?.length ?? 0,
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
