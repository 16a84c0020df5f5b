// The ideal makespan of a run: a zero-overhead replay of the system's own scheduling policy on
// the run's realized latency draws. The replay is a discrete-event simulation: tasks arrive at
// their intended times, routing (batches, joins, their timeouts) goes through the same Router
// every system uses, each execution lasts exactly its drawn latency x scale, and nothing else
// costs time. So for a run:
//   overhead = makespan / ideal   what the engine itself cost (1 = none);
//   policy   = bound / ideal      what the scheduling policy costs against the release-aware
//                                 lower bound (1 = the policy is as good as any could be).
//
// Policies:
//   dataflow            every agent a FIFO queue under its concurrency limit; outputs route at
//                       once (the blackboard, eager and deferred; the real Flock; broker-backed
//                       blackboards at the agent's limit); with maxConcurrency, also at most that
//                       many executions in flight over all agents (the real Flock with DSPyEngine: 1).
//                       With `slotOf` (a partitioned broker's consumers), an execution also takes
//                       a slot of the one consumer that owns its input's partition, FIFO: the
//                       partition-aware bound, list scheduling over the run's own key -> partition
//                       -> consumer mapping and per-consumer in-flight limits.
//   superstep           one graph run per publish: agents in dependency levels, each level one
//                       superstep that ends when its slowest execution ends (Pregel's barrier);
//                       tasks of a superstep take a global slot (maxConcurrency) in Send order,
//                       then wait for their agent's semaphore (shared across graph runs).
//   superstep-per-task  the same, one graph run per task (concurrent runs, shared semaphores).
//   superstep-subgraph  one graph run per publish that Sends each task to a per-task subgraph:
//                       every task through the per-task agents in its own supersteps (at most
//                       maxConcurrency subgraphs at once), then the agents gathering several
//                       tasks (global batches) in the outer graph once every subgraph ended.
//   serial              one execution at a time per graph run; graph runs one after another.
import { Deque } from '../../core/deque.ts';
import { executionIdentity, outputCorrelation } from '../../workloads/execute.ts';
import { accepts, inputGroups, Router, type Timers } from '../../workloads/routing.ts';
import { batchSpansTasks, ERROR_TYPE, type AgentSpec, type Artifact, type WorkloadSpec } from '../../workloads/spec.ts';
import type { Arrival } from '../../workloads/arrivals.ts';
import type { SchedulingPolicy as SystemPolicy } from '../../systems/types.ts';

export type SchedulingPolicy = SystemPolicy['kind'];

export interface IdealInput {
  policy: SchedulingPolicy;
  workload: WorkloadSpec;
  arrivals: readonly Arrival[];
  /** Waited latency (drawn x scale) of an execution by its identity. */
  durationOf(identity: string): number | undefined;
  /** The run's artifacts by logical key (payloads for `where` filters, error keys). */
  artifactOf?(key: string): Artifact | undefined;
  /**
   * The keys the run's execution of this identity published. A tool agent keys its outputs by
   * what it returned (not `#i`), so the replay takes them from the run where it can.
   */
  outputKeysOf?(identity: string): readonly string[] | undefined;
  /** superstep policies: LangGraph's global task window per graph run; dataflow: executions in flight over all agents (default unbounded). */
  maxConcurrency?: number;
  /** Latency scale: batch and join timeouts are multiplied by it (default 1). */
  latencyScale?: number;
  /** dataflow: published tasks are dispatched only at ticks of this period (deferred with a batch window), ms. */
  dispatchEveryMs?: number;
  /** Whether each agent's maxConcurrency holds (default true). */
  agentLimits?: boolean;
  /** superstep policies: graph runs in flight at once over the whole run, FIFO (default unbounded). */
  maxRuns?: number;
  /**
   * dataflow: the consumer (by name) that executes `agent` on these inputs and its executions in
   * flight, or undefined for no limit beyond the agent's. Consumers with the same name share
   * their slots (one consumer serves all its partitions).
   */
  slotOf?(agent: AgentSpec, inputs: readonly Artifact[]): { consumer: string; limit: number } | undefined;
}

