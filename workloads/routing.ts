// Subscription routing, written once: which artifacts an agent accepts (type, `where`, self-
// trigger), and how accepted artifacts become executions: one each, batches by size or timeout
// (per correlation key or global), joins that fire when one artifact of every consumed type with
// the same correlation key is present and expire after `withinMs`. The in-memory orchestrator,
// the broker-backed consumers and the graph compilers all route through this module, so the
// systems cannot drift apart on what a subscription means.
//
// A Router is generic in what it carries (an artifact, or an artifact with its log offset) and
// owns no clock: timers come from the caller (real ones in runs, none in graph compilers, which
// flush explicitly once their upstream is done).
import type { AgentSpec, Artifact, WhereSpec } from './spec.ts';

export function matchesWhere(w: WhereSpec, payload: Record<string, unknown>): boolean {
  const v = payload[w.field] as string | number | boolean;
  if (w.equals !== undefined && v !== w.equals) return false;
  if (w.in !== undefined && !w.in.includes(v)) return false;
  return true;
}

/** Does `agent` take `a` at all (type, self-trigger, `where`)? */
export function accepts(agent: AgentSpec, a: Pick<Artifact, 'type' | 'producedBy' | 'payload'>): boolean {
  const sub = agent.consumes;
  if (!sub.types.includes(a.type)) return false;
  if (a.producedBy === agent.name && !agent.allowSelfTrigger) return false;
  return !sub.where || matchesWhere(sub.where, a.payload);
}

/** Why a group of inputs is ready to execute. */
export type ReadyReason = 'single' | 'batch-size' | 'batch-timeout' | 'batch-flush' | 'join';

export interface Timers {
  /** Schedule `fn` after `ms`; returns a cancel function. `kind` says whose timeout it is. */
  after(ms: number, fn: () => void, kind: 'batch' | 'join'): () => void;
}

/**
 * setTimeout. A batch timeout is work still to come and keeps the process alive; a join's
 * expiry only drops a partial group, so it does not hold a finished run open.
 */
export const realTimers: Timers = {
  after(ms, fn, kind) {
    const t = setTimeout(fn, ms);
    if (kind === 'join') t.unref?.();
    return () => clearTimeout(t);
  },
};

export interface RouterEvents<T> {
  /** A group of inputs is ready: execute the agent on it. */
  ready(items: T[], reason: ReadyReason): void;
  /** A partial join waited longer than `withinMs` and was dropped. */
  expired?(items: T[]): void;
  /** An input the subscription takes but that will never execute (a second artifact of a type a partial join already holds). */
  dropped?(item: T): void;
  /** Open batches or joins changed (for idle detection of timed batches). */
  changed?(): void;
}

interface Bucket<T> {
  items: T[];
  cancel?: () => void;
}

/**
 * Routes accepted inputs of ONE agent into executions. `offer` assumes the input was accepted
 * (see `accepts`). Batch and join timeouts are unscaled in the spec and multiplied by `scale`.
 */
export class Router<T> {
  private readonly batches = new Map<string, Bucket<T>>();
  private readonly joins = new Map<string, { byType: Map<string, T>; cancel?: () => void }>();
  private readonly types: string[];

  constructor(
    readonly agent: AgentSpec,
    private readonly artifactOf: (t: T) => Pick<Artifact, 'type' | 'correlationId'>,
    private readonly events: RouterEvents<T>,
    private readonly timers?: Timers,
    private readonly scale = 1,
  ) {
    this.types = [...new Set(agent.consumes.types)];
  }

  offer(item: T): void {
    const sub = this.agent.consumes;
    if (sub.join) this.addToJoin(item);
    else if (sub.batch) this.addToBatch(item);
    else this.events.ready([item], 'single');
  }

  /** Inputs held in open batches and partial joins. */
  held(): number {
    let n = 0;
    for (const b of this.batches.values()) n += b.items.length;
    for (const j of this.joins.values()) n += j.byType.size;
    return n;
  }

