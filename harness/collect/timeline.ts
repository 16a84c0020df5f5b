// One run as a timeline: every execution as a bar (agent on the y axis, run-clock time on the x
// axis, colour = task), so a reader sees where agents overlap and where a graph's superstep
// barrier leaves gaps. Pure functions: executions (from a RunOutcome, or rebuilt from the run's
// stored spans) in, rows and a plain vega-lite spec out; rendering belongs to the paper.
import type { SpanRow } from '../results/schema.ts';
import { taskOf, type BarrierExecution } from './barrier.ts';

export interface TimelineRow {
  /** Set when rows of several runs are drawn together (one panel per system). */
  system?: string;
  agent: string;
  task: string;
  startMs: number;
  endMs: number;
  durationMs: number;
  /** Graph systems: the superstep (and its Pregel loop) the execution ran in. */
  step?: number;
  scope?: string;
}

/** Rows of one run, in start order. */
export function timelineRows(executions: readonly BarrierExecution[], system?: string): TimelineRow[] {
  return executions
    .map((e) => ({
      ...(system !== undefined ? { system } : {}),
      agent: e.agent,
      task: taskOf(e),
      startMs: e.startMs,
      endMs: e.endMs,
      durationMs: e.endMs - e.startMs,
      ...(e.superstep ? { step: e.superstep.step, scope: e.superstep.scope } : {}),
    }))
    .sort((a, b) => a.startMs - b.startMs || (a.agent < b.agent ? -1 : a.agent > b.agent ? 1 : 0));
}

/**
 * Executions of one run rebuilt from its stored spans (harness/tracing/otel.ts: one `<system>.run`
 * root, one `<agent>.execute` child per execution with its correlation ids and superstep as
 * attributes). Times are relative to the root's start, i.e. on the run clock.
 */
export function executionsFromSpans(rows: readonly Pick<SpanRow, 'span_id' | 'name' | 'parent_id' | 'start_time' | 'end_time' | 'attributes'>[]): BarrierExecution[] {
  // The harness's root; a framework's own spans (flock-real: Flock's auto-trace) are not its children.
  const root = rows.find((r) => !r.parent_id && r.name?.endsWith('.run') && String(r.attributes ?? '').includes('flockbench.workload'));
  if (!root) throw new Error('spans of a run need its `<system>.run` root span');
  const t0 = BigInt(root.start_time!);
  const ms = (ns: bigint | number | null) => Number(BigInt(ns!) - t0) / 1e6;
  const out: BarrierExecution[] = [];
  for (const r of rows) {
    if (r === root || r.parent_id !== root.span_id || !r.name?.endsWith('.execute')) continue;
    const a = (typeof r.attributes === 'string' ? JSON.parse(r.attributes) : r.attributes ?? {}) as Record<string, unknown>;
    const correlationIds = (a['flockbench.correlation_ids'] as string[] | undefined) ?? [];
    const step = a['langgraph.step'];
    out.push({
      agent: String(a['flockbench.agent'] ?? r.name.slice(0, -'.execute'.length)),
      startMs: ms(r.start_time),
      endMs: ms(r.end_time),
      correlationIds,
      ...(typeof step === 'number' ? { superstep: { scope: String(a['langgraph.scope']), step } } : {}),
    });
  }
  return out;
}

export interface TimelineSpecOptions {
  title?: string;
  /** Agents top to bottom (default: order of first start). */
  agentOrder?: readonly string[];
  /** Width of one panel, px. Default 640. */
  width?: number;
  /** Height per agent row, px. Default 14. */
  rowHeightPx?: number;
}

/**
 * A vega-lite (v5/v6) Gantt spec: one bar per execution, agents on the y axis, tasks as colours,
 * one panel per system when rows carry `system`. Data are inlined (`values`).
 */
export function timelineSpec(rows: readonly TimelineRow[], o: TimelineSpecOptions = {}): Record<string, unknown> {
  const agents = o.agentOrder ?? [...new Set(rows.map((r) => r.agent))];
  const systems = [...new Set(rows.map((r) => r.system).filter((s): s is string => s !== undefined))];
  const tooltip = [
    { field: 'agent', type: 'nominal' },
    { field: 'task', type: 'nominal' },
    { field: 'startMs', type: 'quantitative', title: 'start (ms)', format: '.1f' },
    { field: 'durationMs', type: 'quantitative', title: 'duration (ms)', format: '.1f' },
    ...(rows.some((r) => r.step !== undefined) ? [{ field: 'step', type: 'ordinal', title: 'superstep' }] : []),
  ];
  const unit = {
    width: o.width ?? 640,
    height: { step: o.rowHeightPx ?? 14 },
    mark: { type: 'bar', cornerRadius: 1, opacity: 0.85 },
    encoding: {
      x: { field: 'startMs', type: 'quantitative', title: 'time since the run started (ms)' },
      x2: { field: 'endMs' },
      y: { field: 'agent', type: 'nominal', sort: agents, title: 'agent' },
      color: { field: 'task', type: 'nominal', title: 'task', legend: rows.length && new Set(rows.map((r) => r.task)).size > 20 ? null : {} },
      tooltip,
    },
  };
  const base = {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    ...(o.title ? { title: o.title } : {}),
    data: { values: rows.map((r) => ({ ...r })) },
  };
  if (systems.length > 1 || (systems.length === 1 && rows.every((r) => r.system !== undefined))) {
    return {
      ...base,
      facet: { row: { field: 'system', type: 'nominal', title: null, sort: systems } },
      resolve: { scale: { y: 'independent' } },
      spec: unit,
    };
  }
  return { ...base, ...unit };
}
