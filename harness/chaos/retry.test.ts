// The checker's reads after a chaos run: retried while a restarted broker refuses them, bounded.
import { describe, expect, it } from 'vitest';
import { retryUntil } from './run.ts';

describe('retryUntil', () => {
  it('retries a failing read until it succeeds, logging each failure', async () => {
    let calls = 0;
    const lines: string[] = [];
    const v = await retryUntil(Date.now() + 5000, 'reading the log', async () => {
      if (++calls < 3) throw new Error('Listing offsets failed.');
      return 'ok';
    }, (l) => lines.push(l), 1);
    expect(v).toBe('ok');
    expect(calls).toBe(3);
    expect(lines).toEqual(['reading the log failed (Listing offsets failed.); retrying', 'reading the log failed (Listing offsets failed.); retrying']);
  });

  it('gives up at the deadline with the last error, named', async () => {
    let calls = 0;
    await expect(retryUntil(Date.now() + 30, 'reading the log', async () => {
      calls++;
      throw new Error('Listing offsets failed.');
    }, () => {}, 5)).rejects.toThrow(/^reading the log: Listing offsets failed\.$/);
    expect(calls).toBeGreaterThan(1);
  });
});
