// Run one matrix cell: build its workload, run the system once, build its trace spans.
import { buildWorkload } from '../../workloads/registry.ts';
import { runSpans } from '../tracing/otel.ts';
import type { SpanRow } from '../results/db.ts';
import { runOnce, type RunOutcome } from './run-once.ts';
import type { Cell } from './matrix.ts';

export async function runCell(cell: Cell): Promise<{ outcome: RunOutcome; spans: SpanRow[] }> {
  const outcome = await runOnce({
    system: cell.system,
    workload: buildWorkload(cell.workload, cell.workloadParams),
    seed: cell.seed,
    latencyScale: cell.latencyScale,
    tail: cell.tail,
    llm: cell.llmTransport,
    llmOptions: cell.llmOptions,
    systemParams: cell.systemParams,
    timeoutMs: cell.timeoutMs,
  });
  return { outcome, spans: await runSpans(outcome) };
}
