// Test helper for `*.pulsar.test.ts`: make sure the standalone of port slot 0 is up for the suite.
// One that `brokers up pulsar` started is reused and left alone. One the tests start stays up
// for the following test files (a start costs 30 s to minutes of a 2-core machine) and is
// stopped by the global teardown (vitest-global.ts), which a marker file tells to do so.
import { writeFileSync } from 'node:fs';
import { beforeAll } from 'vitest';
import { DEFAULT_PULSAR_DIR, type StartedPulsar, startPulsar, testsMarker } from './standalone.ts';

export function usePulsar(): { urls: () => StartedPulsar['urls']; info: () => StartedPulsar } {
  let info: StartedPulsar | undefined;
  beforeAll(async () => {
    info = await startPulsar({ timeoutMs: 420_000 });
    if (info.started) writeFileSync(testsMarker(DEFAULT_PULSAR_DIR), `${info.pid}\n`);
  }, 480_000);
  return {
    urls: () => info!.urls,
    info: () => info!,
  };
}
