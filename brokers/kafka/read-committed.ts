// Read-committed filtering of Fetch responses, done the way Kafka's Java consumer does it.
//
// Why: @platformatic/kafka 1.35.0 (the last 1.x; 2.x needs Node 22) filters aborted
// transactions in Consumer#filterUncommittedMessages with a Map keyed by producer id, one
// [firstOffset, abortMarker) range per producer. It under-filters, never over-filters (with the
// broker's ordering of abortedTransactions, every batch it drops is one Kafka drops), and it
// leaks aborted records to a read-committed consumer in two ways:
//   - one response spanning two aborted transactions of the same producer: the later entry
//     overwrites the earlier one, whose records are delivered;
//   - an aborted transaction whose abort marker is not in the response (cut by maxBytes): the
//     range is left open and its records are delivered.
// The response still carries partition.abortedTransactions after that filter, and
// MessagesStream fetches through the public consumer.fetch(), so withAbortedFilter() wraps
// fetch() on one consumer instance and re-filters every read-committed response before the
// stream sees it.
//
// Delete this module (and its calls) once the client in use filters by the aborted-transaction
// queue, i.e. once a consumer that is not wrapped passes read-committed.kafka.test.ts's leak
// checks; the tests there that assert the leak will start failing at that point.
import { FetchIsolationLevels, IS_CONTROL, IS_TRANSACTIONAL, kOptions } from '@platformatic/kafka';

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

type FetchCallback = (error: Error | null | undefined, response?: unknown) => void;
type Fetchable = {
  fetch: (options: { isolationLevel?: number }, callback?: FetchCallback) => unknown;
  [kOptions]: { isolationLevel?: number };
};

const kWrapped = Symbol('flockbench.readCommittedFilter');

/**
 * Wrap `consumer.fetch` (callback and promise forms) on this instance so every read-committed
 * response is re-filtered by filterAbortedTransactions before its caller (MessagesStream or a
 * direct caller) sees it. A fetch's isolation is decided as the client does: the call's
 * isolationLevel, else the consumer's (the client's default is read-committed); read-uncommitted
 * fetches pass through untouched. Idempotent; returns the consumer.
 */
export function withAbortedFilter<C extends object>(consumer: C): C {
  const c = consumer as unknown as Fetchable & { [kWrapped]?: true };
  if (c[kWrapped]) return consumer;
  const original = c.fetch;
  const readCommitted = (options: { isolationLevel?: number }) =>
    (options?.isolationLevel ?? c[kOptions]?.isolationLevel ?? FetchIsolationLevels.READ_COMMITTED) === FetchIsolationLevels.READ_COMMITTED;
  c.fetch = function fetch(this: unknown, options: { isolationLevel?: number }, callback?: FetchCallback) {
    const filter = readCommitted(options);
    if (callback) {
      return original.call(c, options, (error, response) => {
        if (!error && filter && response) filterAbortedTransactions(response as FetchResponseLike);
        callback(error, response);
      });
    }
    return (original.call(c, options) as Promise<unknown>).then((response) => {
      if (filter && response) filterAbortedTransactions(response as FetchResponseLike);
      return response;
    });
  };
  c[kWrapped] = true;
  return consumer;
}
