import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ProviderLimiter, RequestTooLargeError, slowdownFactor, TokenBucket } from './limits.ts';

// Fake timers and a fake clock: admission is checked against simulated time, not machine load.
let now = 0;
const clock = () => now;
const advance = async (ms: number) => {
  now += ms;
  await vi.advanceTimersByTimeAsync(ms);
};

beforeEach(() => {
  now = 0;
  vi.useFakeTimers();
});
afterEach(() => vi.useRealTimers());

describe('TokenBucket', () => {
  it('refills continuously up to its capacity and says how long a take must wait', () => {
    const b = new TokenBucket(100, 1000, 0);
    b.take(100, 0);
    expect(b.waitMs(50, 0)).toBe(500);
    expect(b.remaining(250)).toBe(25);
    expect(b.waitMs(101, 250)).toBe(Infinity);
    expect(b.remaining(5000)).toBe(100);
    expect(b.resetMs(5000)).toBe(0);
  });
});

describe('ProviderLimiter', () => {
  it('admits up to RPM at once, then one request per window/rpm, in FIFO order', async () => {
    const l = new ProviderLimiter({ rpm: 10, tpm: 1e9 }, 1000, clock);
    const order: number[] = [];
    const waits = Array.from({ length: 14 }, (_, i) => l.admit('gpt-4o-mini', 1).then((w) => { order.push(i); return w; }));
    await advance(0);
    expect(order).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    await advance(100); // one request refills every 100 ms
    expect(order).toHaveLength(11);
    for (let i = 0; i < 3; i++) await advance(100);
    expect(order).toEqual(Array.from({ length: 14 }, (_, i) => i));
    expect((await Promise.all(waits)).slice(10)).toEqual([100, 200, 300, 400]);
    const s = l.stats();
    expect(s).toMatchObject({ admitted: 14, queued: 4, waitMsTotal: 1000, waitMsMax: 400, queueDepth: 0, inFlight: 14 });
    expect(s.blockedMs.requests).toBe(400);
    expect(s.blockedMs.tokens).toBe(0);
  });

  it('binds on tokens (prompt + output) when TPM is the tighter limit, and records it', async () => {
    const l = new ProviderLimiter({ rpm: 1000, tpm: 1000 }, 1000, clock);
    const admitted: number[] = [];
    for (let i = 0; i < 8; i++) void l.admit('gpt-4o-mini', 200).then(() => admitted.push(i));
    await advance(0);
    expect(admitted).toHaveLength(5); // 5 x 200 tokens = the bucket
    await advance(199);
    expect(admitted).toHaveLength(5);
    await advance(1);
    expect(admitted).toHaveLength(6);
    await advance(400);
    expect(admitted).toHaveLength(8);
    expect(l.stats().blockedMs.tokens).toBe(600);
    expect(l.stats().blockedMs.requests).toBe(0);
  });

  it('rejects at once what can never fit, without blocking the queue', async () => {
    const l = new ProviderLimiter({ tpm: 500 }, 1000, clock);
    await expect(l.admit('gpt-4o-mini', 501)).rejects.toBeInstanceOf(RequestTooLargeError);
    expect(() => l.tryAdmit('gpt-4o-mini', 501)).toThrow(/Request too large/);
    await expect(l.admit('gpt-4o-mini', 500)).resolves.toBe(0);
    expect(l.stats().queueDepth).toBe(0);
  });

  it('the 429 path: tryAdmit says which limit and how long, and takes nothing when refused', () => {
    const l = new ProviderLimiter({ rpm: 2, tpm: 1e6 }, 600, clock);
    expect(l.tryAdmit('gpt-4.1', 10)).toEqual({ ok: true });
    expect(l.tryAdmit('gpt-4.1', 10)).toEqual({ ok: true });
    expect(l.tryAdmit('gpt-4.1', 10)).toEqual({ ok: false, reason: 'requests', waitMs: 300 });
    // Buckets are per model; defaults come from the model's profile when a limit is not given.
    expect(l.tryAdmit('gpt-4o-mini', 10)).toEqual({ ok: true });
    expect(l.buckets('gpt-4o-mini').tokens.capacity).toBe(1e6);
    expect(new ProviderLimiter({}, 600, clock).buckets('gpt-4o-mini').requests.capacity).toBe(500);
  });

  it('caps admitted requests in flight and admits the next one when a slot is released', async () => {
    const l = new ProviderLimiter({ rpm: 1e6, tpm: 1e9, maxConcurrent: 2 }, 1000, clock);
    const got: number[] = [];
    for (let i = 0; i < 4; i++) void l.admit(i % 2 ? 'gpt-4o-mini' : 'gpt-4.1', 1).then(() => got.push(i));
    await advance(0);
    expect(got).toEqual([0, 1]);
    now += 50;
    l.release();
    await advance(0);
    expect(got).toEqual([0, 1, 2]);
    expect(l.stats().inFlight).toBe(2);
    expect(l.stats().blockedMs.concurrency).toBeGreaterThan(0);
  });

  it('an aborted waiter leaves the queue and does not block those behind it', async () => {
    const l = new ProviderLimiter({ rpm: 1, tpm: 1e9 }, 1000, clock);
    await l.admit('gpt-4o-mini', 1);
    const ac = new AbortController();
    const first = l.admit('gpt-4o-mini', 1, ac.signal);
    const second = l.admit('gpt-4o-mini', 1);
    ac.abort(new Error('gone'));
    await expect(first).rejects.toThrow('gone');
    await advance(1000);
    await expect(second).resolves.toBe(1000);
  });
});

describe('slowdownFactor', () => {
  it('is 1 up to the capacity and grows linearly above it; off without a configuration', () => {
    expect(slowdownFactor(100, undefined)).toBe(1);
    expect(slowdownFactor(8, { capacity: 8, alpha: 0.5 })).toBe(1);
    expect(slowdownFactor(16, { capacity: 8, alpha: 0.5 })).toBe(1.5);
    expect(slowdownFactor(32, { capacity: 8, alpha: 0.5 })).toBe(2.5);
  });
});
