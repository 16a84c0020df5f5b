// Provider limits, written once for both transports: per-model RPM and TPM token buckets, an
// optional cap on admitted requests in flight, and FIFO admission for callers that wait. The
// HTTP simulator answers 429 from it (or queues, if asked); the in-process simulator always
// waits, which is a provider that queues, or a client that retries exactly when told to.
// Optional server-load slowdown: service time grows once more calls are in flight than a
// capacity (off unless configured).
import { Deque } from '../core/deque.ts';
import { profile } from './profiles.ts';

/** Continuous token bucket: `capacity` tokens, refilled at capacity per `windowMs`. */
export class TokenBucket {
  private level: number;
  private last: number;
  constructor(readonly capacity: number, private readonly windowMs: number, now: number) {
    this.level = capacity;
    this.last = now;
  }
  private refill(now: number): void {
    this.level = Math.min(this.capacity, this.level + ((now - this.last) * this.capacity) / this.windowMs);
    this.last = now;
  }
  remaining(now: number): number {
    this.refill(now);
    return Math.floor(this.level);
  }
  /** Ms until `n` tokens are available (0: now; Infinity: never, n exceeds capacity). */
  waitMs(n: number, now: number): number {
    this.refill(now);
    if (n > this.capacity) return Infinity;
    return this.level >= n ? 0 : ((n - this.level) * this.windowMs) / this.capacity;
  }
  take(n: number, now: number): void {
    this.refill(now);
    this.level -= n;
  }
  /** Ms until the bucket is full again (OpenAI's x-ratelimit-reset-*). */
  resetMs(now: number): number {
    this.refill(now);
    return ((this.capacity - this.level) * this.windowMs) / this.capacity;
  }
}

/**
 * Provider rate limits. Per-model RPM and TPM token buckets (capacity = the limit, refilled
 * continuously over `windowMs`), defaults from the model's profile; `maxConcurrent` caps
 * admitted in-flight requests across models (default: none).
 */
export interface LlmLimits {
  /** Requests per window (default: the profile's rpm). */
  rpm?: number;
  /** Tokens (prompt + target output) per window (default: the profile's tpm). */
  tpm?: number;
  /** Admitted requests in flight, across models (default: unlimited). */
  maxConcurrent?: number;
  /**
   * Length of the rate-limit "minute" in wall ms. Default 60 000 x latencyScale, so limits keep
   * their meaning relative to the scaled latencies (60 000 when latencyScale is 0).
   */
  windowMs?: number;
}

/** The window a run uses: `limits.windowMs`, else one minute on the run's scaled clock. */
export function limitWindowMs(limits: LlmLimits, latencyScale: number): number {
  return limits.windowMs ?? (latencyScale > 0 ? 60_000 * latencyScale : 60_000);
}

export type BlockReason = 'requests' | 'tokens' | 'concurrency';
export type Admission = { ok: true } | { ok: false; reason: BlockReason; waitMs: number };

/** A request that can never be admitted: it needs more tokens than one window holds. */
export class RequestTooLargeError extends Error {
  constructor(readonly model: string, readonly limit: number, readonly requested: number) {
    super(`Request too large for ${model}: Limit ${limit}, Requested ${requested}. The input or output tokens must be reduced in order to run successfully.`);
  }
}

export interface LimiterStats {
  /** Requests admitted. */
  admitted: number;
  /** Of those, requests that had to wait. */
  queued: number;
  /** Total and longest wait of admitted requests, ms. */
  waitMsTotal: number;
  waitMsMax: number;
  /** Ms the head of some model's queue was blocked, by the limit that blocked it: which limit binds. */
  blockedMs: Record<BlockReason, number>;
  /** Waiting now. */
  queueDepth: number;
  /** Admitted and not yet released, now and at peak. */
  inFlight: number;
  inFlightPeak: number;
  /** The limits in force: the window, and RPM/TPM of every model seen. */
  windowMs: number;
  models: Record<string, { rpm: number; tpm: number }>;
}

