// The simulated LLM as an OpenAI-compatible HTTP server: the same keyed latency draw and content
// as the in-process simulator, plus what a provider does to you — RPM/TPM token buckets, a
// concurrency cap, 429s with x-ratelimit-* headers (or queueing), and keyed fault injection.
//
// Routes: POST /v1/chat/completions (JSON or `stream: true` SSE), GET /v1/models, GET /metrics.
// Headers the harness sends (all optional, so any OpenAI client works against it):
//   x-flockbench-identity       the call's identity; the latency draw and content are keyed by it
//                               (fallback: a hash of the messages, so paired comparisons still hold)
//   x-flockbench-output-tokens  target output tokens (fallback: max_completion_tokens, max_tokens, 256)
//   x-flockbench-prompt-tokens  the harness's own prompt count, reported as usage.prompt_tokens
//                               (fallback: o200k count of the messages, see tokens.ts)
//   x-flockbench-fixed          JSON object of fixed payload fields merged into structured content
//   x-flockbench-attempt        0-based attempt number; faults are drawn per (identity, attempt)
//                               (fallback: the server counts attempts per identity)
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import type { JsonSchema } from '../core/schema.ts';
import { keyedRng, shortHash } from '../core/random.ts';
import { drawLatency } from './draw.ts';
import { MODELS, type TailMode } from './profiles.ts';
import { responseContent } from './simulator.ts';
import { countPromptTokens, loadEncoder, type ChatMessage } from './tokens.ts';

/**
 * Provider rate limits. Absent or `false`: no limits. `true` or an object: per-model RPM and TPM
 * token buckets (capacity = the limit, refilled continuously over `windowMs`), defaults from the
 * model's profile; `maxConcurrent` caps admitted in-flight requests server-wide (default: none).
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

/** Fault rates, each a probability in [0, 1] drawn per (identity, attempt). */
export interface LlmFaults {
  /** HTTP 500 after the scaled TTFT (the provider did some work, then failed). */
  http5xx?: number;
  /** No response: the request hangs until the client gives up (or `hangMs`). */
  timeout?: number;
  /** HTTP 200 with a truncated JSON body (or a broken SSE chunk) after the full latency. */
  malformed?: number;
  /** How long a hung request is held before the socket is destroyed (default 600 000 ms). */
  hangMs?: number;
}

export interface LlmServerOptions {
  /** Port on 127.0.0.1 (default 0: any free port). */
  port?: number;
  seed: number;
  /** Multiplies every latency (default 1). */
  latencyScale?: number;
  tail?: TailMode;
  limits?: boolean | LlmLimits;
  faults?: LlmFaults;
  /** Over a limit, queue the request (FIFO per model) instead of answering 429 (default false). */
  queueing?: boolean;
}

export interface LlmServerMetrics {
  /** Requests other than GET /v1/models and GET /metrics (those are not counted anywhere). */
  requests: number;
  /** TCP connections accepted (keep-alive reuses them). */
  connections: number;
  byStatus: Record<string, number>;
  rateLimited: number;
  /** Requests that waited in the admission queue (queueing mode). */
  queued: number;
  queueDepth: number;
  faults: { http5xx: number; timeout: number; malformed: number };
  inFlight: number;
  inFlightPeak: number;
  streams: number;
  tokens: { prompt: number; completion: number };
}

export interface LlmServer {
  url: string;
  port: number;
  metrics(): LlmServerMetrics;
  close(): Promise<void>;
}

const DEFAULT_OUTPUT_TOKENS = 256;

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

interface Waiter {
  need: number;
  admit: () => void;
  cancelled: boolean;
}

interface ModelLimiter {
  requests: TokenBucket;
  tokens: TokenBucket;
  queue: Waiter[];
  timer?: NodeJS.Timeout;
}

type Admission = { ok: true } | { ok: false; reason: 'requests' | 'tokens' | 'concurrency'; waitMs: number };