  /** Open batches (a batch waiting on its timeout keeps a run from being idle). */
  openBatches(): number {
    return this.batches.size;
  }

  /** Release every open batch as ready (`batch-flush`), in key order; joins are left alone. */
  flush(): void {
    for (const key of [...this.batches.keys()].sort()) this.release(key, 'batch-flush');
  }

  /** Cancel every timer and forget what is held (end of a run, or a consumer losing its partitions). */
  clear(): void {
    for (const b of this.batches.values()) b.cancel?.();
    for (const j of this.joins.values()) j.cancel?.();
    this.batches.clear();
    this.joins.clear();
  }

  private addToBatch(item: T): void {
    const b = this.agent.consumes.batch!;
    const key = b.by === 'correlationId' ? this.artifactOf(item).correlationId : '*';
    let bucket = this.batches.get(key);
    if (!bucket) {
      const nb: Bucket<T> = { items: [] };
      bucket = nb;
      this.batches.set(key, nb);
      nb.cancel = this.timers?.after(b.timeoutMs * this.scale, () => {
        if (this.batches.get(key) === nb) this.release(key, 'batch-timeout');
      }, 'batch');
      this.events.changed?.();
    }
    bucket.items.push(item);
    if (bucket.items.length >= b.size) this.release(key, 'batch-size');
  }

  private release(key: string, reason: ReadyReason): void {
    const bucket = this.batches.get(key);
    if (!bucket) return;
    this.batches.delete(key);
    bucket.cancel?.();
    this.events.ready(bucket.items, reason);
    this.events.changed?.();
  }

  private addToJoin(item: T): void {
    const j = this.agent.consumes.join!;
    const a = this.artifactOf(item);
    const key = a.correlationId;
    let group = this.joins.get(key);
    if (!group) {
      const g: { byType: Map<string, T>; cancel?: () => void } = { byType: new Map() };
      group = g;
      this.joins.set(key, g);
      if (j.withinMs !== undefined) {
        g.cancel = this.timers?.after(j.withinMs * this.scale, () => {
          if (this.joins.get(key) !== g) return;
          this.joins.delete(key);
          this.events.expired?.([...g.byType.values()]);
          this.events.changed?.();
        }, 'join');
      }
      this.events.changed?.();
    }
    // A second artifact of a type the partial group already holds replaces nothing.
    if (group.byType.has(a.type)) {
      this.events.dropped?.(item);
      return;
    }
    group.byType.set(a.type, item);
    if (group.byType.size === this.types.length) {
      group.cancel?.();
      this.joins.delete(key);
      this.events.ready(this.types.map((t) => group!.byType.get(t)!), 'join');
      this.events.changed?.();
    }
  }
}

/** A group of inputs for one execution; `complete` = fires without waiting for upstream. */
export interface InputGroup {
  inputs: Artifact[];
  complete: boolean;
}

/**
 * The executions a subscription asks for over a set of artifacts seen all at once (graph
 * compilers: the state holds every artifact; there are no timers). Artifacts are routed in
 * logical-key order through the same Router the live systems use; batches still open at the
 * end are returned as incomplete (they fire once upstream is done, where a live system would
 * fire them on its timeout). `skip`: keys already consumed by this agent.
 */
export function inputGroups(agent: AgentSpec, artifacts: readonly Artifact[], skip?: ReadonlySet<string>): InputGroup[] {
  const out: InputGroup[] = [];
  const router = new Router<Artifact>(agent, (a) => a, {
    ready: (inputs, reason) => out.push({ inputs, complete: reason !== 'batch-flush' }),
  });
  const eligible = artifacts.filter((a) => accepts(agent, a) && !skip?.has(a.key));
  eligible.sort((x, y) => (x.key < y.key ? -1 : x.key > y.key ? 1 : 0));
  for (const a of eligible) router.offer(a);
  router.flush();
  return out;
}
