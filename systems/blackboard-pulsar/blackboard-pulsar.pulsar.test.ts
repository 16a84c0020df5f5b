// Needs a real broker: starts a Pulsar standalone unless one is up (see usePulsar).
import { randomUUID } from 'node:crypto';
import { expect, it } from 'vitest';
import { describePulsar, usePulsar } from '../../brokers/pulsar/testing.ts';
import { runOnce } from '../../harness/runner/run-once.ts';
import { buildWorkload } from '../../workloads/registry.ts';
import type { WorkloadSpec } from '../../workloads/spec.ts';
import { blackboardSystem } from '../blackboard/system.ts';
import type { PulsarBlackboardStore } from '../blackboard/stores/pulsar/store.ts';
import { blackboardPulsarSystem, type PulsarRunHandle } from './system.ts';

const pulsar = usePulsar();
const SCALE = 0.01;
const memory = blackboardSystem('blackboard-eager', 'eager');

async function reference(w: WorkloadSpec) {
  return runOnce({ system: memory, workload: w, seed: 7, latencyScale: SCALE });
}

async function onPulsar(w: WorkloadSpec, systemParams: Record<string, unknown>, onStarted?: (h: PulsarRunHandle) => void | Promise<void>) {
  const sys = blackboardPulsarSystem('blackboard-pulsar', { onStarted });
  return runOnce({ system: sys, workload: w, seed: 7, latencyScale: SCALE, timeoutMs: 180_000, systemParams: { url: pulsar.urls().webServiceUrl, ...systemParams } });
}

const counters = (r: Awaited<ReturnType<typeof onPulsar>>) => r.params.counters as Record<string, number>;

describePulsar('blackboard-pulsar conformance with the in-memory store', () => {
  const cases: [string, string, WorkloadSpec][] = [
    ['Failover', 'map depth 2', buildWorkload('map', { tasks: 12, depth: 2 })],
    ['Failover', 'map + join', buildWorkload('map', { tasks: 8, depth: 1, join: true })],
    // Batch timeouts are scaled like latencies (30 s x 0.01 = 300 ms): a broker hop can push an
    // analysis past that and split the editor's batch. Conformance is about content, not timing.
    ['Failover', 'review-analysis', buildWorkload('review-analysis', { editorTimeoutMs: 600_000 })],
    ['Shared', 'map depth 2', buildWorkload('map', { tasks: 12, depth: 2 })],
    // Shared is asked for; the editor batches by story, so its subscription becomes Key_Shared.
    ['Shared', 'review-analysis x2 stories', buildWorkload('review-analysis', { tasks: 2, analysts: 4, editorTimeoutMs: 600_000 })],
    ['Key_Shared', 'map + join', buildWorkload('map', { tasks: 8, depth: 1, join: true })],
  ];
  it.each(cases)('%s, %s: same final artifacts by content hash', async (subscription, _n, w) => {
    const ref = await reference(w);
    const r = await onPulsar(w, { subscription, partitions: 4, consumers: 2 });
    expect(r.finalHash).toEqual(ref.finalHash);
    expect(r.artifacts.length).toBe(ref.artifacts.length);
    expect(r.executions.map((e) => e.identity).sort()).toEqual(ref.executions.map((e) => e.identity).sort());
    const settings = r.params.settings as { subscriptionTypes: Record<string, string>; dispatcherMaxRoundRobinBatchSize: string };
    // The broker's own value, read back from its runtime configuration (standalone.conf.template).
    expect(settings.dispatcherMaxRoundRobinBatchSize).toBe('1');
    for (const a of w.agents) {
      const holds = Boolean(a.consumes.batch || a.consumes.join);
      expect(settings.subscriptionTypes[a.name]).toBe(subscription === 'Shared' && holds ? 'Key_Shared' : subscription);
    }
    expect(counters(r).redelivered).toBe(0);
    expect(counters(r).dlq).toBe(0);
  }, 240_000);
});

describePulsar('blackboard-pulsar subscriptions with more consumers than partitions', () => {
  const w = buildWorkload('map', { tasks: 40, depth: 1, maxConcurrency: 16 });
  const executionsPerConsumer = async (subscription: string) => {
    let handle: PulsarRunHandle | undefined;
    const r = await onPulsar(w, { subscription, partitions: 1, consumers: 4, maxInFlight: 2 }, (h) => { handle = h; });
    return { r, per: handle!.workers.map((x) => x.counters.executions) };
  };

  it('Shared spreads one partition over every consumer; Failover gives it to one', async () => {
    const ref = await reference(w);
    const shared = await executionsPerConsumer('Shared');
    expect(shared.r.finalHash).toEqual(ref.finalHash);
    expect(shared.per.reduce((s, n) => s + n, 0)).toBe(40);
    expect(shared.per.filter((n) => n > 0).length).toBeGreaterThanOrEqual(3);
    const failover = await executionsPerConsumer('Failover');
    expect(failover.r.finalHash).toEqual(ref.finalHash);
    expect(failover.per.filter((n) => n > 0)).toEqual([40]);
  }, 240_000);
});

