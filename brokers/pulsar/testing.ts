// Test helper for `*.pulsar.test.ts`: make sure the standalone of port slot 0 is up for the suite.
// One that `brokers up pulsar` started is reused and left alone. One the tests start stays up
// for the following test files (a start costs 30 s to minutes of a 2-core machine) and is
// stopped by the global teardown (vitest-global.ts), which a marker file tells to do so.
// Without the jars (scripts/pulsar/fetch.sh) the suites are skipped, and say why: a test file
// does not fetch 260 MB behind the reader's back, nor does it pass without a broker.
import { writeFileSync } from 'node:fs';
import { beforeAll, describe } from 'vitest';
import { DEFAULT_PULSAR_DIR, pulsarJarsMissing, type StartedPulsar, startPulsar, testsMarker } from './standalone.ts';

/** Why the Pulsar suites are skipped here, or undefined when they run. */
export const pulsarSkipReason = pulsarJarsMissing();
if (pulsarSkipReason) console.warn(`SKIPPED: Pulsar broker tests: ${pulsarSkipReason}`);

/** `describe` for suites that need the real standalone: skipped (with the reason printed) without its jars. */
export const describePulsar = pulsarSkipReason ? describe.skip : describe;

export function usePulsar(): { urls: () => StartedPulsar['urls']; info: () => StartedPulsar } {
  let info: StartedPulsar | undefined;
  beforeAll(async () => {
    if (pulsarSkipReason) return;
    info = await startPulsar({ timeoutMs: 420_000 });
    if (info.started) writeFileSync(testsMarker(DEFAULT_PULSAR_DIR), `${info.pid}\n`);
  }, 480_000);
  return {
    urls: () => info!.urls,
    info: () => info!,
  };
}