export interface IdealResult {
  idealMs: number;
  executions: number;
}

interface SimEvent {
  at: number;
  seq: number;
  fn: () => void;
  live: boolean;
}

const before = (a: SimEvent, b: SimEvent) => a.at < b.at || (a.at === b.at && a.seq < b.seq);

/**
 * Binary min-heap of events by (time, insertion order): equal times keep FIFO order. Sifts move
 * a hole instead of swapping pairs, and a cancelled event is a flag, not a wrapping closure: a
 * 1M-task replay schedules millions of events.
 */
class EventQueue {
  private readonly heap: SimEvent[] = [];
  private seq = 0;
  now = 0;

  /** Schedule `fn` at `t` (never before now); the event is returned so it can be cancelled. */
  at(t: number, fn: () => void): SimEvent {
    const ev: SimEvent = { at: Math.max(t, this.now), seq: this.seq++, fn, live: true };
    const h = this.heap;
    let i = h.length;
    h.push(ev);
    while (i > 0) {
      const p = (i - 1) >> 1;
      const parent = h[p]!;
      if (before(parent, ev)) break;
      h[i] = parent;
      i = p;
    }
    h[i] = ev;
    return ev;
  }

  /** Schedule `fn` after `ms`; returns a cancel function (batch and join timeouts). */
  after(ms: number, fn: () => void): () => void {
    const ev = this.at(this.now + ms, fn);
    return () => { ev.live = false; };
  }

  run(): void {
    const h = this.heap;
    while (h.length) {
      const top = h[0]!;
      const last = h.pop()!;
      const n = h.length;
      if (n) {
        let i = 0;
        for (;;) {
          const l = 2 * i + 1;
          if (l >= n) break;
          const r = l + 1;
          const m = r < n && before(h[r]!, h[l]!) ? r : l;
          if (!before(h[m]!, last)) break;
          h[i] = h[m]!;
          i = m;
        }
        h[i] = last;
      }
      this.now = top.at;
      if (top.live) top.fn();
    }
  }
}

/** A counting semaphore in simulated time: FIFO waiters. */
class SimSemaphore {
  private active = 0;
  // A deque, not an array: at 1M tasks a map agent has ~1M waiters and Array.shift is O(n).
  private readonly waiters = new Deque<() => void>();
  constructor(private readonly limit: number) {}
  acquire(then: () => void): void {
    if (this.active < this.limit) { this.active++; then(); } else this.waiters.push(then);
  }
  release(): void {
    const next = this.waiters.shift();
    if (next) next();
    else this.active--;
  }
}

class MissingDraw extends Error {}

/** The outputs an execution of `agent` on `inputs` publishes (keys as the shared agent body makes them). */
function outputsOf(agent: AgentSpec, inputs: readonly Artifact[], input: IdealInput, identity = identityOf(agent, inputs)): Artifact[] {
  // What the run's execution of this identity published, where it is known (tool agents key
  // their outputs by what the tool returned); one key, the common case, without arrays.
  const ran = input.outputKeysOf?.(identity);
  if (ran?.length === 1) {
    const a = input.artifactOf?.(ran[0]!);
    if (a) return [a];
  } else if (ran?.length) {
    const arts = ran.map((k) => input.artifactOf?.(k));
    if (arts.every((a) => a)) return arts as Artifact[];
  }
  // A coalescing batch publishes one output per input, keyed and correlated as a lone execution.
  const coalesced = agent.consumes.batch?.coalesce === true;
  const n = coalesced ? inputs.length : (agent.fanOut ?? 1);
  if (n === 1) {
    // One output (a lone input's coalesced output is keyed like it), or the error in its place.
    const known = input.artifactOf?.(identity) ?? input.artifactOf?.(`error:${identity}`);
    if (known) return [known];
    return [{ id: identity, key: identity, type: agent.publishes, payload: {}, producedBy: agent.name, correlationId: outputCorrelation(inputs), tags: [], createdAtMs: 0, version: 1 }];
  }
  const err = input.artifactOf?.(`error:${identity}`);
  const correlationOf = (i: number) => (coalesced ? inputs[i]!.correlationId : outputCorrelation(inputs));
  const keys = Array.from({ length: n }, (_, i) =>
    coalesced ? executionIdentity(agent.name, [inputs[i]!.key]) : `${identity}#${i}`);
  const known = keys.map((k) => input.artifactOf?.(k));
  if (known.every((a) => a)) return known as Artifact[];
  if (err) return [err];
  return keys.map((key, i) => ({ id: key, key, type: agent.publishes, payload: {}, producedBy: agent.name, correlationId: correlationOf(i), tags: [], createdAtMs: 0, version: 1 }));
}

