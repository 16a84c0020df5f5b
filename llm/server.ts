// The simulated LLM as an OpenAI-compatible HTTP server: the same keyed latency draw and content
// as the in-process simulator, plus what a provider does to you — RPM/TPM token buckets, a
// concurrency cap, 429s with x-ratelimit-* headers (or queueing), keyed fault injection, and the
// API's own checks (400 for malformed requests, output caps and context windows, 413 past the
// body limit), so real clients (openai for Python and Node, LiteLLM, DSPy) run against it.
//
// Routes: POST /v1/chat/completions (JSON or `stream: true` SSE), GET /v1/models,
// GET /v1/models/{id}, GET /metrics, POST /metrics/reset. Every response has an x-request-id.
//
// Headers the harness sends (all optional, so any OpenAI client works against it):
//   x-flockbench-identity       the call's identity; the latency draw and content are keyed by it
//   x-flockbench-output-tokens  target output tokens: usage and latency follow the keyed draw
//                               around it ("declared" length; the payload is a stand-in)
//   x-flockbench-prompt-tokens  the harness's own prompt count, reported as usage.prompt_tokens
//   x-flockbench-fixed          JSON object of fixed payload fields merged into structured content
//   x-flockbench-attempt        0-based attempt number; faults are drawn per (identity, attempt)
//
// Without them (a real client), the server works as a provider would:
// - identity: the call's logical input (see identify): registered pairing markers give the
//   harness's own identity `agent(input keys)`; otherwise a hash of the messages with volatile
//   parts (UUIDs, timestamps, long ids) removed. The n-th repeat of an identity in a run is keyed
//   `identity#n` (a fallback or a retry is another call, with its own draw).
// - the reply: a tool call when a tool fits the request and no tool result came back yet; JSON
//   valid against response_format (json_schema with $ref/$defs, anyOf, nullable types, const,
//   enum) or a JSON object (json_object); DSPy's `[[ ## field ## ]]` sections when the system
//   prompt is DSPy's ChatAdapter; prose otherwise. Its length is drawn around a target
//   (the pairing agent's outputTokens, else 256 tokens); max_tokens caps it (finish_reason
//   "length", content cut there).
// - usage: completion tokens counted (o200k) from the content returned; prompt tokens from the
//   messages, tool definitions and response_format schema. Latency follows these counts:
//   TTFT = keyed draw + prompt prefill, then completion tokens at the keyed speed.
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import type { JsonSchema } from '../core/schema.ts';
import { keyedRng, shortHash } from '../core/random.ts';
import { prose, valueForSchema } from './content.ts';
import { drawCall, latencyOf, realizedTokens, type CallDraw } from './draw.ts';
import { chatAdapterReply, parseDspyPrompt, type DspyField } from './dspy.ts';
import { limitWindowMs, ProviderLimiter, RequestTooLargeError, slowdownFactor, type LlmLimits, type LlmSlowdown } from './limits.ts';
import { MODELS, type TailMode } from './profiles.ts';
import { checkContext, errorBody, HttpError, validateChatRequest, type ChatRequest, type ToolSpec } from './request.ts';
import { responseContent } from './simulator.ts';
import {
  countPromptTokens, countResponseFormatTokens, countText, countToolTokens, encoderNow, EXACT_CHARS, loadEncoder, truncateToTokens, type ChatMessage,
} from './tokens.ts';

/** Provider limits (see llm/limits.ts); re-exported here, where the HTTP options live. */
export type { LlmLimits };

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
  /** Server-load slowdown above a concurrency capacity (default: off; llm/limits.ts). */
  slowdown?: LlmSlowdown;
  /** Largest request body accepted (default 8 MiB); larger ones get HTTP 413. */
  maxBodyBytes?: number;
  /** How calls without x-flockbench-identity find their harness identity (default: none). */
  pairing?: PairingHints;
  /**
   * Load the tokenizer before listening (default true), so no request pays for it. A server that
   * only the harness calls (it sends x-flockbench-prompt-tokens and a declared length) can pass
   * false: the o200k tables are then loaded on the first request that needs a count. They make
   * every GC of the process dearer, which shows in rate-limit timing on a busy 2-core box.
   */
  loadTokenizer?: boolean;
  /**
   * The rate limiter's clock, ms (default performance.now). Buckets refill and queued requests
   * are admitted by it; latencies are always waited in real time. Tests pass one they advance,
   * so admissions can be counted exactly whatever the machine's load.
   */
  clock?: () => number;
  /** Told about every answered chat call once its reply is composed (before it is sent). */
  onCall?: (call: LlmCallInfo) => void;
}

