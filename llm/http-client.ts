// LlmClient over HTTP against any OpenAI-compatible chat endpoint (normally `flockbench llm serve`
// or the server createLlm starts). Keep-alive connections, bounded retries with exponential
// backoff and full jitter that honour retry-after, and honest per-client accounting.
//
// Billing of failed attempts (what stats() and each response's tokens/cost include):
// - 429: nothing (the provider rejected before any work).
// - 5xx: nothing (OpenAI and Anthropic do not bill errored requests).
// - timeout (client gave up): the prompt tokens — the provider ingested the prompt; what it
//   generated after we left is unknown, so this is a lower bound on what a provider may bill.
// - malformed body (an HTTP 200 we could not parse): prompt + the drawn output tokens — the
//   provider finished and billed the completion; we lost it.
// A response's tokensIn/tokensOut/costUsd are the totals over all attempts of that call, so the
// sum over responses equals stats().
import { Agent, request as httpRequest } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { keyedRng } from '../core/random.ts';
import { costUsd, drawLatency } from './draw.ts';
import type { TailMode } from './profiles.ts';
import { emptyStats, type LatencyDraw, type LlmClient, type LlmRequest, type LlmResponse, type LlmStats } from './types.ts';

export interface HttpLlmOptions {
  /** Base URL of the server, e.g. http://127.0.0.1:4000 (the client appends /v1/chat/completions). */
  url: string;
  /** Seed and tail of the local draw behind drawnLatencyMs: use the server's. */
  seed: number;
  tail?: TailMode;
  /** Scales the default deadline and backoffs (default 1). */
  latencyScale?: number;
  /** Retries after the first attempt (default 4). */
  maxRetries?: number;
  /**
   * Per-attempt deadline in ms (default max(10 000, 60 000 x latencyScale)). The floor is wall
   * time: opening a few hundred loopback connections at once takes ~1 s on a loaded 2-core box.
   */
  timeoutMs?: number;
  /** Backoff cap of the first retry, doubling each retry (default max(1, 500 x latencyScale) ms). */
  backoffBaseMs?: number;
  /** Upper bound of one backoff (default max(10, 8000 x latencyScale) ms). */
  backoffMaxMs?: number;
  /** Use SSE streaming (default false). */
  stream?: boolean;
  /** Max sockets of the keep-alive agent (default 1024). */
  maxSockets?: number;
  /** Extra headers on every request (e.g. authorization for a real endpoint). */
  headers?: Record<string, string>;
}

/** A call that failed after its last retry, or with a non-retryable status. */
export class LlmCallError extends Error {
  constructor(readonly identity: string, readonly attempts: number, readonly lastError: string, readonly status?: number) {
    super(`LLM call '${identity}' failed after ${attempts} attempt(s): ${lastError}`);
  }
}

type AttemptResult =
  | { kind: 'ok'; content?: Record<string, unknown>; text?: string; tokensIn: number; tokensOut: number }
  | { kind: 'rate-limited'; retryAfterMs?: number; message: string }
  | { kind: 'server-error'; status: number; message: string }
  | { kind: 'timeout'; message: string }
  | { kind: 'malformed'; message: string }
  | { kind: 'network'; message: string }
  | { kind: 'client-error'; status: number; message: string };

function retryAfterMs(h: Record<string, string | string[] | undefined>): number | undefined {
  const ms = Number(h['retry-after-ms']);
  if (Number.isFinite(ms) && ms >= 0) return ms;
  const raw = h['retry-after'];
  const s = Number(Array.isArray(raw) ? raw[0] : raw);
  if (Number.isFinite(s) && s >= 0) return s * 1000;
  if (typeof raw === 'string') {
    const at = Date.parse(raw);
    if (Number.isFinite(at)) return Math.max(0, at - Date.now());
  }
  return undefined;
}

export class HttpLlm implements LlmClient {
  readonly transport = 'http' as const;
  private readonly s: LlmStats = emptyStats();
  private readonly agent: Agent;
  private readonly endpoint: URL;
  private readonly maxRetries: number;
  private readonly timeoutMs: number;
  private readonly backoffBaseMs: number;
  private readonly backoffMaxMs: number;

