import { describe, expect, it } from 'vitest';
import { compareMessageIds, decodeMessageId, formatMessageId, parseTopic, partitionTopic, topicPath, topicString } from './ws.ts';

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

describe('message ids', () => {
  it('decodes ids the 4.0.7 proxy returned', () => {
    // Producer receipt and consumer frame of the same message on a non-partitioned topic.
    expect(formatMessageId(decodeMessageId('CAMQADAA'))).toBe('3:0:-1:-1');
    expect(formatMessageId(decodeMessageId('CAUQADAA'))).toBe('5:0:-1:-1');
  });
  it('decodes the -1:-1 receipt of a deduplicated send', () => {
    const b64 = Buffer.from([0x08, ...varint(-1n), 0x10, ...varint(-1n)]).toString('base64');
    const id = decodeMessageId(b64);
    expect(id.ledgerId).toBe(-1n);
    expect(id.entryId).toBe(-1n);
  });
  it('decodes partition and batch index and orders ids', () => {
    const a = decodeMessageId(Buffer.from([0x08, 12, 0x10, 4, 0x18, 3, 0x20, 2, 0x30, 10]).toString('base64'));
    expect(a).toEqual({ ledgerId: 12n, entryId: 4n, partition: 3, batchIndex: 2, batchSize: 10 });
    const b = decodeMessageId(Buffer.from([0x08, 12, 0x10, 5]).toString('base64'));
    expect(compareMessageIds(a, b)).toBeLessThan(0);
  });
});

describe('topic names', () => {
  it('parses the three forms', () => {
    expect(topicString('x')).toBe('persistent://public/default/x');
    expect(topicString('t/ns/x')).toBe('persistent://t/ns/x');
    expect(parseTopic('non-persistent://t/ns/x').domain).toBe('non-persistent');
    expect(() => parseTopic('a/b')).toThrow();
  });
  it('builds URL paths and partition names', () => {
    expect(topicPath('persistent://public/default/a b')).toBe('persistent/public/default/a%20b');
    expect(topicString(partitionTopic('x', 3))).toBe('persistent://public/default/x-partition-3');
  });
});