describePulsar('blackboard-pulsar dead letters', () => {
  const w = buildWorkload('map', { tasks: 5, depth: 1 });
  for (const subscription of ['Shared', 'Failover']) {
    it(`${subscription}: poison artifacts end in the dead-letter topic, the run completes`, async () => {
      const ref = await reference(w);
      let store: PulsarBlackboardStore | undefined;
      const r = await onPulsar(w, { subscription, partitions: 2, consumers: 1, deleteTopics: false, maxRedeliverCount: 2, nackDelayMs: 50 }, async (h) => {
        store = h.store;
        await h.store.publishRaw('Task', 'poison-json', '{not json');
        const bad = { id: randomUUID(), key: 'poison-payload', type: 'Task', payload: { text: 'short', score: 7 }, producedBy: 'external', correlationId: 'poison', tags: [], createdAtMs: 0, version: 1 };
        await h.store.publishRaw('Task', 'poison', JSON.stringify(bad));
      });
      try {
        const c = counters(r);
        expect(c.dlq).toBe(2);
        // Shared: delivered once, redelivered maxRedeliverCount times, then dead-lettered by the broker.
        expect(c.nacks).toBe(subscription === 'Shared' ? 2 * 3 : 0);
        const dead = await store!.dlq();
        expect(dead.map((d) => d.raw).sort()).toEqual(['{not json', expect.stringContaining('poison-payload')].sort());
        expect(dead.every((d) => d.properties.REAL_TOPIC?.includes(store!.topicOf('Task')) && d.topic.endsWith('-worker1-DLQ'))).toBe(true);
        expect(r.artifacts.filter((a) => a.type === 'Stage1').length).toBe(5);
        expect(r.finalHash).toEqual(ref.finalHash);
      } finally {
        await store?.deleteTopics();
      }
    }, 240_000);
  }
});

describePulsar('blackboard-pulsar backpressure', () => {
  it('bounds executions in flight per consumer', async () => {
    const w = buildWorkload('map', { tasks: 30, depth: 1, maxConcurrency: 64 });
    const r = await onPulsar(w, { partitions: 1, consumers: 1, maxInFlight: 3 });
    expect(counters(r).peakInFlight).toBe(3);
    expect(r.artifacts.filter((a) => a.type === 'Stage1').length).toBe(30);
    expect(r.queuePeak).toBeGreaterThan(0);
    // The run sampled the broker JVM (harness/runner/run-once.ts) beside its own process.
    const broker = r.params.broker as { cpuPctMean: number; rssPeakMb: number };
    expect(broker.rssPeakMb).toBeGreaterThan(100);
    expect(broker.cpuPctMean).toBeGreaterThan(0);
  }, 240_000);
});

describePulsar('blackboard-pulsar worker processes', () => {
  it('2 processes x 2 consumers give the in-memory result; executions are on the run clock', async () => {
    const w = buildWorkload('map', { tasks: 16, depth: 2 });
    const ref = await reference(w);
    const r = await onPulsar(w, { subscription: 'Shared', partitions: 2, processes: 2, consumers: 2 });
    expect(r.finalHash).toEqual(ref.finalHash);
    expect(r.executions.length).toBe(ref.executions.length);
    expect(r.executions.every((e) => e.startMs >= 0 && e.endMs >= e.startMs && e.endMs <= r.makespanMs + 1)).toBe(true);
    const created = new Map(r.artifacts.map((a) => [a.key, a.createdAtMs]));
    expect(r.executions.every((e) => e.inputKeys.every((key) => e.startMs + 1 >= (created.get(key) ?? 0)))).toBe(true);
    expect((r.params.settings as Record<string, unknown>).consumersPerSubscription).toBe(4);
    expect(r.params.helperRssPeakMb).toBeGreaterThan(0);
    expect(r.llm.calls).toBe(ref.llm.calls);
  }, 240_000);

  it('a worker process that dies fails the run with its exit, no hang', async () => {
    const w = buildWorkload('map', { tasks: 30, depth: 1 });
    const run = onPulsar(w, { partitions: 2, processes: 2, consumers: 1 }, (h) => {
      process.kill(h.processes[1]!.pid!, 'SIGKILL');
    });
    await expect(run).rejects.toThrow(/worker process 1 exited with SIGKILL/);
  }, 240_000);
});
