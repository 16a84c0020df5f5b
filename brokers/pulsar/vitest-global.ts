// vitest global setup: after every test file ran, stop the Pulsar standalone a test suite
// started (testing.ts left a marker file). Nothing happens when no Pulsar test started one.
import { existsSync, rmSync } from 'node:fs';
import { DEFAULT_PULSAR_DIR, stopPulsar, testsMarker } from './standalone.ts';

export async function teardown(): Promise<void> {
  if (!existsSync(testsMarker(DEFAULT_PULSAR_DIR))) return;
  await stopPulsar(DEFAULT_PULSAR_DIR);
  rmSync(testsMarker(DEFAULT_PULSAR_DIR), { force: true });
}