interface Waiter {
  need: number;
  sinceMs: number;
  admit: (waitedMs: number) => void;
  cancelled: boolean;
}

interface ModelState {
  requests: TokenBucket;
  tokens: TokenBucket;
  /** FIFO waiters: a deque, since Array.shift is O(n) past ~16k waiting calls. */
  queue: Deque<Waiter>;
  timer?: NodeJS.Timeout;
  /** Why the head of the queue waits, and since when (for blockedMs). */
  blocked?: { reason: BlockReason; sinceMs: number };
}

/** Admission control of one simulated provider: one instance per server or in-process client. */
export class ProviderLimiter {
  private readonly models = new Map<string, ModelState>();
  private admittedNow = 0;
  /** Models whose queue head waits for a free concurrency slot. */
  private readonly slotWaiters = new Set<string>();
  private readonly s: Omit<LimiterStats, 'windowMs' | 'models'> = {
    admitted: 0, queued: 0, waitMsTotal: 0, waitMsMax: 0, blockedMs: { requests: 0, tokens: 0, concurrency: 0 }, queueDepth: 0, inFlight: 0, inFlightPeak: 0,
  };

  constructor(
    private readonly limits: LlmLimits,
    readonly windowMs: number,
    private readonly now: () => number = () => performance.now(),
  ) {}

  /** The buckets of a model (created on first use, full). */
  buckets(model: string): { requests: TokenBucket; tokens: TokenBucket } {
    return this.state(model);
  }

  private state(model: string): ModelState {
    let st = this.models.get(model);
    if (!st) {
      const p = profile(model);
      const t = this.now();
      st = { requests: new TokenBucket(this.limits.rpm ?? p.rpm, this.windowMs, t), tokens: new TokenBucket(this.limits.tpm ?? p.tpm, this.windowMs, t), queue: new Deque<Waiter>() };
      this.models.set(model, st);
    }
    return st;
  }

  /** Could this request ever be admitted? (A request over the token capacity never can.) */
  tooLarge(model: string, need: number): boolean {
    return need > this.state(model).tokens.capacity;
  }

  private check(st: ModelState, need: number, now: number): Admission {
    const wr = st.requests.waitMs(1, now);
    if (wr > 0) return { ok: false, reason: 'requests', waitMs: wr };
    const wt = st.tokens.waitMs(need, now);
    if (wt > 0) return { ok: false, reason: 'tokens', waitMs: wt };
    if (this.limits.maxConcurrent !== undefined && this.admittedNow >= this.limits.maxConcurrent) {
      // No bucket says when a slot frees up; suggest one simulated second.
      return { ok: false, reason: 'concurrency', waitMs: this.windowMs / 60 };
    }
    return { ok: true };
  }

  private take(st: ModelState, need: number, now: number, waitedMs: number): void {
    st.requests.take(1, now);
    st.tokens.take(need, now);
    this.admittedNow++;
    this.s.admitted++;
    this.s.inFlight = this.admittedNow;
    if (this.admittedNow > this.s.inFlightPeak) this.s.inFlightPeak = this.admittedNow;
    if (waitedMs > 0) {
      this.s.queued++;
      this.s.waitMsTotal += waitedMs;
      if (waitedMs > this.s.waitMsMax) this.s.waitMsMax = waitedMs;
    }
  }

  /**
   * Admit now or say why not (the 429 path). Never overtakes a request already waiting in
   * the model's queue. Throws RequestTooLargeError for a request that can never fit.
   */
  tryAdmit(model: string, need: number): Admission {
    const st = this.state(model);
    if (need > st.tokens.capacity) throw new RequestTooLargeError(model, st.tokens.capacity, need);
    const now = this.now();
    if (st.queue.length) return { ok: false, reason: st.blocked?.reason ?? 'requests', waitMs: 0 };
    const a = this.check(st, need, now);
    if (a.ok) this.take(st, need, now, 0);
    return a;
  }