  constructor(private readonly opts: HttpLlmOptions) {
    const scale = opts.latencyScale ?? 1;
    this.endpoint = new URL('/v1/chat/completions', opts.url);
    const maxSockets = opts.maxSockets ?? 1024;
    // maxFreeSockets defaults to 256: above that concurrency, sockets would close and reconnect.
    this.agent = new Agent({ keepAlive: true, maxSockets, maxFreeSockets: maxSockets });
    this.maxRetries = opts.maxRetries ?? 4;
    this.timeoutMs = opts.timeoutMs ?? Math.max(10_000, 60_000 * scale);
    this.backoffBaseMs = opts.backoffBaseMs ?? Math.max(1, 500 * scale);
    this.backoffMaxMs = opts.backoffMaxMs ?? Math.max(10, 8000 * scale);
  }

  /** The server's base URL. */
  get baseUrl(): string {
    return this.opts.url;
  }

  draw(req: Pick<LlmRequest, 'model' | 'identity' | 'outputTokens'> & { promptTokens?: number }): LatencyDraw {
    return drawLatency({ seed: this.opts.seed, tail: this.opts.tail }, req);
  }

  async complete(req: LlmRequest): Promise<LlmResponse> {
    const d = this.draw(req);
    const t0 = performance.now();
    let tokensIn = 0, tokensOut = 0, cost = 0;
    const bill = (i: number, o: number) => {
      const c = costUsd(req.model, i, o);
      tokensIn += i; tokensOut += o; cost += c;
      this.s.tokensIn += i; this.s.tokensOut += o; this.s.costUsd += c;
    };
    let last: AttemptResult | undefined;
    for (let attempt = 0; ; attempt++) {
      const r = await this.attempt(req, attempt);
      last = r;
      if (r.kind === 'ok') {
        bill(r.tokensIn, r.tokensOut);
        this.s.calls++;
        return {
          drawnLatencyMs: d.totalMs,
          scaledLatencyMs: performance.now() - t0,
          ttftMs: d.ttftMs,
          tokensIn,
          tokensOut,
          costUsd: cost,
          retries: attempt,
          content: r.content,
        };
      }
      if (r.kind === 'rate-limited') this.s.rateLimited++;
      if (r.kind === 'timeout') bill(req.promptTokens, 0);
      if (r.kind === 'malformed') bill(req.promptTokens, d.tokensOut);
      if (r.kind === 'client-error' || attempt >= this.maxRetries) break;
      this.s.retries++;
      await sleep(this.backoffMs(req.identity, attempt, r.kind === 'rate-limited' ? r.retryAfterMs : undefined));
    }
    this.s.failures++;
    const status = last.kind === 'client-error' || last.kind === 'server-error' ? last.status : last.kind === 'rate-limited' ? 429 : undefined;
    throw new LlmCallError(req.identity, last.kind === 'client-error' ? 1 : this.maxRetries + 1, `${last.kind}: ${'message' in last ? last.message : ''}`, status);
  }

  /** Full jitter over an exponentially growing cap, never shorter than the server's retry-after. Keyed, so reproducible. */
  private backoffMs(identity: string, attempt: number, retryAfter: number | undefined): number {
    const cap = Math.min(this.backoffMaxMs, this.backoffBaseMs * 2 ** attempt);
    const jitter = keyedRng(this.opts.seed, 'backoff', identity, attempt)() * cap;
    return retryAfter === undefined ? jitter : Math.max(retryAfter, jitter);
  }

  private attempt(req: LlmRequest, attempt: number): Promise<AttemptResult> {
    const stream = this.opts.stream ?? false;
    const body: Record<string, unknown> = {
      model: req.model,
      messages: [
        { role: 'system', content: `You are agent ${req.agent}.` },
        { role: 'user', content: req.identity },
      ],
      stream,
    };
    if (stream) body.stream_options = { include_usage: true };
    if (req.schema) body.response_format = { type: 'json_schema', json_schema: { name: 'artifact', schema: req.schema, strict: false } };
    const payload = JSON.stringify(body);
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      'content-length': String(Buffer.byteLength(payload)),
      'x-flockbench-identity': req.identity,
      'x-flockbench-prompt-tokens': String(req.promptTokens),
      'x-flockbench-output-tokens': String(req.outputTokens),
      'x-flockbench-attempt': String(attempt),
      ...this.opts.headers,
    };
    if (req.fixed) headers['x-flockbench-fixed'] = JSON.stringify(req.fixed);

