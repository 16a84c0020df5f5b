// Needs the real broker: a Pulsar standalone from the Maven jars (usePulsar starts one unless
// `brokers up pulsar` did). The WebSocket API's semantics the blackboard relies on.
import { randomUUID } from 'node:crypto';
import { expect, it } from 'vitest';
import { DedupProducer, KeyedSender, PulsarAdmin, WsConsumer, WsProducer, keyPartition, messageJson, messageText, readTopicValues } from './client.ts';
import { DEFAULT_PULSAR_DIR, statusPulsar, wsRoundTrip } from './standalone.ts';
import { describePulsar, usePulsar } from './testing.ts';

const pulsar = usePulsar();
const run = randomUUID().slice(0, 8);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const admin = () => new PulsarAdmin(pulsar.urls().webServiceUrl);
const ws = () => pulsar.urls().wsUrl;

async function until(cond: () => boolean, ms = 30_000): Promise<void> {
  for (const end = Date.now() + ms; !cond() && Date.now() < end;) await sleep(50);
}

describePulsar('pulsar standalone', () => {
  it('is ready only after a WebSocket produce/consume round trip; reports pid, RSS and CPU', async () => {
    const info = pulsar.info();
    if (info.started) expect(info.startupMs).toBeGreaterThanOrEqual(info.httpReadyMs);
    const st = statusPulsar(DEFAULT_PULSAR_DIR);
    expect(st.running).toBe(true);
    expect(st.rssMb).toBeGreaterThan(100);
    expect(st.cpuTimeMs).toBeGreaterThan(0);
    expect(await wsRoundTrip(ws())).toBeGreaterThan(0);
  });
});

