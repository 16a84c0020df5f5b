// OpenTelemetry traces of a run, stored in DuckDB. Spans are built after the run from the
// execution records (explicit start/end times), so tracing adds nothing to the measured path;
// they still go through the real SDK (tracer provider, span processor, exporter).
import { context, trace, SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { BasicTracerProvider, SimpleSpanProcessor, type ReadableSpan, type SpanExporter } from '@opentelemetry/sdk-trace-base';
import { resourceFromAttributes } from '@opentelemetry/resources';
import type { RunOutcome } from '../outcome.ts';
import type { SpanRow } from '../results/db.ts';

/**
 * Exporter that turns spans into rows of the `spans` table (Flock's DuckDB trace layout), kept
 * in `rows` or, with a sink, handed on as they end (a 1M-execution run's spans are never all held).
 */
export class DuckDbRowExporter implements SpanExporter {
  readonly rows: SpanRow[] = [];
  constructor(private readonly sink: (row: SpanRow) => void = (row) => this.rows.push(row)) {}
  export(spans: ReadableSpan[], done: (r: { code: number }) => void): void {
    for (const s of spans) this.sink(toRow(s));
    done({ code: 0 });
  }
  async shutdown(): Promise<void> {}
  async forceFlush(): Promise<void> {}
}

const ns = (t: [number, number]) => BigInt(t[0]) * 1_000_000_000n + BigInt(t[1]);

function toRow(s: ReadableSpan): SpanRow {
  const start = ns(s.startTime), end = ns(s.endTime);
  return {
    trace_id: s.spanContext().traceId,
    span_id: s.spanContext().spanId,
    parent_id: s.parentSpanContext?.spanId ?? null,
    name: s.name,
    service: String(s.resource.attributes['service.name'] ?? 'flockbench'),
    operation: s.name.split('.').pop() ?? s.name,
    kind: SpanKind[s.kind],
    start_time: start,
    end_time: end,
    duration_ms: Number(end - start) / 1e6,
    status_code: SpanStatusCode[s.status.code],
    status_description: s.status.message ?? null,
    attributes: JSON.stringify(s.attributes),
    events: JSON.stringify(s.events.map((e) => ({ name: e.name, attributes: e.attributes }))),
    links: JSON.stringify(s.links.map((l) => l.context)),
    resource: JSON.stringify(s.resource.attributes),
  };
}

/**
 * One root span per run and one child span per agent execution (`<agent>.execute`), then any
 * spans the system's framework recorded itself (their own trace ids and names); to `sink` as
 * they end, or returned.
 */
export async function runSpans(r: RunOutcome, sink?: (row: SpanRow) => void): Promise<SpanRow[]> {
  const exporter = new DuckDbRowExporter(sink);
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ 'service.name': r.system, 'flockbench.run_id': r.runId }),
    spanProcessors: [new SimpleSpanProcessor(exporter)],
  });
  const tracer = provider.getTracer('flockbench');
  const t0 = Date.parse(r.startedAt);
  const root = tracer.startSpan(`${r.system}.run`, {
    startTime: t0,
    kind: SpanKind.INTERNAL,
    attributes: { 'flockbench.workload': r.workload, 'flockbench.tasks': r.tasks, 'flockbench.seed': r.seed },
  });
  const parent = trace.setSpan(context.active(), root);
  const log = r.executionLog;
  for (let i = 0; i < log.length; i++) {
    // The span processor settles each export on a promise that holds its span: let them settle
    // now and then, or a 100k-execution run holds every span until the loop ends (+170 MB).
    if ((i & 4095) === 4095) await new Promise(setImmediate);
    const superstep = log.supersteps.get(i);
    const span = tracer.startSpan(`${log.agent(i)}.execute`, {
      startTime: t0 + log.startMs[i]!,
      attributes: {
        'flockbench.agent': log.agent(i),
        'flockbench.identity': log.identity[i]!,
        'flockbench.inputs': log.inputCount(i),
        'flockbench.correlation_ids': log.correlationIdsOf(i),
        // Graph systems: the Pregel loop and superstep (harness/collect/barrier.ts reads them back).
        ...(superstep ? { 'langgraph.scope': superstep.scope, 'langgraph.step': superstep.step } : {}),
        'llm.drawn_latency_ms': log.drawnLatencyMs[i]!,
        'llm.tokens_in': log.tokensIn[i]!,
        'llm.tokens_out': log.tokensOut[i]!,
      },
    }, parent);
    const error = log.errors.get(i);
    if (error) span.setStatus({ code: SpanStatusCode.ERROR, message: error });
    span.end(t0 + log.endMs[i]!);
  }
  root.end(t0 + r.makespanMs);
  await provider.shutdown();
  // The framework's own spans (flock-real's auto-trace) keep their own trace and names.
  if (!r.nativeSpans?.length) return exporter.rows;
  if (sink) {
    for (const row of r.nativeSpans) sink(row);
    return exporter.rows;
  }
  return [...exporter.rows, ...r.nativeSpans];
}
