// Needs a real broker: starts a single-node KRaft cluster unless one is up (see useKafka).
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { useKafka } from '../../brokers/kafka/testing.ts';
import { runOnce } from '../../harness/runner/run-once.ts';
import { buildWorkload } from '../../workloads/registry.ts';
import type { WorkloadSpec } from '../../workloads/spec.ts';
import { blackboardSystem } from '../blackboard/system.ts';
import { typeTopic } from '../blackboard/stores/kafka/layout.ts';
import type { KafkaBlackboardStore } from '../blackboard/stores/kafka/store.ts';
import { blackboardKafkaSystem, type KafkaRunHandle } from './system.ts';
import { Consumer, stringDeserializers, forceClose } from '../../brokers/kafka/client.ts';
import type { FaultHooks } from '../types.ts';

const kafka = useKafka();
const SCALE = 0.01;
const memory = blackboardSystem('blackboard-eager', 'eager');

async function reference(w: WorkloadSpec) {
  return runOnce({ system: memory, workload: w, seed: 7, latencyScale: SCALE });
}

async function onKafka(w: WorkloadSpec, systemParams: Record<string, unknown>, onStarted?: (h: KafkaRunHandle) => void | Promise<void>, faults?: FaultHooks) {
  const sys = blackboardKafkaSystem('blackboard-kafka', { onStarted });
  return runOnce({ system: sys, workload: w, seed: 7, latencyScale: SCALE, timeoutMs: 90_000, faults, systemParams: { bootstrap: kafka.bootstrap(), ...systemParams } });
}

/** Every record of a topic, including aborted transactional ones (read_uncommitted). */
async function readUncommitted(bootstrap: string[], topic: string, waitMs = 2500): Promise<string[]> {
  const c = new Consumer({ clientId: 'raw', groupId: `raw-${randomUUID()}`, bootstrapBrokers: bootstrap, deserializers: stringDeserializers, isolationLevel: 0, maxWaitTime: 100 });
  const out: string[] = [];
  try {
    const s = await c.consume({ topics: [topic], mode: 'earliest', autocommit: false });
    s.on('data', (m) => out.push(m.value!));
    await new Promise((r) => setTimeout(r, waitMs));
    await s.close();
  } finally {
    await forceClose(c);
  }
  return out;
}

describe('blackboard-kafka conformance with the in-memory store', () => {
  const cases: [string, WorkloadSpec][] = [
    ['map depth 2', buildWorkload('map', { tasks: 12, depth: 2 })],
    ['map + join', buildWorkload('map', { tasks: 8, depth: 1, join: true })],
    // Batch timeouts are scaled like latencies (30 s x 0.01 = 300 ms): a broker hop can push an
    // analysis past that and split the editor's batch. Conformance is about content, not timing.
    ['review-analysis', buildWorkload('review-analysis', { editorTimeoutMs: 600_000 })],
  ];
  for (const mode of ['at-least-once', 'exactly-once']) {
    it.each(cases)(`%s, ${mode}: same final artifacts by content hash`, async (_n, w) => {
      const ref = await reference(w);
      const k = await onKafka(w, { delivery: mode, partitions: 4, consumers: 2 });
      expect(k.finalHash).toEqual(ref.finalHash);
      expect(k.artifacts.length).toBe(ref.artifacts.length);
      const sys = k.params.system as Record<string, unknown>;
      expect(sys.delivery).toBe(mode);
      expect(sys.partitions).toBe(4);
    }, 120_000);
  }
});

describe('blackboard-kafka exactly-once', () => {
  it('an aborted transaction leaves no visible output and its input is reprocessed once', async () => {
    const w = buildWorkload('map', { tasks: 6, depth: 1 });
    const ref = await reference(w);
    let store: KafkaBlackboardStore | undefined;
    let injected = 0;
    const k = await onKafka(w, { delivery: 'exactly-once', partitions: 2, consumers: 1, batchSize: 1, deleteTopics: false }, (h) => { store = h.store; }, {
      afterProduce: ({ attempt, inputKeys }) => {
        const hit = attempt === 1 && inputKeys.includes('task-2');
        if (hit) injected++;
        return hit;
      },
    });
    try {
      const c = k.params.counters as Record<string, number>;
      expect(injected).toBe(1);
      expect(c.aborts).toBe(1);
      expect(c.reprocessed).toBe(1);
      expect(c.executions).toBe(7);
      // Read-committed view: exactly one output per task, equal to the in-memory run.
      expect(k.finalHash).toEqual(ref.finalHash);
      const keys = k.artifacts.filter((a) => a.type === 'Stage1').map((a) => a.key).sort();
      expect(new Set(keys).size).toBe(keys.length);
      // The log itself holds the aborted attempt too: 7 outputs written, 6 visible.
      const raw = await readUncommitted(kafka.bootstrap(), typeTopic(store!.runId, 'Stage1'));
      expect(raw.length).toBe(7);
    } finally {
      await store?.deleteTopics();
    }
  }, 120_000);
});

