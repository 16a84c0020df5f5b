import { describe, expect, it } from 'vitest';
import { canonicalJson } from '../core/canonical.ts';
import { keyedRng } from '../core/random.ts';
import { generatePayload } from '../core/schema.ts';
import { canonicalJsonLength, inputTokens, makeArtifact, newArtifact, nextArtifactId, payloadTokens, promptTokensFor } from './execute.ts';
import { map } from './map.ts';
import { reviewAnalysis } from './review-analysis.ts';

describe('prompt-token estimates', () => {
  it('measure the canonical JSON length without building it, for generated and awkward payloads', () => {
    const payloads: Record<string, unknown>[] = [
      {}, { a: undefined, b: 1 }, { s: 'quote " back \\ nl \n tab \t ctrl \u0001 é ü 😀 lone \ud800' },
      { nested: { z: [1, 'two', null, true, { y: -0.5e-7 }], a: [] }, big: 1e21, neg: -3 },
      { arr: [undefined, 1] },
    ];
    for (const w of [map({}), reviewAnalysis({})]) {
      for (const t of w.types) for (let i = 0; i < 50; i++) payloads.push(generatePayload(t.schema, keyedRng('tokens', t.name, i)));
    }
    for (const p of payloads) {
      expect(canonicalJsonLength(p)).toBe(canonicalJson(p).length);
      expect(payloadTokens(p)).toBe(Math.ceil(canonicalJson(p).length / 4));
    }
  });

  it('count each input once per execution, memoised per payload', () => {
    const w = reviewAnalysis({});
    const agent = w.agents[0]!;
    const inputs = w.tasks.slice(0, 3).map((t) => makeArtifact({ ...t, producedBy: 'external' }, 0));
    const expected = agent.promptTokens + inputs.reduce((s, a) => s + Math.ceil(canonicalJson(a.payload).length / 4), 0);
    expect(promptTokensFor(agent, inputs)).toBe(expected);
    expect(promptTokensFor(agent, inputs)).toBe(expected);
  });

  it('leave a declared prompt size first', () => {
    const payload = { text: 'x'.repeat(400), prompt_tokens: 7 };
    expect(inputTokens({ payload })).toBe(7);
    expect(inputTokens({ payload: { text: 'x'.repeat(400) } })).toBe(Math.ceil(canonicalJson({ text: 'x'.repeat(400) }).length / 4));
  });
});

describe('artifact ids', () => {
  it('are unique and carry a per-process prefix', () => {
    const ids = Array.from({ length: 100_000 }, () => nextArtifactId());
    expect(new Set(ids).size).toBe(ids.length);
    expect(new Set(ids.map((i) => i.split('-')[0])).size).toBe(1);
    expect(ids[0]).toMatch(/^[0-9a-f]{16}-[0-9a-z]+$/);
  });
});

describe('artifacts', () => {
  it('are the same object from the hot-path constructor as from makeArtifact: fields, values and their order', () => {
    const fields = { key: 'k-1', type: 'Task', payload: { text: 'x' }, producedBy: 'external', correlationId: 'c-1' };
    const a = makeArtifact(fields, 12.5);
    const b = newArtifact(fields.key, fields.type, fields.payload, fields.producedBy, fields.correlationId, 12.5);
    expect(Object.keys(b)).toEqual(Object.keys(a));
    expect({ ...b, id: a.id }).toEqual(a);
    expect(b.id).not.toBe(a.id);
    // Their JSON (what broker-backed stores send) is the same text but for the id.
    expect(JSON.stringify({ ...b, id: '' })).toBe(JSON.stringify({ ...a, id: '' }));
  });

  it('share one frozen empty tag list, so tagging one in place fails instead of tagging all', () => {
    const a = newArtifact('k', 'T', {}, 'external', 'c', 0);
    const b = makeArtifact({ key: 'k2', type: 'T', payload: {}, producedBy: 'external', correlationId: 'c' }, 0);
    expect(a.tags).toEqual([]);
    expect(a.tags).toBe(b.tags);
    expect(() => a.tags.push('x')).toThrow(TypeError);
    expect(makeArtifact({ key: 'k3', type: 'T', payload: {}, producedBy: 'external', correlationId: 'c', tags: ['t'] }, 0).tags).toEqual(['t']);
  });
});
