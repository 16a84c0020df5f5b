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
import { limitWindowMs, ProviderLimiter, RequestTooLargeError, slowdownFactor, type LlmLimits, type LlmSlowdown } from './limits.ts';
import { MODELS, type TailMode } from './profiles.ts';
import { responseContent } from './simulator.ts';
import { countPromptTokens, loadEncoder, type ChatMessage } from './tokens.ts';

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

/** Provider limits (see llm/limits.ts); re-exported here, where the HTTP options live. */
export type { LlmLimits };

export interface LlmServerOptions {
  /** Port on 127.0.0.1 (default 0: any free port). */
  port?: number;
  seed: number;
  /** Multiplies every latency (default 1). */
  latencyScale?: number;
  tail?: TailMode;
  /** Absent or `false`: no limits. `true` or an object: RPM/TPM buckets per model (llm/limits.ts). */
  limits?: boolean | LlmLimits;
  faults?: LlmFaults;
  /** Over a limit, queue the request (FIFO per model) instead of answering 429 (default false). */
  queueing?: boolean;
  /** Server-load slowdown above a concurrency capacity (default: off; llm/limits.ts). */
  slowdown?: LlmSlowdown;
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
  const windowMs = limitWindowMs(limits ?? {}, scale);
  const faults = opts.faults ?? {};
  const hangMs = faults.hangMs ?? 600_000;
  const queueing = opts.queueing ?? false;
  let serving = 0; // requests past admission, being answered (the slowdown counts these)

  const m: LlmServerMetrics = {
    requests: 0, connections: 0, byStatus: {}, rateLimited: 0, queued: 0, queueDepth: 0,
    faults: { http5xx: 0, timeout: 0, malformed: 0 }, inFlight: 0, inFlightPeak: 0, streams: 0,
    tokens: { prompt: 0, completion: 0 },
  };
  const limiter = limits ? new ProviderLimiter(limits, windowMs) : undefined;
  const attempts = new Map<string, number>();
  const live = new Set<AbortController>();

  function rateHeaders(model: string, now: number): Record<string, string> {
    const l = limiter!.buckets(model);
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

    // Admission: token buckets and the concurrency cap (llm/limits.ts, shared with the in-process simulator).
    if (limiter) {
      const need = promptTokens + p.outputTokens;
      if (limiter.tooLarge(p.model, need)) {
        // Could never be admitted: OpenAI answers 429 "Request too large" at once, queue or not.
        m.rateLimited++;
        const cap = limiter.buckets(p.model).tokens.capacity;
        throw new HttpError(429, new RequestTooLargeError(p.model, cap, need).message, 'tokens', null, 'rate_limit_exceeded');
      }
      if (queueing) {
        // FIFO per model: nobody overtakes a request already waiting.
        await limiter.admit(p.model, need, signal);
      } else {
        const a = limiter.tryAdmit(p.model, need);
        if (!a.ok) {
          m.rateLimited++;
          const l = limiter.buckets(p.model);
          const lim = a.reason === 'tokens' ? l.tokens.capacity : a.reason === 'requests' ? l.requests.capacity : limits!.maxConcurrent;
          const what = a.reason === 'tokens' ? 'tokens per min (TPM)' : a.reason === 'requests' ? 'requests per min (RPM)' : 'concurrent requests';
          const waitMs = Math.max(1, Math.ceil(a.waitMs));
          const e = new HttpError(429, `Rate limit reached for ${p.model} in organization org-flockbench on ${what}: Limit ${lim}. Please try again in ${formatResetDuration(waitMs)}.`, a.reason === 'concurrency' ? 'requests' : a.reason, null, 'rate_limit_exceeded');
          send(res, 429, errorBody(e), { ...rateHeaders(p.model, performance.now()), 'retry-after': String(Math.ceil(waitMs / 1000)), 'retry-after-ms': String(waitMs) });
          return;
        }
      }
    }

    serving++;
    try {
      await respond(p, attempt, promptTokens, res, signal, slowdownFactor(serving, opts.slowdown));
    } finally {
      serving--;
      limiter?.release();
    }
  }

  async function respond(p: Parsed, attempt: number, promptTokens: number, res: ServerResponse, signal: AbortSignal, slowdown: number): Promise<void> {
    const d = drawLatency({ seed, tail }, { model: p.model, identity: p.identity, outputTokens: p.outputTokens });
    const ttftMs = d.ttftMs * scale * slowdown;
    const totalMs = d.totalMs * scale * slowdown;
    const t0 = performance.now();
    const u = keyedRng(seed, 'fault', p.identity, attempt)();
    const r5 = faults.http5xx ?? 0, rt = faults.timeout ?? 0, rm = faults.malformed ?? 0;
    const fault = u < r5 ? 'http5xx' : u < r5 + rt ? 'timeout' : u < r5 + rt + rm ? 'malformed' : undefined;
    const rl = limiter ? rateHeaders(p.model, performance.now()) : {};

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
    const out = structuredClone(m);
    if (limiter) {
      const ls = limiter.stats();
      out.queued = ls.queued;
      out.queueDepth = ls.queueDepth;
    }
    return out;
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
        limiter?.close();
        for (const ac of live) ac.abort(new Error('server closing'));
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return closed;
    },
  };
}
