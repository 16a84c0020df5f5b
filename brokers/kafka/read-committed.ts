// Read-committed filtering of Fetch responses, done the way Kafka's Java consumer does it.
//
// Why: @platformatic/kafka 1.35.0 (the last 1.x; 2.x needs Node 22, and 2.11 still has the same
// code, platformatic/kafka#391) filters aborted transactions in
// Consumer#filterUncommittedMessages with a Map keyed by producer id: one
// [firstOffset, lastAbortMarker) range per producer, the start taken from the producer's LAST
// aborted-transaction entry and the end from its LAST abort marker in the response. That is
// wrong both ways:
//   - it leaks: one response spanning two aborted transactions of the same producer delivers
//     the earlier one's records; an aborted transaction whose marker is cut off by maxBytes is
//     left open and delivered;
//   - it drops committed records: an abort marker of a transaction that wrote no data to the
//     partition (the partition was added, its produce never landed, the transaction was aborted:
//     what a broker kill followed by a producer re-initialisation leaves) has no
//     aborted-transaction entry, yet it moves the range's end past every later COMMITTED
//     transaction of that producer, and their records and markers are silently removed. A chaos
//     run lost 30 committed Stage1 records this way (offsets 56-92 between an indexed abort at
//     51-55 and a data-less abort at 94; Kafka's DumpLogSegments shows all of them COMMIT).
// Re-filtering the client's output cannot undo a drop, so the raw response is filtered before
// the client's filter runs: withAbortedFilter() wraps the consumer's Fetch API lookup
// (kGetApi('Fetch')) on one instance, filters each read-committed response with the Java
// consumer's algorithm and then empties its abortedTransactions, which turns the client's own
// filter into a no-op.
//
// Delete this module (and its calls) once the client in use filters by the aborted-transaction
// queue, i.e. once a consumer that is not wrapped passes read-committed.kafka.test.ts's checks;
// the tests there that assert the client's leaks and drop will start failing at that point.
import { promisify } from 'node:util';
import { FetchIsolationLevels, IS_CONTROL, IS_TRANSACTIONAL, kGetApi } from '@platformatic/kafka';

/** Aborted-transaction entry of a Fetch response partition. */
export interface AbortedTransaction {
  producerId: bigint;
  firstOffset: bigint;
}

/** The fields of a record batch (protocol/records.js readRecordsBatch) the filter reads. */
export interface BatchLike {
  firstOffset: bigint;
  lastOffsetDelta: number;
  attributes: number;
  producerId: bigint;
  records: { key?: Buffer | null }[];
}

export interface FetchPartitionLike<B extends BatchLike = BatchLike> {
  abortedTransactions?: AbortedTransaction[] | null;
  records?: B[] | null;
}

export interface FetchResponseLike<B extends BatchLike = BatchLike> {
  responses: { partitions: FetchPartitionLike<B>[] }[];
}

/** Control record key: int16 version, int16 type (0 = abort, 1 = commit). */
const ABORT_MARKER = 0;

function isAbortMarker(batch: BatchLike): boolean {
  if (!(batch.attributes & IS_CONTROL)) return false;
  const key = batch.records[0]?.key;
  return !!key && key.length >= 4 && key.readInt16BE(2) === ABORT_MARKER;
}

/**
 * One partition's batches with the records of aborted transactions removed, following Kafka's
 * CompletedFetch: aborted transactions are consumed in firstOffset order; before each batch
 * (in the broker's offset order) the producers of every aborted transaction that began at or
 * before the batch's last offset join the aborted set; an ABORT marker removes its producer
 * from the set; a transactional data batch of a producer in the set is aborted.
 *
 * An aborted batch is kept as an empty shell (same offsets, no records) rather than removed:
 * MessagesStream takes the next fetch offset from the last batch of a response, so removing
 * trailing aborted batches would refetch them, and a response made only of aborted batches
 * (a transaction larger than the fetch's byte limit) would be refetched forever. Control
 * batches are returned unchanged; the stream skips them itself and needs them for its offsets.
 */
