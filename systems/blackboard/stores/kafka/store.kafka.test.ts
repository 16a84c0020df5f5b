// Needs a real broker: starts a single-node KRaft cluster unless one is up (see useKafka).
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { useKafka } from '../../../../brokers/kafka/testing.ts';
import { makeArtifact } from '../../../../workloads/execute.ts';
import { typeTopic } from './layout.ts';
import { KafkaBlackboardStore } from './store.ts';
import { Admin, Consumer, Producer, stringDeserializers, stringSerializers, TRANSACTIONAL_INIT, forceClose, READ_COMMITTED } from '../../../../brokers/kafka/client.ts';

const kafka = useKafka();

describe('KafkaBlackboardStore (real broker)', () => {
  it('publishes and reads back artifacts and consumption records', async () => {
    const store = new KafkaBlackboardStore({ bootstrap: kafka.bootstrap(), runId: `t-${randomUUID()}`, types: ['Idea', 'Note'], partitions: 3 });
    await store.init();
    try {
      const a = makeArtifact({ key: 'i-1', type: 'Idea', payload: { x: 1 }, producedBy: 'external', correlationId: 'c1' }, 1);
      const b = makeArtifact({ key: 'n-1', type: 'Note', payload: { y: 'z' }, producedBy: 'agent', correlationId: 'c2' }, 2);
      await store.publish(a);
      await store.publish(b);
      await store.recordConsumption([{ artifactId: a.id, agent: 'agent', atMs: 3 }]);
      expect((await store.all()).map((x) => x.key)).toEqual(['i-1', 'n-1']);
      expect(await store.byType('Note')).toEqual([b]);
      expect((await store.get(a.id))?.payload).toEqual({ x: 1 });
      expect(await store.consumptions()).toEqual([{ artifactId: a.id, agent: 'agent', atMs: 3 }]);
    } finally {
      await store.deleteTopics();
      await store.close();
    }
  });

  it('concurrent publishes are all kept (serialised sender; the raw client drops them)', async () => {
    const bootstrap = kafka.bootstrap();
    const store = new KafkaBlackboardStore({ bootstrap, runId: `t-${randomUUID()}`, types: ['T'], partitions: 1 });
    await store.init();
    const topic = typeTopic(store.runId, 'T');
    const raw = new Producer({ clientId: 'tconc', bootstrapBrokers: bootstrap, serializers: stringSerializers, idempotent: true });
    try {
      await Promise.all(Array.from({ length: 50 }, (_, i) =>
        store.publish(makeArtifact({ key: `k${i}`, type: 'T', payload: { i }, producedBy: 'external', correlationId: 'same' }, i))));
      expect((await store.all()).length).toBe(50);
      // Documents the client behaviour the SerialSender works around (1.35.0). If this starts
      // failing because all 50 arrive, the client is fixed and the workaround can go.
      await Promise.all(Array.from({ length: 50 }, (_, i) => raw.send({ messages: [{ topic, key: 'same', value: `raw${i}` }] })));
      const rawCount = (await store.readTopics([topic])).length - 50;
      expect(rawCount).toBeLessThan(50);
    } finally {
      await raw.close();
      await store.deleteTopics();
      await store.close();
    }
  });

  // platformatic/kafka #391: a read-committed fetch that starts at an abort marker (or at an
  // aborted record) must skip the aborted data and still reach the next committed record.
  it.each([
    ['at the aborted record', 2n],
    ['at the abort marker', 3n],
  ])('read-committed consumer starting %s sees only committed records', async (_label, startAt) => {
    const bootstrap = kafka.bootstrap();
    const store = new KafkaBlackboardStore({ bootstrap, runId: `t-${randomUUID()}`, types: ['T'], partitions: 1 });
    await store.init();
    const topic = typeTopic(store.runId, 'T');
    const producer = new Producer({ clientId: 't391', bootstrapBrokers: bootstrap, serializers: stringSerializers, idempotent: true, transactionalId: `t391-${randomUUID()}`, ...TRANSACTIONAL_INIT });
    const groupId = `g391-${randomUUID()}`;
    const admin = new Admin({ clientId: 't391-admin', bootstrapBrokers: bootstrap });
    try {
      // offsets: a=0, commit marker=1, b=2 (aborted), abort marker=3, c=4, commit marker=5
      for (const [value, commit] of [['a', true], ['b', false], ['c', true]] as const) {
        const tx = await producer.beginTransaction();
        await tx.send({ messages: [{ topic, key: 'k', value }] });
        if (commit) await tx.commit();
        else await tx.abort();
      }
      await admin.alterConsumerGroupOffsets({ groupId, topics: [{ name: topic, partitionOffsets: [{ partition: 0, offset: startAt }] }] });
      const consumer = new Consumer({ clientId: 't391-c', groupId, bootstrapBrokers: bootstrap, deserializers: stringDeserializers, isolationLevel: READ_COMMITTED, maxWaitTime: 100 });
      const got: string[] = [];
      try {
        const stream = await consumer.consume({ topics: [topic], mode: 'committed', autocommit: false });
        await new Promise<void>((resolve) => {
          const t = setTimeout(resolve, 8000);
          stream.on('data', (m) => {
            got.push(`${m.offset}:${m.value}`);
            if (m.value === 'c') { clearTimeout(t); setTimeout(resolve, 300); }
          });
        });
        await stream.close();
      } finally {
        await forceClose(consumer);
      }
      expect(got).toEqual(['4:c']);
      expect(await store.readTopics([topic])).toEqual(['a', 'c']);
    } finally {
      await producer.close();
      await admin.close();
      await store.deleteTopics();
      await store.close();
    }
  });
});
