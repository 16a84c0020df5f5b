// Prompt-token counting for the HTTP simulator: o200k_base via js-tiktoken (ranks ship inside the
// npm package, no network), with OpenAI's chat framing (3 tokens a message, 1 a name, 3 to prime
// the reply). Loading the ranks takes ~1-2 s, so it happens once, lazily, and only when a request
// arrives without the harness's own count (header x-flockbench-prompt-tokens).
import type { Tiktoken } from 'js-tiktoken/lite';

export interface ChatMessage {
  role?: unknown;
  content?: unknown;
  name?: unknown;
}

let encoder: Promise<Tiktoken | undefined> | undefined;

/** The o200k encoder, or undefined if it cannot be loaded (then counts fall back to chars/4). */
export function loadEncoder(): Promise<Tiktoken | undefined> {
  encoder ??= (async () => {
    try {
      const [{ Tiktoken }, ranks] = await Promise.all([import('js-tiktoken/lite'), import('js-tiktoken/ranks/o200k_base')]);
      return new Tiktoken(ranks.default);
    } catch {
      return undefined;
    }
  })();
  return encoder;
}

function textOf(content: unknown): string {
  if (typeof content === 'string') return content;
  if (Array.isArray(content)) {
    return content.map((p) => (p && typeof p === 'object' && typeof (p as { text?: unknown }).text === 'string' ? (p as { text: string }).text : '')).join('');
  }
  return content == null ? '' : JSON.stringify(content);
}

/** Tokens of a text: exact with the encoder, chars/4 (OpenAI's rule of thumb for English) without. */
export function countText(enc: Tiktoken | undefined, text: string): number {
  if (!text) return 0;
  return enc ? enc.encode(text).length : Math.ceil(text.length / 4);
}

/** Prompt tokens of a chat request, counted the way OpenAI's cookbook does for gpt-4o-class models. */
export function countPromptTokens(enc: Tiktoken | undefined, messages: ChatMessage[]): number {
  let n = 3;
  for (const m of messages) {
    n += 3 + countText(enc, textOf(m.role)) + countText(enc, textOf(m.content));
    if (typeof m.name === 'string') n += 1 + countText(enc, m.name);
  }
  return n;
}
