// Validation of a chat-completions request the way the OpenAI API does it: malformed requests get
// HTTP 400 with an OpenAI-shaped error body ({error: {message, type, param, code}}), so SDKs raise
// at once instead of retrying a 500. Messages follow the API's wording where it is known.
import { MODELS, type ModelProfile } from './profiles.ts';
import type { ChatMessage } from './tokens.ts';

export class HttpError extends Error {
  constructor(readonly status: number, message: string, readonly type: string, readonly param: string | null = null, readonly code: string | null = null) {
    super(message);
  }
}

export function errorBody(e: HttpError): string {
  return JSON.stringify({ error: { message: e.message, type: e.type, param: e.param, code: e.code } });
}

const bad = (message: string, param: string | null, code: string | null) => new HttpError(400, message, 'invalid_request_error', param, code);

function typeName(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'object') return 'an object';
  if (typeof v === 'string') return 'a string';
  if (typeof v === 'boolean') return 'a boolean';
  if (typeof v === 'number') return Number.isInteger(v) ? 'an integer' : 'a decimal';
  return typeof v;
}

function invalidType(param: string, expected: string, got: unknown): HttpError {
  return bad(`Invalid type for '${param}': expected ${expected}, but got ${typeName(got)} instead.`, param, 'invalid_type');
}

const ROLES = ['system', 'assistant', 'user', 'function', 'tool', 'developer'];

export interface ToolSpec {
  name: string;
  description?: string;
  parameters?: Record<string, unknown>;
}

export type ToolChoice = 'auto' | 'none' | 'required' | { name: string };

export interface ChatRequest {
  model: string;
  profile: ModelProfile;
  messages: ChatMessage[];
  stream: boolean;
  includeUsage: boolean;
  /** max_completion_tokens ?? max_tokens, when given. */
  maxTokens?: number;
  n: number;
  tools: ToolSpec[];
  toolChoice: ToolChoice;
  responseFormat: { type: 'text' } | { type: 'json_object' } | { type: 'json_schema'; name: string; schema: Record<string, unknown> };
  /** The raw tools and response_format, for prompt-token counting. */
  rawTools: unknown[];
  rawResponseFormat: unknown;
}

function numberIn(body: Record<string, unknown>, key: string, lo: number, hi: number, integer: boolean): void {
  const v = body[key];
  if (v === undefined || v === null) return;
  if (typeof v !== 'number' || !Number.isFinite(v) || (integer && !Number.isInteger(v))) throw invalidType(key, integer ? 'an integer' : 'a decimal', v);
  const kind = integer ? 'integer' : 'decimal';
  if (v < lo) throw bad(`Invalid '${key}': ${kind} below minimum value. Expected a value >= ${lo}, but got ${v} instead.`, key, `${kind}_below_min_value`);
  if (v > hi) throw bad(`Invalid '${key}': ${kind} above maximum value. Expected a value <= ${hi}, but got ${v} instead.`, key, `${kind}_above_max_value`);
}

function validateMessages(raw: unknown): ChatMessage[] {
  if (raw === undefined) throw bad("Missing required parameter: 'messages'.", 'messages', 'missing_required_parameter');
  if (!Array.isArray(raw)) throw invalidType('messages', 'an array', raw);
  if (raw.length === 0) throw bad("Invalid 'messages': empty array. Expected an array with minimum length 1, but got an empty array instead.", 'messages', 'empty_array');
  raw.forEach((m: unknown, i) => {
    const at = `messages[${i}]`;
    if (!m || typeof m !== 'object' || Array.isArray(m)) throw invalidType(at, 'an object', m);
    const msg = m as Record<string, unknown>;
    if (msg.role === undefined) throw bad(`Missing required parameter: '${at}.role'.`, `${at}.role`, 'missing_required_parameter');
    if (typeof msg.role !== 'string' || !ROLES.includes(msg.role)) {
      throw bad(`Invalid value: '${String(msg.role)}'. Supported values are: 'system', 'assistant', 'user', 'function', 'tool', and 'developer'.`, `${at}.role`, 'invalid_value');
    }
    const c = msg.content;
    const needsContent = msg.role !== 'assistant' || (msg.tool_calls === undefined && msg.function_call === undefined);
    if (c === undefined || c === null) {
      if (needsContent) throw bad(`Missing required parameter: '${at}.content'.`, `${at}.content`, 'missing_required_parameter');
    } else if (Array.isArray(c)) {
      c.forEach((part: unknown, j) => {
        if (!part || typeof part !== 'object' || Array.isArray(part)) throw invalidType(`${at}.content[${j}]`, 'an object', part);
        if (typeof (part as { type?: unknown }).type !== 'string') throw bad(`Missing required parameter: '${at}.content[${j}].type'.`, `${at}.content[${j}].type`, 'missing_required_parameter');
      });
    } else if (typeof c !== 'string') {
      throw invalidType(`${at}.content`, 'one of a string or array of objects', c);
    }
    if (msg.role === 'tool' && typeof msg.tool_call_id !== 'string') throw bad(`Missing required parameter: '${at}.tool_call_id'.`, `${at}.tool_call_id`, 'missing_required_parameter');
    if (msg.tool_calls !== undefined && !Array.isArray(msg.tool_calls)) throw invalidType(`${at}.tool_calls`, 'an array', msg.tool_calls);
  });
  return raw as ChatMessage[];
}

