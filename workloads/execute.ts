// The one agent body every system runs: call the (simulated) LLM for the agent's logical
// input, build its output artifacts. Keys, latency draws and payloads depend only on the
// workload, the seed and the input keys, so all systems face identical work (paired runs).
// Two small side paths: tool agents (a registered function, no LLM call) and coalescing
// batches (one LLM call for k inputs, k outputs), both below executeAgent.
import { randomBytes } from 'node:crypto';
import { responseContent } from '../llm/simulator.ts';
import type { LlmClient } from '../llm/types.ts';
import { validatePayload } from '../core/schema.ts';
import { shortHash } from '../core/random.ts';
import { ERROR_TYPE, SIZE_FIELDS, type AgentSpec, type Artifact, type WorkloadSpec } from './spec.ts';
import { runTool } from './tools.ts';

/** One agent execution, as the harness records it (times in ms since run start). */
export interface ExecutionRecord {
  agent: string;
  identity: string;
  inputKeys: string[];
  correlationIds: string[];
  outputKeys: string[];
  startMs: number;
  endMs: number;
  /** Unscaled latency drawn for this call. */
  drawnLatencyMs: number;
  /** Latency actually waited (drawn x scale). */
  scaledLatencyMs: number;
  tokensIn: number;
  tokensOut: number;
  costUsd: number;
  /** LLM calls the execution made: 0 for a tool agent or a call that failed, else 1 (default 1). */
  llmCalls?: number;
  /** Of scaledLatencyMs, the wait for admission under provider limits (in-process limits only). */
  queuedMs?: number;
  error?: string;
  /**
   * Graph systems only: the Pregel loop (`scope`: a graph run, or one subgraph invocation in it)
   * and the superstep the execution's node task ran in. Executions of one scope and step share
   * a barrier (harness/collect/barrier.ts).
   */
  superstep?: { scope: string; step: number };
}

export interface AgentRuntime {
  workload: WorkloadSpec;
  llm: LlmClient;
  seed: number;
  /** ms since run start */
  clock(): number;
  onExecution(r: ExecutionRecord): void;
}

export class AgentFailure extends Error {}

/** Deterministic identity of one execution: the agent and the logical keys of its inputs. */
export function executionIdentity(agent: string, inputKeys: readonly string[]): string {
  if (inputKeys.length === 1) return `${agent}(${inputKeys[0]})`;
  const sorted = [...inputKeys].sort();
  return `${agent}(batch:${shortHash(sorted.join(','))}x${sorted.length})`;
}

export function outputCorrelation(inputs: readonly Pick<Artifact, 'correlationId'>[]): string {
  if (inputs.length === 1) return inputs[0]!.correlationId;
  const ids = [...new Set(inputs.map((a) => a.correlationId))].sort();
  return ids.length === 1 ? ids[0] : `multi:${shortHash(ids.join(','))}`;
}

/** Tokens an input adds to a prompt: its declared size, else its payload at ~4 characters a token. */
export function inputTokens(a: Pick<Artifact, 'payload'>): number {
  const declared = a.payload[SIZE_FIELDS.promptTokens];
  return typeof declared === 'number' ? declared : payloadTokens(a.payload);
}

/** Distinct correlation ids of the inputs, in input order (one input: no Set, no copies). */
export function correlationIdsOf(inputs: readonly Pick<Artifact, 'correlationId'>[]): string[] {
  return inputs.length === 1 ? [inputs[0]!.correlationId] : [...new Set(inputs.map((a) => a.correlationId))];
}

export function promptTokensFor(agent: AgentSpec, inputs: readonly Artifact[]): number {
  let t = agent.promptTokens;
  for (const a of inputs) t += inputTokens(a);
  return t;
}

/** Target output of a call on these inputs: a single input's declared size, else the agent's. */
export function outputTokensFor(agent: AgentSpec, inputs: readonly Pick<Artifact, 'payload'>[]): number {
  const declared = inputs.length === 1 ? inputs[0]!.payload[SIZE_FIELDS.outputTokens] : undefined;
  return typeof declared === 'number' ? declared : agent.outputTokens;
}

/** Payload -> its token estimate: a payload read by several agents (fan-out) is measured once. */
const tokensOfPayload = new WeakMap<object, number>();

