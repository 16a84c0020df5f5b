import { describe, expect, it } from 'vitest';
import { filterAbortedBatches, filterAbortedTransactions, withAbortedFilter, type AbortedTransaction, type BatchLike } from './read-committed.ts';
import { IS_CONTROL, IS_TRANSACTIONAL, kGetApi } from '@platformatic/kafka';

type Batch = Omit<BatchLike, 'records'> & { records: { key: Buffer | null; value: Buffer | null; offsetDelta: number }[] };

/** A transactional data batch of `values` at `offset`.. (or non-transactional with `tx: false`). */
function data(producerId: bigint, offset: bigint, values: string[], tx = true): Batch {
  return {
    firstOffset: offset,
    lastOffsetDelta: values.length - 1,
    attributes: tx ? IS_TRANSACTIONAL : 0,
    producerId,
    records: values.map((v, i) => ({ key: null, value: Buffer.from(v), offsetDelta: i })),
  };
}

/** A transaction marker (control batch) at `offset`. */
function marker(producerId: bigint, offset: bigint, kind: 'abort' | 'commit'): Batch {
  const key = Buffer.alloc(4);
  key.writeInt16BE(0, 0);
  key.writeInt16BE(kind === 'abort' ? 0 : 1, 2);
  return { firstOffset: offset, lastOffsetDelta: 0, attributes: IS_TRANSACTIONAL | IS_CONTROL, producerId, records: [{ key, value: null, offsetDelta: 0 }] };
}

const aborted = (producerId: bigint, firstOffset: bigint): AbortedTransaction => ({ producerId, firstOffset });

/** Values a consumer would be handed: data records of non-control batches, in order. */
function visible(batches: Batch[]): string[] {
  return batches.filter((b) => !(b.attributes & IS_CONTROL)).flatMap((b) => b.records.map((r) => r.value!.toString()));
}

function offsets(batches: Batch[]): bigint[] {
  return batches.map((b) => b.firstOffset);
}

const P = 7n;
const Q = 9n;

