// The options a matrix may give the HTTP simulator and its client (`llmOptions:`), declared
// once and checked before anything runs: a misspelt or ill-typed key is a one-line error.
import { resolveParams, suggest, type ParamDefs } from '../core/params.ts';
import { UserError } from '../core/errors.ts';

export const llmClientOptionDefs = {
  url: { type: 'string', doc: 'talk to this running simulator instead of starting one per run' },
  maxRetries: { type: 'integer', min: 0, doc: 'client retries per call (default 2, as the SDKs)' },
  timeoutMs: { type: 'number', min: 1, unit: 'ms', doc: 'client timeout per attempt' },
  backoffBaseMs: { type: 'number', min: 0, unit: 'ms', doc: 'first retry backoff' },
  backoffMaxMs: { type: 'number', min: 0, unit: 'ms', doc: 'retry backoff cap' },
  stream: { type: 'boolean', doc: 'use server-sent events' },
  maxSockets: { type: 'integer', min: 1, doc: 'client connection pool size' },
  queueing: { type: 'boolean', doc: 'over-limit requests wait instead of getting 429' },
  warmConnections: { type: 'integer', min: 0, doc: 'keep-alive connections opened before the run' },
} as const satisfies ParamDefs;

export const llmLimitDefs = {
  rpm: { type: 'number', min: 1, doc: "requests per window (default: the model profile's)" },
  tpm: { type: 'number', min: 1, doc: "tokens per window (default: the model profile's)" },
  maxConcurrent: { type: 'integer', min: 1, doc: 'admitted requests in flight' },
  windowMs: { type: 'number', min: 1, unit: 'ms', doc: 'the rate-limit "minute" (default 60 000 x latency scale)' },
} as const satisfies ParamDefs;

export const llmSlowdownDefs = {
  capacity: { type: 'number', min: 1, doc: 'calls in flight served at full speed' },
  alpha: { type: 'number', min: 0, doc: 'extra service time per multiple of capacity above it' },
} as const satisfies ParamDefs;

export const llmFaultDefs = {
  http5xx: { type: 'number', min: 0, max: 1, doc: 'probability of an HTTP 500 after the scaled TTFT' },
  timeout: { type: 'number', min: 0, max: 1, doc: 'probability that a request hangs' },
  malformed: { type: 'number', min: 0, max: 1, doc: 'probability of a truncated body' },
  hangMs: { type: 'number', min: 1, unit: 'ms', doc: 'how long a hung request is held' },
} as const satisfies ParamDefs;

const isMapping = (v: unknown): v is Record<string, unknown> => !!v && typeof v === 'object' && !Array.isArray(v);

/** Keys of `llmOptions` the in-process transport honours (the rest are HTTP client or server options). */
export const INPROCESS_LLM_OPTIONS = ['limits', 'slowdown'] as const;

/**
 * Check `llmOptions` as a whole; returns it unchanged (the transport reads the raw object).
 * In-process, only `limits` (calls wait for admission) and `slowdown` apply.
 */
export function validateLlmOptions(where: string, v: unknown, transport: 'inprocess' | 'http' = 'http'): Record<string, unknown> {
  if (v === undefined) return {};
  if (!isMapping(v)) throw new UserError(`${where}: 'llmOptions' must be a mapping`);
  const { limits, faults, slowdown, ...rest } = v;
  // A key that is no option at all is named first (with where it belongs, if it is a limit,
  // fault or slowdown key), before the in-process rule could call it an http option.
  const nested = { limits: llmLimitDefs, faults: llmFaultDefs, slowdown: llmSlowdownDefs };
  for (const k of Object.keys(rest)) {
    if (k in llmClientOptionDefs) continue;
    const home = Object.entries(nested).find(([, defs]) => k in defs)?.[0];
    if (home) throw new UserError(`${where}: llmOptions.${k} belongs under llmOptions.${home} (llmOptions: {${home}: {${k}: ...}})`);
    const known = [...Object.keys(nested), ...Object.keys(llmClientOptionDefs)];
    const hint = suggest(k, known);
    throw new UserError(`${where}: llmOptions: unknown key '${k}'${hint ? ` (did you mean '${hint}'?)` : ''}; known: ${known.join(', ')}`);
  }
  if (transport === 'inprocess') {
    const other = Object.keys(v).filter((k) => !(INPROCESS_LLM_OPTIONS as readonly string[]).includes(k));
    if (other.length) throw new UserError(`${where}: llmOptions.${other[0]} applies to llmTransport: http only (in-process: ${INPROCESS_LLM_OPTIONS.join(', ')})`);
  }
  resolveParams(`${where}: llmOptions`, llmClientOptionDefs, rest);
  if (slowdown !== undefined) {
    if (!isMapping(slowdown)) throw new UserError(`${where}: 'llmOptions.slowdown' must be a mapping with capacity and alpha`);
    const s = resolveParams(`${where}: llmOptions.slowdown`, llmSlowdownDefs, slowdown);
    if (s.capacity === undefined || s.alpha === undefined) throw new UserError(`${where}: 'llmOptions.slowdown' needs both capacity and alpha`);
  }
  if (limits !== undefined && typeof limits !== 'boolean') {
    if (!isMapping(limits)) throw new UserError(`${where}: 'llmOptions.limits' must be true, false or a mapping`);
    resolveParams(`${where}: llmOptions.limits`, llmLimitDefs, limits);
  }
  if (faults !== undefined) {
    if (!isMapping(faults)) throw new UserError(`${where}: 'llmOptions.faults' must be a mapping`);
    resolveParams(`${where}: llmOptions.faults`, llmFaultDefs, faults);
  }
  return v;
}