function validateTools(raw: unknown): ToolSpec[] {
  if (raw === undefined || raw === null) return [];
  if (!Array.isArray(raw)) throw invalidType('tools', 'an array', raw);
  return raw.map((t: unknown, i) => {
    const at = `tools[${i}]`;
    if (!t || typeof t !== 'object' || Array.isArray(t)) throw invalidType(at, 'an object', t);
    const tool = t as { type?: unknown; function?: unknown };
    if (tool.type !== 'function') throw bad(`Invalid value: '${String(tool.type)}'. Supported values are: 'function' and 'custom'.`, `${at}.type`, 'invalid_value');
    const f = tool.function as { name?: unknown; description?: unknown; parameters?: unknown } | undefined;
    if (!f || typeof f !== 'object') throw bad(`Missing required parameter: '${at}.function'.`, `${at}.function`, 'missing_required_parameter');
    if (typeof f.name !== 'string' || !f.name) throw bad(`Missing required parameter: '${at}.function.name'.`, `${at}.function.name`, 'missing_required_parameter');
    if (!/^[a-zA-Z0-9_-]{1,64}$/.test(f.name)) throw bad(`Invalid '${at}.function.name': string does not match pattern. Expected a string that matches the pattern '^[a-zA-Z0-9_-]+$'.`, `${at}.function.name`, 'invalid_value');
    if (f.parameters !== undefined && (!f.parameters || typeof f.parameters !== 'object' || Array.isArray(f.parameters))) throw invalidType(`${at}.function.parameters`, 'an object', f.parameters);
    return { name: f.name, description: typeof f.description === 'string' ? f.description : undefined, parameters: f.parameters as Record<string, unknown> | undefined };
  });
}

function validateToolChoice(raw: unknown, tools: ToolSpec[]): ToolChoice {
  if (raw === undefined || raw === null) return tools.length ? 'auto' : 'none';
  if (!tools.length && raw !== 'none') throw bad("Invalid value for 'tool_choice': 'tool_choice' is only allowed when 'tools' are specified.", 'tool_choice', null);
  if (raw === 'auto' || raw === 'none' || raw === 'required') return raw;
  const name = (raw as { function?: { name?: unknown } })?.function?.name;
  if (typeof raw === 'object' && typeof name === 'string') {
    if (!tools.some((t) => t.name === name)) throw bad(`Invalid value for 'tool_choice': function '${name}' is not among the tools.`, 'tool_choice', 'invalid_value');
    return { name };
  }
  throw bad(`Invalid value: '${typeof raw === 'string' ? raw : JSON.stringify(raw)}'. Supported values are: 'none', 'auto', and 'required'.`, 'tool_choice', 'invalid_value');
}

function validateResponseFormat(raw: unknown): ChatRequest['responseFormat'] {
  if (raw === undefined || raw === null) return { type: 'text' };
  if (typeof raw !== 'object' || Array.isArray(raw)) throw invalidType('response_format', 'an object', raw);
  const rf = raw as { type?: unknown; json_schema?: { name?: unknown; schema?: unknown } };
  if (rf.type === 'text' || rf.type === 'json_object') return { type: rf.type };
  if (rf.type !== 'json_schema') throw bad(`Invalid value: '${String(rf.type)}'. Supported values are: 'json_schema', 'json_object', and 'text'.`, 'response_format.type', 'invalid_value');
  if (!rf.json_schema || typeof rf.json_schema !== 'object') throw bad("Missing required parameter: 'response_format.json_schema'.", 'response_format.json_schema', 'missing_required_parameter');
  const name = typeof rf.json_schema.name === 'string' ? rf.json_schema.name : 'response';
  const schema = rf.json_schema.schema;
  if (!schema || typeof schema !== 'object' || Array.isArray(schema)) throw bad("Missing required parameter: 'response_format.json_schema.schema'.", 'response_format.json_schema.schema', 'missing_required_parameter');
  const type = (schema as { type?: unknown }).type;
  if (type !== 'object' && !(schema as { $ref?: unknown }).$ref) {
    throw bad(`Invalid schema for response_format '${name}': schema must be a JSON Schema of 'type: "object"', got 'type: "${String(type)}"'.`, 'response_format', 'invalid_json_schema');
  }
  return { type: 'json_schema', name, schema: schema as Record<string, unknown> };
}