export function filterAbortedBatches<B extends BatchLike>(batches: readonly B[], abortedTransactions: readonly AbortedTransaction[]): B[] {
  if (!abortedTransactions.length) return batches.slice();
  const queue = [...abortedTransactions].sort((a, b) => (a.firstOffset < b.firstOffset ? -1 : a.firstOffset > b.firstOffset ? 1 : 0));
  let next = 0;
  const abortedProducers = new Set<bigint>();
  const out: B[] = [];
  for (const batch of batches) {
    // Batches without a producer id (-1) are neither transactional nor markers.
    if (batch.producerId >= 0n) {
      const lastOffset = batch.firstOffset + BigInt(batch.lastOffsetDelta);
      while (next < queue.length && queue[next]!.firstOffset <= lastOffset) abortedProducers.add(queue[next++]!.producerId);
      if (isAbortMarker(batch)) {
        abortedProducers.delete(batch.producerId);
      } else if (batch.attributes & IS_TRANSACTIONAL && !(batch.attributes & IS_CONTROL) && abortedProducers.has(batch.producerId)) {
        out.push({ ...batch, records: [] });
        continue;
      }
    }
    out.push(batch);
  }
  return out;
}

/** Re-filter every partition of a read-committed Fetch response in place; returns it. */
export function filterAbortedTransactions<R extends FetchResponseLike>(response: R): R {
  for (const topic of response.responses) {
    for (const partition of topic.partitions) {
      if (!partition.records?.length || !partition.abortedTransactions?.length) continue;
      partition.records = filterAbortedBatches(partition.records, partition.abortedTransactions);
    }
  }
  return response;
}

type ApiCallback = (error: Error | null | undefined, response?: unknown) => void;
type Api = ((connection: unknown, ...args: unknown[]) => unknown) & Record<string, unknown>;
type GetApi = (name: string, callback: (error: Error | null | undefined, api?: Api) => void) => unknown;

const kWrapped = Symbol('flockbench.readCommittedFilter');

/** Index of isolation_level among a Fetch API call's arguments after the connection (every version the client has). */
const FETCH_ISOLATION_ARG = 3;

/**
 * Wrap the Fetch API of this consumer instance: every read-committed Fetch response is filtered
 * by filterAbortedTransactions and its abortedTransactions emptied before the client (its own
 * filter, then MessagesStream or a direct fetch() caller) sees it. Read-uncommitted fetches pass
 * through untouched. Idempotent; returns the consumer.
 */
export function withAbortedFilter<C extends object>(consumer: C): C {
  const c = consumer as unknown as { [kGetApi]: GetApi; [kWrapped]?: true };
  if (c[kWrapped]) return consumer;
  const getApi = c[kGetApi];
  c[kGetApi] = function wrappedGetApi(this: unknown, name, callback) {
    if (name !== 'Fetch') return getApi.call(c, name, callback);
    return getApi.call(c, name, (error, api) => (error || !api ? callback(error, api) : callback(error, readCommittedFetch(api))));
  };
  c[kWrapped] = true;
  return consumer;
}

/** A Fetch API function that filters read-committed responses (callback form, as the consumer calls it). */
export function readCommittedFetch(api: Api): Api {
  const wrapped = function fetchApi(connection: unknown, ...args: unknown[]) {
    const cb = typeof args[args.length - 1] === 'function' ? (args.pop() as ApiCallback) : undefined;
    const filter = args[FETCH_ISOLATION_ARG] === FetchIsolationLevels.READ_COMMITTED;
    return api(connection, ...args, (error: Error | null | undefined, response?: unknown) => {
      if (!error && filter && response) stripAborted(filterAbortedTransactions(response as FetchResponseLike));
      cb?.(error, response);
    });
  } as Api;
  for (const k of Object.keys(api)) wrapped[k] = api[k];
  wrapped.async = promisify(wrapped);
  return wrapped;
}

/** Empty every partition's abortedTransactions (already applied), so the client's own filter does nothing. */
function stripAborted(response: FetchResponseLike): void {
  for (const topic of response.responses) for (const partition of topic.partitions) if (partition.abortedTransactions?.length) partition.abortedTransactions = [];
}
