// The environment a run happened in, stored with every row so results can be compared honestly.
import { execSync } from 'node:child_process';
import { cpus, totalmem, release } from 'node:os';

let cached: Record<string, unknown> | undefined;

export function environment(): Record<string, unknown> {
  if (cached) return cached;
  let gitSha = 'unknown';
  let gitDirty = false;
  try {
    gitSha = execSync('git rev-parse HEAD', { stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim();
    gitDirty = execSync('git status --porcelain', { stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim().length > 0;
  } catch {
    // not a git checkout
  }
  cached = {
    node: process.version,
    platform: `${process.platform} ${release()}`,
    cpuModel: cpus()[0]?.model ?? 'unknown',
    cores: cpus().length,
    memGb: Math.round(totalmem() / 2 ** 30),
    gitSha,
    gitDirty,
    ci: Boolean(process.env.CI),
  };
  return cached;
}
