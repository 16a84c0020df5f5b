// The simulated LLM against the real Node `openai` SDK (devDependency, pinned): the faults a real
// client found (max_tokens as a length, the server killed by a huge max_tokens, tool loops
// that never end, 500s for malformed requests, ignored $ref/anyOf/nullable schemas, usage not
// counted from the content, no x-request-id, no /v1/models/{id}, tokenizer loaded on first use).
import OpenAI from 'openai';
import { zodResponseFormat } from 'openai/helpers/zod';
import { Tiktoken } from 'js-tiktoken/lite';
import o200k from 'js-tiktoken/ranks/o200k_base';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { drawLatency } from './draw.ts';
import { startLlmServer, type LlmServer } from './server.ts';
import { encoderNow } from './tokens.ts';

const enc = new Tiktoken(o200k);
const tokens = (s: string) => enc.encode(s).length;

let s: LlmServer;
let client: OpenAI;
let loadedBeforeListen = false;
beforeAll(async () => {
  const fresh = encoderNow() === undefined; // this test file's worker has not loaded it yet
  s = await startLlmServer({ seed: 3, latencyScale: 0.001 });
  loadedBeforeListen = fresh && encoderNow() !== undefined;
  client = new OpenAI({ baseURL: `${s.url}/v1`, apiKey: 'sk-test', maxRetries: 2, timeout: 20_000 });
}, 30_000);
afterAll(async () => { await s.close(); });

const user = (content: string) => [{ role: 'user' as const, content }];

