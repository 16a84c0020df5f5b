// Run one matrix cell: build its workload, run the system once; its spans (unless the matrix
// turns traces off) are made from the outcome when its rows are written.
import { buildWorkload } from '../../workloads/registry.ts';
import type { SpanSource } from '../results/run-rows.ts';
import { runOnce, type RunOutcome } from './run-once.ts';
import type { Cell } from './matrix.ts';

export async function runCell(cell: Cell): Promise<RunOutcome> {
  return runOnce({
    system: cell.system,
    workload: buildWorkload(cell.workload, cell.workloadParams),
    seed: cell.seed,
    latencyScale: cell.latencyScale,
    tail: cell.tail,
    llm: cell.llmTransport,
    llmOptions: cell.llmOptions,
    systemParams: cell.systemParams,
    timeoutMs: cell.timeoutMs,
    // Of the artifacts only their content hashes and error count are stored (computed in
    // runOnce); executions are read from the compact log.
    keepObjects: false,
  });
}

/** The cell's spans, or none when its matrix says `traces: false`. */
export function cellSpans(cell: Cell, outcome: RunOutcome): SpanSource | undefined {
  if (cell.traces === false) return undefined;
  return async (sink) => {
    // Loaded only when spans are made: the OpenTelemetry SDK is ~0.3 s of module loading a process.
    const { runSpans } = await import('../tracing/otel.ts');
    await runSpans(outcome, sink);
  };
}
