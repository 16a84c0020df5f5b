// Test helper for `*.kafka.test.ts`: make sure a single-node broker is up for the suite and
// stop it afterwards only if this suite started it (a broker from `brokers up` is left alone).
import { afterAll, beforeAll } from 'vitest';
import { startKafka, stopKafka, type StartedKafka } from './cluster.ts';

export function useKafka(): { bootstrap: () => string[]; info: () => StartedKafka } {
  let info: StartedKafka | undefined;
  beforeAll(async () => {
    info = await startKafka({ nodes: 1, timeoutMs: 120_000 });
  }, 180_000);
  afterAll(async () => {
    if (info?.started) await stopKafka();
  }, 60_000);
  return {
    bootstrap: () => info!.bootstrap,
    info: () => info!,
  };
}
