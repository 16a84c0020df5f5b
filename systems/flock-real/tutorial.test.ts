// The Flock tutorial's own code (fixtures/tutorial_news_agency.py, copied from the seed page),
// unmodified, against `flockbench llm serve` at a small latency scale: Flock 0.5.7 as shipped
// (DSPyEngine + LiteLLM, default adapter, auto-trace, console output) must finish and leave 8
// analyses and a digest. Needs the venv (bash scripts/flock/setup.sh).
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../core/paths.ts';
import { assertFlockVenv, FLOCK_PYTHON } from './system.ts';

const ROOT = REPO_ROOT;
const procs: ChildProcess[] = [];
afterAll(() => { for (const p of procs) if (p.exitCode === null) p.kill('SIGTERM'); });

/** `flockbench llm serve` as a user starts it; resolves with its URL (printed once it is ready). */
function serve(args: string[]): Promise<string> {
  const p = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'cli/main.ts'), 'llm', 'serve', '--port', '0', ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  procs.push(p);
  return new Promise((res, rej) => {
    createInterface({ input: p.stdout! }).once('line', (line) => res(line.trim()));
    p.once('exit', (code) => rej(new Error(`llm serve exited ${code}`)));
  });
}

function run(cmd: string, args: string[], cwd: string, timeoutMs: number): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((res) => {
    const p = spawn(cmd, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, LITELLM_LOG: 'ERROR' } });
    procs.push(p);
    let stdout = '', stderr = '';
    p.stdout.on('data', (b: Buffer) => { stdout += b; });
    p.stderr.on('data', (b: Buffer) => { stderr = (stderr + b).slice(-6000); });
    const t = setTimeout(() => p.kill('SIGKILL'), timeoutMs);
    p.on('close', (code) => { clearTimeout(t); res({ code, stdout, stderr }); });
  });
}

describe('the Flock tutorial, unmodified, against flockbench llm serve (needs .venv)', () => {
  it('runs to the end: 8 analyses and a digest, every LLM call answered on the first try', async () => {
    assertFlockVenv();
    const url = await serve(['--latency-scale', '0.01', '--seed', '3']);
    const cwd = mkdtempSync(join(tmpdir(), 'flock-tutorial-')); // Flock writes .flock/ where it runs
    try {
      const r = await run(FLOCK_PYTHON, [join(ROOT, 'systems/flock-real/run_tutorial.py'), join(ROOT, 'systems/flock-real/fixtures/tutorial_news_agency.py'), url], cwd, 240_000);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toContain('PERFORMANCE METRICS'); // the tutorial's own report printed
      const out = JSON.parse(r.stdout.trim().split('\n').at(-1)!);
      expect(out.analyses).toBe(8);
      expect(out.digests).toBeGreaterThanOrEqual(1);
      // flock-core 0.5.7 lacks store.get_artifacts_by_type, which the tutorial calls: aliased.
      expect(out.shimGetArtifactsByType).toBe(true);
      // ChatAdapter replies parse: one call per agent execution, no JSONAdapter fallback, no error.
      expect(out.byStatus).toEqual({ 200: out.analyses + out.digests });
      expect(out.llmRequests).toBe(out.analyses + out.digests);
      // Flock 0.5.7's DSPyEngine calls the synchronous program on the event loop: one at a time.
      expect(out.llmInFlightPeak).toBe(1);
    } finally {
      rmSync(cwd, { recursive: true, force: true });
    }
  }, 300_000);
});
