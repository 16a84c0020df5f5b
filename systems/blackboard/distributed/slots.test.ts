import { describe, expect, it } from 'vitest';
import { keyPartition } from '../../../brokers/kafka/client.ts';
import type { Artifact } from '../../../workloads/spec.ts';
import { RecordKeys } from '../stores/keying.ts';
import { consumerSlots, lastCommitAt, pooledSlots } from './slots.ts';

const art = (correlationId: string, type = 'Task') => ({ id: correlationId, key: correlationId, type, payload: {}, producedBy: 'external', correlationId, tags: [], createdAtMs: 0, version: 1 }) as Artifact;

describe('consumer slots for the partition-aware bound', () => {
  it('an input goes to the consumer of its agent that owns its partition', () => {
    const keys = new RecordKeys('balanced', 4, ['a', 'b', 'c', 'd'], keyPartition);
    const topicOf = (t: string) => `fb.run.${t}`;
    const s = consumerSlots([
      { agent: 'w', consumer: 'w#0', partitions: ['fb.run.Task:0', 'fb.run.Task:1'] },
      { agent: 'w', consumer: 'w#1', partitions: ['fb.run.Task:2', 'fb.run.Task:3'] },
    ], new Map([['w#0', 4], ['w#1', 4]]), topicOf, keys);
    // Balanced: a, b, c, d on partitions 0, 1, 2, 3.
    expect(['a', 'b', 'c', 'd'].map((c) => s.consumerOf('w', art(c)))).toEqual(['w#0', 'w#0', 'w#1', 'w#1']);
    expect(s.consumerOf('other', art('a'))).toBeUndefined();
    expect(s.agentLimits).toBe(false);
  });

  it('Shared subscriptions pool every consumer of an agent', () => {
    const s = pooledSlots([{ agent: 'w', maxInFlight: 4 }, { agent: 'w', maxInFlight: 4 }, { agent: 'r', maxInFlight: 1 }]);
    expect(s.consumerOf('w', art('x'))).toBe('w');
    expect(s.limits.get('w')).toBe(8);
    expect(s.limits.get('r')).toBe(1);
  });

  it('the work ends at the latest commit of any consumer', () => {
    expect(lastCommitAt([{ lastCommitAtMs: 5 }, {}, { lastCommitAtMs: 9 }])).toBe(9);
    expect(lastCommitAt([{}, {}])).toBeUndefined();
  });
});
