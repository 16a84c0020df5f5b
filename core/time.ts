// Waiting on a monotonic clock without ever waking early.
import { setTimeout as sleep } from 'node:timers/promises';

/**
 * Wait until `clock()` reaches `atMs` (no-op if already past). Loops because libuv timers can
 * fire up to ~1 ms early against performance.now(): an arrival must never come before its time.
 */
export async function sleepUntil(clock: () => number, atMs: number, signal?: AbortSignal): Promise<void> {
  let wait: number;
  while ((wait = atMs - clock()) > 0) {
    const ms = Math.max(1, Math.ceil(wait));
    // Without a signal, a bare timer: timers/promises' abortable sleep allocates ~1 KB a call,
    // and every simulated LLM call sleeps.
    if (signal) await sleep(ms, undefined, { signal });
    else await new Promise<void>((resolve) => setTimeout(resolve, ms));
  }
}