function seedOf(a: Arrival): Artifact {
  const t = a.task;
  return { id: t.key, key: t.key, type: t.type, payload: t.payload, producedBy: 'external', correlationId: t.correlationId, tags: [], createdAtMs: a.intendedAtMs, version: 1 };
}

const identityOf = (agent: AgentSpec, inputs: readonly Artifact[]) =>
  inputs.length === 1 ? executionIdentity(agent.name, [inputs[0]!.key]) : executionIdentity(agent.name, inputs.map((a) => a.key));

function duration(input: IdealInput, agent: AgentSpec, inputs: readonly Artifact[], identity = identityOf(agent, inputs)): number {
  const d = input.durationOf(identity);
  if (d === undefined) throw new MissingDraw(`no draw for ${identity}`);
  return d;
}

function dataflow(input: IdealInput, q: EventQueue): { last: number; executions: number } {
  const w = input.workload;
  const scale = input.latencyScale ?? 1;
  const timers: Timers = { after: (ms, fn) => q.after(ms, fn) };
  let last = 0;
  let executions = 0;
  // A global limit over all agents (the real Flock with DSPyEngine: one call at a time), taken
  // after the agent's own slot, so batches and their timeouts still route as in dataflow.
  const global = new SimSemaphore(input.maxConcurrency ?? Infinity);
  const consumers = new Map<string, SimSemaphore>();
  const NO_SLOT = new SimSemaphore(Infinity);
  const slotOf = (spec: AgentSpec, inputs: readonly Artifact[]) => {
    const s = input.slotOf?.(spec, inputs);
    if (!s) return NO_SLOT;
    let sem = consumers.get(s.consumer);
    if (!sem) consumers.set(s.consumer, (sem = new SimSemaphore(s.limit)));
    return sem;
  };
  const states = w.agents.map((spec) => {
    const sem = new SimSemaphore(input.agentLimits === false ? Infinity : spec.maxConcurrency);
    // Outputs no agent consumes route nowhere: the replay does not look them up (a map agent's
    // 1M terminal outputs), which leaves the result as it was.
    const consumed = outputsConsumed(w, spec);
    const st = {
      spec,
      router: new Router<Artifact>(spec, (a) => a, {
        ready: (inputs) => {
          const slot = slotOf(spec, inputs);
          // The consumer slot first: a consumer holds the records of its partitions, and only
          // what it fetched competes for the agent's and the global limits.
          slot.acquire(() => sem.acquire(() => global.acquire(() => {
            executions++;
            const identity = identityOf(spec, inputs);
            const end = q.now + duration(input, spec, inputs, identity);
            q.at(end, () => {
              if (end > last) last = end;
              global.release();
              slot.release();
              sem.release();
              if (consumed) for (const o of outputsOf(spec, inputs, input, identity)) route(o);
            });
          })));
        },
      }, timers, scale),
    };
    return st;
  });
  const route = (a: Artifact) => {
    if (a.type === ERROR_TYPE) return;
    for (const st of states) if (accepts(st.spec, a)) st.router.offer(a);
  };
  // A batch window dispatches at its ticks W, 2W, ... after the window opened (setInterval).
  const W = input.dispatchEveryMs;
  const dispatchAt = (t: number) => (W && W > 0 ? (Math.floor(t / W) + 1) * W : t);
  for (const a of input.arrivals) {
    const at = dispatchAt(a.intendedAtMs);
    q.at(at, () => { if (at > last) last = at; route(seedOf(a)); });
  }
  q.run();
  return { last, executions };
}