describe('filterAbortedBatches', () => {
  it('drops both of two aborted transactions of one producer in one response', () => {
    // A: 0-1 + abort@2, B: 3-4 + abort@5, C: 6-7 + commit@8
    const batches = [
      data(P, 0n, ['a1', 'a2']), marker(P, 2n, 'abort'),
      data(P, 3n, ['b1', 'b2']), marker(P, 5n, 'abort'),
      data(P, 6n, ['c1', 'c2']), marker(P, 8n, 'commit'),
    ];
    const out = filterAbortedBatches(batches, [aborted(P, 0n), aborted(P, 3n)]);
    expect(visible(out)).toEqual(['c1', 'c2']);
  });

  it('keeps committed transactions around abort markers of transactions that wrote no data (not indexed)', () => {
    // The lost run's Stage1-0, offsets as in the log: commit@23, data-less abort@24 (no index
    // entry), aborted 40-43 + abort@44, committed 45-49, aborted 51-54 + abort@55, committed
    // 56 + commit@57, data-less abort@94. DumpLogSegments: 45-49 and 56 are COMMIT.
    const batches = [
      data(P, 19n, ['w']), marker(P, 23n, 'commit'), marker(P, 24n, 'abort'),
      data(P, 40n, ['x1', 'x2']), marker(P, 44n, 'abort'),
      data(P, 45n, ['y']), marker(P, 50n, 'commit'),
      data(P, 51n, ['z1', 'z2']), marker(P, 55n, 'abort'),
      data(P, 56n, ['v']), marker(P, 57n, 'commit'), marker(P, 94n, 'abort'),
    ];
    expect(visible(filterAbortedBatches(batches, [aborted(P, 40n), aborted(P, 51n)]))).toEqual(['w', 'y', 'v']);
  });

  it('does not depend on the order of abortedTransactions', () => {
    const batches = [data(P, 0n, ['a']), marker(P, 1n, 'abort'), data(P, 2n, ['b']), marker(P, 3n, 'abort'), data(P, 4n, ['c'])];
    expect(visible(filterAbortedBatches(batches, [aborted(P, 2n), aborted(P, 0n)]))).toEqual(['c']);
  });

  it('keeps a committed transaction of the same producer between and after aborted ones', () => {
    // A aborted 0 + abort@1, B committed 2 + commit@3, C aborted 4 + abort@5, D committed 6 + commit@7
    const batches = [
      data(P, 0n, ['a']), marker(P, 1n, 'abort'),
      data(P, 2n, ['b']), marker(P, 3n, 'commit'),
      data(P, 4n, ['c']), marker(P, 5n, 'abort'),
      data(P, 6n, ['d']), marker(P, 7n, 'commit'),
    ];
    expect(visible(filterAbortedBatches(batches, [aborted(P, 0n), aborted(P, 4n)]))).toEqual(['b', 'd']);
  });

  it('filters interleaved producers independently', () => {
    // P aborts (0, 2), Q commits (1, 3); P's abort marker @4, Q's commit marker @5;
    // then Q aborts (6) + abort@8 while P commits (7) + commit@9
    const batches = [
      data(P, 0n, ['p1']), data(Q, 1n, ['q1']), data(P, 2n, ['p2']), data(Q, 3n, ['q2']),
      marker(P, 4n, 'abort'), marker(Q, 5n, 'commit'),
      data(Q, 6n, ['q3']), data(P, 7n, ['p3']), marker(Q, 8n, 'abort'), marker(P, 9n, 'commit'),
    ];
    expect(visible(filterAbortedBatches(batches, [aborted(P, 0n), aborted(Q, 6n)]))).toEqual(['q1', 'q2', 'p3']);
  });

  it('drops an aborted transaction whose marker lies beyond the response', () => {
    // The broker lists it as aborted, so its records are dropped although the marker is not here.
    const batches = [data(Q, 0n, ['q1']), marker(Q, 1n, 'commit'), data(P, 2n, ['a1', 'a2']), data(P, 4n, ['a3'])];
    const out = filterAbortedBatches(batches, [aborted(P, 2n)]);
    expect(visible(out)).toEqual(['q1']);
  });

  it('applies an aborted transaction that began before the response', () => {
    // Fetch starting at 5 inside a transaction that began at 3.
    const batches = [data(P, 5n, ['a3']), marker(P, 6n, 'abort'), data(P, 7n, ['c'])];
    expect(visible(filterAbortedBatches(batches, [aborted(P, 3n)]))).toEqual(['c']);
  });

  it('keeps control batches and keeps aborted batches as empty shells with their offsets', () => {
    const batches = [data(P, 0n, ['a1', 'a2']), marker(P, 2n, 'abort'), data(P, 3n, ['b']), marker(P, 4n, 'commit'), data(P, 5n, ['x1', 'x2', 'x3'])];
    const out = filterAbortedBatches(batches, [aborted(P, 0n), aborted(P, 5n)]);
    // Every batch is still there, so the stream's next fetch offset (last batch + 1) is unchanged.
    expect(offsets(out)).toEqual(offsets(batches));
    expect(out[out.length - 1]!.lastOffsetDelta).toBe(2);
    expect(out[1]).toBe(batches[1]);
    expect(out[3]).toBe(batches[3]);
    expect(out.map((b) => b.records.length)).toEqual([0, 1, 1, 1, 0]);
    expect(visible(out)).toEqual(['b']);
    // The input is not mutated.
    expect(batches[0]!.records.length).toBe(2);
  });

  it('leaves non-transactional batches alone even when their producer id is in the aborted set', () => {
    const batches = [data(P, 0n, ['a']), data(P, 1n, ['plain'], false), marker(P, 2n, 'abort')];
    expect(visible(filterAbortedBatches(batches, [aborted(P, 0n)]))).toEqual(['plain']);
  });

  it('leaves batches without a producer id and responses without aborted transactions alone', () => {
    const batches = [data(-1n, 0n, ['n'], false), data(P, 1n, ['t']), marker(P, 2n, 'commit')];
    expect(visible(filterAbortedBatches(batches, [aborted(P, 5n)]))).toEqual(['n', 't']);
    expect(visible(filterAbortedBatches(batches, []))).toEqual(['n', 't']);
  });
});

describe('filterAbortedTransactions', () => {
  it('re-filters every partition of a response in place', () => {
    const response = {
      responses: [
        {
          partitions: [
            { abortedTransactions: [aborted(P, 0n), aborted(P, 2n)], records: [data(P, 0n, ['a']), marker(P, 1n, 'abort'), data(P, 2n, ['b']), marker(P, 3n, 'abort'), data(P, 4n, ['c'])] },
            { abortedTransactions: [], records: [data(Q, 0n, ['q'])] },
            { abortedTransactions: [aborted(P, 0n)], records: undefined },
          ],
        },
      ],
    };
    expect(filterAbortedTransactions(response)).toBe(response);
    const [p0, p1, p2] = response.responses[0]!.partitions;
    expect(visible(p0!.records!)).toEqual(['c']);
    expect(visible(p1!.records!)).toEqual(['q']);
    expect(p2!.records).toBeUndefined();
  });
});

