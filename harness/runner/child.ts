// Child process that runs one cell, so each run starts from a fresh heap and its CPU/RSS
// figures are its own. Before the measured run, one unmeasured warm-up run of the same system
// on the workload's small default configuration (no waits) loads modules and JITs the hot
// paths: otherwise whichever code runs first in a process pays ~0.4 s that is not the system's.
import { setMaxListeners } from 'node:events';
import { buildWorkload } from '../../workloads/registry.ts';
import { runOnce } from './run-once.ts';
import { runCell } from './cell.ts';
import type { Cell } from './matrix.ts';

// LangGraph adds one abort listener per running task to an internal signal (removed after).
setMaxListeners(0);
// The runner went away (Ctrl-C, killed): nobody will store this run, so stop.
process.on('disconnect', () => process.exit(130));

process.once('message', async (cell: Cell) => {
  try {
    if (cell.warmup !== false) {
      await runOnce({ system: cell.system, workload: buildWorkload(cell.workload), seed: cell.seed + 1_000_003, latencyScale: 1e-6, systemParams: cell.systemParams });
    }
    const res = await runCell(cell);
    process.send!({ ok: true, ...res }, () => process.exit(0));
  } catch (e) {
    process.send!({ ok: false, error: e instanceof Error ? e.message : String(e), stack: e instanceof Error ? e.stack : undefined }, () => process.exit(0));
  }
});