    return new Promise<AttemptResult>((resolve) => {
      let done = false;
      const finish = (r: AttemptResult) => { if (!done) { done = true; clearTimeout(timer); resolve(r); } };
      const timer = setTimeout(() => {
        finish({ kind: 'timeout', message: `no response within ${this.timeoutMs} ms` });
        creq.destroy();
      }, this.timeoutMs);
      const creq = httpRequest(this.endpoint, { method: 'POST', agent: this.agent, headers }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', (e) => finish({ kind: 'network', message: e.message }));
        res.on('aborted', () => finish({ kind: 'network', message: 'response aborted' }));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          const status = res.statusCode ?? 0;
          if (status === 429) return finish({ kind: 'rate-limited', retryAfterMs: retryAfterMs(res.headers), message: errorMessage(text) });
          if (status >= 500) return finish({ kind: 'server-error', status, message: errorMessage(text) });
          if (status !== 200) return finish({ kind: 'client-error', status, message: `HTTP ${status}: ${errorMessage(text)}` });
          try {
            finish(parseCompletion(text, (res.headers['content-type'] ?? '').includes('text/event-stream'), !!req.schema));
          } catch (e) {
            finish({ kind: 'malformed', message: (e as Error).message });
          }
        });
      });
      creq.on('error', (e) => finish({ kind: 'network', message: e.message }));
      creq.end(payload);
    });
  }

  /**
   * Open `connections` keep-alive sockets before the run (GET /v1/models on each), so the first
   * wave of calls does not pay TCP connects: ~0.3-0.8 s for a few hundred at once on a loaded box.
   */
  async warmUp(connections: number): Promise<void> {
    const url = new URL('/v1/models', this.opts.url);
    await Promise.all(Array.from({ length: Math.min(connections, this.agent.maxSockets) }, () => new Promise<void>((resolve) => {
      const r = httpRequest(url, { agent: this.agent, headers: this.opts.headers }, (res) => { res.resume(); res.on('end', resolve); res.on('error', () => resolve()); });
      r.on('error', () => resolve());
      r.end();
    })));
  }

  stats(): LlmStats {
    return { ...this.s };
  }

  async close(): Promise<void> {
    this.agent.destroy();
  }
}

function errorMessage(text: string): string {
  try {
    return JSON.parse(text).error?.message ?? text.slice(0, 200);
  } catch {
    return text.slice(0, 200);
  }
}

/** Parse a chat completion (JSON or SSE). Throws on anything malformed. */
function parseCompletion(text: string, sse: boolean, structured: boolean): AttemptResult {
  let content = '';
  let usage: { prompt_tokens?: number; completion_tokens?: number } | undefined;
  if (sse) {
    let sawDone = false;
    for (const event of text.split('\n\n')) {
      const line = event.trim();
      if (!line) continue;
      if (!line.startsWith('data:')) throw new Error(`unexpected SSE line: ${line.slice(0, 60)}`);
      const data = line.slice(5).trim();
      if (data === '[DONE]') { sawDone = true; break; }
      const chunk = JSON.parse(data);
      const delta = chunk.choices?.[0]?.delta;
      content += delta?.content ?? delta?.tool_calls?.[0]?.function?.arguments ?? '';
      if (chunk.usage) usage = chunk.usage;
    }
    if (!sawDone) throw new Error('SSE stream ended without [DONE]');
  } else {
    const body = JSON.parse(text);
    const msg = body.choices?.[0]?.message;
    content = msg?.content ?? msg?.tool_calls?.[0]?.function?.arguments ?? '';
    usage = body.usage;
  }
  if (typeof usage?.prompt_tokens !== 'number' || typeof usage.completion_tokens !== 'number') throw new Error('response without usage');
  const out: AttemptResult = { kind: 'ok', tokensIn: usage.prompt_tokens, tokensOut: usage.completion_tokens };
  if (structured) {
    const parsed = JSON.parse(content);
    if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error('structured content is not a JSON object');
    out.content = parsed;
  } else out.text = content;
  return out;
}