describePulsar('pulsar over WebSocket', () => {
  it('round trip: payload, key, properties and message id survive', async () => {
    const topic = `rt-${run}`;
    const c = await WsConsumer.connect(ws(), topic, 's', { subscriptionType: 'Exclusive' });
    const p = await WsProducer.connect(ws(), topic);
    const r = await p.send({ payload: '{"a":1}', key: 'k', properties: { type: 'BreakingNews' } });
    const m = await c.receive(10_000);
    expect(m && messageText(m)).toBe('{"a":1}');
    expect(m?.key).toBe('k');
    expect(m?.properties).toEqual({ type: 'BreakingNews' });
    expect(m?.messageId).toBe(r.messageId);
    c.ack(m!);
    await p.close();
    await c.close();
  });

  it('Shared spreads one partition over several consumers, each message once', async () => {
    const topic = `shared-${run}`;
    await admin().createPartitionedTopic(topic, 1);
    const got: number[][] = [[], [], []];
    const cs = await Promise.all(got.map((list) => WsConsumer.connect(ws(), topic, 'agents', { subscriptionType: 'Shared', receiverQueueSize: 5 }, (m, c) => {
      list.push(messageJson<{ i: number }>(m).i);
      setTimeout(() => c.ack(m), 3);
    })));
    const p = await WsProducer.connect(ws(), topic);
    await Promise.all(Array.from({ length: 150 }, (_, i) => p.send({ payload: JSON.stringify({ i }) })));
    await until(() => got.flat().length >= 150);
    expect(got.every((l) => l.length > 0)).toBe(true);
    expect(got.flat().length).toBe(150);
    expect(new Set(got.flat()).size).toBe(150);
    await p.close();
    await Promise.all(cs.map((c) => c.close()));
  });

  it('Key_Shared keeps per-key order and gives each key to one consumer', async () => {
    const topic = `keyshared-${run}`;
    await admin().createPartitionedTopic(topic, 1);
    const seen: { key: string; seq: number }[][] = [[], [], []];
    const cs = await Promise.all(seen.map((list) => WsConsumer.connect(ws(), topic, 'agents', { subscriptionType: 'Key_Shared', receiverQueueSize: 20 }, (m, c) => {
      list.push(messageJson<{ key: string; seq: number }>(m));
      setTimeout(() => c.ack(m), Math.random() * 4);
    })));
    const p = await WsProducer.connect(ws(), topic);
    const sends: Promise<unknown>[] = [];
    for (let seq = 0; seq < 20; seq++) for (let k = 0; k < 12; k++) sends.push(p.send({ payload: JSON.stringify({ key: `s${k}`, seq }), key: `s${k}` }));
    await Promise.all(sends);
    await until(() => seen.flat().length >= 240);
    expect(seen.flat().length).toBe(240);
    const owner = new Map<string, number>();
    seen.forEach((list, ci) => {
      const last = new Map<string, number>();
      for (const { key, seq } of list) {
        expect(seq).toBeGreaterThan(last.get(key) ?? -1);
        last.set(key, seq);
        expect(owner.get(key) ?? ci).toBe(ci);
        owner.set(key, ci);
      }
    });
    expect(owner.size).toBe(12);
    await p.close();
    await Promise.all(cs.map((c) => c.close()));
  });

  it('nack -> redelivery -> dead-letter topic after maxRedeliverCount', async () => {
    const topic = `work-${run}`;
    const dlq = `${topic}-agents-DLQ`;
    const audit = await WsConsumer.connect(ws(), dlq, 'audit', { subscriptionType: 'Exclusive' });
    const counts: number[] = [];
    const c = await WsConsumer.connect(ws(), topic, 'agents', { subscriptionType: 'Shared', maxRedeliverCount: 2, negativeAckRedeliveryDelay: 200 }, (m, cc) => {
      counts.push(m.redeliveryCount);
      cc.nack(m);
    });
    const p = await WsProducer.connect(ws(), topic);
    await p.send({ payload: JSON.stringify({ poison: true }), properties: { agent: 'editor' } });
    const dead = await audit.receive(30_000);
    expect(dead && messageJson(dead)).toEqual({ poison: true });
    expect(dead?.properties.REAL_SUBSCRIPTION).toBe('agents');
    expect(dead?.properties.agent).toBe('editor');
    // Delivered once and redelivered twice, then dead-lettered instead of a third redelivery.
    expect(counts).toEqual([0, 1, 2]);
    audit.ack(dead!);
    await p.close();
    await c.close();
    await audit.close();
  });

  it('broker deduplication: a DedupProducer resending with the same ids stores nothing twice', async () => {
    const topic = `persistent://public/default/dedup-${run}`;
    await admin().createPartitionedTopic(topic, 1);
    const part = `${topic}-partition-0`;
    const p = new DedupProducer(ws(), part, { producerName: `dd-${run}` });
    for (let i = 0; i < 5; i++) expect((await p.send({ payload: `m${i}` })).duplicate).toBe(false);
    await p.close();
    // Another connection under the same name that starts numbering at 2 again: the broker drops
    // ids 2..4 (stored already) and stores 5 and 6.
    const again = await WsProducer.connect(ws(), part, { producerName: `dd-${run}`, initialSequenceId: 1 });
    const receipts = [];
    for (const payload of ['m2', 'm3', 'm4', 'm5', 'm6']) receipts.push(await again.send({ payload }));
    await again.close();
    expect(receipts.map((r) => r.duplicate)).toEqual([true, true, true, false, false]);
    const values = (await readTopicValues(pulsar.urls().webServiceUrl, ws(), [topic])).map((m) => m.value);
    expect(values).toEqual(['m0', 'm1', 'm2', 'm3', 'm4', 'm5', 'm6']);
  });

  it('a keyed sender routes by key hash and reading back returns every message', async () => {
    const topic = `persistent://public/default/keyed-${run}`;
    await admin().createPartitionedTopic(topic, 3);
    const s = new KeyedSender(ws(), `ks-${run}`);
    await s.prepare(topic, 3);
    const keys = Array.from({ length: 30 }, (_, i) => `task-${i}`);
    await Promise.all(keys.map((key) => s.send({ topic, partitions: 3, key, value: key })));
    for (let i = 0; i < 3; i++) {
      const inPartition = (await readTopicValues(pulsar.urls().webServiceUrl, ws(), [`${topic}-partition-${i}`])).map((m) => m.value).sort();
      expect(inPartition).toEqual(keys.filter((k) => keyPartition(k, 3) === i).sort());
    }
    const values = (await readTopicValues(pulsar.urls().webServiceUrl, ws(), [topic])).map((m) => m.value).sort();
    expect(values).toEqual([...keys].sort());
    expect(s.counters()).toMatchObject({ producers: 3, reconnects: 0, duplicates: 0 });
    await s.close();
  });
});