/** Dependency level of each agent: 0 without agent producers, else 1 + the deepest producer. */
function levels(w: WorkloadSpec): AgentSpec[][] {
  const level = new Map<string, number>();
  const visit = (a: AgentSpec, seen: Set<string>): number => {
    const known = level.get(a.name);
    if (known !== undefined) return known;
    if (seen.has(a.name)) throw new Error(`agent cycle at ${a.name}`);
    seen.add(a.name);
    const deps = w.agents.filter((b) => b !== a && a.consumes.types.includes(b.publishes));
    const l = deps.length ? 1 + Math.max(...deps.map((d) => visit(d, seen))) : 0;
    level.set(a.name, l);
    return l;
  };
  for (const a of w.agents) visit(a, new Set());
  const out: AgentSpec[][] = [];
  for (const a of w.agents) (out[level.get(a.name)!] ??= []).push(a);
  return out.map((l) => l ?? []);
}

/** Agents that gather several tasks (a global batch) and everything downstream of them. */
function crossTaskAgents(w: WorkloadSpec): Set<string> {
  const cross = new Set<string>();
  let grew = true;
  while (grew) {
    grew = false;
    for (const a of w.agents) {
      if (cross.has(a.name)) continue;
      if (batchSpansTasks(a) || w.agents.some((b) => b !== a && cross.has(b.name) && a.consumes.types.includes(b.publishes))) {
        cross.add(a.name);
        grew = true;
      }
    }
  }
  return cross;
}

/**
 * Graph runs over groups of seeds, supersteps per level, shared per-agent semaphores; at most
 * `maxRuns` graph runs in flight (FIFO). With `subgraphs`, each seed of a run goes through the
 * per-task agents in its own Pregel loop (at most `maxConcurrency` loops at once, as the outer
 * superstep's task window), and the agents gathering several tasks run in the outer loop once
 * every task's loop has ended.
 */
function supersteps(input: IdealInput, q: EventQueue, groups: { at: number; seeds: Artifact[] }[], subgraphs = false): { last: number; executions: number } {
  const w = input.workload;
  const cross = subgraphs ? crossTaskAgents(w) : new Set<string>();
  const lvAll = levels(w);
  const lvTask = subgraphs ? levels({ ...w, agents: w.agents.filter((a) => !cross.has(a.name)) }) : lvAll;
  const lvOuter = subgraphs ? levels({ ...w, agents: w.agents.filter((a) => cross.has(a.name)) }) : [];
  const sems = new Map(w.agents.map((a) => [a.name, new SimSemaphore(input.agentLimits === false ? Infinity : a.maxConcurrency)]));
  const runs = new SimSemaphore(input.maxRuns ?? Infinity);
  let last = 0;
  let executions = 0;
  /** One Pregel loop over `lv` from `seeds`: `done` gets its final state after the last superstep. */
  const loop = (lv: AgentSpec[][], seeds: Artifact[], done: (state: Artifact[]) => void) => {
    const state: Artifact[] = [...seeds];
    const step = (l: number) => {
      if (l >= lv.length) { if (q.now > last) last = q.now; done(state); return; }
      const tasks = lv[l]!.flatMap((agent) => inputGroups(agent, state).map((grp) => ({ agent, inputs: grp.inputs })));
      if (!tasks.length) { step(l + 1); return; }
      const slots = new SimSemaphore(input.maxConcurrency ?? Infinity);
      let open = tasks.length;
      const produced: Artifact[] = [];
      for (const t of tasks) {
        slots.acquire(() => sems.get(t.agent.name)!.acquire(() => {
          executions++;
          const end = q.now + duration(input, t.agent, t.inputs);
          q.at(end, () => {
            sems.get(t.agent.name)!.release();
            slots.release();
            produced.push(...outputsOf(t.agent, t.inputs, input).filter((o) => o.type !== ERROR_TYPE));
            if (--open === 0) {
              // The barrier: the next superstep sees every output of this one at once.
              state.push(...produced);
              step(l + 1);
            }
          });
        }));
      }
    };
    step(0);
  };
  for (const g of groups) {
    q.at(g.at, () => runs.acquire(() => {
      const end = () => runs.release();
      if (!subgraphs) { loop(lvAll, g.seeds, end); return; }
      const window = new SimSemaphore(input.maxConcurrency ?? Infinity);
      const merged: Artifact[] = [];
      let left = g.seeds.length;
      for (const seed of g.seeds) {
        window.acquire(() => loop(lvTask, [seed], (state) => {
          window.release();
          merged.push(...state);
          if (--left === 0) loop(lvOuter, merged, end);
        }));
      }
    }));
  }
  q.run();
  return { last, executions };
}

