// Pure naming and offset arithmetic for the Kafka blackboard (no client, unit-tested).
//
// Topic layout of one run `<run>` (run id, sanitised):
//   fb.<run>.<Type>        one topic per artifact type (incl. WorkflowError); key = partitionKey
//                          ?? correlationId, so a correlation's artifacts share a partition and
//                          batch/join by correlation stay local to one consumer; value = Artifact JSON
//   fb.<run>.__dlq         artifacts that failed validation or exhausted retries: {error, origin, raw}
//   fb.<run>.__consumed    consumption records {artifactId, agent, atMs} (in the same transaction
//                          as the agent's outputs in exactly-once mode)
// Consumer group of agent A: fb.<run>.<A>; transactional id of its worker i: fb.<run>.<A>.<i>.

import { createHash } from 'node:crypto';

export const DLQ_SUFFIX = '__dlq';
export const CONSUMED_SUFFIX = '__consumed';

/** Kafka topic names allow [a-zA-Z0-9._-], max 249 chars. */
export function sanitizeName(s: string): string {
  return s.replace(/[^a-zA-Z0-9._-]/g, '_');
}

export function runPrefix(runId: string): string {
  // Topic names stay well under 249 chars: long run ids keep a readable head plus a hash of the whole.
  const id = sanitizeName(runId);
  return `fb.${id.length <= 40 ? id : `${id.slice(0, 27)}-${createHash('sha256').update(runId).digest('hex').slice(0, 12)}`}`;
}

export function typeTopic(runId: string, type: string): string {
  return `${runPrefix(runId)}.${sanitizeName(type)}`;
}

export function dlqTopic(runId: string): string {
  return `${runPrefix(runId)}.${DLQ_SUFFIX}`;
}

export function consumedTopic(runId: string): string {
  return `${runPrefix(runId)}.${CONSUMED_SUFFIX}`;
}

export function agentGroup(runId: string, agent: string): string {
  return `${runPrefix(runId)}.${sanitizeName(agent)}`;
}

export function transactionalId(runId: string, agent: string, worker: number): string {
  return `${agentGroup(runId, agent)}.${worker}`;
}

/** Record key: partitionKey if set, else correlationId. */
export function recordKey(a: { partitionKey?: string; correlationId: string }): string {
  return a.partitionKey ?? a.correlationId;
}

/**
 * Lag of one partition: records (and transaction markers) between a position and the end.
 * With transactional writes the end offset (LSO) counts commit markers, so a fully caught-up
 * consumer's committed offset can sit one below it; compare positions, not committed offsets,
 * when deciding idleness.
 */
export function partitionLag(endOffset: bigint, position: bigint | undefined): bigint {
  const from = position ?? 0n;
  return endOffset > from ? endOffset - from : 0n;
}

/** Sum of partitionLag over `topic:partition` keys present in `ends`. */
export function totalLag(ends: ReadonlyMap<string, bigint>, positions: ReadonlyMap<string, bigint>): number {
  let lag = 0n;
  for (const [tp, end] of ends) lag += partitionLag(end, positions.get(tp));
  return Number(lag);
}

/**
 * Tracks, per partition, which received offsets are done so offsets are committed only up
 * to the first offset still being worked on (out-of-order completion never skips a record).
 */
export class OffsetTracker {
  /** partition key -> received offsets in arrival (= offset) order, with done flags. */
  private readonly parts = new Map<string, { offsets: bigint[]; done: Set<bigint>; committed?: bigint; last?: bigint }>();

  received(tp: string, offset: bigint): void {
    let p = this.parts.get(tp);
    if (!p) this.parts.set(tp, (p = { offsets: [], done: new Set() }));
    p.offsets.push(offset);
    if (p.last === undefined || offset > p.last) p.last = offset;
  }

  /**
   * Whether `offset` of `tp` was received before (and is held, done or committed). A consumer
   * that re-joins its group rewinds to the committed offsets and delivers such records again.
   */
  seen(tp: string, offset: bigint): boolean {
    const p = this.parts.get(tp);
    if (!p) return false;
    return (p.committed !== undefined && offset < p.committed) || (p.last !== undefined && offset <= p.last);
  }

  done(tp: string, offset: bigint): void {
    this.parts.get(tp)?.done.add(offset);
  }

  /** Mark a done offset as pending again (its transaction aborted; it will be reprocessed). */
  undo(tp: string, offset: bigint): void {
    this.parts.get(tp)?.done.delete(offset);
  }

  isDone(tp: string, offset: bigint): boolean {
    return this.parts.get(tp)?.done.has(offset) ?? false;
  }

  /**
   * Offset to commit for `tp` (next offset to read = last contiguous done + 1), or undefined
   * when nothing new is committable.
   */
  committable(tp: string): bigint | undefined {
    const p = this.parts.get(tp);
    if (!p) return undefined;
    let last: bigint | undefined;
    for (const o of p.offsets) {
      if (!p.done.has(o)) break;
      last = o;
    }
    if (last === undefined) return undefined;
    const next = last + 1n;
    return p.committed !== undefined && next <= p.committed ? undefined : next;
  }

  /** Every partition with something new to commit. */
  allCommittable(): Map<string, bigint> {
    const out = new Map<string, bigint>();
    for (const tp of this.parts.keys()) {
      const c = this.committable(tp);
      if (c !== undefined) out.set(tp, c);
    }
    return out;
  }

  /** Record a successful commit; forgets offsets below it. */
  committed(tp: string, next: bigint): void {
    const p = this.parts.get(tp);
    if (!p) return;
    p.committed = next;
    while (p.offsets.length && p.offsets[0]! < next) p.done.delete(p.offsets.shift()!);
  }

  /** Offsets received and not yet committed (done or not). */
  pending(): number {
    let n = 0;
    for (const p of this.parts.values()) n += p.offsets.length;
    return n;
  }

  /** Drop a partition's state (revoked, or rewinding after a failed transaction). */
  reset(tp?: string): void {
    if (tp === undefined) this.parts.clear();
    else this.parts.delete(tp);
  }
}

export { tpKey } from '../../../../brokers/kafka/client.ts';

export function parseTp(tp: string): { topic: string; partition: number } {
  const i = tp.lastIndexOf(':');
  return { topic: tp.slice(0, i), partition: Number(tp.slice(i + 1)) };
}