/** One answered chat call, as the server drew and counted it. */
export interface LlmCallInfo {
  model: string;
  identity: string;
  /** The identity without its repeat suffix (`#n`): the logical call it belongs to. */
  logicalIdentity: string;
  keyedBy: 'header' | 'paired' | 'content';
  promptTokens: number;
  completionTokens: number;
  /** Unscaled latency drawn for the reply (TTFT incl. prefill + output), ms. */
  latencyMs: number;
}

/**
 * Markers that let the server give a header-less call (a real framework's) the identity the
 * harness gives the same logical call, so its draw is paired with the other systems': when the
 * prompt contains exactly one agent's marker and some input markers, the identity is
 * `identity(agent, input keys)`. Outputs the server writes for such calls become input markers
 * themselves (their longest free-text string), so a downstream batch (an editor reading 8
 * analyses) is paired too.
 */
export interface PairingHints {
  agents: { agent: string; marker: string; outputTokens?: number }[];
  inputs: { key: string; marker: string }[];
  identity: (agent: string, inputKeys: string[]) => string;
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
  /** Most chat requests in flight at once since the server started or was last reset. */
  inFlightPeak: number;
  streams: number;
  tokens: { prompt: number; completion: number };
  /** How answered calls were keyed: harness header, pairing markers, or message content. */
  identities: { header: number; paired: number; content: number };
  /** Replies cut by max_tokens (finish_reason "length"). */
  truncated: number;
  /** Resets (POST /metrics/reset or reset()) so far; counters above restart at each. */
  resets: number;
}

export interface LlmServer {
  url: string;
  port: number;
  metrics(): LlmServerMetrics;
  /** Restart the counters, the in-flight peak and the per-run identity repeats (a new run). */
  reset(): LlmServerMetrics;
  close(): Promise<void>;
}

/** Target length of a reply nobody declared (tokens, before the keyed length factor). */
const DEFAULT_OUTPUT_TOKENS = 256;
const DEFAULT_MAX_BODY_BYTES = 8 * 1024 * 1024;

/** OpenAI's duration format for x-ratelimit-reset-*: "120ms", "1.5s", "6m0s". */
export function formatResetDuration(ms: number): string {
  if (ms < 1000) return `${Math.ceil(ms)}ms`;
  const s = ms / 1000;
  if (s < 60) return `${Number(s.toFixed(3))}s`;
  return `${Math.floor(s / 60)}m${Math.round(s % 60)}s`;
}

function readBody(req: IncomingMessage, limit: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const tooLarge = () => new HttpError(413, `Request body too large: the limit is ${limit} bytes.`, 'invalid_request_error', null, 'request_too_large');
    const declared = Number(req.headers['content-length']);
    if (Number.isFinite(declared) && declared > limit) { req.resume(); reject(tooLarge()); return; }
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (c: Buffer) => {
      size += c.length;
      if (size > limit) {
        // Drain the rest without keeping it: memory stays bounded whatever the client sends.
        chunks.length = 0;
        req.off('data', onData);
        req.resume();
        reject(tooLarge());
        return;
      }
      chunks.push(c);
    };
    req.on('data', onData);
    req.on('end', () => { if (size <= limit) resolve(Buffer.concat(chunks).toString('utf8')); });
    req.on('error', reject);
  });
}

