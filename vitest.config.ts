import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['{core,llm,brokers,workloads,systems,harness,paper,cli,scripts,notebooks}/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 180_000,
    // Broker-backed suites start real JVMs: never run two files at once on 2 cores.
    fileParallelism: false,
    // A Pulsar standalone started by one *.pulsar.test.ts file serves the next ones; stop it at the end.
    globalSetup: ['brokers/pulsar/vitest-global.ts'],
  },
});
