// DSPy's adapters, as the HTTP simulator must answer them (dspy 3.0.x, what flock-core 0.5.7
// pins). The system prompt lists the output fields ("Your output fields are: 1. `output`
// (NewsAnalysis): ...") and, per field, a note on its type ("must adhere to the JSON schema:
// {...}", "must be a single int value", "must be one of: a; b", ...).
// - ChatAdapter expects the reply as `[[ ## field ## ]]` sections ending with `[[ ## completed ## ]]`;
//   prose makes it raise and fall back to JSONAdapter (a second call).
// - JSONAdapter sends response_format json_schema (answered from the schema) or, when that is
//   not possible, json_object with the fields described in the prompt (answered here).

export type DspyFieldKind =
  | { kind: 'text' }
  | { kind: 'bool' }
  | { kind: 'int' }
  | { kind: 'float' }
  | { kind: 'choice'; values: string[] }
  | { kind: 'schema'; schema: Record<string, unknown> };

export interface DspyField {
  name: string;
  type: string;
  value: DspyFieldKind;
}

export interface DspyPrompt {
  adapter: 'chat' | 'json';
  fields: DspyField[];
}

function noteKind(note: string | undefined): DspyFieldKind {
  if (!note) return { kind: 'text' };
  const n = note.trim();
  if (n.startsWith('must be True or False')) return { kind: 'bool' };
  if (n.startsWith('must be a single int value')) return { kind: 'int' };
  if (n.startsWith('must be a single float value')) return { kind: 'float' };
  const choice = /one of: (.*)$/.exec(n);
  if (choice && !n.startsWith('must adhere')) return { kind: 'choice', values: choice[1].split('; ') };
  const schema = /must adhere to the JSON schema: (.*)$/s.exec(n);
  if (schema) {
    try {
      const s = JSON.parse(schema[1].trim());
      if (s && typeof s === 'object') return { kind: 'schema', schema: s };
    } catch { /* not JSON: treat as text */ }
  }
  return { kind: 'text' };
}

/** Parse the balanced JSON object that starts at `from` in `text` (strings respected). */
function balancedObject(text: string, from: number): string | undefined {
  let depth = 0, inStr = false, esc = false;
  for (let i = from; i < text.length; i++) {
    const c = text[i];
    if (inStr) {
      if (esc) esc = false;
      else if (c === '\\') esc = true;
      else if (c === '"') inStr = false;
      continue;
    }
    if (c === '"') inStr = true;
    else if (c === '{') depth++;
    else if (c === '}' && --depth === 0) return text.slice(from, i + 1);
  }
  return undefined;
}

const NOTE = /^\{([^}\s]+)\}(?:\s+# note: the value you produce (.*))?$/s;

/** The DSPy adapter and output fields a system prompt asks for, or undefined if it is not DSPy's. */
export function parseDspyPrompt(system: string): DspyPrompt | undefined {
  const head = system.indexOf('Your output fields are:');
  if (head < 0) return undefined;
  const end = system.indexOf('All interactions will be structured', head);
  const list = system.slice(head, end < 0 ? undefined : end);
  const declared = [...list.matchAll(/^\s*\d+\. `([^`]+)` \(([^\n]*?)\):/gm)].map((m) => ({ name: m[1], type: m[2] }));
  if (!declared.length) return undefined;
  const notes = new Map<string, string | undefined>();
  let adapter: DspyPrompt['adapter'] | undefined;
  const jsonAt = system.indexOf('Outputs will be a JSON object with the following fields.');
  if (jsonAt >= 0) {
    adapter = 'json';
    const brace = system.indexOf('{', jsonAt);
    const block = brace >= 0 ? balancedObject(system, brace) : undefined;
    try {
      const obj = block ? (JSON.parse(block) as Record<string, unknown>) : {};
      for (const [k, v] of Object.entries(obj)) {
        const m = typeof v === 'string' ? NOTE.exec(v.trim()) : null;
        notes.set(k, m?.[2]);
      }
    } catch { /* fields without notes: text */ }
  } else if (system.includes('[[ ## completed ## ]]')) {
    adapter = 'chat';
    for (const f of declared) {
      const at = system.indexOf(`[[ ## ${f.name} ## ]]\n{${f.name}}`);
      if (at < 0) continue;
      const lineStart = system.indexOf('\n', at) + 1;
      const lineEnd = system.indexOf('\n', lineStart);
      const m = NOTE.exec(system.slice(lineStart, lineEnd < 0 ? undefined : lineEnd).trim());
      notes.set(f.name, m?.[2]);
    }
  }
  if (!adapter) return undefined;
  return { adapter, fields: declared.map((f) => ({ ...f, value: noteKind(notes.get(f.name)) })) };
}

/** ChatAdapter's reply format: one `[[ ## field ## ]]` section per output field, then completed. */
export function chatAdapterReply(fields: { name: string; text: string }[]): string {
  return fields.map((f) => `[[ ## ${f.name} ## ]]\n${f.text}`).join('\n\n') + '\n\n[[ ## completed ## ]]';
}