/** OpenAI's duration format for x-ratelimit-reset-*: "120ms", "1.5s", "6m0s". */
export function formatResetDuration(ms: number): string {
  if (ms < 1000) return `${Math.ceil(ms)}ms`;
  const s = ms / 1000;
  if (s < 60) return `${Number(s.toFixed(3))}s`;
  return `${Math.floor(s / 60)}m${Math.round(s % 60)}s`;
}

class HttpError extends Error {
  constructor(readonly status: number, message: string, readonly type: string, readonly param: string | null = null, readonly code: string | null = null) {
    super(message);
  }
}

function errorBody(e: HttpError): string {
  return JSON.stringify({ error: { message: e.message, type: e.type, param: e.param, code: e.code } });
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function header(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

const TEXT_WORDS = ('the a of market policy model signal risk growth study report shows data result team plan ' +
  'said new first level early trend review update source claim point case rate strong weak').split(' ');

/** Deterministic prose of roughly `tokens` tokens (common words are one o200k token each). */
export function responseText(seed: number, identity: string, tokens: number): string {
  const rng = keyedRng(seed, 'text', identity);
  const words: string[] = [];
  for (let i = 0; i < tokens; i++) words.push(TEXT_WORDS[Math.floor(rng() * TEXT_WORDS.length)]);
  return words.join(' ');
}

interface Parsed {
  model: string;
  messages: ChatMessage[];
  stream: boolean;
  includeUsage: boolean;
  schema?: JsonSchema;
  tool?: string;
  identity: string;
  outputTokens: number;
  promptTokensHeader?: number;
  fixed?: Record<string, unknown>;
}

function parseRequest(req: IncomingMessage, raw: string): Parsed {
  let body: Record<string, unknown>;
  try {
    body = JSON.parse(raw);
  } catch {
    throw new HttpError(400, 'We could not parse the JSON body of your request. (HINT: This likely means you aren\'t using your HTTP library correctly. The OpenAI API expects a JSON payload, but what was sent was not valid JSON.)', 'invalid_request_error');
  }
  if (!body || typeof body !== 'object' || Array.isArray(body)) throw new HttpError(400, 'The request body must be a JSON object.', 'invalid_request_error');
  if (typeof body.model !== 'string' || !body.model) throw new HttpError(400, 'you must provide a model parameter', 'invalid_request_error');
  if (!MODELS[body.model]) throw new HttpError(404, `The model \`${body.model}\` does not exist or you do not have access to it.`, 'invalid_request_error', null, 'model_not_found');
  if (!Array.isArray(body.messages)) throw new HttpError(400, "Missing required parameter: 'messages'.", 'invalid_request_error', 'messages', 'missing_required_parameter');
  if (body.messages.length === 0) throw new HttpError(400, "Invalid 'messages': empty array. Expected an array with minimum length 1, but got an empty array instead.", 'invalid_request_error', 'messages', 'empty_array');
  const messages = body.messages as ChatMessage[];

  let schema: JsonSchema | undefined;
  let tool: string | undefined;
  const rf = body.response_format as { type?: string; json_schema?: { schema?: JsonSchema } } | undefined;
  if (rf?.type === 'json_schema') {
    if (!rf.json_schema?.schema || typeof rf.json_schema.schema !== 'object') throw new HttpError(400, "Missing required parameter: 'response_format.json_schema.schema'.", 'invalid_request_error', 'response_format.json_schema.schema', 'missing_required_parameter');
    schema = rf.json_schema.schema;
  } else if (Array.isArray(body.tools) && body.tools.length > 0) {
    const tools = body.tools as { function?: { name?: string; parameters?: JsonSchema } }[];
    const choice = body.tool_choice as { function?: { name?: string } } | string | undefined;
    const wanted = typeof choice === 'object' ? choice?.function?.name : undefined;
    const t = (wanted && tools.find((x) => x.function?.name === wanted)) || tools[0];
    if (choice !== 'none' && t.function?.parameters) {
      schema = t.function.parameters;
      tool = t.function.name ?? 'tool';
    }
  }

  const identity = header(req, 'x-flockbench-identity') ?? `msg:${shortHash(JSON.stringify(messages), 24)}`;
  const outHeader = Number(header(req, 'x-flockbench-output-tokens'));
  const maxTok = Number(body.max_completion_tokens ?? body.max_tokens);
  const outputTokens = outHeader > 0 ? outHeader : maxTok > 0 ? maxTok : DEFAULT_OUTPUT_TOKENS;
  const ptHeader = header(req, 'x-flockbench-prompt-tokens');
  const promptTokensHeader = ptHeader !== undefined && Number.isFinite(Number(ptHeader)) ? Number(ptHeader) : undefined;
  let fixed: Record<string, unknown> | undefined;
  const fixedHeader = header(req, 'x-flockbench-fixed');
  if (fixedHeader) {
    try {
      fixed = JSON.parse(fixedHeader);
    } catch {
      throw new HttpError(400, 'x-flockbench-fixed must be a JSON object.', 'invalid_request_error', null, null);
    }
  }
  const so = body.stream_options as { include_usage?: boolean } | undefined;
  return { model: body.model, messages, stream: body.stream === true, includeUsage: so?.include_usage === true, schema, tool, identity, outputTokens, promptTokensHeader, fixed };
}

/**
 * Sleep until `ms` after `t0` (performance.now clock). Timers are armed against libuv's cached
 * loop time, which lags behind, so a single sleep can end up to ~1 ms early: re-check and top up.
 */
async function waitUntil(t0: number, ms: number, signal: AbortSignal): Promise<void> {
  for (let left = ms - (performance.now() - t0); left > 0; left = ms - (performance.now() - t0)) {
    await sleep(Math.max(1, Math.ceil(left)), undefined, { signal });
  }
}

/** Start the simulated provider. Resolves once it listens. */
export async function startLlmServer(opts: LlmServerOptions): Promise<LlmServer> {
  const scale = opts.latencyScale ?? 1;
  const tail = opts.tail;
  const seed = opts.seed;
  const limits: LlmLimits | undefined = opts.limits === true ? {} : opts.limits || undefined;
  const windowMs = limits?.windowMs ?? (scale > 0 ? 60_000 * scale : 60_000);
  const faults = opts.faults ?? {};
  const hangMs = faults.hangMs ?? 600_000;
  const queueing = opts.queueing ?? false;

  const m: LlmServerMetrics = {
    requests: 0, connections: 0, byStatus: {}, rateLimited: 0, queued: 0, queueDepth: 0,
    faults: { http5xx: 0, timeout: 0, malformed: 0 }, inFlight: 0, inFlightPeak: 0, streams: 0,
    tokens: { prompt: 0, completion: 0 },
  };
  const limiters = new Map<string, ModelLimiter>();
  const attempts = new Map<string, number>();
  const live = new Set<AbortController>();
  let admitted = 0; // admitted requests in flight (the concurrency cap counts these)
  const concurrencyWaiters = new Set<string>(); // models whose queue head waits for a free slot

  function limiter(model: string): ModelLimiter {
    let l = limiters.get(model);
    if (!l) {
      const p = MODELS[model];
      const now = performance.now();
      l = { requests: new TokenBucket(limits?.rpm ?? p.rpm, windowMs, now), tokens: new TokenBucket(limits?.tpm ?? p.tpm, windowMs, now), queue: [] };
      limiters.set(model, l);
    }
    return l;
  }

  function check(l: ModelLimiter, need: number, now: number): Admission {
    const wr = l.requests.waitMs(1, now);
    if (wr > 0) return { ok: false, reason: 'requests', waitMs: wr };
    const wt = l.tokens.waitMs(need, now);
    if (wt > 0) return { ok: false, reason: 'tokens', waitMs: wt };
    if (limits?.maxConcurrent !== undefined && admitted >= limits.maxConcurrent) {
      // No bucket says when a slot frees up; suggest one simulated second.
      return { ok: false, reason: 'concurrency', waitMs: windowMs / 60 };
    }
    return { ok: true };
  }

  function take(l: ModelLimiter, need: number, now: number): void {
    l.requests.take(1, now);
    l.tokens.take(need, now);
    admitted++;
  }

  function pump(model: string): void {
    const l = limiter(model);
    if (l.timer) { clearTimeout(l.timer); l.timer = undefined; }
    concurrencyWaiters.delete(model);
    while (l.queue.length) {
      const head = l.queue[0];
      if (head.cancelled) { l.queue.shift(); m.queueDepth--; continue; }
      const now = performance.now();
      const a = check(l, head.need, now);
      if (a.ok) {
        l.queue.shift();
        m.queueDepth--;
        take(l, head.need, now);
        head.admit();
        continue;
      }
      if (a.reason === 'concurrency') concurrencyWaiters.add(model);
      else l.timer = setTimeout(() => pump(model), Math.max(1, Math.ceil(a.waitMs)));
      return;
    }
  }

  function release(): void {
    admitted--;
    for (const model of [...concurrencyWaiters]) pump(model);
  }

  function rateHeaders(l: ModelLimiter, now: number): Record<string, string> {
    return {
      'x-ratelimit-limit-requests': String(l.requests.capacity),
      'x-ratelimit-remaining-requests': String(Math.max(0, l.requests.remaining(now))),
      'x-ratelimit-reset-requests': formatResetDuration(l.requests.resetMs(now)),
      'x-ratelimit-limit-tokens': String(l.tokens.capacity),
      'x-ratelimit-remaining-tokens': String(Math.max(0, l.tokens.remaining(now))),
      'x-ratelimit-reset-tokens': formatResetDuration(l.tokens.resetMs(now)),
    };
  }

  function send(res: ServerResponse, status: number, body: string, headers: Record<string, string> = {}, counted = true): void {
    if (counted) m.byStatus[status] = (m.byStatus[status] ?? 0) + 1;
    if (res.destroyed) return;
    res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), ...headers });
    res.end(body);
  }

  async function chat(req: IncomingMessage, res: ServerResponse, signal: AbortSignal): Promise<void> {
    const p = parseRequest(req, await readBody(req));
    const attemptHeader = Number(header(req, 'x-flockbench-attempt'));
    let attempt: number;
    if (Number.isInteger(attemptHeader) && attemptHeader >= 0) attempt = attemptHeader;
    else { attempt = attempts.get(p.identity) ?? 0; attempts.set(p.identity, attempt + 1); }
    const promptTokens = p.promptTokensHeader ?? countPromptTokens(await loadEncoder(), p.messages);

    // Admission: token buckets and the concurrency cap.
    let l: ModelLimiter | undefined;
    if (limits) {
      l = limiter(p.model);
      const need = promptTokens + p.outputTokens;
      const now = performance.now();
      if (need > l.tokens.capacity) {
        // Could never be admitted: OpenAI answers 429 "Request too large" at once, queue or not.
        m.rateLimited++;
        throw new HttpError(429, `Request too large for ${p.model}: Limit ${l.tokens.capacity}, Requested ${need}. The input or output tokens must be reduced in order to run successfully.`, 'tokens', null, 'rate_limit_exceeded');
      }
      // Queueing keeps FIFO order: nobody overtakes a request already waiting.
      const a: Admission = l.queue.length && queueing ? { ok: false, reason: 'requests', waitMs: 0 } : check(l, need, now);
      if (!a.ok) {
        if (queueing) {
          m.queued++;
          m.queueDepth++;
          await new Promise<void>((resolve, reject) => {
            const w: Waiter = { need, admit: resolve, cancelled: false };
            l!.queue.push(w);
            signal.addEventListener('abort', () => { w.cancelled = true; reject(signal.reason); }, { once: true });
            pump(p.model);
          });
        } else {
          m.rateLimited++;
          const lim = a.reason === 'tokens' ? l.tokens.capacity : a.reason === 'requests' ? l.requests.capacity : limits.maxConcurrent;
          const what = a.reason === 'tokens' ? 'tokens per min (TPM)' : a.reason === 'requests' ? 'requests per min (RPM)' : 'concurrent requests';
          const waitMs = Math.max(1, Math.ceil(a.waitMs));
          const e = new HttpError(429, `Rate limit reached for ${p.model} in organization org-flockbench on ${what}: Limit ${lim}. Please try again in ${formatResetDuration(waitMs)}.`, a.reason === 'concurrency' ? 'requests' : a.reason, null, 'rate_limit_exceeded');
          send(res, 429, errorBody(e), { ...rateHeaders(l, now), 'retry-after': String(Math.ceil(waitMs / 1000)), 'retry-after-ms': String(waitMs) });
          return;
        }
      } else {
        take(l, need, now);
      }
    }

    try {
      await respond(p, attempt, promptTokens, res, signal, l);
    } finally {
      if (l) release();
    }
  }

  async function respond(p: Parsed, attempt: number, promptTokens: number, res: ServerResponse, signal: AbortSignal, l: ModelLimiter | undefined): Promise<void> {
    const d = drawLatency({ seed, tail }, { model: p.model, identity: p.identity, outputTokens: p.outputTokens });
    const ttftMs = d.ttftMs * scale;
    const totalMs = d.totalMs * scale;
    const t0 = performance.now();
    const u = keyedRng(seed, 'fault', p.identity, attempt)();
    const r5 = faults.http5xx ?? 0, rt = faults.timeout ?? 0, rm = faults.malformed ?? 0;
    const fault = u < r5 ? 'http5xx' : u < r5 + rt ? 'timeout' : u < r5 + rt + rm ? 'malformed' : undefined;
    const rl = l ? rateHeaders(l, performance.now()) : {};

    if (fault === 'timeout') {
      m.faults.timeout++;
      await sleep(hangMs, undefined, { signal });
      res.destroy();
      return;
    }
    if (fault === 'http5xx') {
      m.faults.http5xx++;
      await waitUntil(t0, ttftMs, signal);
      send(res, 500, errorBody(new HttpError(500, 'The server had an error while processing your request. Sorry about that!', 'server_error')), rl);
      return;
    }

    const id = `chatcmpl-${shortHash(`${seed}:${p.identity}:${attempt}`, 24)}`;
    const created = Math.floor(Date.now() / 1000);
    const structured = p.schema ? responseContent(seed, { identity: p.identity, schema: p.schema, fixed: p.fixed }) : undefined;
    const text = structured ? JSON.stringify(structured) : responseText(seed, p.identity, d.tokensOut);
    const usage = { prompt_tokens: promptTokens, completion_tokens: d.tokensOut, total_tokens: promptTokens + d.tokensOut };
    const toolCall = p.tool ? { id: `call_${shortHash(id, 24)}`, type: 'function', function: { name: p.tool, arguments: text } } : undefined;
    const finish = toolCall ? 'tool_calls' : 'stop';
    m.tokens.prompt += promptTokens;
    m.tokens.completion += d.tokensOut;

    if (!p.stream) {
      await waitUntil(t0, totalMs, signal);
      const message = toolCall ? { role: 'assistant', content: null, tool_calls: [toolCall], refusal: null } : { role: 'assistant', content: text, refusal: null };
      let body = JSON.stringify({ id, object: 'chat.completion', created, model: p.model, choices: [{ index: 0, message, logprobs: null, finish_reason: finish }], usage, system_fingerprint: 'fp_flockbench' });
      if (fault === 'malformed') { m.faults.malformed++; body = body.slice(0, Math.floor(body.length / 2)); }
      send(res, 200, body, rl);
      return;
    }

    // SSE: first chunk at TTFT, the content in up to 16 chunks paced to end at the total latency.
    m.streams++;
    const chunk = (delta: Record<string, unknown>, finishReason: string | null = null, extra: Record<string, unknown> = {}) =>
      `data: ${JSON.stringify({ id, object: 'chat.completion.chunk', created, model: p.model, system_fingerprint: 'fp_flockbench', choices: [{ index: 0, delta, logprobs: null, finish_reason: finishReason }], ...extra })}\n\n`;
    const at = (ms: number) => waitUntil(t0, ms, signal);
    await at(ttftMs);
    m.byStatus[200] = (m.byStatus[200] ?? 0) + 1;
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive', ...rl });
    res.write(chunk(toolCall ? { role: 'assistant', content: null, tool_calls: [{ index: 0, id: toolCall.id, type: 'function', function: { name: p.tool, arguments: '' } }] } : { role: 'assistant', content: '', refusal: null }));
    // At most 16 chunks and at least ~2 ms apart: more would only cost CPU, not fidelity.
    const n = Math.max(1, Math.min(16, d.tokensOut, text.length, Math.floor((totalMs - ttftMs) / 2)));
    for (let i = 0; i < n; i++) {
      const piece = text.slice(Math.floor((i * text.length) / n), Math.floor(((i + 1) * text.length) / n));
      await at(ttftMs + ((totalMs - ttftMs) * (i + 1)) / n);
      if (res.destroyed) return;
      if (fault === 'malformed' && i === Math.floor(n / 2)) {
        m.faults.malformed++;
        res.write(`data: {"id":"${id}","choices":[{"delta":{"content":\n\n`);
        continue;
      }
      res.write(chunk(toolCall ? { tool_calls: [{ index: 0, function: { arguments: piece } }] } : { content: piece }));
    }
    res.write(chunk({}, finish));
    if (p.includeUsage) res.write(`data: ${JSON.stringify({ id, object: 'chat.completion.chunk', created, model: p.model, choices: [], usage })}\n\n`);
    res.end('data: [DONE]\n\n');
  }

  const server = createServer({ keepAliveTimeout: 30_000 }, (req, res) => {
    const url = (req.url ?? '/').split('?')[0];
    if (req.method === 'GET' && url === '/v1/models') {
      return send(res, 200, JSON.stringify({ object: 'list', data: Object.keys(MODELS).map((id) => ({ id, object: 'model', created: 0, owned_by: 'flockbench' })) }), {}, false);
    }
    if (req.method === 'GET' && url === '/metrics') return send(res, 200, JSON.stringify(metrics()), {}, false);
    m.requests++;
    m.inFlight++;
    m.inFlightPeak = Math.max(m.inFlightPeak, m.inFlight);
    const ac = new AbortController();
    live.add(ac);
    res.on('close', () => {
      m.inFlight--;
      live.delete(ac);
      if (!res.writableFinished) ac.abort(new Error('client closed the connection'));
    });
    const handle = async () => {
      if (req.method === 'POST' && url === '/v1/chat/completions') return chat(req, res, ac.signal);
      throw new HttpError(404, `Invalid URL (${req.method} ${url})`, 'invalid_request_error');
    };
    handle().catch((e: unknown) => {
      if (ac.signal.aborted) { if (!res.destroyed) res.destroy(); return; }
      if (e instanceof HttpError) return send(res, e.status, errorBody(e));
      send(res, 500, errorBody(new HttpError(500, `simulator error: ${(e as Error).message}`, 'server_error')));
    });
  });

  server.on('connection', () => { m.connections++; });

  function metrics(): LlmServerMetrics {
    return structuredClone(m);
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, '127.0.0.1', () => { server.off('error', reject); resolve(); });
  });
  const port = (server.address() as AddressInfo).port;
  let closed: Promise<void> | undefined;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    metrics,
    close() {
      closed ??= new Promise<void>((resolve) => {
        for (const l of limiters.values()) if (l.timer) clearTimeout(l.timer);
        for (const ac of live) ac.abort(new Error('server closing'));
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return closed;
    },
  };
}
