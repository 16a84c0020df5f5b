// Child process that runs one cell, so each run starts from a fresh heap and its CPU/RSS
// figures are its own. Before the measured run, one unmeasured warm-up run of the same system
// on the workload's small default configuration (no waits) loads modules and JITs the hot
// paths: otherwise whichever code runs first in a process pays ~0.4 s that is not the system's.
// The run's rows (executions, latencies, samples, spans) go into a rows file that the runner
// imports in one transaction: only a summary crosses IPC (a 100k-task run's rows were 145 MB
// of structured clone, 2.9 s each way).
import { setMaxListeners } from 'node:events';
import { buildWorkload } from '../../workloads/registry.ts';
import { describeError } from '../../core/errors.ts';
import { settleLoad } from '../collect/machine.ts';
import { processRssPeakMb, writeRunFile, type RunMeta } from '../results/run-rows.ts';
import { reclaim, runOnce } from './run-once.ts';
import { cellSpans, runCell } from './cell.ts';
import type { Cell } from './matrix.ts';

/** What the runner sends: the cell, its store metadata and where to write its rows. */
export interface ChildRequest {
  cell: Cell;
  meta: RunMeta;
  rowsFile: string;
}

/** What the child answers: a summary, never the rows. */
export type ChildReply =
  | { ok: true; runId: string; makespanMs: number; processCpuMs: number; processRssPeakMb: number }
  | { ok: false; error: string; stack?: string };

// LangGraph adds one abort listener per running task to an internal signal (removed after).
setMaxListeners(0);
// The runner went away (Ctrl-C, killed): nobody will store this run, so stop.
process.on('disconnect', () => process.exit(130));

const reply = (m: ChildReply) => process.send!(m, () => process.exit(0));

process.once('message', async ({ cell, meta, rowsFile }: ChildRequest) => {
  try {
    let warmupMs = 0;
    if (cell.warmup !== false) {
      const w0 = performance.now();
      await runOnce({ system: cell.system, workload: buildWorkload(cell.workload), seed: cell.seed + 1_000_003, latencyScale: 1e-6, systemParams: cell.systemParams, keepObjects: false });
      warmupMs = performance.now() - w0;
    }
    // Warm-up done (it may have spawned worker processes): let the load it left decay first.
    const settle = cell.settleMaxS ? await settleLoad(cell.settleMaxS * 1000) : undefined;
    const r0 = performance.now();
    const outcome = await runCell(cell);
    const runMs = performance.now() - r0;
    // The collectors' maps are garbage now: the rows are written on the run's live data only.
    await reclaim();
    await writeRunFile(rowsFile, outcome, meta, {
      spans: cellSpans(cell, outcome),
      // Process-wide figures are the runner's to fill in at import (it sees the whole life of this process).
      cost: ({ spansMs, rowsMs }) => ({ traces: cell.traces !== false, heapLimitMb: cell.heapLimitMb, warmupMs, settleMs: settle?.waitedMs, settleReached: settle?.reached, runMs, spansMs, rowsMs }),
    });
    const cpu = process.cpuUsage();
    reply({ ok: true, runId: outcome.runId, makespanMs: outcome.makespanMs, processCpuMs: (cpu.user + cpu.system) / 1000, processRssPeakMb: processRssPeakMb() });
  } catch (e) {
    reply({ ok: false, error: describeError(e), stack: e instanceof Error ? e.stack : undefined });
  }
});