  /**
   * Wait (FIFO per model) until the request is admitted; resolves with the ms waited.
   * Rejects with RequestTooLargeError at once for a request that can never fit, and with the
   * signal's reason if it is aborted while waiting.
   */
  admit(model: string, need: number, signal?: AbortSignal): Promise<number> {
    const st = this.state(model);
    if (need > st.tokens.capacity) return Promise.reject(new RequestTooLargeError(model, st.tokens.capacity, need));
    const now = this.now();
    if (!st.queue.length && this.check(st, need, now).ok) {
      this.take(st, need, now, 0);
      return Promise.resolve(0);
    }
    return new Promise<number>((resolve, reject) => {
      const w: Waiter = { need, sinceMs: now, admit: resolve, cancelled: false };
      st.queue.push(w);
      this.s.queueDepth++;
      signal?.addEventListener('abort', () => {
        if (w.cancelled) return;
        w.cancelled = true;
        reject(signal.reason);
        this.pump(model);
      }, { once: true });
      this.pump(model);
    });
  }

  /** An admitted request finished: free its concurrency slot. */
  release(): void {
    this.admittedNow--;
    this.s.inFlight = this.admittedNow;
    for (const model of [...this.slotWaiters]) this.pump(model);
  }

  private unblock(st: ModelState, now: number): void {
    if (st.blocked) this.s.blockedMs[st.blocked.reason] += now - st.blocked.sinceMs;
    st.blocked = undefined;
  }

  private pump(model: string): void {
    const st = this.state(model);
    if (st.timer) { clearTimeout(st.timer); st.timer = undefined; }
    this.slotWaiters.delete(model);
    while (st.queue.length) {
      const head = st.queue.peek()!;
      const now = this.now();
      if (head.cancelled) { st.queue.shift(); this.s.queueDepth--; continue; }
      const a = this.check(st, head.need, now);
      if (a.ok) {
        st.queue.shift();
        this.s.queueDepth--;
        this.unblock(st, now);
        const waited = now - head.sinceMs;
        this.take(st, head.need, now, waited);
        head.admit(waited);
        continue;
      }
      if (st.blocked?.reason !== a.reason) {
        this.unblock(st, now);
        st.blocked = { reason: a.reason, sinceMs: now };
      }
      if (a.reason === 'concurrency') this.slotWaiters.add(model);
      else st.timer = setTimeout(() => this.pump(model), Math.max(1, Math.ceil(a.waitMs)));
      return;
    }
    this.unblock(st, this.now());
  }

  stats(): LimiterStats {
    const models = Object.fromEntries([...this.models].map(([m, st]) => [m, { rpm: st.requests.capacity, tpm: st.tokens.capacity }]));
    return { ...structuredClone(this.s), windowMs: this.windowMs, models };
  }

  /** Stop every pending timer (waiters stay pending: close what awaits them first). */
  close(): void {
    for (const st of this.models.values()) if (st.timer) clearTimeout(st.timer);
  }
}

/**
 * Server-load slowdown: above `capacity` calls in flight, service time is multiplied by
 * 1 + alpha x (inFlight / capacity - 1), fixed when the call starts. Off unless configured.
 * Public anchors for the shape (a knee, then growth roughly linear in concurrency):
 * vLLM, Mistral-7B on one RTX 4090: concurrency 4/8/16/32/48 -> median TTFT 53/55/97/277/840 ms
 * (https://mushfiqrahman.dev/?p=1668); vLLM, Qwen2.5-0.5B on one L4: concurrency 1 -> 32 raises
 * E2E p50 679 -> 1,082 ms (https://ai.wmx.dev/benchmarks).
 */
export interface LlmSlowdown {
  /** Calls in flight the server serves at full speed. */
  capacity: number;
  /** Extra service time per multiple of capacity above it (0.5: 2x capacity -> x1.5). */
  alpha: number;
}

export function slowdownFactor(inFlight: number, s: LlmSlowdown | undefined): number {
  if (!s) return 1;
  return 1 + s.alpha * Math.max(0, inFlight / s.capacity - 1);
}
