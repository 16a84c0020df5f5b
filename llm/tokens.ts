// Token counting for the HTTP simulator: o200k_base via js-tiktoken (ranks ship inside the npm
// package, no network), with OpenAI's chat framing (3 tokens a message, 1 a name, 3 to prime the
// reply), tool definitions counted the way OpenAI's cookbook estimates them, and a response_format
// schema counted as its JSON text (OpenAI does not publish that rule: an approximation).
// Loading the ranks takes 1-4 s, so the server loads them before it listens (loadEncoder).
// js-tiktoken's BPE is quadratic in the length of one pre-token (5,000 chars without a space take
// ~10 s), so long runs are counted in 64-char pieces, and text past EXACT_CHARS per request is
// estimated at 4 chars a token: counting stays bounded in CPU for any input.
import type { Tiktoken } from 'js-tiktoken/lite';

export interface ChatMessage {
  role?: unknown;
  content?: unknown;
  name?: unknown;
  tool_calls?: unknown;
  tool_call_id?: unknown;
}

let encoder: Promise<Tiktoken | undefined> | undefined;
let loaded: Tiktoken | undefined;

/** The o200k encoder, or undefined if it cannot be loaded (then counts fall back to chars/4). */
export function loadEncoder(): Promise<Tiktoken | undefined> {
  encoder ??= (async () => {
    try {
      const [{ Tiktoken }, ranks] = await Promise.all([import('js-tiktoken/lite'), import('js-tiktoken/ranks/o200k_base')]);
      loaded = new Tiktoken(ranks.default);
      return loaded;
    } catch {
      return undefined;
    }
  })();
  return encoder;
}

/** The encoder if loadEncoder() has finished, else undefined (chars/4 counts). */
export function encoderNow(): Tiktoken | undefined {
  return loaded;
}

/** Text counted exactly per request; the rest is estimated (chars/4). */
export const EXACT_CHARS = 262_144;
const MAX_RUN = 64;

function textOf(content: unknown): string {
  if (typeof content === 'string') return content;
  if (Array.isArray(content)) {
    return content.map((p) => (p && typeof p === 'object' && typeof (p as { text?: unknown }).text === 'string' ? (p as { text: string }).text : '')).join('');
  }
  return content == null ? '' : JSON.stringify(content);
}

/** Split runs of more than MAX_RUN non-space characters, so no pre-token is long. */
function boundedPieces(text: string): string[] {
  if (!/\S{65}/.test(text)) return [text];
  const out: string[] = [];
  let buf = '';
  for (const m of text.matchAll(/\s+|\S+/g)) {
    const s = m[0];
    if (s.length <= MAX_RUN) { buf += s; continue; }
    if (buf) { out.push(buf); buf = ''; }
    for (let i = 0; i < s.length; i += MAX_RUN) out.push(s.slice(i, i + MAX_RUN));
  }
  if (buf) out.push(buf);
  return out;
}

/**
 * Tokens of a text: exact with the encoder (long runs in pieces), chars/4 (OpenAI's rule of thumb
 * for English) without it or past `budget` characters.
 */
export function countText(enc: Tiktoken | undefined, text: string, budget = { chars: EXACT_CHARS }): number {
  if (!text) return 0;
  if (!enc) return Math.ceil(text.length / 4);
  const exact = text.length <= budget.chars ? text : text.slice(0, budget.chars);
  budget.chars -= exact.length;
  let n = 0;
  for (const piece of boundedPieces(exact)) n += enc.encode(piece).length;
  return n + Math.ceil((text.length - exact.length) / 4);
}

/** The first `tokens` tokens of a text (the text itself when it is shorter). */
export function truncateToTokens(enc: Tiktoken | undefined, text: string, tokens: number): string {
  if (tokens <= 0) return '';
  if (!enc) return text.slice(0, tokens * 4);
  const ids = enc.encode(text);
  return ids.length <= tokens ? text : enc.decode(ids.slice(0, tokens));
}

/** Prompt tokens of the messages, counted the way OpenAI's cookbook does for gpt-4o-class models. */
export function countPromptTokens(enc: Tiktoken | undefined, messages: ChatMessage[], budget = { chars: EXACT_CHARS }): number {
  let n = 3;
  for (const m of messages) {
    n += 3 + countText(enc, textOf(m.role), budget) + countText(enc, textOf(m.content), budget);
    if (typeof m.name === 'string') n += 1 + countText(enc, m.name, budget);
    if (Array.isArray(m.tool_calls)) n += countText(enc, JSON.stringify(m.tool_calls), budget);
    if (typeof m.tool_call_id === 'string') n += countText(enc, m.tool_call_id, budget);
  }
  return n;
}

interface ToolDef {
  function?: { name?: unknown; description?: unknown; parameters?: { properties?: Record<string, { type?: unknown; description?: unknown; enum?: unknown[] }> } };
}

/**
 * Tokens that tool definitions add to the prompt: OpenAI's cookbook estimate for gpt-4o-class
 * models ("How to count tokens with tiktoken", num_tokens_for_tools): 7 per function, 3 per
 * property list, 3 per property, enum items 3 each (-3 per enum), 12 at the end, plus the tokens
 * of "name:description" and "property:type:description".
 */
export function countToolTokens(enc: Tiktoken | undefined, tools: ToolDef[], budget = { chars: EXACT_CHARS }): number {
  if (!tools.length) return 0;
  let n = 0;
  for (const t of tools) {
    const f = t.function ?? {};
    n += 7;
    const desc = typeof f.description === 'string' ? f.description.replace(/\.$/, '') : '';
    n += countText(enc, `${String(f.name ?? '')}:${desc}`, budget);
    const props = f.parameters?.properties;
    if (props && typeof props === 'object' && Object.keys(props).length) {
      n += 3;
      for (const [key, p] of Object.entries(props)) {
        n += 3;
        if (Array.isArray(p?.enum)) {
          n -= 3;
          for (const item of p.enum) n += 3 + countText(enc, String(item), budget);
        }
        const pd = typeof p?.description === 'string' ? p.description.replace(/\.$/, '') : '';
        n += countText(enc, `${key}:${String(p?.type ?? 'object')}:${pd}`, budget);
      }
    }
  }
  return n + 12;
}

/** Tokens a response_format adds: its schema's JSON text plus the name (an approximation). */
export function countResponseFormatTokens(enc: Tiktoken | undefined, rf: unknown, budget = { chars: EXACT_CHARS }): number {
  const r = rf as { type?: string; json_schema?: { name?: unknown; schema?: unknown } } | undefined;
  if (r?.type !== 'json_schema' || !r.json_schema) return 0;
  return 8 + countText(enc, String(r.json_schema.name ?? ''), budget) + countText(enc, JSON.stringify(r.json_schema.schema ?? {}), budget);
}
