// `brokers status` / `down` find every cluster the project started, not only `brokers up`'s.
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { brokerDirs } from './brokers.ts';

describe('brokerDirs', () => {
  it('lists the default directory first, then every <kind>-* directory holding that kind\'s state', () => {
    const root = mkdtempSync(join(tmpdir(), 'fb-brokers-'));
    for (const [d, f] of [['kafka-chaos', 'cluster.json'], ['kafka-empty', null], ['kafka-b', 'cluster.json'], ['pulsar-chaos', 'state.json'], ['kafkaesque', 'cluster.json']] as const) {
      mkdirSync(join(root, d), { recursive: true });
      if (f) writeFileSync(join(root, d, f), '{}');
    }
    expect(brokerDirs('kafka', root)).toEqual([join(root, 'kafka'), join(root, 'kafka-b'), join(root, 'kafka-chaos')]);
    expect(brokerDirs('pulsar', root)).toEqual([join(root, 'pulsar'), join(root, 'pulsar-chaos')]);
    expect(brokerDirs('kafka', join(root, 'none'))).toEqual([join(root, 'none', 'kafka')]);
  });
});
