// Needs a real broker: starts a single-node KRaft cluster unless one is up (see useKafka).
import { describe, expect, it } from 'vitest';
import { kafkaPids, startKafka, statusKafka, waitForKafka } from './cluster.ts';
import { useKafka } from './testing.ts';
import { processSampler } from '../proc.ts';

const kafka = useKafka();

describe('local Kafka cluster (real JVM)', () => {
  it('is running, healthy and sampled from /proc', async () => {
    const st = statusKafka();
    expect(st.running).toBe(true);
    expect(st.cluster?.bootstrap).toEqual(['127.0.0.1:9092']);
    const pids = kafkaPids();
    expect(pids.length).toBe(1);
    const sample = processSampler(pids[0]!);
    sample();
    await waitForKafka(kafka.bootstrap(), 1, 30_000);
    const s = sample()!;
    expect(s.rssMb).toBeGreaterThan(50);
    expect(s.cpuPct).toBeGreaterThanOrEqual(0);
  });

  it('startKafka reuses a healthy cluster instead of starting a second one', async () => {
    const again = await startKafka({ nodes: 1 });
    expect(again.started).toBe(false);
    expect(again.clusterId).toBe(kafka.info().clusterId);
  });

  it('refuses to replace a running cluster of another size', async () => {
    await expect(startKafka({ nodes: 3 })).rejects.toThrow(/brokers down kafka/);
  });
});