/**
 * ceil(length of the payload's canonical JSON / 4), memoised per payload object. The length is
 * summed without building the JSON (key order does not change it): same count, no garbage.
 */
export function payloadTokens(payload: Record<string, unknown>): number {
  let t = tokensOfPayload.get(payload);
  if (t === undefined) tokensOfPayload.set(payload, (t = Math.ceil(canonicalJsonLength(payload) / 4)));
  return t;
}

/** Does JSON.stringify escape anything in `s` (controls, quote, backslash, surrogates)? */
function needsEscape(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 || c === 0x22 || c === 0x5c || (c >= 0xd800 && c <= 0xdfff)) return true;
  }
  return false;
}

/** canonicalJson(v).length, computed without building the string. */
export function canonicalJsonLength(v: unknown): number {
  // A string with nothing JSON escapes is its length plus the quotes (no copy made to find out).
  if (typeof v === 'string') return needsEscape(v) ? JSON.stringify(v).length : v.length + 2;
  if (v === null || typeof v !== 'object') return JSON.stringify(v)?.length ?? 9; // canonicalJson(undefined) renders "undefined"
  if (Array.isArray(v)) {
    let n = 2 + Math.max(0, v.length - 1);
    // canonicalJson joins elements: undefined ones render as '' there (Array.join).
    for (const x of v) if (x !== undefined) n += canonicalJsonLength(x);
    return n;
  }
  let n = 2, fields = 0;
  for (const k in v as Record<string, unknown>) {
    if (!Object.hasOwn(v, k)) continue;
    const x = (v as Record<string, unknown>)[k];
    if (x === undefined) continue;
    n += JSON.stringify(k).length + 1 + canonicalJsonLength(x);
    fields++;
  }
  return n + Math.max(0, fields - 1);
}

/**
 * Artifact ids: unique within a run and across the processes of one run (Kafka workers publish
 * too), which is all stores and consumption records need; a random per-process prefix and a
 * counter cost a string concatenation instead of a random UUID per artifact.
 */
const idPrefix = `${randomBytes(8).toString('hex')}-`;
let idCounter = 0;
export function nextArtifactId(): string {
  return idPrefix + (++idCounter).toString(36);
}

/**
 * Tags of an artifact created without any: one frozen array shared by all of them (a run's
 * artifacts are created untagged; 1M empty arrays were ~60 MB). Frozen, so code that tries to
 * tag an artifact in place fails loudly instead of tagging every artifact at once.
 */
const NO_TAGS: string[] = Object.freeze([]) as unknown as string[];

export function makeArtifact(
  fields: Pick<Artifact, 'key' | 'type' | 'payload' | 'producedBy' | 'correlationId'> & Partial<Artifact>,
  nowMs: number,
): Artifact {
  return { id: nextArtifactId(), tags: NO_TAGS, version: 1, createdAtMs: nowMs, ...fields };
}

/**
 * makeArtifact for the hot paths (a seed input, an agent's output): the same object, built as one
 * literal. A spread adds its properties after the literal's, out of the object (a property
 * array of its own per artifact, ~60 bytes; 2M artifacts in a 1M-task run).
 */
export function newArtifact(key: string, type: string, payload: Record<string, unknown>, producedBy: string, correlationId: string, nowMs: number): Artifact {
  return { id: nextArtifactId(), tags: NO_TAGS, version: 1, createdAtMs: nowMs, key, type, payload, producedBy, correlationId };
}

/** Seed inputs as artifacts (produced_by "external", like Flock.publish). */
export function seedArtifact(w: WorkloadSpec, i: number, nowMs: number): Artifact {
  const s = w.tasks[i];
  return newArtifact(s.key, s.type, s.payload, 'external', s.correlationId, nowMs);
}

/**
 * Run one agent on its inputs. Never throws for agent-level failures: a failing execution
 * returns one WorkflowError artifact instead, so the rest of the workflow continues.
 */
