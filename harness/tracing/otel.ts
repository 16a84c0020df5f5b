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

/** One root span per run and one child span per agent execution (`<agent>.execute`), to `sink` or returned. */
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
  for (const e of r.executions) {
    const span = tracer.startSpan(`${e.agent}.execute`, {
      startTime: t0 + e.startMs,
      attributes: {
        'flockbench.agent': e.agent,
        'flockbench.identity': e.identity,
        'flockbench.inputs': e.inputKeys.length,
        'flockbench.correlation_ids': e.correlationIds,
        // Graph systems: the Pregel loop and superstep (harness/collect/barrier.ts reads them back).
        ...(e.superstep ? { 'langgraph.scope': e.superstep.scope, 'langgraph.step': e.superstep.step } : {}),
        'llm.drawn_latency_ms': e.drawnLatencyMs,
        'llm.tokens_in': e.tokensIn,
        'llm.tokens_out': e.tokensOut,
      },
    }, parent);
    if (e.error) span.setStatus({ code: SpanStatusCode.ERROR, message: e.error });
    span.end(t0 + e.endMs);
  }
  root.end(t0 + r.makespanMs);
  await provider.shutdown();
  return exporter.rows;
}
