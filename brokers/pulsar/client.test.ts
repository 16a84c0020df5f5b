// The client's own logic without a JVM: key routing as Pulsar's Java client, and a
// DedupProducer against a stand-in for the WebSocket proxy that numbers frames the way the
// 4.0.7 proxy does and deduplicates like the broker (the real broker: *.pulsar.test.ts).
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocketServer } from 'ws';
import { DedupProducer, keyPartition } from './client.ts';

describe('keyPartition', () => {
  it("routes like Pulsar's JavaStringHash: (String.hashCode & MAX_INT) % partitions", () => {
    // "hello".hashCode() == 99162322; "polygenelubricants".hashCode() == Integer.MIN_VALUE.
    expect(keyPartition('hello', 4)).toBe(99162322 % 4);
    expect(keyPartition('hello', 7)).toBe(99162322 % 7);
    expect(keyPartition('polygenelubricants', 5)).toBe(0);
    expect(keyPartition('', 3)).toBe(0);
  });
});

function varint(v: bigint): number[] {
  let x = BigInt.asUintN(64, v);
  const out: number[] = [];
  do {
    let b = Number(x & 0x7fn);
    x >>= 7n;
    if (x) b |= 0x80;
    out.push(b);
  } while (x);
  return out;
}
const messageId = (ledger: bigint, entry: bigint) => Buffer.from([0x08, ...varint(ledger), 0x10, ...varint(entry)]).toString('base64');

/**
 * The proxy's producer endpoint as far as numbering goes: the n-th frame of a connection opened
 * with initialSequenceId=s gets sequence id s+1+n; the broker stores it unless its id is at or
 * below the highest it stored for that producer name (then the receipt is -1:-1).
 */
async function fakeProxy(o: { onFrame?: (conn: number, n: number) => 'store-and-reply' | 'store-silently' | 'drop' }) {
  const wss = new WebSocketServer({ port: 0, host: '127.0.0.1' });
  await new Promise<void>((r) => wss.once('listening', () => r()));
  const stored: { seq: number; payload: string }[] = [];
  const highest = new Map<string, number>();
  let conns = 0;
  wss.on('connection', (ws, req) => {
    const q = new URL(req.url!, 'http://x').searchParams;
    const name = q.get('producerName')!;
    const init = Number(q.get('initialSequenceId'));
    const conn = conns++;
    let n = 0;
    let dead = false;
    ws.on('message', (data) => {
      if (dead) return;
      const f = JSON.parse(data.toString()) as { payload: string; context: string };
      const seq = init + 1 + n;
      const what = o.onFrame?.(conn, n++) ?? 'store-and-reply';
      if (what === 'drop') {
        dead = true;
        ws.terminate();
        return;
      }
      let id = messageId(-1n, -1n);
      if (seq > (highest.get(name) ?? -1)) {
        highest.set(name, seq);
        stored.push({ seq, payload: Buffer.from(f.payload, 'base64').toString() });
        id = messageId(1n, BigInt(stored.length - 1));
      }
      if (what === 'store-and-reply') ws.send(JSON.stringify({ result: 'ok', messageId: id, context: f.context }));
    });
  });
  const url = `ws://127.0.0.1:${(wss.address() as AddressInfo).port}`;
  const close = () => new Promise<void>((r) => {
    for (const c of wss.clients) c.terminate();
    wss.close(() => r());
  });
  return { url, stored, close, connections: () => conns };
}

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0)) await c();
});

describe('DedupProducer', () => {
  it('stores every message once when a connection dies with stored-but-unconfirmed messages in flight', async () => {
    // First connection: frames 0-19 stored and confirmed, 20-29 stored without a receipt, then
    // the socket dies (frames 30-49 are lost). The producer must resend 20-49 with the same ids.
    const proxy = await fakeProxy({ onFrame: (conn, n) => (conn > 0 ? 'store-and-reply' : n < 20 ? 'store-and-reply' : n < 30 ? 'store-silently' : 'drop') });
    cleanup.push(proxy.close);
    const p = new DedupProducer(proxy.url, 'persistent://public/default/t-partition-0', { producerName: 'w1' });
    cleanup.push(() => p.close());
    const receipts = await Promise.all(Array.from({ length: 50 }, (_, i) => p.send({ payload: `m${i}` })));
    expect(proxy.stored.map((s) => s.payload)).toEqual(Array.from({ length: 50 }, (_, i) => `m${i}`));
    expect(proxy.stored.map((s) => s.seq)).toEqual(Array.from({ length: 50 }, (_, i) => i));
    expect(receipts.filter((r) => r.duplicate)).toHaveLength(10);
    expect(p.counters).toEqual({ reconnects: 1, resent: 30, duplicates: 10 });
    expect(p.pending).toBe(0);
  });

  it('keeps numbering across reconnects: messages sent after a reconnect continue the sequence', async () => {
    let drops = 0;
    const proxy = await fakeProxy({ onFrame: (conn, n) => (conn === 0 && n === 3 && drops++ === 0 ? 'drop' : 'store-and-reply') });
    cleanup.push(proxy.close);
    const p = new DedupProducer(proxy.url, 'persistent://public/default/t-partition-1', { producerName: 'w2' });
    cleanup.push(() => p.close());
    for (let i = 0; i < 3; i++) await p.send({ payload: `a${i}` });
    await Promise.all([p.send({ payload: 'a3' }), p.send({ payload: 'a4' })]);
    await p.send({ payload: 'a5' });
    expect(proxy.stored.map((s) => `${s.seq}:${s.payload}`)).toEqual(['0:a0', '1:a1', '2:a2', '3:a3', '4:a4', '5:a5']);
    expect(proxy.connections()).toBe(2);
  });

  it('gives up after its retry budget when nothing answers', async () => {
    const p = new DedupProducer('ws://127.0.0.1:9', 'persistent://public/default/t-partition-0', { producerName: 'w3', retryBudgetMs: 300 });
    await expect(p.send({ payload: 'x' })).rejects.toThrow(/no connection for/);
    await p.close();
  });
});
