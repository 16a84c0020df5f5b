// Waiting on a monotonic clock without ever waking early.
import { setTimeout as sleep } from 'node:timers/promises';

/**
 * Wait until `clock()` reaches `atMs` (no-op if already past). Loops because libuv timers can
 * fire up to ~1 ms early against performance.now(): an arrival must never come before its time.
 */
export async function sleepUntil(clock: () => number, atMs: number, signal?: AbortSignal): Promise<void> {
  let wait: number;
  while ((wait = atMs - clock()) > 0) await sleep(Math.max(1, Math.ceil(wait)), undefined, { signal });
}