/** Validate a parsed body. Throws HttpError (400/404) like the OpenAI API. */
export function validateChatRequest(body: unknown): ChatRequest {
  if (!body || typeof body !== 'object' || Array.isArray(body)) throw bad('The request body must be a JSON object.', null, null);
  const b = body as Record<string, unknown>;
  if (b.model === undefined) throw bad('you must provide a model parameter', null, null);
  if (typeof b.model !== 'string' || !b.model) throw invalidType('model', 'a string', b.model);
  const profile = MODELS[b.model];
  if (!profile) throw new HttpError(404, `The model \`${b.model}\` does not exist or you do not have access to it.`, 'invalid_request_error', null, 'model_not_found');
  const messages = validateMessages(b.messages);
  numberIn(b, 'temperature', 0, 2, false);
  numberIn(b, 'top_p', 0, 1, false);
  numberIn(b, 'presence_penalty', -2, 2, false);
  numberIn(b, 'frequency_penalty', -2, 2, false);
  numberIn(b, 'n', 1, 128, true);
  for (const key of ['max_tokens', 'max_completion_tokens']) {
    const v = b[key];
    if (v === undefined || v === null) continue;
    if (typeof v !== 'number' || !Number.isInteger(v)) throw invalidType(key, 'an integer', v);
    if (v < 1) throw bad(`Invalid '${key}': integer below minimum value. Expected a value >= 1, but got ${v} instead.`, key, 'integer_below_min_value');
    if (v > profile.maxOutputTokens) {
      throw bad(`${key} is too large: ${v}. This model supports at most ${profile.maxOutputTokens} completion tokens, whereas you provided ${v}.`, key, 'invalid_value');
    }
  }
  if (b.stream !== undefined && b.stream !== null && typeof b.stream !== 'boolean') throw invalidType('stream', 'a boolean', b.stream);
  if (b.stream_options != null && b.stream !== true) throw bad("The 'stream_options' parameter is only allowed when 'stream' is enabled.", 'stream_options', null);
  const tools = validateTools(b.tools);
  const toolChoice = validateToolChoice(b.tool_choice, tools);
  const responseFormat = validateResponseFormat(b.response_format);
  if (responseFormat.type === 'json_object' && !messages.some((m) => /json/i.test(typeof m.content === 'string' ? m.content : JSON.stringify(m.content ?? '')))) {
    throw bad("'messages' must contain the word 'json' in some form, to use 'response_format' of type 'json_object'.", 'messages', null);
  }
  const maxTokens = (b.max_completion_tokens ?? b.max_tokens) as number | undefined;
  const so = b.stream_options as { include_usage?: boolean } | undefined;
  return {
    model: b.model,
    profile,
    messages,
    stream: b.stream === true,
    includeUsage: so?.include_usage === true,
    maxTokens: maxTokens ?? undefined,
    n: typeof b.n === 'number' ? b.n : 1,
    tools,
    toolChoice,
    responseFormat,
    rawTools: Array.isArray(b.tools) ? b.tools : [],
    rawResponseFormat: b.response_format,
  };
}

/** 400 when prompt + requested completion exceed the model's context window (OpenAI's wording). */
export function checkContext(req: ChatRequest, promptTokens: number): void {
  const window = req.profile.contextWindowTokens;
  const completion = req.maxTokens ?? 0;
  if (promptTokens + completion <= window) return;
  const message = completion
    ? `This model's maximum context length is ${window} tokens. However, you requested ${promptTokens + completion} tokens (${promptTokens} in the messages, ${completion} in the completion). Please reduce the length of the messages or completion.`
    : `This model's maximum context length is ${window} tokens. However, your messages resulted in ${promptTokens} tokens. Please reduce the length of the messages.`;
  throw bad(message, 'messages', 'context_length_exceeded');
}
