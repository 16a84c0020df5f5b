// In-memory store: arrays and maps, no locks needed on one event loop. The embedded default.
import type { Artifact } from '../../../workloads/spec.ts';
import { DuplicateArtifactError, type BlackboardStore, type ConsumptionRecord } from '../store.ts';

export class MemoryStore implements BlackboardStore {
  readonly kind = 'memory';
  private readonly log: Artifact[] = [];
  /** Built on the first get(): lookups by id are rare, appends are the hot path. */
  private byId?: Map<string, Artifact>;
  private readonly typeIndex = new Map<string, Artifact[]>();
  private readonly consumed: ConsumptionRecord[] = [];

  async publish(a: Artifact): Promise<void> {
    this.publishSync(a);
  }

  /** Synchronous append for the orchestrator's hot path (same semantics as publish). */
  publishSync(a: Artifact): void {
    if (this.byId) {
      if (this.byId.has(a.id)) throw new DuplicateArtifactError(`artifact ${a.id} already published`);
      this.byId.set(a.id, a);
    }
    this.log.push(a);
    let t = this.typeIndex.get(a.type);
    if (!t) this.typeIndex.set(a.type, (t = []));
    t.push(a);
  }

  async get(id: string) {
    if (!this.byId) {
      this.byId = new Map();
      for (const a of this.log) {
        if (this.byId.has(a.id)) throw new DuplicateArtifactError(`artifact ${a.id} published twice`);
        this.byId.set(a.id, a);
      }
    }
    return this.byId.get(id);
  }

  async byType(type: string) {
    return (this.typeIndex.get(type) ?? []).slice();
  }

  async all() {
    return this.log.slice();
  }

  async recordConsumption(records: readonly ConsumptionRecord[]) {
    this.recordConsumptionSync(records);
  }

  recordConsumptionSync(records: readonly ConsumptionRecord[]): void {
    for (const r of records) this.consumed.push(r);
  }

  async consumptions() {
    return this.consumed.slice();
  }

  get size(): number {
    return this.log.length;
  }

  async close() {}
}