describe('blackboard-kafka exactly-once, many aborts', () => {
  it('downstream read-committed consumers never see aborted outputs (fetches that cut before the abort marker)', async () => {
    // One partition, one transaction per completion, and fetches of one batch each
    // (fetchMaxBytes 1): worker2 receives aborted Stage1 batches without their abort marker,
    // the case the client's own read-committed filter lets through (read-committed.ts).
    const w = buildWorkload('map', { tasks: 12, depth: 2 });
    const ref = await reference(w);
    const crash = new Set(['task-1', 'task-2', 'task-3', 'task-5', 'task-8']);
    let injected = 0;
    const k = await onKafka(w, { delivery: 'exactly-once', partitions: 1, consumers: 1, batchSize: 1, lingerMs: 0, fetchMaxBytes: 1 }, undefined, {
      afterProduce: ({ attempt, inputKeys }) => {
        const hit = attempt === 1 && inputKeys.some((x) => crash.has(x));
        if (hit) injected++;
        return hit;
      },
    });
    const c = k.params.counters as Record<string, number>;
    expect(injected).toBe(crash.size);
    expect(c.aborts).toBe(crash.size);
    // worker2 ran once per task: an aborted Stage1 record reaching it would add executions.
    expect(k.executions.filter((e) => e.agent === 'worker2').length).toBe(12);
    expect(k.finalHash).toEqual(ref.finalHash);
  }, 120_000);
});

