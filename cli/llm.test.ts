import { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { registerLlmCommands } from './llm.ts';

describe('llm CLI', () => {
  it('registers `llm serve` with the documented flags and validates them', () => {
    const program = registerLlmCommands(new Command('flockbench').exitOverride());
    const serve = program.commands.find((c) => c.name() === 'llm')!.commands.find((c) => c.name() === 'serve')!;
    expect(serve.options.map((o) => o.long)).toEqual([
      '--port', '--seed', '--latency-scale', '--tail', '--limits', '--rpm', '--tpm', '--max-concurrent', '--window-ms', '--queue',
      '--fault-5xx', '--fault-timeout', '--fault-malformed', '--max-body-bytes',
    ]);
    serve.exitOverride().configureOutput({ writeErr: () => {} });
    expect(() => program.parse(['llm', 'serve', '--fault-5xx', '2'], { from: 'user' })).toThrow(/rate in \[0, 1\]/);
    expect(() => program.parse(['llm', 'serve', '--tail', 'heavy'], { from: 'user' })).toThrow(/calibrated/);
  });
});
