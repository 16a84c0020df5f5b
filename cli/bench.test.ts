// `flockbench bench` refuses what it cannot time: one line, exit 2, nothing written.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const dir = mkdtempSync(join(tmpdir(), 'fb-bench-cli-'));

describe('flockbench bench', () => {
  it.each([
    ['flock-real', /'flock-real' runs out of process/],
    ['langgraph-py', /'langgraph-py' runs out of process/],
    ['blackboard-kafka', /'blackboard-kafka' runs on a broker/],
    ['blackboard-eager,nope', /unknown system 'nope'/],
  ])('--systems %s: exit 2, one line, no DB', (systems, msg) => {
    const db = join(dir, `${systems}.duckdb`);
    const r = spawnSync(process.execPath, ['bin/flockbench.mjs', 'bench', '--systems', systems, '--no-growth', '--db', db], { encoding: 'utf8', timeout: 60_000 });
    expect(r.status).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(msg);
    expect(existsSync(db)).toBe(false);
  });
});
