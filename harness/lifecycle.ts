// Shutdown on SIGINT/SIGTERM/SIGHUP: whatever started something that must not outlive the
// command (a run's child process, brokers a run started) registers how to stop it; a signal
// runs every registered stop at once, gives them under a second, and exits. A second signal
// exits at once. Children also watch their IPC channel, so even a SIGKILLed parent leaves no
// orphan that keeps running (see harness/runner/child.ts).
type Stop = () => unknown;

const stops = new Set<Stop>();
let installed = false;
let stopping = false;

/** Register a stop; returns its unregister function. */
export function onShutdown(stop: Stop): () => void {
  stops.add(stop);
  return () => stops.delete(stop);
}

const SIGNALS = { SIGINT: 2, SIGTERM: 15, SIGHUP: 1 } as const;

/**
 * Install the handlers once (the CLI does, before any command runs). Also watches the parent:
 * a wrapper that dies without passing its signal on (`sh -c` under `npx`) re-parents this
 * process, which then stops as if signalled (SIGHUP). `parent` is the parent pid as seen at
 * process start (the launcher reads it first thing: a wrapper can die while modules load).
 */
export function installSignalHandlers(budgetMs = 900, exit: (code: number) => void = (c) => process.exit(c), parent = process.ppid): void {
  if (installed) return;
  installed = true;
  const shutdown = (sig: keyof typeof SIGNALS, why: string = sig) => {
    const code = 128 + SIGNALS[sig];
    if (stopping) return exit(code);
    stopping = true;
    process.stderr.write(`\nflockbench: ${why}, stopping\n`);
    const all = Promise.allSettled([...stops].map(async (s) => s()));
    const timer = setTimeout(() => exit(code), budgetMs);
    void all.then(() => {
      clearTimeout(timer);
      exit(code);
    });
  };
  for (const sig of Object.keys(SIGNALS) as (keyof typeof SIGNALS)[]) process.on(sig, () => shutdown(sig));
  setInterval(() => {
    if (process.ppid !== parent) shutdown('SIGHUP', 'parent process gone');
  }, 200).unref();
}
