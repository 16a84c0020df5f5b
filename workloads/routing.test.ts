import { describe, expect, it } from 'vitest';
import { makeArtifact } from './execute.ts';
import { map } from './map.ts';
import { reviewAnalysis } from './review-analysis.ts';
import { accepts, inputGroups, Router, type ReadyReason, type Timers } from './routing.ts';
import type { AgentSpec, Artifact } from './spec.ts';

const art = (key: string, type: string, correlationId: string, payload: Record<string, unknown> = {}, producedBy = 'external'): Artifact =>
  makeArtifact({ key, type, correlationId, payload, producedBy }, 0);

const agent = (over: Partial<AgentSpec>): AgentSpec => ({
  name: 'a', consumes: { types: ['T'] }, publishes: 'U', maxConcurrency: 2, model: 'gpt-4.1-mini', promptTokens: 10, outputTokens: 10, ...over,
});

/** Timers under the test's control: `advance(ms)` fires what is due, in order. */
function manualTimers(): Timers & { advance(ms: number): void; pending(): number } {
  let now = 0;
  const due: { at: number; fn: () => void; live: boolean }[] = [];
  return {
    after(ms, fn) {
      const t = { at: now + ms, fn, live: true };
      due.push(t);
      return () => { t.live = false; };
    },
    advance(ms) {
      now += ms;
      for (const t of due.filter((x) => x.live && x.at <= now).sort((a, b) => a.at - b.at)) {
        t.live = false;
        t.fn();
      }
    },
    pending: () => due.filter((x) => x.live).length,
  };
}

function route(a: AgentSpec, timers?: Timers, scale = 1) {
  const ready: [string[], ReadyReason][] = [];
  const expired: string[][] = [];
  const dropped: string[] = [];
  const r = new Router<Artifact>(a, (x) => x, {
    ready: (items, reason) => ready.push([items.map((i) => i.key), reason]),
    expired: (items) => expired.push(items.map((i) => i.key)),
    dropped: (item) => dropped.push(item.key),
  }, timers, scale);
  return { r, ready, expired, dropped };
}

describe('accepts', () => {
  it('takes the consumed types, honours where and prevent-self-trigger', () => {
    const a = agent({ consumes: { types: ['T'], where: { field: 'x', in: [1, 2] } } });
    expect(accepts(a, art('k1', 'T', 'c', { x: 1 }))).toBe(true);
    expect(accepts(a, art('k2', 'T', 'c', { x: 3 }))).toBe(false);
    expect(accepts(a, art('k3', 'T', 'c', { x: 2 }, 'a'))).toBe(false);
    expect(accepts({ ...a, allowSelfTrigger: true }, art('k3', 'T', 'c', { x: 2 }, 'a'))).toBe(true);
    expect(accepts(a, art('k4', 'V', 'c', { x: 1 }))).toBe(false);
  });
});

describe('Router', () => {
  it('a plain subscription: every input is its own execution', () => {
    const { r, ready } = route(agent({}));
    r.offer(art('k1', 'T', 'c1'));
    r.offer(art('k2', 'T', 'c1'));
    expect(ready).toEqual([[['k1'], 'single'], [['k2'], 'single']]);
    expect(r.held()).toBe(0);
  });

  it('a batch fires at its size, or at its (scaled) timeout with what it has', () => {
    const timers = manualTimers();
    const { r, ready } = route(agent({ consumes: { types: ['T'], batch: { size: 3, timeoutMs: 1000, by: 'correlationId' } } }), timers, 0.5);
    for (const k of ['a', 'b', 'c']) r.offer(art(k, 'T', 'x'));
    r.offer(art('d', 'T', 'y'));
    expect(ready).toEqual([[['a', 'b', 'c'], 'batch-size']]);
    expect(r.held()).toBe(1);
    expect(r.openBatches()).toBe(1);
    timers.advance(499);
    expect(ready).toHaveLength(1);
    timers.advance(1);
    expect(ready[1]).toEqual([['d'], 'batch-timeout']);
    expect(r.openBatches()).toBe(0);
    expect(timers.pending()).toBe(0);
  });

  it('a join fires when every consumed type is present; a duplicate type is dropped; a partial join expires after withinMs', () => {
    const timers = manualTimers();
    const { r, ready, expired, dropped } = route(agent({ consumes: { types: ['A', 'B'], join: { by: 'correlationId', withinMs: 100 } } }), timers);
    r.offer(art('a1', 'A', 'x'));
    r.offer(art('a2', 'A', 'x'));
    r.offer(art('b1', 'B', 'x'));
    expect(ready).toEqual([[['a1', 'b1'], 'join']]);
    expect(dropped).toEqual(['a2']);
    r.offer(art('a3', 'A', 'y'));
    expect(r.held()).toBe(1);
    timers.advance(100);
    expect(expired).toEqual([['a3']]);
    expect(r.held()).toBe(0);
    // After expiry the key starts afresh.
    r.offer(art('b2', 'B', 'y'));
    r.offer(art('a4', 'A', 'y'));
    expect(ready.at(-1)).toEqual([['a4', 'b2'], 'join']);
  });

  it('clear() cancels every timer and forgets what is held', () => {
    const timers = manualTimers();
    const { r, ready } = route(agent({ consumes: { types: ['T'], batch: { size: 5, timeoutMs: 10 } } }), timers);
    r.offer(art('a', 'T', 'x'));
    r.clear();
    timers.advance(100);
    expect(ready).toEqual([]);
    expect(r.held()).toBe(0);
  });
});

