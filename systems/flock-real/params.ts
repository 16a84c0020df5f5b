// Parameters of flock-real (matrix `systemParams.flock-real`), declared once. The engine picks
// the defaults of the others: engine dspy is Flock 0.5.7 as shipped (its defaults), engine
// http the idealized engine (quiet, untraced, unbounded iterations).
import { BadParamError, type ParamDefs, type Resolved } from '../../core/params.ts';

export const flockRealParams = {
  engine: {
    type: 'string', default: 'http', choices: ['http', 'dspy'],
    doc: "http: idealized, one async HTTP call per execution to the run's simulator; dspy: Flock's own DSPyEngine through LiteLLM, as shipped",
  },
  adapter: {
    type: 'string', choices: ['default', 'chat', 'json'],
    doc: "engine dspy only: DSPy's adapter; derived: default (ChatAdapter, JSONAdapter after a parse failure, as DSPy ships)",
  },
  autoTrace: { type: 'boolean', doc: "FLOCK_AUTO_TRACE: Flock's own spans, kept in memory and stored in the run's spans; derived: true for dspy (Flock's default), false for http" },
  consoleOutput: { type: 'boolean', doc: "Flock's rich console output (its default output utility); derived: true for dspy (Flock's default), false for http" },
  maxAgentIterations: { type: 'integer', min: 1, doc: 'Flock(max_agent_iterations=...); derived: 1000 for dspy (Flock 0.5.7), 1e9 for http' },
} as const satisfies ParamDefs;

export type FlockRealParams = Resolved<typeof flockRealParams>;

/** Every parameter with its engine's default filled in: what a run uses and records. */
export interface FlockRealSettings {
  engine: 'http' | 'dspy';
  /** Absent for engine http. */
  adapter?: 'default' | 'chat' | 'json';
  autoTrace: boolean;
  consoleOutput: boolean;
  maxAgentIterations: number;
}

/** Cross-parameter checks the declaration cannot express, then the engine's defaults. */
export function flockRealSettings(p: FlockRealParams): FlockRealSettings {
  const dspy = p.engine === 'dspy';
  if (!dspy && p.adapter !== undefined) {
    throw new BadParamError("systemParams.flock-real: 'adapter' applies to engine: dspy only (drop it or set engine: dspy)");
  }
  return {
    engine: dspy ? 'dspy' : 'http',
    ...(dspy ? { adapter: p.adapter ?? 'default' } : {}),
    autoTrace: p.autoTrace ?? dspy,
    consoleOutput: p.consoleOutput ?? dspy,
    maxAgentIterations: p.maxAgentIterations ?? (dspy ? 1000 : 1_000_000_000),
  };
}
