import { describe, expect, it } from 'vitest';
import { keyPartition as kafkaPartition } from '../../../brokers/kafka/client.ts';
import { keyPartition as pulsarPartition } from '../../../brokers/pulsar/client.ts';
import { RecordKeys, partitionCounts } from './keying.ts';

const tasks = Array.from({ length: 400 }, (_, i) => `task-${i}`);
const seeds = tasks.map((correlationId) => ({ correlationId }));

describe('record keying', () => {
  it('correlation keying is the old layout: the map workload skews on Kafka as measured in issue 15', () => {
    const keys = new RecordKeys('correlation', 4, tasks, kafkaPartition);
    expect(keys.keyOf({ correlationId: 'task-3' })).toBe('task-3');
    expect(partitionCounts(keys, seeds)).toEqual([89, 125, 98, 88]);
  });

  it.each([
    ['kafka', kafkaPartition],
    ['pulsar', pulsarPartition],
  ] as const)('balanced keying spreads the tasks evenly on %s at 1, 3, 4 and 16 partitions', (_n, partitioner) => {
    for (const p of [1, 3, 4, 16]) {
      const keys = new RecordKeys('balanced', p, tasks, partitioner);
      const counts = partitionCounts(keys, seeds);
      expect(Math.max(...counts) - Math.min(...counts)).toBeLessThanOrEqual(1);
      expect(counts.reduce((s, x) => s + x, 0)).toBe(400);
      // The j-th correlation goes to partition j mod p, through the client's own mapping.
      for (const j of [0, 1, 7, 399]) expect(partitioner(keys.keyOf({ correlationId: `task-${j}` }), p)).toBe(j % p);
    }
  });

  it('balanced keys are stable, shared by a correlation, and leave an explicit partitionKey alone', () => {
    const a = new RecordKeys('balanced', 16, tasks, kafkaPartition);
    const b = new RecordKeys('balanced', 16, tasks, kafkaPartition);
    // Another process (a worker) derives the same key for the same correlation.
    expect(a.keyOf({ correlationId: 'task-5' })).toBe(b.keyOf({ correlationId: 'task-5' }));
    expect(a.keyOf({ correlationId: 'task-5' })).toMatch(/^task-5(~\d+)?$/);
    expect(a.keyOf({ correlationId: 'task-5', partitionKey: 'mine' })).toBe('mine');
    // A correlation the workload does not list keeps its own key.
    expect(a.keyOf({ correlationId: 'elsewhere' })).toBe('elsewhere');
  });
});