describe('blackboard-kafka joins', () => {
  it('a partial join expires after withinMs as in memory: a half arriving later starts afresh instead of completing it', async () => {
    // Tasks arrive every 100 ms: x's halves 100 ms apart (joined), y's 400 ms apart, past the
    // 250 ms window (scaled): in memory y's partial join expires and y never executes. The Kafka
    // consumer used to keep partial joins forever and ran joiner(y).
    const schema = { type: 'object' as const, required: ['text'], properties: { text: { type: 'string' as const, minLength: 5 } } };
    const filler = (i: number) => ({ type: 'C', key: `c-${i}`, correlationId: `c-${i}`, payload: { text: `filler ${i}` } });
    const w: WorkloadSpec = {
      name: 'join-expiry', description: 'A + B joined by correlation', params: {}, arrival: { kind: 'uniform', ratePerSec: 10 },
      types: [{ name: 'A', schema }, { name: 'B', schema }, { name: 'C', schema }, { name: 'AB', schema }],
      agents: [{ name: 'joiner', consumes: { types: ['A', 'B'], join: { by: 'correlationId', withinMs: 25_000 } }, publishes: 'AB', maxConcurrency: 2, model: 'gpt-4.1-mini', promptTokens: 10, outputTokens: 10 }],
      tasks: [
        { type: 'A', key: 'a-x', correlationId: 'x', payload: { text: 'half a of x' } },
        { type: 'B', key: 'b-x', correlationId: 'x', payload: { text: 'half b of x' } },
        { type: 'A', key: 'a-y', correlationId: 'y', payload: { text: 'half a of y' } },
        filler(1), filler(2), filler(3),
        { type: 'B', key: 'b-y', correlationId: 'y', payload: { text: 'half b of y' } },
      ],
    };
    const ref = await reference(w);
    expect(ref.executions.map((e) => e.identity)).toEqual([expect.stringMatching(/^joiner\(batch:/)]);
    expect((ref.params.counters as Record<string, number>).joinsExpired).toBe(1);
    for (const delivery of ['at-least-once', 'exactly-once']) {
      const k = await onKafka(w, { delivery, partitions: 1, consumers: 1 });
      expect(k.executions.map((e) => e.identity)).toEqual(ref.executions.map((e) => e.identity));
      expect(k.finalHash).toEqual(ref.finalHash);
      // y's first half expired; its late half may expire too before the (polled) drain notices idle.
      expect((k.params.counters as Record<string, number>).joinsExpired).toBeGreaterThanOrEqual(1);
    }
  }, 120_000);
});

describe('blackboard-kafka DLQ', () => {
  it('poison artifacts land in the DLQ with their error and origin, the run completes', async () => {
    const w = buildWorkload('map', { tasks: 5, depth: 1 });
    const ref = await reference(w);
    let store: KafkaBlackboardStore | undefined;
    for (const mode of ['at-least-once', 'exactly-once']) {
      const k = await onKafka(w, { delivery: mode, partitions: 2, consumers: 1, deleteTopics: false }, async (h) => {
        store = h.store;
        await h.store.publishRaw('Task', 'poison-json', '{not json');
        const bad = { id: randomUUID(), key: 'poison-payload', type: 'Task', payload: { text: 'short', score: 7 }, producedBy: 'external', correlationId: 'poison', tags: [], createdAtMs: 0, version: 1 };
        await h.store.publishRaw('Task', 'poison', JSON.stringify(bad));
      });
      try {
        expect((k.params.counters as Record<string, number>).dlq).toBe(2);
        const dlq = await store!.dlq();
        expect(dlq.map((d) => d.error).sort()).toEqual([expect.stringMatching(/^invalid JSON/), expect.stringMatching(/^payload invalid for Task/)].sort());
        expect(dlq.every((d) => d.origin?.topic === typeTopic(store!.runId, 'Task') && d.agent === 'worker1')).toBe(true);
        // The poison record is not an artifact; the valid part of the run is unaffected.
        const finals = k.artifacts.filter((a) => a.type === 'Stage1');
        expect(finals.length).toBe(5);
        expect(k.finalHash).toEqual(ref.finalHash);
      } finally {
        await store?.deleteTopics();
      }
    }
  }, 120_000);
});

describe('blackboard-kafka backpressure', () => {
  it('bounds in-flight executions per consumer and pauses the stream at the limit', async () => {
    const w = buildWorkload('map', { tasks: 40, depth: 1, maxConcurrency: 64 });
    const k = await onKafka(w, { delivery: 'at-least-once', partitions: 1, consumers: 1, maxInFlight: 3 });
    const c = k.params.counters as Record<string, number>;
    expect(c.peakInFlight).toBe(3);
    expect(c.pauses).toBeGreaterThan(0);
    expect(k.artifacts.filter((a) => a.type === 'Stage1').length).toBe(40);
    expect(k.queuePeak).toBeGreaterThan(0);
  }, 120_000);
});

describe('blackboard-kafka worker processes', () => {
  for (const mode of ['at-least-once', 'exactly-once']) {
    it(`${mode}: 2 processes x 2 consumers give the in-memory result; executions are on the run clock`, async () => {
      const w = buildWorkload('map', { tasks: 16, depth: 2 });
      const ref = await reference(w);
      const k = await onKafka(w, { delivery: mode, partitions: 4, processes: 2, consumers: 2 });
      expect(k.finalHash).toEqual(ref.finalHash);
      expect(k.executions.length).toBe(ref.executions.length);
      // Every execution was reported back from a worker process, inside the measured window.
      expect(k.executions.every((e) => e.startMs >= 0 && e.endMs >= e.startMs && e.endMs <= k.makespanMs + 1)).toBe(true);
      // An execution starts after its input existed: the child clocks share the run's zero.
      const created = new Map(k.artifacts.map((a) => [a.key, a.createdAtMs]));
      expect(k.executions.every((e) => e.inputKeys.every((key) => e.startMs + 1 >= (created.get(key) ?? 0)))).toBe(true);
      const settings = k.params.settings as Record<string, unknown>;
      expect(settings.consumersPerGroup).toBe(4);
      expect(k.params.helperRssPeakMb).toBeGreaterThan(0);
      expect(k.llm.calls).toBe(ref.llm.calls);
    }, 120_000);
  }

  it('a worker process that dies fails the run with its exit, no hang', async () => {
    const w = buildWorkload('map', { tasks: 30, depth: 1 });
    const run = onKafka(w, { delivery: 'at-least-once', partitions: 2, processes: 2, consumers: 1 }, (h) => {
      process.kill(h.processes[1]!.pid!, 'SIGKILL');
    });
    await expect(run).rejects.toThrow(/worker process 1 exited with SIGKILL/);
  }, 120_000);
});

describe('blackboard-kafka commit failures', () => {
  // The at-least-once run of the issue that wrote 8,251 records for 900 (one key x917): an
  // offset commit that failed fast (its coordinator gone) failed the consumer, and its commit
  // loop went on re-sending the same batch of outputs every lingerMs until the supervisor
  // closed it. Now a failed commit is retried after a pause, outputs already sent are not sent
  // again (only a crash reprocesses), and a failed consumer commits nothing more.
  it('at-least-once: offset commits failing for a while are retried; every output is written once', async () => {
    const w = buildWorkload('map', { tasks: 6, depth: 1 });
    const ref = await reference(w);
    let store: KafkaBlackboardStore | undefined;
    let failures = 0;
    const k = await onKafka(w, { delivery: 'at-least-once', partitions: 2, consumers: 1, batchSize: 2, lingerMs: 0, deleteTopics: false }, (h) => {
      store = h.store;
      for (const x of h.workers) {
        // The first 4 offset commits of each consumer fail fast, as against a dead coordinator.
        let left = 4;
        const c = x.consumer as unknown as { commit: (...a: unknown[]) => Promise<unknown> };
        const real = c.commit.bind(x.consumer);
        c.commit = (...a: unknown[]) => {
          if (left <= 0) return real(...a);
          left--;
          failures++;
          return Promise.reject(new Error('Connection closed (test)'));
        };
      }
    });
    try {
      const c = k.params.counters as Record<string, number>;
      expect(k.finalHash).toEqual(ref.finalHash);
      expect(failures).toBeGreaterThan(0);
      expect(c.failedCommits).toBe(failures);
      expect(c.producedNotCommitted).toBe(failures);
      // Sent once each, although their offset commits failed and were retried.
      const raw = await readUncommitted(kafka.bootstrap(), typeTopic(store!.runId, 'Stage1'));
      expect(raw.length).toBe(6);
    } finally {
      await store?.deleteTopics();
    }
  }, 120_000);
});
