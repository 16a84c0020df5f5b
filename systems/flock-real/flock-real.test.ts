// The real Flock against the TS blackboard: same final artifacts (content hashes) and the same
// execution identities, and the Python port of keys/identities/prompt tokens matches the TS.
// Needs the venv: `bash scripts/flock/setup.sh` (CI runs it first). Without it these tests
// fail with that hint on purpose — a silent skip would hide a missing reference system.
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { conform, formatConformReport } from '../../harness/conform.ts';
import { canonicalJson } from '../../core/canonical.ts';
import { executionIdentity, outputCorrelation, promptTokensFor } from '../../workloads/execute.ts';
import { buildWorkload } from '../../workloads/registry.ts';
import type { AgentSpec, Artifact } from '../../workloads/spec.ts';
import { resolveSystemParams, systemEntry } from '../registry.ts';
import { flockRealSettings, type FlockRealParams } from './params.ts';
import { assertFlockVenv, FLOCK_PYTHON, FLOCK_RUNNER } from './system.ts';

describe('flock-real (needs .venv: bash scripts/flock/setup.sh)', () => {
  it('has the venv with flock-core', () => {
    expect(() => assertFlockVenv()).not.toThrow();
  });

  it('ports executionIdentity / outputCorrelation / promptTokens / canonicalJson byte for byte', () => {
    assertFlockVenv();
    const agent = buildWorkload('review-analysis', { analysts: 2, tasks: 1 }).agents[0];
    const payloads: Record<string, unknown>[] = [
      { b: 1, a: 'x', c: [1.5, 2, -0.25, 1e-7, 1e21, 123456789012], d: { z: null, y: true } },
      { text: 'ünïcödé "quoted" \\ back\nline\ttab\u0001', score: 0.1, n: -0 },
      ...buildWorkload('review-analysis', { analysts: 1, tasks: 3 }).tasks.map((i) => i.payload),
    ];
    const fixtures = {
      identities: [
        { agent: 'a', inputKeys: ['news-0'] },
        { agent: 'editor', inputKeys: ['w(news-1)', 'b(news-1)', 'a(news-1)'] },
        { agent: 'reducer', inputKeys: ['worker2(worker1(task-3))', 'worker2(worker1(task-10))'] },
      ],
      correlations: [['news-0'], ['news-1', 'news-1'], ['task-3', 'task-10', 'task-3']],
      promptTokens: [{ agent, payloads }, { agent, payloads: [] }],
      canonical: payloads,
    };
    const r = spawnSync(FLOCK_PYTHON, [FLOCK_RUNNER, '--port-fixtures'], { input: `${JSON.stringify(fixtures)}\n`, encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    const py = JSON.parse(r.stdout);
    expect(py.identities).toEqual(fixtures.identities.map((f) => executionIdentity(f.agent, f.inputKeys)));
    expect(py.correlations).toEqual(fixtures.correlations.map((c) => outputCorrelation(c.map((correlationId) => ({ correlationId })))));
    const asArtifacts = (ps: Record<string, unknown>[]) => ps.map((payload) => ({ payload }) as Artifact);
    expect(py.promptTokens).toEqual(fixtures.promptTokens.map((p) => promptTokensFor(p.agent as AgentSpec, asArtifacts(p.payloads))));
    expect(py.canonical).toEqual(payloads.map(canonicalJson));
  });

  it('conforms with blackboard-eager on review-analysis (4 analysts, 2 stories, editor batch by story)', async () => {
    assertFlockVenv();
    const r = await conform('review-analysis', { analysts: 4, tasks: 2 }, ['blackboard-eager', 'flock-real'], 11, { latencyScale: 0.01 });
    expect(r.ok, formatConformReport(r)).toBe(true);
    const flock = r.systems[1];
    expect(flock.executionsDiffer).toBe(false);
    expect(flock.executions).toBe(10);
    expect(flock.counters.agentRuns).toBe(10);
  });

  it("conforms with blackboard-eager on the tutorial's unkeyed editor batch (BatchSpec(size=4), 3 stories)", async () => {
    assertFlockVenv();
    const r = await conform('review-analysis', { analysts: 4, tasks: 3, editorBatch: 'unkeyed' }, ['blackboard-eager', 'flock-real'], 11, { latencyScale: 0.01 });
    expect(r.ok, formatConformReport(r)).toBe(true);
    expect(r.systems[1].executionsDiffer).toBe(false);
    expect(r.systems[1].finals).toBe(3);
  });

  it('conforms with blackboard-eager on map (5 items, depth 2)', async () => {
    assertFlockVenv();
    const r = await conform('map', { tasks: 5, depth: 2 }, ['blackboard-eager', 'flock-real'], 12, { latencyScale: 0.01 });
    expect(r.ok, formatConformReport(r)).toBe(true);
    expect(r.systems[1].executionsDiffer).toBe(false);
    expect(r.systems[1].executions).toBe(10);
  });
  it('accounts its LLM usage like the in-process systems (calls, tokens, cost)', async () => {
    const { runOnce } = await import('../../harness/runner/run-once.ts');
    const { buildWorkload } = await import('../../workloads/registry.ts');
    const w = () => buildWorkload('map', { tasks: 4, depth: 1 });
    const ref = await runOnce({ system: 'blackboard-eager', workload: w(), seed: 13, latencyScale: 0.01 });
    const real = await runOnce({ system: 'flock-real', workload: w(), seed: 13, latencyScale: 0.01 });
    expect(real.llm.calls).toBe(ref.llm.calls);
    expect(real.llm.tokensOut).toBe(ref.llm.tokensOut);
    expect(real.llm.costUsd).toBeCloseTo(ref.llm.costUsd, 9);
  });
});

describe('flock-real engine: dspy (Flock as shipped; needs .venv)', () => {
  it('resolves its parameters with Flock 0.5.7 defaults and rejects bad ones', () => {
    const entry = systemEntry('flock-real');
    const settings = (given: Record<string, unknown>) => flockRealSettings(resolveSystemParams(entry, given) as FlockRealParams);
    expect(settings({})).toEqual({ engine: 'http', autoTrace: false, consoleOutput: false, maxAgentIterations: 1_000_000_000 });
    expect(settings({ engine: 'dspy' })).toEqual({ engine: 'dspy', adapter: 'default', autoTrace: true, consoleOutput: true, maxAgentIterations: 1000 });
    expect(settings({ engine: 'dspy', adapter: 'json', autoTrace: false })).toMatchObject({ adapter: 'json', autoTrace: false });
    expect(() => settings({ engine: 'langchain' })).toThrow(/'engine' must be one of http\|dspy/);
    expect(() => settings({ adapter: 'json' })).toThrow(/'adapter' applies to engine: dspy only/);
    expect(() => settings({ engine: 'dspy', colour: true })).toThrow(/unknown parameter 'colour'/);
    expect(entry.policy(resolveSystemParams(entry, { engine: 'dspy' }), false)).toEqual({ kind: 'dataflow', maxConcurrency: 1 });
    expect(entry.policy(resolveSystemParams(entry, {}), false)).toEqual({ kind: 'dataflow' });
  });

  it('runs the tutorial workload through DSPyEngine + LiteLLM, its calls paired with the TS systems', async () => {
    assertFlockVenv();
    const { runOnce } = await import('../../harness/runner/run-once.ts');
    const w = () => buildWorkload('review-analysis', { analysts: 4, tasks: 1 });
    const ref = await runOnce({ system: 'blackboard-eager', workload: w(), seed: 21, latencyScale: 0.01 });
    const real = await runOnce({ system: 'flock-real', workload: w(), seed: 21, latencyScale: 0.01, systemParams: { engine: 'dspy', consoleOutput: false } });
    const count = (r: typeof real, type: string) => r.artifacts.filter((a) => a.type === type).length;
    expect(count(real, 'NewsAnalysis')).toBe(4);
    expect(count(real, 'NewsDigest')).toBeGreaterThanOrEqual(1);
    expect(count(real, 'WorkflowError')).toBe(0);
    // The same analyst executions (agent + input keys) as the TS blackboard: keys flow through
    // Flock. The editor's batch may split: its timeout is scaled (30 s x 0.01), the DSPy
    // engine's serial calls and CPU are not all scaled (at x1, 4 serial calls of ~6 s split it too).
    const analysts = (r: typeof real) => r.executions.filter((e) => e.agent !== 'editor').map((e) => e.identity).sort();
    expect(analysts(real)).toEqual(analysts(ref));
    const editorInputs = real.executions.filter((e) => e.agent === 'editor').flatMap((e) => e.inputKeys).sort();
    expect(editorInputs).toEqual(analysts(ref));
    const c = real.params.counters as Record<string, number>;
    // Every call was recognized as its execution (pairing markers): one call per execution.
    expect(c.llmCalls).toBe(real.executions.length);
    expect(c.llmCallsPaired).toBe(c.llmCalls);
    for (const e of real.executions) expect(e.drawnLatencyMs).toBeGreaterThan(0);
    // DSPyEngine calls the DSPy program synchronously on the event loop: one call at a time.
    expect(c.llmInFlightPeak).toBe(1);
    // The run's CPU counts the Python runner's (where Flock's engine spends it).
    expect(real.cpuMs).toBeGreaterThanOrEqual(c.pythonCpuMs!);
    // Its policy (dataflow, one execution at a time) replays the run when the replay makes the
    // same batches (a real run slowed past the scaled editor timeout splits its batch; the
    // zero-overhead replay does not, and then has no draw for the split batch).
    if (real.executions.filter((e) => e.agent === 'editor').length === 1) expect(real.idealMs).toBeGreaterThan(0);
    expect(real.params.settings as Record<string, unknown>).toMatchObject({ engine: 'dspy', adapter: 'default', autoTrace: true, maxAgentIterations: 1000 });

    // Flock's own auto-trace spans land in the spans table beside the harness's, and the
    // tutorial's query reads both through agent_spans.
    expect(c.flockSpans).toBeGreaterThan(0);
    expect(real.nativeSpans!.filter((s) => s.name === 'Agent.execute')).toHaveLength(real.executions.length);
    const { ResultsDb } = await import('../../harness/results/db.ts');
    const { runSpans } = await import('../../harness/tracing/otel.ts');
    const db = await ResultsDb.open(':memory:');
    await db.writeRun(real, { cellId: 'c-flock-real-dspy', matrix: 'spans-test', rep: 0, env: {} }, { spans: async (sink) => void (await runSpans(real, sink)) });
    const rows = await db.query<{ source: string; n: number }>(
      `SELECT source, count(*)::INT AS n FROM agent_spans WHERE name LIKE '%_analyst.execute' GROUP BY source ORDER BY source`);
    expect(rows).toEqual([{ source: 'flock', n: 4 }, { source: 'flockbench', n: 4 }]);
    const [own] = await db.query<{ n: number }>(`SELECT count(*)::INT AS n FROM spans WHERE service = 'flock-real'`);
    expect(own!.n).toBe(real.executions.length + 1);
    db.close();
  }, 300_000);
});
