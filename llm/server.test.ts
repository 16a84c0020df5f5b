import { Agent, request } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import type { JsonSchema } from '../core/schema.ts';
import { validatePayload } from '../core/schema.ts';
import { shuffled, keyedRng } from '../core/random.ts';
import { drawLatency } from './draw.ts';
import { MODELS } from './profiles.ts';
import { startLlmServer, type LlmServer, type LlmServerOptions } from './server.ts';
import { responseContent } from './simulator.ts';

const SCHEMA: JsonSchema = {
  type: 'object',
  properties: {
    title: { type: 'string', minLength: 5, maxLength: 40 },
    score: { type: 'number', minimum: 0, maximum: 1 },
    tags: { type: 'array', items: { type: 'string' }, minItems: 1, maxItems: 3 },
    kind: { enum: ['a', 'b'] },
  },
  required: ['title', 'score', 'tags', 'kind'],
};

const servers: LlmServer[] = [];
async function start(o: Partial<LlmServerOptions> = {}): Promise<LlmServer> {
  const s = await startLlmServer({ seed: 7, latencyScale: 0.001, ...o });
  servers.push(s);
  return s;
}
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

function chat(s: LlmServer, body: unknown, headers: Record<string, string> = {}, signal?: AbortSignal): Promise<Response> {
  return fetch(`${s.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
    signal,
  });
}

/** Poll until `cond` holds (a state of the server, not a duration); fails after 30 s. */
async function until(cond: () => boolean, what: string): Promise<void> {
  for (const t0 = performance.now(); !cond(); await new Promise((r) => setTimeout(r, 5))) {
    if (performance.now() - t0 > 30_000) throw new Error(`timed out waiting for ${what}`);
  }
}

/** A rate-limiter clock the test moves: admissions are then counted, not raced. */
function manualClock() {
  const c = { ms: 0, now: () => c.ms };
  return c;
}

const msgs = (text: string) => [{ role: 'user', content: text }];

function quantile(xs: number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))];
}

describe('llm server: OpenAI surface', () => {
  it('returns schema-valid structured output, the same payload as the in-process simulator', async () => {
    const s = await start();
    const fixed = { correlationId: 'c-1' };
    const r = await chat(s, { model: 'gpt-4o-mini', messages: msgs('x'), response_format: { type: 'json_schema', json_schema: { name: 'a', schema: SCHEMA } } },
      { 'x-flockbench-identity': 'writer:k1', 'x-flockbench-fixed': JSON.stringify(fixed), 'x-flockbench-prompt-tokens': '321', 'x-flockbench-output-tokens': '40' });
    expect(r.status).toBe(200);
    const body = await r.json();
    const content = JSON.parse(body.choices[0].message.content);
    expect(validatePayload(SCHEMA, content)).toBeNull();
    expect(content).toEqual(responseContent(7, { identity: 'writer:k1', schema: SCHEMA, fixed }));
    expect(content.correlationId).toBe('c-1');
    const d = drawLatency({ seed: 7 }, { model: 'gpt-4o-mini', identity: 'writer:k1', outputTokens: 40 });
    expect(body.usage).toEqual({ prompt_tokens: 321, completion_tokens: d.tokensOut, total_tokens: 321 + d.tokensOut });
    expect(body.object).toBe('chat.completion');
    expect(body.choices[0].finish_reason).toBe('stop');
  });

  it('answers a forced tool call with schema-valid arguments', async () => {
    const s = await start();
    const r = await chat(s, {
      model: 'gpt-4.1', messages: msgs('y'),
      tools: [{ type: 'function', function: { name: 'other', parameters: { type: 'object', properties: {} } } }, { type: 'function', function: { name: 'emit', parameters: SCHEMA } }],
      tool_choice: { type: 'function', function: { name: 'emit' } },
    }, { 'x-flockbench-identity': 'tool:1' });
    const body = await r.json();
    const call = body.choices[0].message.tool_calls[0];
    expect(call.function.name).toBe('emit');
    expect(validatePayload(SCHEMA, JSON.parse(call.function.arguments))).toBeNull();
    expect(body.choices[0].finish_reason).toBe('tool_calls');
  });

  it('counts prompt tokens with o200k when the harness does not send its own count', async () => {
    const s = await start();
    const body = await (await chat(s, { model: 'gpt-4o-mini', messages: msgs('hello there'), max_tokens: 12 })).json();
    // 3 priming + per message (3 + 'user' 1 + 'hello there' 2).
    expect(body.usage.prompt_tokens).toBe(9);
    expect(typeof body.choices[0].message.content).toBe('string');
  });

  it('streams SSE chunks whose content matches the non-streamed one and ends with [DONE]', async () => {
    const s = await start({ latencyScale: 0.01 });
    const req = { model: 'gpt-4.1-mini', messages: msgs('z'), response_format: { type: 'json_schema', json_schema: { schema: SCHEMA } } };
    const h = { 'x-flockbench-identity': 'stream:1', 'x-flockbench-output-tokens': '60' };
    const plain = await (await chat(s, req, h)).json();
    const t0 = performance.now();
    const r = await chat(s, { ...req, stream: true, stream_options: { include_usage: true } }, h);
    const headersMs = performance.now() - t0;
    expect(r.headers.get('content-type')).toBe('text/event-stream');
    const text = await r.text();
    const totalMs = performance.now() - t0;
    const events = text.split('\n\n').filter(Boolean);
    expect(events.at(-1)).toBe('data: [DONE]');
    const chunks = events.slice(0, -1).map((e) => JSON.parse(e.slice('data: '.length)));
    expect(chunks.every((c) => c.object === 'chat.completion.chunk')).toBe(true);
    const content = chunks.map((c) => c.choices[0]?.delta?.content ?? '').join('');
    expect(content).toBe(plain.choices[0].message.content);
    expect(chunks.at(-1).usage).toEqual(plain.usage);
    const d = drawLatency({ seed: 7 }, { model: 'gpt-4.1-mini', identity: 'stream:1', outputTokens: 60 });
    // First chunk (the headers go with it) after the scaled TTFT; the stream lasts the scaled total.
    expect(headersMs).toBeGreaterThanOrEqual(d.ttftMs * 0.01 - 1);
    expect(totalMs).toBeGreaterThanOrEqual(d.totalMs * 0.01 - 1);
  });

  it('gives bad requests the status and error shape of the OpenAI API', async () => {
    const s = await start();
    const cases: [Promise<Response>, number, string | null, string | null][] = [
      [chat(s, '{not json'), 400, null, null],
      [chat(s, { messages: msgs('a') }), 400, null, null],
      [chat(s, { model: 'gpt-9', messages: msgs('a') }), 404, null, 'model_not_found'],
      [chat(s, { model: 'gpt-4o-mini' }), 400, 'messages', 'missing_required_parameter'],
      [fetch(`${s.url}/v1/nope`, { method: 'POST', body: '{}' }), 404, null, null],
    ];
    for (const [p, status, param, code] of cases) {
      const r = await p;
      expect(r.status).toBe(status);
      const body = await r.json();
      expect(Object.keys(body)).toEqual(['error']);
      expect(Object.keys(body.error).sort()).toEqual(['code', 'message', 'param', 'type']);
      expect(body.error.type).toBe('invalid_request_error');
      expect(body.error.param).toBe(param);
      expect(body.error.code).toBe(code);
      expect(body.error.message.length).toBeGreaterThan(5);
    }
    const models = await (await fetch(`${s.url}/v1/models`)).json();
    expect(models.data.map((m: { id: string }) => m.id)).toEqual(Object.keys(MODELS));
    const metrics = await (await fetch(`${s.url}/metrics`)).json();
    expect(metrics.byStatus).toMatchObject({ 400: 3, 404: 2 });
  });
});

describe('llm server: latency', () => {
  it('keys the draw by identity (or the messages), not by arrival order', async () => {
    const ids = Array.from({ length: 40 }, (_, i) => `agent:${i}`);
    const run = async (order: string[], header: boolean) => {
      const s = await start({ latencyScale: 0 });
      const out = new Map<string, number>();
      await Promise.all(order.map(async (id) => {
        const body = await (await chat(s, { model: 'claude-sonnet-4.x', messages: msgs(id), max_tokens: 5000 }, header ? { 'x-flockbench-identity': id } : {})).json();
        out.set(id, body.usage.completion_tokens);
      }));
      return out;
    };
    for (const header of [true, false]) {
      const a = await run(ids, header);
      const b = await run(shuffled(ids, keyedRng(1, 'order')).reverse(), header);
      expect([...b.entries()].sort()).toEqual([...a.entries()].sort());
    }
    const withHeader = await run(ids, true);
    // No declared length: prose around the default target (256 tokens), counted as written.
    for (const id of ids) expect(withHeader.get(id)).toBe(drawLatency({ seed: 7 }, { model: 'claude-sonnet-4.x', identity: id, outputTokens: 256 }).tokensOut);
  });

  it('never answers before the keyed draw, and waits the draw at the given scale (not twice it)', async () => {
    // Timing figures (percentiles of measured vs drawn TTFT) are `flockbench llm probe`'s job;
    // here only what holds on any machine. A response never comes before its own draw (delays
    // only add). And measured total against drawn total has a slope of 1: scheduling noise on a
    // loaded box adds delay that does not grow with the draw, so the median pairwise slope
    // (Theil-Sen) stays near 1 while a wrong scale (x2) or a mis-keyed draw (no relation, ~0)
    // moves it far away. Declared lengths from 20 to 2000 tokens spread the draws over seconds;
    // they are shuffled over the requests, so the order in which a busy event loop serves them
    // (which adds its own delay) does not line up with the draws.
    const scale = 0.2;
    const model = 'claude-sonnet-4.x';
    const n = 100;
    const s = await start({ latencyScale: scale });
    const agent = new Agent({ keepAlive: true });
    const lengths = shuffled(Array.from({ length: n }, (_, i) => 20 + 20 * i), keyedRng(1, 'lengths'));
    const outputTokens = (i: number) => lengths[i];
    const post = (i: number) => new Promise<{ ttft: number; total: number }>((resolve, reject) => {
      const t0 = performance.now();
      const headers = { 'content-type': 'application/json', 'x-flockbench-identity': `lat:${i}`, 'x-flockbench-output-tokens': String(outputTokens(i)), 'x-flockbench-prompt-tokens': '100' };
      const r = request(`${s.url}/v1/chat/completions`, { method: 'POST', agent, headers }, (res) => {
        const ttft = performance.now() - t0; // headers go out with the first chunk, at TTFT
        res.on('data', () => {});
        res.on('end', () => resolve({ ttft, total: performance.now() - t0 }));
      });
      r.on('error', reject);
      r.end(JSON.stringify({ model, messages: msgs('q'), stream: true }));
    });
    const samples = await Promise.all(Array.from({ length: n }, (_, i) => post(i)));
    agent.destroy();
    const drawn = samples.map((_, i) => drawLatency({ seed: 7 }, { model, identity: `lat:${i}`, outputTokens: outputTokens(i), promptTokens: 100 }));
    samples.forEach((x, i) => {
      expect(x.ttft).toBeGreaterThanOrEqual(drawn[i].ttftMs * scale - 1);
      expect(x.total).toBeGreaterThanOrEqual(drawn[i].totalMs * scale - 1);
    });
    const slopes: number[] = [];
    for (let i = 0; i < n; i++) {
      for (let j = i + 1; j < n; j++) {
        const dx = (drawn[j].totalMs - drawn[i].totalMs) * scale;
        if (Math.abs(dx) >= 200) slopes.push((samples[j].total - samples[i].total) / dx);
      }
    }
    const slope = quantile(slopes, 0.5);
    expect(slope).toBeGreaterThan(0.7);
    expect(slope).toBeLessThan(1.4);
  });
});

describe('llm server: provider behaviour', () => {
  it('admits exactly RPM requests per window, answers the rest 429 with rate-limit headers, and refills continuously', async () => {
    const clock = manualClock();
    const s = await start({ limits: { rpm: 20, windowMs: 1000 }, clock: clock.now });
    const burst = async (k: number, tag: string) => Promise.all(Array.from({ length: k }, (_, i) =>
      chat(s, { model: 'gpt-4o-mini', messages: msgs('r') }, { 'x-flockbench-identity': `${tag}:${i}`, 'x-flockbench-prompt-tokens': '10', 'x-flockbench-output-tokens': '10' })));
    const first = await burst(30, 'a');
    expect(first.filter((r) => r.status === 200)).toHaveLength(20); // the full bucket, no more
    const limited = first.filter((r) => r.status === 429);
    expect(limited).toHaveLength(10);
    const r = limited[0];
    expect(r.headers.get('retry-after-ms')).toBe('50'); // one request refills every 1000/20 ms
    expect(r.headers.get('retry-after')).toBe('1');
    expect(r.headers.get('x-ratelimit-limit-requests')).toBe('20');
    expect(r.headers.get('x-ratelimit-remaining-requests')).toBe('0');
    expect(r.headers.get('x-ratelimit-reset-requests')).toBe('1s');
    expect(r.headers.get('x-ratelimit-limit-tokens')).toBe(String(MODELS['gpt-4o-mini'].tpm));
    const body = await r.json();
    expect(body.error.code).toBe('rate_limit_exceeded');
    expect(body.error.type).toBe('requests');
    clock.ms += 1000;
    const second = await burst(20, 'b');
    expect(second.map((x) => x.status)).toEqual(Array(20).fill(200));
    clock.ms += 49; // 0.98 of a request: still none
    expect((await burst(1, 'c'))[0].status).toBe(429);
    clock.ms += 1;
    expect((await burst(1, 'd'))[0].status).toBe(200);
    expect(s.metrics().rateLimited).toBe(11);
  });

  it('limits tokens per window and concurrency, and queues instead of rejecting when asked', async () => {
    const clock = manualClock();
    const s = await start({ limits: { rpm: 1000, tpm: 1000, windowMs: 1000 }, clock: clock.now });
    const h = (i: number) => ({ 'x-flockbench-identity': `t:${i}`, 'x-flockbench-prompt-tokens': '150', 'x-flockbench-output-tokens': '50' });
    const rs = await Promise.all(Array.from({ length: 8 }, (_, i) => chat(s, { model: 'gpt-4.1', messages: msgs('t') }, h(i))));
    expect(rs.filter((r) => r.status === 200)).toHaveLength(5); // 5 x 200 tokens = 1000
    const lim = rs.find((r) => r.status === 429)!;
    expect((await lim.json()).error.type).toBe('tokens');
    const big = await chat(s, { model: 'gpt-4.1', messages: msgs('t') }, { 'x-flockbench-prompt-tokens': '5000' });
    expect(big.status).toBe(429);
    expect((await big.json()).error.message).toMatch(/Request too large/);

    // Concurrency: every admitted request hangs (a timeout fault) until its client leaves, so
    // the 3 slots are held for as long as the test says, whatever the machine's speed.
    const c = await start({ limits: { rpm: 10_000, tpm: 10_000_000, maxConcurrent: 3 }, faults: { timeout: 1, hangMs: 600_000 } });
    const hold = () => { const ac = new AbortController(); return { ac, done: chat(c, { model: 'gpt-4o-mini', messages: msgs('c') }, {}, ac.signal).catch(() => 'left') }; };
    const held = [hold(), hold(), hold()];
    await until(() => c.metrics().faults.timeout === 3, '3 admitted requests');
    const over = await Promise.all(Array.from({ length: 3 }, (_, i) => chat(c, { model: 'gpt-4o-mini', messages: msgs(`c${i}`) })));
    expect(over.map((r) => r.status)).toEqual([429, 429, 429]);
    for (const x of held) x.ac.abort();
    await Promise.all(held.map((x) => x.done));
    await until(() => c.metrics().inFlight === 0, 'the held slots to free');
    const again = hold();
    await until(() => c.metrics().faults.timeout === 4, 'a request admitted into a freed slot');
    again.ac.abort();
    await again.done;

    // Queueing: with the clock stopped exactly RPM requests are admitted and the rest wait in
    // FIFO order (no 429); one window later they all go through.
    const qc = manualClock();
    const q = await start({ latencyScale: 0.001, queueing: true, limits: { rpm: 20, windowMs: 500, maxConcurrent: 5 }, clock: qc.now });
    const all = Promise.all(Array.from({ length: 40 }, (_, i) => chat(q, { model: 'gpt-4o-mini', messages: msgs(`q${i}`) })));
    await until(() => q.metrics().byStatus[200] === 20 && q.metrics().queueDepth === 20, '20 answered, 20 waiting');
    await new Promise((r) => setTimeout(r, 100));
    expect(q.metrics()).toMatchObject({ byStatus: { 200: 20 }, queueDepth: 20, rateLimited: 0 });
    qc.ms += 500;
    const qs = await all;
    expect(qs.map((r) => r.status)).toEqual(Array(40).fill(200));
    const m = q.metrics();
    expect(m.rateLimited).toBe(0);
    expect(m.queued).toBeGreaterThanOrEqual(20);
    expect(m.queueDepth).toBe(0);
    // Too large to ever fit: 429 at once even in queueing mode, and the queue is not blocked.
    const huge = await chat(q, { model: 'gpt-4.1', messages: msgs('h') }, { 'x-flockbench-prompt-tokens': '300000' });
    expect(huge.status).toBe(429);
    expect(q.metrics().queueDepth).toBe(0);
  });

  it('counts against the same limiter as the in-process simulator: exact admissions when nothing refills (load-independent)', async () => {
    // A one-hour window: no refill during the test, however slow the machine.
    const s = await start({ limits: { rpm: 20, tpm: 1e9, windowMs: 3_600_000 } });
    const h = (i: number) => ({ 'x-flockbench-identity': `w:${i}`, 'x-flockbench-prompt-tokens': '10', 'x-flockbench-output-tokens': '10' });
    const rs = await Promise.all(Array.from({ length: 30 }, (_, i) => chat(s, { model: 'gpt-4o-mini', messages: msgs('w') }, h(i))));
    expect(rs.filter((r) => r.status === 200)).toHaveLength(20);
    expect(rs.filter((r) => r.status === 429)).toHaveLength(10);
    const t = await start({ limits: { rpm: 1000, tpm: 1000, windowMs: 3_600_000 } });
    const ts = await Promise.all(Array.from({ length: 8 }, (_, i) => chat(t, { model: 'gpt-4.1', messages: msgs('t') }, { ...h(i), 'x-flockbench-prompt-tokens': '150', 'x-flockbench-output-tokens': '50' })));
    expect(ts.filter((r) => r.status === 200)).toHaveLength(5);
    expect((await ts.find((r) => r.status === 429)!.json()).error.type).toBe('tokens');
    // Queueing: 5 at once, then one every 400 ms; waits can only be longer than the bucket allows.
    const q = await start({ queueing: true, limits: { rpm: 5, tpm: 1e9, windowMs: 2000 } });
    const t0 = performance.now();
    const qs = await Promise.all(Array.from({ length: 8 }, (_, i) => chat(q, { model: 'gpt-4o-mini', messages: msgs('q') }, h(i))));
    expect(qs.map((r) => r.status)).toEqual(Array(8).fill(200));
    expect(performance.now() - t0).toBeGreaterThanOrEqual(3 * 400 - 5);
    expect(q.metrics()).toMatchObject({ queued: 3, queueDepth: 0, rateLimited: 0 });
  });

  it('injects 5xx, hangs and malformed bodies, keyed by (identity, attempt)', async () => {
    // A hang ends when the server drops the connection after hangMs: no client deadline races it.
    const faults = { http5xx: 0.2, timeout: 0.1, malformed: 0.2, hangMs: 20 };
    const observe = async () => {
      const s = await start({ faults });
      const out: string[] = [];
      for (let i = 0; i < 60; i++) {
        for (const attempt of [0, 1]) {
          try {
            const r = await chat(s, { model: 'gpt-4o-mini', messages: msgs('f') }, { 'x-flockbench-identity': `f:${i}`, 'x-flockbench-attempt': String(attempt) });
            const text = await r.text();
            let ok = true;
            try { JSON.parse(text); } catch { ok = false; }
            out.push(`${r.status}:${ok ? 'json' : 'malformed'}`);
          } catch {
            out.push('hang');
          }
        }
      }
      return { out, m: s.metrics() };
    };
    const a = await observe();
    const b = await observe();
    expect(b.out).toEqual(a.out);
    expect(a.m.faults).toEqual(b.m.faults);
    expect(a.out).toContain('500:json');
    expect(a.out).toContain('200:malformed');
    expect(a.out).toContain('hang');
    expect(a.out.filter((x) => x === '200:json').length).toBeGreaterThan(40);
    expect(a.m.faults.timeout).toBe(a.out.filter((x) => x === 'hang').length);
  });
});

describe('llm server: calls without the identity header', () => {
  it('keys them by pairing markers (agent + inputs, then the outputs it wrote), else by normalized content', async () => {
    const calls: { identity: string; keyedBy: string; logicalIdentity: string }[] = [];
    const s = await start({
      onCall: (c) => calls.push(c),
      pairing: {
        agents: [{ agent: 'world_analyst', marker: 'Analyzes global events, geopolitics', outputTokens: 80 }, { agent: 'editor', marker: 'Synthesizes all analyst perspectives' }],
        inputs: [{ key: 'news-0', marker: 'market policy growth study report one' }, { key: 'news-1', marker: 'market policy growth study report two' }],
        identity: (agent, keys) => `${agent}(${[...keys].sort().join('+')})`,
      },
    });
    const schema = { type: 'object', properties: { takeaway: { type: 'string' } }, required: ['takeaway'] };
    const ask = async (system: string, userText: string) => {
      const r = await chat(s, { model: 'gpt-4.1', messages: [{ role: 'system', content: system }, { role: 'user', content: userText }], response_format: { type: 'json_schema', json_schema: { name: 'o', schema } } });
      return (await r.json()).choices[0].message.content as string;
    };
    const a0 = await ask('Analyzes global events, geopolitics. Return only JSON.', 'story: market policy growth study report one');
    await ask('Analyzes global events, geopolitics. Return only JSON.', 'story: market policy growth study report one'); // a repeat: its own draw
    const a1 = await ask('Analyzes global events, geopolitics. Return only JSON.', 'story: market policy growth study report two');
    await ask('Synthesizes all analyst perspectives', `analyses: ${a0} ${a1}`);
    expect(calls.map((c) => c.identity)).toEqual(['world_analyst(news-0)', 'world_analyst(news-0)#1', 'world_analyst(news-1)', 'editor(world_analyst(news-0)+world_analyst(news-1))']);
    expect(calls.every((c) => c.keyedBy === 'paired')).toBe(true);
    // Unknown agent: keyed by the messages, with ids and clocks removed.
    const r1 = await chat(s, { model: 'gpt-4.1', messages: msgs('run 3f2b0c1e-9a7d-4c1b-8e2f-0123456789ab at 2025-10-07T12:00:00Z') });
    const r2 = await chat(s, { model: 'gpt-4.1', messages: msgs('run 0b5e7f1a-1c2d-4e3f-9a8b-abcdefabcdef at 2026-01-01T08:30:00Z') });
    await r1.text(); await r2.text();
    expect(calls.at(-2)!.keyedBy).toBe('content');
    expect(calls.at(-1)!.identity).toBe(`${calls.at(-2)!.identity}#1`);
    expect(s.metrics().identities).toEqual({ header: 0, paired: 4, content: 2 });
    // A reset starts a new run: repeats count again, the in-flight peak restarts.
    const before = s.reset();
    expect(before.requests).toBe(6);
    const r3 = await chat(s, { model: 'gpt-4.1', messages: msgs('run 3f2b0c1e-9a7d-4c1b-8e2f-0123456789ab at 2025-10-07T12:00:00Z') });
    await r3.text();
    expect(calls.at(-1)!.identity).toBe(calls.at(-3)!.identity);
    const m = await (await fetch(`${s.url}/metrics`)).json();
    expect(m).toMatchObject({ requests: 1, inFlightPeak: 1, resets: 1 });
  });
});