export async function executeAgent(agent: AgentSpec, inputs: readonly Artifact[], rt: AgentRuntime): Promise<Artifact[]> {
  if (agent.tool) return executeTool(agent, inputs, rt);
  if (agent.consumes.batch?.coalesce) return executeCoalesced(agent, inputs, rt);
  const inputKeys = inputs.map((a) => a.key);
  const identity = executionIdentity(agent.name, inputKeys);
  const correlationId = outputCorrelation(inputs);
  const typeSpec = rt.workload.types.find((t) => t.name === agent.publishes);
  const startMs = rt.clock();
  const promptTokens = promptTokensFor(agent, inputs);
  let outputs: Artifact[];
  let error: string | undefined;
  let resp: Awaited<ReturnType<LlmClient['complete']>> | undefined;
  try {
    if (!typeSpec) throw new AgentFailure(`agent ${agent.name} publishes unknown type ${agent.publishes}`);
    resp = await rt.llm.complete({
      model: agent.model,
      agent: agent.name,
      identity,
      promptTokens,
      outputTokens: outputTokensFor(agent, inputs),
      schema: typeSpec.schema,
      fixed: agent.outputFields,
    });
    if (agent.failWhen && identity.includes(agent.failWhen.inputKeyIncludes)) {
      throw new AgentFailure(`${agent.name}: simulated failure on ${identity}`);
    }
    const n = agent.fanOut ?? 1;
    const now = rt.clock();
    outputs = [];
    for (let i = 0; i < n; i++) {
      // The response carries output 0; further outputs of a fan-out come from the same keyed generator.
      const payload = i === 0 && resp.content ? resp.content : responseContent(rt.seed, {
        identity: `${identity}#${i}`, schema: typeSpec.schema, fixed: agent.outputFields,
      })!;
      const invalid = validatePayload(typeSpec.schema, payload);
      if (invalid) throw new AgentFailure(`${agent.name}: output ${agent.publishes} invalid: ${invalid}`);
      outputs.push(newArtifact(n === 1 ? identity : `${identity}#${i}`, agent.publishes, payload, agent.name, correlationId, now));
    }
  } catch (e) {
    error = e instanceof Error ? e.message : String(e);
    outputs = [makeArtifact({
      key: `error:${identity}`,
      type: ERROR_TYPE,
      payload: { agent: agent.name, error, inputKeys: [...inputKeys].sort() },
      producedBy: agent.name,
      correlationId,
    }, rt.clock())];
  }
  recordExecution(rt, agent, identity, inputKeys, inputs, outputs, startMs, resp, error);
  return outputs;
}

/** Report one execution (one LLM call, or none when it failed before answering) to the runtime. */
function recordExecution(
  rt: AgentRuntime, agent: AgentSpec, identity: string, inputKeys: string[], inputs: readonly Artifact[], outputs: readonly Artifact[],
  startMs: number, resp: Awaited<ReturnType<LlmClient['complete']>> | undefined, error: string | undefined,
): void {
  rt.onExecution({
    agent: agent.name,
    identity,
    inputKeys,
    correlationIds: correlationIdsOf(inputs),
    outputKeys: outputs.map((o) => o.key),
    startMs,
    endMs: rt.clock(),
    drawnLatencyMs: resp?.drawnLatencyMs ?? 0,
    scaledLatencyMs: resp?.scaledLatencyMs ?? 0,
    tokensIn: resp?.tokensIn ?? 0,
    tokensOut: resp?.tokensOut ?? 0,
    costUsd: resp?.costUsd ?? 0,
    llmCalls: resp ? 1 : 0,
    queuedMs: resp?.queuedMs,
    error,
  });
}

function errorArtifact(agent: AgentSpec, identity: string, inputKeys: readonly string[], correlationId: string, error: string, nowMs: number): Artifact {
  return makeArtifact({
    key: `error:${identity}`,
    type: ERROR_TYPE,
    payload: { agent: agent.name, error, inputKeys: [...inputKeys].sort() },
    producedBy: agent.name,
    correlationId,
  }, nowMs);
}

/**
 * A coalescing batch: one LLM call for all inputs (the agent's prompt once, every input's
 * tokens, the inputs' target outputs summed), then one output per input with the key, payload
 * and correlation a lone execution on that input would have produced.
 */