describe('simulated LLM with the Node openai SDK', () => {
  it('loads the tokenizer before it listens, so no request pays for it', async () => {
    // Before the fix the first request waited ~1.2 s (4 s on a loaded box) for the o200k ranks.
    expect(loadedBeforeListen).toBe(true);
    const r = await client.chat.completions.create({ model: 'gpt-4o-mini', messages: user('first'), max_tokens: 5 });
    expect(r.usage!.prompt_tokens).toBe(8); // counted with o200k, not the chars/4 fallback
  });

  it('treats max_tokens as a cap: finish_reason "length", usage = the content returned', async () => {
    const rs = await Promise.all(Array.from({ length: 20 }, (_, i) => client.chat.completions.create({ model: 'gpt-4o-mini', messages: user(`tell me ${i}`), max_tokens: 20 })));
    for (const r of rs) {
      const c = r.choices[0];
      expect(r.usage!.completion_tokens).toBeLessThanOrEqual(20);
      expect(tokens(c.message.content!)).toBe(r.usage!.completion_tokens);
      if (r.usage!.completion_tokens === 20) expect(c.finish_reason).toBe('length');
    }
    expect(rs.filter((r) => r.choices[0].finish_reason === 'length').length).toBeGreaterThan(15);
    const long = await client.chat.completions.create({ model: 'gpt-4o-mini', messages: user('tell me more'), max_completion_tokens: 4000 });
    expect(long.choices[0].finish_reason).toBe('stop');
    expect(tokens(long.choices[0].message.content!)).toBe(long.usage!.completion_tokens);
  });

  it('answers a huge max_tokens with 400 and stays up', async () => {
    const err = await client.chat.completions.create({ model: 'gpt-4o-mini', messages: user('x'), max_tokens: 1_000_000_000 }).catch((e) => e);
    expect(err).toBeInstanceOf(OpenAI.BadRequestError);
    expect(err.status).toBe(400);
    expect(err.param).toBe('max_tokens');
    expect(err.message).toMatch(/at most 16384 completion tokens/);
    const ok = await client.chat.completions.create({ model: 'gpt-4o-mini', messages: user('still there?'), max_tokens: 3 });
    expect(ok.choices[0].finish_reason).toBe('length');
  });

  it('answers 400 past the context window and 413 past the body limit, and stays up', async () => {
    const small = await startLlmServer({ seed: 1, latencyScale: 0, maxBodyBytes: 64 * 1024 });
    try {
      const c = new OpenAI({ baseURL: `${small.url}/v1`, apiKey: 'x', maxRetries: 0 });
      const big = await c.chat.completions.create({ model: 'gpt-4o-mini', messages: user('word '.repeat(40_000)) }).catch((e) => e);
      expect(big.status).toBe(413);
      const ctx = await client.chat.completions.create({ model: 'gpt-4o-mini', messages: user('word '.repeat(120_000)), max_tokens: 16_000 }).catch((e) => e);
      expect(ctx).toBeInstanceOf(OpenAI.BadRequestError);
      expect(ctx.code).toBe('context_length_exceeded');
      expect((await c.chat.completions.create({ model: 'gpt-4o-mini', messages: user('ok') })).choices).toHaveLength(1);
    } finally {
      await small.close();
    }
  });

  it('ends a runTools loop: one tool call, then a text answer after the tool result', async () => {
    let calls = 0;
    const before = s.metrics().requests;
    const runner = client.chat.completions.runTools({
      model: 'gpt-4.1',
      messages: user('What is the weather in Paris today?'),
      tools: [{
        type: 'function',
        function: {
          name: 'get_weather', description: 'Get the current weather for a city',
          parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
          function: (args: { city: string }) => { calls++; return `sunny in ${args.city}`; },
          parse: JSON.parse,
        },
      }],
    }, { maxChatCompletions: 6 });
    const final = await runner.finalContent();
    expect(typeof final).toBe('string');
    expect(final!.length).toBeGreaterThan(0);
    expect(calls).toBe(1);
    expect(s.metrics().requests - before).toBe(2);
    // Nothing in the question fits the tool: answered in text at once.
    const r = await client.chat.completions.create({ model: 'gpt-4.1', messages: user('Write a haiku'), tools: [{ type: 'function', function: { name: 'get_weather', description: 'Get the current weather for a city', parameters: { type: 'object', properties: {} } } }] });
    expect(r.choices[0].finish_reason).toBe('stop');
    expect(r.choices[0].message.tool_calls ?? []).toHaveLength(0);
  });

  it('counts tool definitions and the response_format schema in prompt_tokens', async () => {
    const plain = await client.chat.completions.create({ model: 'gpt-4.1', messages: user('hello'), tool_choice: 'none', tools: [] as never[] }).catch(() => undefined);
    const base = await client.chat.completions.create({ model: 'gpt-4.1', messages: user('hello') });
    const withTools = await client.chat.completions.create({
      model: 'gpt-4.1', messages: user('hello'), tool_choice: 'none',
      tools: [{ type: 'function', function: { name: 'lookup_order', description: 'Look up an order by id', parameters: { type: 'object', properties: { id: { type: 'string', description: 'order id' } } } } }],
    });
    const withSchema = await client.chat.completions.create({ model: 'gpt-4.1', messages: user('hello'), response_format: { type: 'json_schema', json_schema: { name: 'r', schema: { type: 'object', properties: { answer: { type: 'string' } }, required: ['answer'] } } } });
    void plain;
    expect(base.usage!.prompt_tokens).toBe(8); // 3 + (3 + 'user' 1 + 'hello' 1)
    expect(withTools.usage!.prompt_tokens).toBeGreaterThan(base.usage!.prompt_tokens + 20);
    expect(withSchema.usage!.prompt_tokens).toBeGreaterThan(base.usage!.prompt_tokens + 10);
    expect(tokens(withSchema.choices[0].message.content!)).toBe(withSchema.usage!.completion_tokens);
  });

  it('parses zod schemas with nested objects, optional and nullable fields, enums and literals', async () => {
    const Address = z.object({ city: z.string(), zip: z.string().nullable() });
    const Person = z.object({
      name: z.string(),
      role: z.enum(['admin', 'user']),
      kind: z.literal('person'),
      home: Address,
      previous: z.array(Address),
      nickname: z.string().nullable(),
      score: z.number().min(0).max(1),
    });
    const r = await client.chat.completions.parse({ model: 'gpt-4.1', messages: user('describe someone'), response_format: zodResponseFormat(Person, 'person') });
    const p = r.choices[0].message.parsed!;
    expect(Person.parse(p)).toEqual(p);
    expect(p.kind).toBe('person');
    expect(tokens(r.choices[0].message.content!)).toBe(r.usage!.completion_tokens);
  });

  it('returns a JSON object for json_object', async () => {
    const r = await client.chat.completions.create({ model: 'gpt-4o-mini', messages: user('answer in json'), response_format: { type: 'json_object' } });
    const v = JSON.parse(r.choices[0].message.content!);
    expect(v && typeof v === 'object' && !Array.isArray(v)).toBe(true);
  });

  it('answers malformed requests with an OpenAI-shaped 400 (no SDK retries)', async () => {
    const cases: [string, Record<string, unknown>, string | null][] = [
      ['messages [null]', { messages: [null] }, 'messages[0]'],
      ['tools [null]', { messages: user('x'), tools: [null] }, 'tools[0]'],
      ['top-level array schema', { messages: user('x'), response_format: { type: 'json_schema', json_schema: { name: 'a', schema: { type: 'array', items: { type: 'string' } } } } }, 'response_format'],
      ['temperature -1', { messages: user('x'), temperature: -1 }, 'temperature'],
      ['n 0', { messages: user('x'), n: 0 }, 'n'],
      ['unknown role', { messages: [{ role: 'bogus', content: 'x' }] }, 'messages[0].role'],
      ['json_object without "json"', { messages: user('x'), response_format: { type: 'json_object' } }, 'messages'],
    ];
    for (const [name, body, param] of cases) {
      const before = s.metrics().requests;
      const e = await client.chat.completions.create({ model: 'gpt-4o-mini', ...body } as never).catch((x) => x);
      expect(e, name).toBeInstanceOf(OpenAI.BadRequestError);
      expect(e.param, name).toBe(param);
      expect(e.type, name).toBe('invalid_request_error');
      expect(s.metrics().requests - before, `${name}: not retried`).toBe(1);
    }
  });

  it('sends x-request-id and serves /v1/models and /v1/models/{id}', async () => {
    const { data, response, request_id } = await client.chat.completions.create({ model: 'gpt-4o-mini', messages: user('x'), max_tokens: 2 }).withResponse();
    expect(data.object).toBe('chat.completion');
    expect(response.headers.get('x-request-id')).toMatch(/^req_[0-9a-f]{24}$/);
    expect(request_id).toBe(response.headers.get('x-request-id'));
    expect((await client.models.retrieve('gpt-4.1')).id).toBe('gpt-4.1');
    const missing = await client.models.retrieve('gpt-9').catch((e) => e);
    expect(missing).toBeInstanceOf(OpenAI.NotFoundError);
    const ids: string[] = [];
    for await (const m of client.models.list()) ids.push(m.id);
    expect(ids).toContain('gpt-4o-mini');
  });

  it('streams: content and usage as the non-streamed reply', async () => {
    const req = { model: 'gpt-4.1-mini', messages: user('stream this'), max_tokens: 50 };
    const stream = await client.chat.completions.create({ ...req, stream: true, stream_options: { include_usage: true } });
    let text = '';
    let usage: { completion_tokens: number; prompt_tokens: number } | undefined | null;
    let finish: string | null | undefined;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta?.content ?? '';
      finish = chunk.choices[0]?.finish_reason ?? finish;
      if (chunk.usage) usage = chunk.usage;
    }
    expect(usage!.completion_tokens).toBe(tokens(text));
    expect(usage!.completion_tokens).toBeLessThanOrEqual(50);
    expect(finish).toBeDefined();
  });

  it('adds prefill time that grows with prompt tokens (gpt-4.1-mini: +0.27 s at 10k tokens)', () => {
    const short = drawLatency({ seed: 1 }, { model: 'gpt-4.1-mini', identity: 'p', outputTokens: 100, promptTokens: 0 });
    const long = drawLatency({ seed: 1 }, { model: 'gpt-4.1-mini', identity: 'p', outputTokens: 100, promptTokens: 10_000 });
    // Public figures: 0.93 s TTFT at 10k input tokens vs the 0.661 s short-prompt p50.
    expect(long.ttftMs - short.ttftMs).toBeCloseTo(930 - 661, -1);
    expect(long.tokensOut).toBe(short.tokensOut);
  });
});

