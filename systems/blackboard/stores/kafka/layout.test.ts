import { describe, expect, it } from 'vitest';
import { OffsetTracker, agentGroup, dlqTopic, parseTp, partitionLag, recordKey, totalLag, tpKey, transactionalId, typeTopic } from './layout.ts';

describe('kafka topic layout', () => {
  it('names topics, groups and transactional ids per run', () => {
    expect(typeTopic('run-1', 'NewsAnalysis')).toBe('fb.run-1.NewsAnalysis');
    expect(typeTopic('r/1', 'a b')).toBe('fb.r_1.a_b');
    expect(dlqTopic('r')).toBe('fb.r.__dlq');
    expect(agentGroup('r', 'editor')).toBe('fb.r.editor');
    expect(transactionalId('r', 'editor', 2)).toBe('fb.r.editor.2');
    const long = 'x'.repeat(60);
    expect(typeTopic(long, 'T')).toMatch(/^fb\.x{27}-[0-9a-f]{12}\.T$/);
    expect(typeTopic(long, 'T')).not.toBe(typeTopic(`${long}y`, 'T'));
    expect(recordKey({ correlationId: 'c' })).toBe('c');
    expect(recordKey({ correlationId: 'c', partitionKey: 'p' })).toBe('p');
    expect(parseTp(tpKey('fb.r:x.T', 3))).toEqual({ topic: 'fb.r:x.T', partition: 3 });
  });

  it('computes lag from end offsets and positions', () => {
    expect(partitionLag(10n, 4n)).toBe(6n);
    expect(partitionLag(10n, undefined)).toBe(10n);
    expect(partitionLag(10n, 12n)).toBe(0n);
    const ends = new Map([['t:0', 5n], ['t:1', 3n]]);
    expect(totalLag(ends, new Map([['t:0', 5n]]))).toBe(3);
    expect(totalLag(ends, new Map([['t:0', 5n], ['t:1', 3n], ['u:0', 1n]]))).toBe(0);
  });
});

describe('OffsetTracker', () => {
  it('commits only up to the first record still in progress', () => {
    const t = new OffsetTracker();
    for (const o of [0n, 1n, 2n, 5n]) t.received('t:0', o);
    t.done('t:0', 1n);
    expect(t.committable('t:0')).toBeUndefined();
    t.done('t:0', 0n);
    expect(t.committable('t:0')).toBe(2n);
    t.done('t:0', 5n);
    expect(t.committable('t:0')).toBe(2n);
    t.done('t:0', 2n);
    expect(t.allCommittable()).toEqual(new Map([['t:0', 6n]]));
    t.committed('t:0', 6n);
    expect(t.committable('t:0')).toBeUndefined();
    expect(t.pending()).toBe(0);
  });

  it('undo re-opens an aborted offset', () => {
    const t = new OffsetTracker();
    t.received('t:0', 7n);
    t.received('t:0', 8n);
    t.done('t:0', 7n);
    t.done('t:0', 8n);
    t.undo('t:0', 7n);
    expect(t.committable('t:0')).toBeUndefined();
    t.done('t:0', 7n);
    expect(t.committable('t:0')).toBe(9n);
  });
});