async function executeCoalesced(agent: AgentSpec, inputs: readonly Artifact[], rt: AgentRuntime): Promise<Artifact[]> {
  const inputKeys = inputs.map((a) => a.key);
  const identity = executionIdentity(agent.name, inputKeys);
  const perInput = inputs.map((a) => executionIdentity(agent.name, [a.key]));
  const typeSpec = rt.workload.types.find((t) => t.name === agent.publishes);
  const startMs = rt.clock();
  let outputs: Artifact[];
  let error: string | undefined;
  let resp: Awaited<ReturnType<LlmClient['complete']>> | undefined;
  try {
    if (!typeSpec) throw new AgentFailure(`agent ${agent.name} publishes unknown type ${agent.publishes}`);
    if ((agent.fanOut ?? 1) !== 1) throw new AgentFailure(`agent ${agent.name}: a coalescing batch publishes one output per input, so fanOut must be 1`);
    // No schema on the call: its outputs are the per-input payloads below, whatever the transport.
    resp = await rt.llm.complete({
      model: agent.model,
      agent: agent.name,
      identity,
      promptTokens: promptTokensFor(agent, inputs),
      outputTokens: inputs.reduce((n, a) => n + outputTokensFor(agent, [a]), 0),
    });
    const fail = agent.failWhen?.inputKeyIncludes;
    if (fail !== undefined && [identity, ...perInput].some((id) => id.includes(fail))) {
      throw new AgentFailure(`${agent.name}: simulated failure on ${identity}`);
    }
    const now = rt.clock();
    outputs = inputs.map((a, i) => {
      const payload = responseContent(rt.seed, { identity: perInput[i]!, schema: typeSpec.schema, fixed: agent.outputFields })!;
      const invalid = validatePayload(typeSpec.schema, payload);
      if (invalid) throw new AgentFailure(`${agent.name}: output ${agent.publishes} invalid: ${invalid}`);
      return newArtifact(perInput[i]!, agent.publishes, payload, agent.name, a.correlationId, now);
    });
  } catch (e) {
    error = e instanceof Error ? e.message : String(e);
    outputs = [errorArtifact(agent, identity, inputKeys, outputCorrelation(inputs), error, rt.clock())];
  }
  recordExecution(rt, agent, identity, inputKeys, inputs, outputs, startMs, resp, error);
  return outputs;
}

/**
 * A tool agent: its registered function runs here, synchronously (real CPU in this process),
 * and must return exactly fanOut outputs. No LLM call, no tokens; keyed like a fan-out, with
 * the suffix the tool gives each output.
 */
async function executeTool(agent: AgentSpec, inputs: readonly Artifact[], rt: AgentRuntime): Promise<Artifact[]> {
  const inputKeys = inputs.map((a) => a.key);
  const identity = executionIdentity(agent.name, inputKeys);
  const correlationId = outputCorrelation(inputs);
  const typeSpec = rt.workload.types.find((t) => t.name === agent.publishes);
  const startMs = rt.clock();
  let outputs: Artifact[];
  let error: string | undefined;
  try {
    if (!typeSpec) throw new AgentFailure(`agent ${agent.name} publishes unknown type ${agent.publishes}`);
    const results = runTool(agent.tool!, inputs);
    const n = agent.fanOut ?? 1;
    if (results.length !== n) throw new AgentFailure(`${agent.name}: tool ${agent.tool!.name} returned ${results.length} outputs, fanOut is ${n}`);
    const now = rt.clock();
    outputs = results.map((r) => {
      const invalid = validatePayload(typeSpec.schema, r.payload);
      if (invalid) throw new AgentFailure(`${agent.name}: output ${agent.publishes} invalid: ${invalid}`);
      return newArtifact(n === 1 ? identity : `${identity}#${r.suffix}`, agent.publishes, r.payload, agent.name, correlationId, now);
    });
  } catch (e) {
    error = e instanceof Error ? e.message : String(e);
    outputs = [errorArtifact(agent, identity, inputKeys, correlationId, error, rt.clock())];
  }
  rt.onExecution({
    agent: agent.name,
    identity,
    inputKeys,
    correlationIds: correlationIdsOf(inputs),
    outputKeys: outputs.map((o) => o.key),
    startMs,
    endMs: rt.clock(),
    drawnLatencyMs: 0,
    scaledLatencyMs: 0,
    tokensIn: 0,
    tokensOut: 0,
    costUsd: 0,
    llmCalls: 0,
    error,
  });
  return outputs;
}
