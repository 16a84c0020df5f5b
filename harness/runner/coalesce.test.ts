import { describe, expect, it } from 'vitest';
import { inputTokens } from '../../workloads/execute.ts';
import { buildWorkload } from '../../workloads/registry.ts';
import { ResultsDb } from '../results/db.ts';
import { runOnce, type RunOutcome } from './run-once.ts';

const K = 8, TASKS = 3, PROMPT = 500;

async function stored(coalesce: boolean, db: ResultsDb, system = 'blackboard-eager'): Promise<RunOutcome> {
  const w = buildWorkload('retrieval-summarization', { tasks: TASKS, k: K, chunks: 1000, coalesce, promptTokens: PROMPT });
  // A tight TPM (one window = 0.6 s at this scale) so some calls wait for admission.
  const out = await runOnce({ system, workload: w, seed: 7, latencyScale: 0.01, llmOptions: { limits: { rpm: 10_000, tpm: 10_000 } } });
  await db.writeRun(out, { cellId: `c-${system}-${coalesce}`, matrix: 'coalesce-test', rep: 0, env: {} });
  return out;
}

describe('coalescing, as stored', () => {
  it('a coalescing run stores fewer LLM calls than executions\' inputs, and its token accounting adds up', async () => {
    const db = await ResultsDb.open(':memory:');
    for (const system of ['blackboard-eager', 'langgraph-parallel']) {
      const plain = await stored(false, db, system);
      const co = await stored(true, db, system);
      expect(co.errors + plain.errors).toBe(0);
      expect(co.finalHash).toEqual(plain.finalHash);

      const totals = async (run: string) => (await db.query<Record<string, number>>(
        `SELECT sum(e.llm_calls)::INT AS calls, sum(e.inputs) FILTER (WHERE e.llm_calls > 0)::INT AS llm_inputs,
                sum(e.tokens_in)::INT AS tokens_in, sum(e.tokens_out)::INT AS tokens_out, sum(e.queued_ms) AS queued_ms,
                any_value(r.llm_calls)::INT AS run_calls, any_value(r.tokens_in)::INT AS run_tokens_in, any_value(r.tokens_out)::INT AS run_tokens_out
           FROM executions e JOIN runs r USING (run_id) WHERE run_id = ?`, [run]))[0]!;
      const p = await totals(plain.runId);
      const c = await totals(co.runId);
      // Calls: k summaries + 1 answer per query, or 1 + 1 when coalesced; the retriever makes none.
      expect(p.calls).toBe(TASKS * (K + 1));
      expect(c.calls).toBe(TASKS * 2);
      expect(c.calls).toBeLessThan(c.llm_inputs!);
      expect(c.llm_inputs).toBe(p.llm_inputs);
      // The store adds up: per-execution rows sum to the run's own LLM counters.
      for (const t of [p, c]) expect([t.calls, t.tokens_in, t.tokens_out]).toEqual([t.run_calls, t.run_tokens_in, t.run_tokens_out]);
      // Coalescing pays the summarizer's own prompt once per query instead of k times; the rest is the same.
      expect(p.tokens_in! - c.tokens_in!).toBe(TASKS * (K - 1) * PROMPT);
      // Each coalesced call's prompt is its prompt + every passage it read.
      const passages = new Map(co.artifacts.filter((a) => a.type === 'Passage').map((a) => [a.key, a]));
      const summarizer = co.executions.filter((e) => e.agent === 'summarizer');
      expect(summarizer).toHaveLength(TASKS);
      for (const e of summarizer) {
        expect(e.inputKeys).toHaveLength(K);
        expect(e.outputKeys).toHaveLength(K);
        expect(e.tokensIn).toBe(PROMPT + e.inputKeys.reduce((n, k) => n + inputTokens(passages.get(k)!), 0));
      }
      // The provider limit bound: calls waited for admission, on tokens.
      expect(p.queued_ms).toBeGreaterThan(0);
      expect(((plain.params.llmLimiter as { blockedMs: { tokens: number } }).blockedMs.tokens)).toBeGreaterThan(0);
      // The tool agent ran for real and made no call.
      const [tool] = await db.query<{ n: number; calls: number; tokens: number }>(
        `SELECT count(*)::INT AS n, sum(llm_calls)::INT AS calls, sum(tokens_in + tokens_out)::INT AS tokens FROM executions WHERE run_id = ? AND agent = 'retriever'`, [co.runId]);
      expect(tool).toEqual({ n: TASKS, calls: 0, tokens: 0 });
    }
    db.close();
  }, 180_000);
});