function header(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

/** Deterministic prose of exactly `tokens` tokens (every word is one o200k token). */
export function responseText(seed: number, identity: string, tokens: number): string {
  return prose(keyedRng(seed, 'text', identity), tokens);
}

function textOf(content: unknown): string {
  if (typeof content === 'string') return content;
  if (Array.isArray(content)) return content.map((p) => (typeof p?.text === 'string' ? p.text : '')).join('\n');
  return content == null ? '' : JSON.stringify(content);
}

/** Volatile parts of a prompt (ids, clocks) that differ between runs of the same logical call. */
const VOLATILE: [RegExp, string][] = [
  [/\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b/gi, '<uuid>'],
  [/\b\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?/g, '<time>'],
  [/\b(call|chatcmpl|req|run|msg)_[A-Za-z0-9]{8,}\b/g, '<id>'],
  [/\b[0-9a-f]{16,}\b/gi, '<hex>'],
  [/\b\d{10,}(\.\d+)?\b/g, '<num>'],
];

/** The messages with volatile parts replaced: equal for equal logical calls. */
export function normalizedPrompt(messages: ChatMessage[]): string {
  let text = messages.map((m) => `${String(m.role)}\u0000${textOf(m.content)}\u0000${m.tool_calls ? JSON.stringify(m.tool_calls) : ''}`).join('\u0001');
  for (const [re, by] of VOLATILE) text = text.replace(re, by);
  return text;
}

/** The longest string leaf of a payload: how a later prompt that quotes it is recognized. */
export function payloadMarker(payload: unknown): string {
  let best = '';
  const walk = (v: unknown) => {
    if (typeof v === 'string') { if (v.length > best.length) best = v; }
    else if (Array.isArray(v)) v.forEach(walk);
    else if (v && typeof v === 'object') Object.values(v).forEach(walk);
  };
  walk(payload);
  return best;
}

/** Markers shorter than this are too likely to occur by chance. */
const MIN_MARKER_CHARS = 16;

const STOP = new Set('the and for with what which from that this into your you are get set has have give tell about please'.split(' '));
function words(text: string): Set<string> {
  return new Set(text.replace(/([a-z])([A-Z])/g, '$1 $2').toLowerCase().split(/[^a-z0-9]+/).filter((w) => w.length >= 3 && !STOP.has(w)));
}

/**
 * The tool a request calls, if any. Forced (`required`, a named function): always. `auto`: none
 * once a tool result is the last message (answer in text, so tool loops end), else the tool whose
 * name or description shares words with the last user message, or none when nothing matches.
 */
export function chooseTool(c: ChatRequest): ToolSpec | undefined {
  if (!c.tools.length || c.toolChoice === 'none') return undefined;
  if (typeof c.toolChoice === 'object') { const name = c.toolChoice.name; return c.tools.find((t) => t.name === name); }
  const last = c.messages[c.messages.length - 1];
  const afterResult = last?.role === 'tool' || last?.role === 'function';
  if (afterResult && c.toolChoice === 'auto') return undefined;
  const user = [...c.messages].reverse().find((m) => m.role === 'user');
  const asked = words(textOf(user?.content));
  let best: ToolSpec | undefined, bestScore = 0;
  for (const t of c.tools) {
    const have = words(`${t.name} ${t.description ?? ''}`);
    let score = 0;
    for (const w of have) if (asked.has(w)) score++;
    if (score > bestScore) { best = t; bestScore = score; }
  }
  return best ?? (c.toolChoice === 'required' ? c.tools[0] : undefined);
}

interface Choice {
  message: Record<string, unknown>;
  /** The text streamed: content, or the tool call's arguments. */
  text: string;
  toolCall?: { id: string; name: string };
  finish: 'stop' | 'length' | 'tool_calls';
  completionTokens: number;
  marker: string;
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

/**
 * Start the simulated provider. Resolves once it listens, with the tokenizer loaded (so the first
 * request does not pay for it in its TTFT).
 */
export async function startLlmServer(opts: LlmServerOptions): Promise<LlmServer> {
  const scale = opts.latencyScale ?? 1;
  const tail = opts.tail;
  const seed = opts.seed;
  const limits: LlmLimits | undefined = opts.limits === true ? {} : opts.limits || undefined;
  const windowMs = limitWindowMs(limits ?? {}, scale);
  const faults = opts.faults ?? {};
  const hangMs = faults.hangMs ?? 600_000;
  const queueing = opts.queueing ?? false;
  const maxBodyBytes = opts.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  const pairing = opts.pairing;
  const clock = opts.clock ?? (() => performance.now());
  if (opts.loadTokenizer ?? true) await loadEncoder();

  const fresh = (): LlmServerMetrics => ({
    requests: 0, connections: 0, byStatus: {}, rateLimited: 0, queued: 0, queueDepth: 0,
    faults: { http5xx: 0, timeout: 0, malformed: 0 }, inFlight: 0, inFlightPeak: 0, streams: 0,
    tokens: { prompt: 0, completion: 0 }, identities: { header: 0, paired: 0, content: 0 }, truncated: 0, resets: 0,
  });
  let m = fresh();
  const limiter = limits ? new ProviderLimiter(limits, windowMs, clock) : undefined;
  let serving = 0; // requests past admission, being answered (the slowdown counts these)
  const attempts = new Map<string, number>();
  /** Repeats of a derived identity in this run (reset() starts a new run). */
  const repeats = new Map<string, number>();
  /** Input markers: the pairing's seeds plus the outputs written for paired calls. */
  const inputMarkers = new Map<string, string>((pairing?.inputs ?? []).filter((x) => x.marker.length >= MIN_MARKER_CHARS).map((x) => [x.marker, x.key]));
  const live = new Set<AbortController>();

  /**
   * The logical identity of a header-less call: the harness's `agent(keys)` when the pairing
   * markers identify one agent and its inputs, else a hash of the normalized messages.
   */
  function identify(messages: ChatMessage[]): { base: string; paired: boolean; outputTokens?: number } {
    if (pairing) {
      const prompt = messages.filter((x) => x.role !== 'assistant' && x.role !== 'tool').map((x) => textOf(x.content)).join('\n');
      const agents = pairing.agents.filter((a) => a.marker.length >= MIN_MARKER_CHARS && prompt.includes(a.marker));
      // Descriptions may contain one another: the longest match wins, and it must be unique.
      agents.sort((a, b) => b.marker.length - a.marker.length);
      const agent = agents.length && (agents.length === 1 || agents[0].marker.length > agents[1].marker.length) ? agents[0] : undefined;
      if (agent) {
        // DSPy prompts carry more than the inputs (Flock passes earlier artifacts of the same
        // correlation as a `context` field): look for input markers in the `input` field only.
        const at = prompt.lastIndexOf('[[ ## input ## ]]');
        const next = at < 0 ? -1 : prompt.indexOf('[[ ## ', at + 1);
        const inputs = at < 0 ? prompt : prompt.slice(at, next < 0 ? undefined : next);
        const keys = [...new Set([...inputMarkers].filter(([marker]) => inputs.includes(marker)).map(([, key]) => key))];
        if (keys.length) return { base: pairing.identity(agent.agent, keys), paired: true, outputTokens: agent.outputTokens };
      }
    }
    return { base: `content:${shortHash(normalizedPrompt(messages), 24)}`, paired: false };
  }

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

  /**
   * `arrivedAt`: when the request came in. Its latency is waited from there (or from its
   * admission, if it queued), so the CPU the server spends reading, counting and composing
   * replies on a busy event loop is absorbed by the wait instead of added to it.
   */
  async function chat(req: IncomingMessage, res: ServerResponse, signal: AbortSignal, arrivedAt: number): Promise<void> {
    let t0 = arrivedAt;
    const raw = await readBody(req, maxBodyBytes);
    let body: unknown;
    try {
      body = JSON.parse(raw);
    } catch {
      throw new HttpError(400, 'We could not parse the JSON body of your request. (HINT: This likely means you aren\'t using your HTTP library correctly. The OpenAI API expects a JSON payload, but what was sent was not valid JSON.)', 'invalid_request_error');
    }
    const c = validateChatRequest(body);
    const outHeader = Number(header(req, 'x-flockbench-output-tokens'));
    // A declared length is the harness's; still bounded by the model's output cap.
    const declaredTokens = outHeader > 0 ? Math.min(Math.round(outHeader), c.profile.maxOutputTokens) : undefined;
    const ptHeader = header(req, 'x-flockbench-prompt-tokens');
    let fixed: Record<string, unknown> | undefined;
    const fixedHeader = header(req, 'x-flockbench-fixed');
    if (fixedHeader) {
      try {
        fixed = JSON.parse(fixedHeader);
      } catch {
        throw new HttpError(400, 'x-flockbench-fixed must be a JSON object.', 'invalid_request_error', null, null);
      }
    }
    let promptTokens: number;
    if (ptHeader !== undefined && Number.isFinite(Number(ptHeader))) promptTokens = Number(ptHeader);
    else {
      const enc = encoderNow() ?? (await loadEncoder());
      const budget = { chars: EXACT_CHARS };
      promptTokens = countPromptTokens(enc, c.messages, budget) + countToolTokens(enc, c.rawTools as never[], budget) + countResponseFormatTokens(enc, c.rawResponseFormat, budget);
    }
    checkContext(c, promptTokens);

    const identityHeader = header(req, 'x-flockbench-identity');
    const attemptHeader = Number(header(req, 'x-flockbench-attempt'));
    let identity: string, logicalIdentity: string, attempt: number, keyedBy: keyof LlmServerMetrics['identities'], targetTokens: number | undefined, pairedBase: string | undefined;
    if (identityHeader) {
      identity = logicalIdentity = identityHeader;
      keyedBy = 'header';
      if (Number.isInteger(attemptHeader) && attemptHeader >= 0) attempt = attemptHeader;
      else { attempt = attempts.get(identity) ?? 0; attempts.set(identity, attempt + 1); }
    } else {
      const k = identify(c.messages);
      const n = repeats.get(k.base) ?? 0;
      repeats.set(k.base, n + 1);
      identity = n ? `${k.base}#${n}` : k.base;
      logicalIdentity = k.base;
      attempt = Number.isInteger(attemptHeader) && attemptHeader >= 0 ? attemptHeader : n;
      keyedBy = k.paired ? 'paired' : 'content';
      targetTokens = k.outputTokens;
      if (k.paired) pairedBase = k.base;
    }

    // Admission: token buckets and the concurrency cap (llm/limits.ts, shared with the in-process simulator).
    if (limiter) {
      const need = promptTokens + (declaredTokens ?? c.maxTokens ?? DEFAULT_OUTPUT_TOKENS);
      if (limiter.tooLarge(c.model, need)) {
        // Could never be admitted: OpenAI answers 429 "Request too large" at once, queue or not.
        m.rateLimited++;
        const cap = limiter.buckets(c.model).tokens.capacity;
        throw new HttpError(429, new RequestTooLargeError(c.model, cap, need).message, 'tokens', null, 'rate_limit_exceeded');
      }
      if (queueing) {
        // FIFO per model: nobody overtakes a request already waiting.
        const waited = await limiter.admit(c.model, need, signal);
        if (waited > 0) t0 = performance.now(); // queueing delay comes on top of the draw
      } else {
        const a = limiter.tryAdmit(c.model, need);
        if (!a.ok) {
          m.rateLimited++;
          const l = limiter.buckets(c.model);
          const lim = a.reason === 'tokens' ? l.tokens.capacity : a.reason === 'requests' ? l.requests.capacity : limits!.maxConcurrent;
          const what = a.reason === 'tokens' ? 'tokens per min (TPM)' : a.reason === 'requests' ? 'requests per min (RPM)' : 'concurrent requests';
          const waitMs = Math.max(1, Math.ceil(a.waitMs));
          const e = new HttpError(429, `Rate limit reached for ${c.model} in organization org-flockbench on ${what}: Limit ${lim}. Please try again in ${formatResetDuration(waitMs)}.`, a.reason === 'concurrency' ? 'requests' : a.reason, null, 'rate_limit_exceeded');
          send(res, 429, errorBody(e), { ...rateHeaders(c.model, clock()), 'retry-after': String(Math.ceil(waitMs / 1000)), 'retry-after-ms': String(waitMs) });
          return;
        }
      }
    }

    m.identities[keyedBy]++;
    serving++;
    try {
      await respond({ c, identity, logicalIdentity, keyedBy, attempt, promptTokens, declaredTokens, targetTokens, fixed, pairedBase, headerIdentity: !!identityHeader }, res, signal, slowdownFactor(serving, opts.slowdown), t0);
    } finally {
      serving--;
      limiter?.release();
    }
  }

  interface Call {
    c: ChatRequest;
    identity: string;
    logicalIdentity: string;
    keyedBy: LlmCallInfo['keyedBy'];
    attempt: number;
    promptTokens: number;
    /** x-flockbench-output-tokens: usage and latency follow the draw around it. */
    declaredTokens?: number;
    /** Target length of a header-less reply (the paired agent's), default DEFAULT_OUTPUT_TOKENS. */
    targetTokens?: number;
    fixed?: Record<string, unknown>;
    /** The paired identity (without repeat suffix) whose outputs become input markers. */
    pairedBase?: string;
    headerIdentity: boolean;
  }

  /** Compose one choice: what is written, its length, its finish reason. */
  function compose(x: Call, d: CallDraw, index: number): Choice {
    const { c } = x;
    const enc = encoderNow(); // loaded: at start, or by the prompt count of a header-less call
    const count = (t: string) => countText(enc, t, { chars: Number.POSITIVE_INFINITY });
    const key = index ? `${x.identity}~${index}` : x.identity;
    const rngFor = (stream: string) => () => keyedRng(seed, 'content', key, stream);
    const sized = (schema: unknown, target?: number) => valueForSchema(schema, (s) => rngFor(s)(), { targetTokens: target, countTokens: count });
    const cap = c.profile.maxOutputTokens;
    const declared = x.declaredTokens !== undefined ? Math.min(cap, realizedTokens(d, x.declaredTokens)) : undefined;
    const target = declared ?? Math.min(cap, realizedTokens(d, x.targetTokens ?? DEFAULT_OUTPUT_TOKENS));
    let text: string, marker = '', toolCall: Choice['toolCall'];
    let known: number | undefined; // token count known without encoding (prose: a token a word)
    const tool = chooseTool(c);
    if (tool) {
      const v = sized(tool.parameters ?? { type: 'object', properties: {} });
      text = JSON.stringify(v.value);
      toolCall = { id: `call_${shortHash(`${seed}:${key}:${x.attempt}`, 24)}`, name: tool.name };
    } else if (c.responseFormat.type === 'json_schema') {
      let structured: unknown;
      if (x.headerIdentity && declared !== undefined) {
        // The harness's own schema: the payload the in-process simulator returns too.
        try { structured = responseContent(seed, { identity: x.identity, schema: c.responseFormat.schema as JsonSchema, fixed: x.fixed }); } catch { structured = undefined; }
      }
      if (structured === undefined) {
        const v = sized(c.responseFormat.schema, target);
        structured = x.fixed && v.value && typeof v.value === 'object' ? { ...(v.value as object), ...x.fixed } : v.value;
        marker = v.marker;
      }
      text = JSON.stringify(structured);
    } else {
      const system = c.messages.filter((msg) => msg.role === 'system' || msg.role === 'developer').map((msg) => textOf(msg.content)).join('\n');
      const dspy = parseDspyPrompt(system);
      if (dspy && (dspy.adapter === 'chat' ? c.responseFormat.type === 'text' : true)) {
        const fields = dspyValues(dspy.fields, target, rngFor, sized);
        marker = fields.marker;
        text = dspy.adapter === 'chat' && c.responseFormat.type === 'text'
          ? chatAdapterReply(fields.values.map((f) => ({ name: f.name, text: f.chat })))
          : JSON.stringify(Object.fromEntries(fields.values.map((f) => [f.name, f.json])));
      } else if (c.responseFormat.type === 'json_object') {
        text = JSON.stringify({ response: prose(rngFor('text')(), Math.max(1, target - 6)) });
      } else {
        text = declared !== undefined ? responseText(seed, key, declared) : prose(rngFor('text')(), target);
        known = declared ?? target;
      }
    }
    // Usage: what was written (the declared draw for the harness), cut at max_tokens.
    let tokens = declared !== undefined && !tool ? declared : known ?? count(text) + (tool ? count(tool.name) + 4 : 0);
    let finish: Choice['finish'] = tool ? 'tool_calls' : 'stop';
    if (c.maxTokens !== undefined && tokens > c.maxTokens) {
      text = declared !== undefined && !tool && c.responseFormat.type === 'text' ? responseText(seed, key, c.maxTokens) : truncateToTokens(enc, text, c.maxTokens);
      tokens = c.maxTokens;
      finish = 'length';
      m.truncated++;
    }
    const message = toolCall
      ? { role: 'assistant', content: null, tool_calls: [{ id: toolCall.id, type: 'function', function: { name: toolCall.name, arguments: text } }], refusal: null, annotations: [] }
      : { role: 'assistant', content: text, refusal: null, annotations: [] };
    return { message, text, toolCall, finish, completionTokens: tokens, marker };
  }

  async function respond(x: Call, res: ServerResponse, signal: AbortSignal, slowdown: number, t0: number): Promise<void> {
    const { c } = x;
    const d = drawCall({ seed, tail }, { model: c.model, identity: x.identity });
    const choices = Array.from({ length: c.n }, (_, i) => compose(x, d, i));
    const completion = choices.reduce((s, ch) => s + ch.completionTokens, 0);
    const lat = latencyOf(c.model, d, x.promptTokens, Math.max(...choices.map((ch) => ch.completionTokens)));
    if (x.pairedBase && choices[0].marker.length >= MIN_MARKER_CHARS) inputMarkers.set(choices[0].marker, x.pairedBase);
    opts.onCall?.({ model: c.model, identity: x.identity, logicalIdentity: x.logicalIdentity, keyedBy: x.keyedBy, promptTokens: x.promptTokens, completionTokens: completion, latencyMs: lat.totalMs });
    const ttftMs = lat.ttftMs * scale * slowdown;
    const totalMs = lat.totalMs * scale * slowdown;
    const u = keyedRng(seed, 'fault', x.identity, x.attempt)();
    const r5 = faults.http5xx ?? 0, rt = faults.timeout ?? 0, rm = faults.malformed ?? 0;
    const fault = u < r5 ? 'http5xx' : u < r5 + rt ? 'timeout' : u < r5 + rt + rm ? 'malformed' : undefined;
    const rl = limiter ? rateHeaders(c.model, clock()) : {};

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

    const id = `chatcmpl-${shortHash(`${seed}:${x.identity}:${x.attempt}`, 24)}`;
    const created = Math.floor(Date.now() / 1000);
    const usage = { prompt_tokens: x.promptTokens, completion_tokens: completion, total_tokens: x.promptTokens + completion };
    m.tokens.prompt += x.promptTokens;
    m.tokens.completion += completion;

    if (!c.stream) {
      await waitUntil(t0, totalMs, signal);
      let body = JSON.stringify({
        id, object: 'chat.completion', created, model: c.model,
        choices: choices.map((ch, index) => ({ index, message: ch.message, logprobs: null, finish_reason: ch.finish })),
        usage, service_tier: 'default', system_fingerprint: 'fp_flockbench',
      });
      if (fault === 'malformed') { m.faults.malformed++; body = body.slice(0, Math.floor(body.length / 2)); }
      send(res, 200, body, rl);
      return;
    }

    // SSE: first chunk at TTFT, the content in up to 16 chunks paced to end at the total latency.
    m.streams++;
    const chunk = (index: number, delta: Record<string, unknown>, finishReason: string | null = null) =>
      `data: ${JSON.stringify({ id, object: 'chat.completion.chunk', created, model: c.model, system_fingerprint: 'fp_flockbench', choices: [{ index, delta, logprobs: null, finish_reason: finishReason }] })}\n\n`;
    const at = (ms: number) => waitUntil(t0, ms, signal);
    await at(ttftMs);
    m.byStatus[200] = (m.byStatus[200] ?? 0) + 1;
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive', ...rl });
    choices.forEach((ch, index) => {
      res.write(chunk(index, ch.toolCall
        ? { role: 'assistant', content: null, tool_calls: [{ index: 0, id: ch.toolCall.id, type: 'function', function: { name: ch.toolCall.name, arguments: '' } }] }
        : { role: 'assistant', content: '', refusal: null }));
    });
    // At most 16 chunks and at least ~2 ms apart: more would only cost CPU, not fidelity.
    const longest = Math.max(...choices.map((ch) => ch.text.length));
    const n = Math.max(1, Math.min(16, Math.max(...choices.map((ch) => ch.completionTokens)), longest, Math.floor((totalMs - ttftMs) / 2)));
    for (let i = 0; i < n; i++) {
      await at(ttftMs + ((totalMs - ttftMs) * (i + 1)) / n);
      if (res.destroyed) return;
      if (fault === 'malformed' && i === Math.floor(n / 2)) {
        m.faults.malformed++;
        res.write(`data: {"id":"${id}","choices":[{"delta":{"content":\n\n`);
        continue;
      }
      choices.forEach((ch, index) => {
        const piece = ch.text.slice(Math.floor((i * ch.text.length) / n), Math.floor(((i + 1) * ch.text.length) / n));
        if (piece) res.write(chunk(index, ch.toolCall ? { tool_calls: [{ index: 0, function: { arguments: piece } }] } : { content: piece }));
      });
    }
    choices.forEach((ch, index) => { res.write(chunk(index, {}, ch.finish)); });
    if (c.includeUsage) res.write(`data: ${JSON.stringify({ id, object: 'chat.completion.chunk', created, model: c.model, choices: [], usage })}\n\n`);
    res.end('data: [DONE]\n\n');
  }

  const modelObject = (id: string) => ({ id, object: 'model', created: 0, owned_by: 'flockbench' });

  const server = createServer({ keepAliveTimeout: 30_000 }, (req, res) => {
    const url = (req.url ?? '/').split('?')[0];
    res.setHeader('x-request-id', `req_${randomBytes(12).toString('hex')}`);
    if (req.method === 'GET' && url === '/v1/models') {
      return send(res, 200, JSON.stringify({ object: 'list', data: Object.keys(MODELS).map(modelObject) }), {}, false);
    }
    if (req.method === 'GET' && url.startsWith('/v1/models/')) {
      const id = decodeURIComponent(url.slice('/v1/models/'.length));
      if (MODELS[id]) return send(res, 200, JSON.stringify(modelObject(id)), {}, false);
      return send(res, 404, errorBody(new HttpError(404, `The model '${id}' does not exist`, 'invalid_request_error', 'model', 'model_not_found')), {}, false);
    }
    if (req.method === 'GET' && url === '/metrics') return send(res, 200, JSON.stringify(metrics()), {}, false);
    if (req.method === 'POST' && url === '/metrics/reset') { req.resume(); return send(res, 200, JSON.stringify(reset()), {}, false); }
    m.requests++;
    m.inFlight++;
    m.inFlightPeak = Math.max(m.inFlightPeak, m.inFlight);
    const arrivedAt = performance.now();
    const ac = new AbortController();
    live.add(ac);
    const counted = m;
    res.on('close', () => {
      counted.inFlight--;
      if (counted !== m) m.inFlight--; // a reset happened meanwhile: the new counters carried it
      live.delete(ac);
      if (!res.writableFinished) ac.abort(new Error('client closed the connection'));
    });
    const handle = async () => {
      if (req.method === 'POST' && url === '/v1/chat/completions') return chat(req, res, ac.signal, arrivedAt);
      req.resume();
      throw new HttpError(404, `Invalid URL (${req.method} ${url})`, 'invalid_request_error');
    };
    handle().catch((e: unknown) => {
      if (ac.signal.aborted) { if (!res.destroyed) res.destroy(); return; }
      if (e instanceof HttpError) return send(res, e.status, errorBody(e), e.status === 413 ? { connection: 'close' } : {});
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

  function reset(): LlmServerMetrics {
    const before = metrics();
    const next = fresh();
    next.inFlight = m.inFlight;
    next.inFlightPeak = m.inFlight;
    next.resets = m.resets + 1;
    m = next;
    repeats.clear();
    attempts.clear();
    return before;
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
    reset,
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

/** Values of DSPy's output fields: schema fields sized so the reply nears `target` tokens. */
function dspyValues(
  fields: DspyField[],
  target: number,
  rngFor: (stream: string) => () => () => number,
  sized: (schema: unknown, target?: number) => { value: unknown; marker: string },
): { values: { name: string; chat: string; json: unknown }[]; marker: string } {
  const textFields = fields.filter((f) => f.value.kind === 'text' || f.value.kind === 'schema').length || 1;
  const share = Math.max(8, Math.floor(target / textFields));
  let marker = '';
  const values = fields.map((f) => {
    const rng = rngFor(`dspy:${f.name}`)();
    const v = f.value;
    switch (v.kind) {
      case 'bool': { const b = rng() < 0.5; return { name: f.name, chat: b ? 'True' : 'False', json: b }; }
      case 'int': { const n = Math.floor(rng() * 100); return { name: f.name, chat: String(n), json: n }; }
      case 'float': { const n = Math.round(rng() * 1e4) / 1e4; return { name: f.name, chat: String(n), json: n }; }
      case 'choice': { const c = v.values[Math.floor(rng() * v.values.length)]; return { name: f.name, chat: c, json: c }; }
      case 'schema': {
        const s = sized(v.schema, share);
        if (s.marker.length > marker.length) marker = s.marker;
        return { name: f.name, chat: JSON.stringify(s.value), json: s.value };
      }
      default: { const t = prose(rng, share); if (t.length > marker.length) marker = t; return { name: f.name, chat: t, json: t }; }
    }
  });
  return { values, marker };
}