describe('withAbortedFilter', () => {
  // The chaos run that lost 30 committed records, in miniature: an aborted transaction with data
  // (indexed), a committed one, then an abort marker of a transaction that wrote nothing to the
  // partition (not indexed). Kafka keeps the committed one.
  const respond = () => ({
    responses: [{ partitions: [{ abortedTransactions: [aborted(P, 0n)], records: [data(P, 0n, ['a']), marker(P, 1n, 'abort'), data(P, 2n, ['b']), marker(P, 3n, 'commit'), marker(P, 4n, 'abort')] }] }],
  });
  type R = ReturnType<typeof respond>;
  /** A stand-in for the client's consumer: [kGetApi]('Fetch') hands out a Fetch API function, and fetch() applies what the client's own filter does. */
  function fakeConsumer() {
    const calls: unknown[][] = [];
    const fetchApi = Object.assign(
      (_connection: unknown, ...args: unknown[]) => {
        const cb = args.pop() as (e: Error | null, r?: R) => void;
        calls.push(args);
        queueMicrotask(() => cb(null, respond()));
      },
      { key: 1, version: 17 },
    );
    const consumer = {
      calls,
      [kGetApi](name: string, cb: (e: Error | null, api?: unknown) => void) {
        cb(null, name === 'Fetch' ? fetchApi : () => 'other');
      },
      /** The client's Consumer#fetch path: get the API, call it, then its own range filter (1.35.0, as written there). */
      fetch(isolationLevel: number): Promise<R> {
        return new Promise((resolve, reject) => {
          this[kGetApi]('Fetch', (e, api) => {
            if (e) return reject(e);
            (api as (...a: unknown[]) => void)({}, 100, 1, 1024, isolationLevel, 0, 0, [], [], '', (error: Error | null, r: R) => {
              if (error) return reject(error);
              if (isolationLevel === 1) clientFilter(r);
              resolve(r);
            });
          });
        });
      },
    };
    return consumer;
  }
  /** @platformatic/kafka 1.35.0 Consumer#filterUncommittedMessages, transcribed. */
  function clientFilter(r: R) {
    for (const partition of r.responses[0]!.partitions) {
      if (!partition.abortedTransactions.length) continue;
      const ranges = new Map<bigint, [bigint, bigint]>();
      for (const a of partition.abortedTransactions) ranges.set(a.producerId, [a.firstOffset, -1n]);
      for (const b of partition.records) if (b.attributes & IS_CONTROL && b.records[0]!.key?.readInt16BE(2) === 0) ranges.get(b.producerId)![1] = b.firstOffset;
      partition.records = partition.records.filter((b) => {
        const skip = ranges.get(b.producerId);
        return !skip || !(skip[1] !== -1n && b.firstOffset >= skip[0] && b.firstOffset < skip[1]);
      });
    }
  }
  const values = (r: R) => visible(r.responses[0]!.partitions[0]!.records);

  it('the client alone drops the committed transaction before a data-less abort marker (the chaos loss)', async () => {
    expect(values(await fakeConsumer().fetch(1))).toEqual([]);
  });

  it('a wrapped consumer keeps it: the raw response is filtered before the client filter runs', async () => {
    const c = withAbortedFilter(fakeConsumer());
    const r = await c.fetch(1);
    expect(values(r)).toEqual(['b']);
    expect(r.responses[0]!.partitions[0]!.abortedTransactions).toEqual([]);
    expect(c.calls[0]).toHaveLength(9);
  });

  it('passes read-uncommitted responses through untouched', async () => {
    const r = await withAbortedFilter(fakeConsumer()).fetch(0);
    expect(values(r)).toEqual(['a', 'b']);
    expect(r.responses[0]!.partitions[0]!.abortedTransactions).toHaveLength(1);
  });

  it('wraps once, returns the same consumer, and leaves other APIs alone', () => {
    const c = fakeConsumer();
    const w = withAbortedFilter(c);
    expect(w).toBe(c);
    const getApi = w[kGetApi];
    expect(withAbortedFilter(w)[kGetApi]).toBe(getApi);
    let other: unknown;
    w[kGetApi]('Metadata', (_e, api) => { other = api; });
    expect((other as () => string)()).toBe('other');
    let fetchApi: Record<string, unknown> = {};
    w[kGetApi]('Fetch', (_e, api) => { fetchApi = api as Record<string, unknown>; });
    expect([fetchApi.key, fetchApi.version, typeof fetchApi.async]).toEqual([1, 17, 'function']);
  });
});