describe('simulated LLM: bounded for any input', () => {
  it('answers self-requiring schemas, huge minLength/minItems and a huge declared length, and stays up', async () => {
    const c = new OpenAI({ baseURL: `${s.url}/v1`, apiKey: 'x', maxRetries: 0 });
    const node = { type: 'object', properties: { name: { type: 'string' }, child: { $ref: '#' } }, required: ['name', 'child'] };
    const deep = await c.chat.completions.create({ model: 'gpt-4.1', messages: user('x'), response_format: { type: 'json_schema', json_schema: { name: 'n', schema: node } } });
    expect(JSON.parse(deep.choices[0].message.content!)).toHaveProperty('child');
    const huge = { type: 'object', properties: { s: { type: 'string', minLength: 1_000_000_000 }, xs: { type: 'array', minItems: 1_000_000_000, items: { type: 'integer' } } }, required: ['s', 'xs'] };
    const h = await c.chat.completions.create({ model: 'gpt-4.1', messages: user('x'), max_tokens: 100, response_format: { type: 'json_schema', json_schema: { name: 'h', schema: huge } } });
    expect(h.choices[0].finish_reason).toBe('length');
    expect(h.usage!.completion_tokens).toBe(100);
    const r = await fetch(`${s.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-flockbench-output-tokens': '1000000000' }, body: JSON.stringify({ model: 'gpt-4o-mini', messages: user('x') }) });
    expect((await r.json()).usage.completion_tokens).toBeLessThanOrEqual(16_384);
  });
});
