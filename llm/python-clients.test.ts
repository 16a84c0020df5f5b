// The simulated LLM against real Python clients in the flock venv (needs .venv:
// bash scripts/flock/setup.sh): the openai SDK, LiteLLM and DSPy's ChatAdapter/JSONAdapter, the
// clients that found its faults. python_clients.py runs the checks of one suite and
// reports each; a silent skip would hide a broken client, so a missing venv fails here.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../core/paths.ts';
import { startLlmServer, type LlmServer } from './server.ts';

const ROOT = REPO_ROOT;
const PYTHON = join(ROOT, '.venv/bin/python');
const SCRIPT = join(ROOT, 'llm/python_clients.py');

type Results = Record<string, { ok: boolean; detail: unknown; trace?: string }>;

function runSuite(url: string, suite: string): Promise<Results> {
  return new Promise((res, rej) => {
    const p = spawn(PYTHON, [SCRIPT, url, suite], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, LITELLM_LOG: 'ERROR' } });
    let out = '', err = '';
    p.stdout.on('data', (b: Buffer) => { out += b; });
    p.stderr.on('data', (b: Buffer) => { err = (err + b).slice(-4000); });
    const timer = setTimeout(() => p.kill('SIGKILL'), 170_000);
    p.on('close', (code) => {
      clearTimeout(timer);
      try { res(JSON.parse(out.trim().split('\n').at(-1)!)); } catch { rej(new Error(`python ${suite} exited ${code}: ${err}`)); }
    });
  });
}

const SUITES: Record<string, string[]> = {
  openai: [
    'parse: nested model, Optional, Enum, Literal', 'max_tokens is a cap with finish_reason length', 'huge max_tokens: 400, server stays up',
    'json_object returns an object', 'malformed requests: 400, not retried', 'tools: a call, then text after the tool result', 'x-request-id and /v1/models/{id}',
  ],
  litellm: [
    'max_tokens is a cap with finish_reason length', 'huge max_tokens: BadRequestError, server stays up', 'response_format pydantic: nested, Optional, Enum',
    'tools: a call, then text after the tool result', 'streaming: content, usage, finish_reason',
  ],
  dspy: ['ChatAdapter: [[ ## output ## ]] reply parses, one call', 'JSONAdapter: json_schema with $ref parses, one call', 'ChatAdapter: str, int, bool and Literal fields'],
};

describe.each(Object.keys(SUITES))('simulated LLM with Python %s (needs .venv)', (suite) => {
  let s: LlmServer;
  let results: Results;
  beforeAll(async () => {
    expect(existsSync(PYTHON), 'venv missing: bash scripts/flock/setup.sh').toBe(true);
    s = await startLlmServer({ seed: 5, latencyScale: 0.005 });
    results = await runSuite(s.url, suite);
  }, 180_000);
  afterAll(async () => { await s?.close(); });

  it.each(SUITES[suite])('%s', (name) => {
    const r = results[name];
    expect(r, `check '${name}' did not run`).toBeDefined();
    expect(r.ok, `${JSON.stringify(r.detail)}\n${r.trace ?? ''}`).toBe(true);
  });
});