describe('inputGroups (graph compilers: all artifacts at once, no timers)', () => {
  it('one execution per matching artifact, honouring where and prevent-self-trigger', () => {
    const a = agent({ name: 'a', consumes: { types: ['T'], where: { field: 'x', in: [1, 2] } } });
    const groups = inputGroups(a, [art('k1', 'T', 'c1', { x: 1 }), art('k2', 'T', 'c2', { x: 3 }), art('k3', 'T', 'c3', { x: 2 }, 'a'), art('k4', 'V', 'c4', { x: 1 })]);
    expect(groups.map((g) => g.inputs.map((i) => i.key))).toEqual([['k1']]);
  });

  it('batches by correlation id and chunks by size in key order; partial chunks are not complete', () => {
    const a = agent({ consumes: { types: ['T'], batch: { size: 2, timeoutMs: 1, by: 'correlationId' } } });
    const groups = inputGroups(a, [art('b', 'T', 'x'), art('a', 'T', 'x'), art('c', 'T', 'y'), art('d', 'T', 'x')]);
    expect(groups.map((g) => [g.inputs.map((i) => i.key), g.complete])).toEqual([[['a', 'b'], true], [['d'], false], [['c'], false]]);
  });

  it('a global batch takes every task', () => {
    const w = map({ tasks: 5, join: true });
    const reducer = w.agents.find((x) => x.name === 'reducer')!;
    const stage = Array.from({ length: 5 }, (_, i) => art(`s${i}`, 'Stage1', `task-${i}`));
    const groups = inputGroups(reducer, stage);
    expect(groups).toHaveLength(1);
    expect(groups[0]!.inputs).toHaveLength(5);
    expect(groups[0]!.complete).toBe(true);
  });

  it('joins one artifact per type with the same correlation id', () => {
    const a = agent({ consumes: { types: ['A', 'B'], join: { by: 'correlationId' } } });
    const groups = inputGroups(a, [art('a1', 'A', 'x'), art('b1', 'B', 'x'), art('a2', 'A', 'y'), art('a3', 'A', 'x')]);
    expect(groups.map((g) => g.inputs.map((i) => i.key))).toEqual([['a1', 'b1']]);
  });

  it('review-analysis: the editor gets the analyses of one story per execution', () => {
    const w = reviewAnalysis({ analysts: 3, tasks: 2 });
    const editor = w.agents.find((x) => x.name === 'editor')!;
    const analyses = ['news-0', 'news-1'].flatMap((c) => [0, 1, 2].map((i) => art(`${c}-a${i}`, 'NewsAnalysis', c, {}, `analyst${i}`)));
    const groups = inputGroups(editor, analyses);
    expect(groups.map((g) => new Set(g.inputs.map((i) => i.correlationId)).size)).toEqual([1, 1]);
    expect(groups.every((g) => g.inputs.length === 3 && g.complete)).toBe(true);
  });
});