function serial(input: IdealInput, groups: { at: number; seeds: Artifact[] }[]): { last: number; executions: number } {
  const w = input.workload;
  const lv = levels(w);
  let t = 0;
  let executions = 0;
  for (const g of groups) {
    t = Math.max(t, g.at);
    const state: Artifact[] = [...g.seeds];
    // One execution at a time; the order does not change the sum, only which outputs exist when.
    for (const agents of lv) {
      const produced: Artifact[] = [];
      for (const agent of agents) {
        for (const grp of inputGroups(agent, state)) {
          executions++;
          t += duration(input, agent, grp.inputs);
          produced.push(...outputsOf(agent, grp.inputs, input).filter((o) => o.type !== ERROR_TYPE));
        }
      }
      state.push(...produced);
    }
  }
  return { last: t, executions };
}

/** Arrivals grouped as the harness publishes them (same intended time = one publish). */
function publishGroups(arrivals: readonly Arrival[], perTask: boolean): { at: number; seeds: Artifact[] }[] {
  const sorted = [...arrivals].sort((a, b) => a.intendedAtMs - b.intendedAtMs || a.index - b.index);
  const out: { at: number; seeds: Artifact[] }[] = [];
  for (const a of sorted) {
    const lastGroup = out[out.length - 1];
    if (!perTask && lastGroup && lastGroup.at === a.intendedAtMs) lastGroup.seeds.push(seedOf(a));
    else out.push({ at: a.intendedAtMs, seeds: [seedOf(a)] });
  }
  return out;
}

/** Whether an agent's outputs route to another agent (else the replay never looks them up). */
const outputsConsumed = (w: WorkloadSpec, spec: AgentSpec) => w.agents.some((b) => b.consumes.types.includes(spec.publishes));

/**
 * Whether the replay of `policy` on `w` reads the run's artifacts (artifactOf): the dataflow
 * replay only when some agent consumes another's outputs; the graph replays always.
 */
export function replayReadsArtifacts(policy: SchedulingPolicy, w: WorkloadSpec): boolean {
  return policy !== 'dataflow' || w.agents.some((a) => outputsConsumed(w, a));
}

/** The ideal makespan, or undefined when a draw the replay needs is missing from the run. */
export function idealMakespan(input: IdealInput): IdealResult | undefined {
  try {
    const q = new EventQueue();
    let r: { last: number; executions: number };
    switch (input.policy) {
      case 'dataflow':
        r = dataflow(input, q);
        break;
      case 'superstep':
        r = supersteps(input, q, publishGroups(input.arrivals, false));
        break;
      case 'superstep-per-task':
        r = supersteps(input, q, publishGroups(input.arrivals, true));
        break;
      case 'superstep-subgraph':
        r = supersteps(input, q, publishGroups(input.arrivals, false), true);
        break;
      case 'serial':
        r = serial(input, publishGroups(input.arrivals, false));
        break;
    }
    return { idealMs: r.last, executions: r.executions };
  } catch (e) {
    if (e instanceof MissingDraw) return undefined;
    throw e;
  }
}
