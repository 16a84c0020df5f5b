// Compile any WorkloadSpec into a LangGraph.js StateGraph — no hand-written per-workload graph.
// State is one append-only list of artifacts (plus, for the stepwise form, what each agent has
// consumed); agents are nodes; subscriptions, `where`, batches and joins become grouping of the
// state's artifacts (`inputGroups`), evaluated by the same rules as the blackboard.
//
// Two shapes:
//   parallel — per agent a gate node and the agent node. The gate runs once every producer of the
//              agent's input types has finished (a waiting edge), groups the artifacts and fans out
//              one Send per execution. Pregel's superstep barrier applies: a downstream gate waits
//              for the slowest execution of every upstream agent.
//   stepwise — agent nodes only, chained by one router (conditional edges from START and from every
//              agent). Each superstep runs exactly one execution: the ready execution of the earliest
//              seed item, deepest agent first, so items go through the DAG one after another.
//
// Batches and joins: grouping goes through the shared router (workloads/routing.ts), fed the
// state's artifacts in key order. The graph has no timers: a batch fires when it holds `size`
// artifacts (like the blackboard's size flush) or once every upstream agent is done (where the
// blackboard would flush on its timeout). With no failures and exact group sizes both give the
// same groups; the graph never flushes early on `timeoutMs`, and a join's `withinMs` expiry is
// ignored (groups never expire). If a key collects more than `size` artifacts, the graph chunks
// them in key order, the blackboard in arrival order: contents may then differ.
import { UnsupportedWorkloadError } from '../types.ts';
import { Annotation, END, Send, START, StateGraph } from '@langchain/langgraph';
import type { LangGraphRunnableConfig } from '@langchain/langgraph';
import { executionIdentity } from '../../workloads/execute.ts';
import { batchSpansTasks, type AgentSpec, type Artifact, type WorkloadSpec } from '../../workloads/spec.ts';
import { inputGroups, type InputGroup } from '../../workloads/routing.ts';

// Workload shapes a DAG-compiled graph cannot express (agent cycles, self-consumption) are refused with it.
export { UnsupportedWorkloadError };

export const GraphState = Annotation.Root({
  artifacts: Annotation<Artifact[]>({ reducer: (a, b) => a.concat(b), default: () => [] }),
  /** Stepwise form only: `agent\u0000artifactKey` of every consumed input. */
  consumed: Annotation<string[]>({ reducer: (a, b) => a.concat(b), default: () => [] }),
});
export type GraphStateValue = typeof GraphState.State;

/**
 * Where a node task runs: `scope` names one Pregel loop (the run's thread, plus the checkpoint
 * namespace of a subgraph), `step` its superstep in that loop. Tasks of one scope and step
 * share one barrier.
 */
export interface StepMeta {
  scope: string;
  step: number;
}

/** What the compiled graph calls out to: the system supplies the agent body and the probes. */
export interface CompileHooks {
  /** Run one agent execution (the system wraps `executeAgent`); `at` is the node task's superstep. */
  execute(agent: AgentSpec, inputs: Artifact[], at: StepMeta): Promise<Artifact[]>;
  /** A node task ran in this superstep of this scope. */
  onTask?(at: StepMeta): void;
  /** Parallel form: a gate fanned out `n` executions. */
  onDispatch?(agent: AgentSpec, n: number): void;
  /** Stepwise form: executions ready or waiting after the current step. */
  onPending?(n: number): void;
}

export interface AgentPlan {
  /** Agents in dependency order (producers first; ties in workload order). */
  order: AgentSpec[];
  /** Direct producers of each agent's consumed types (other agents). */
  deps: Map<string, string[]>;
  /** Transitive producers. */
  ancestors: Map<string, Set<string>>;
}

/** Dependency order of the agent DAG. Throws on cycles, which a compiled DAG cannot run. */
export function planAgents(w: WorkloadSpec): AgentPlan {
  const names = new Set<string>();
  for (const a of w.agents) {
    if (names.has(a.name)) throw new UnsupportedWorkloadError(`workload ${w.name}: agent ${a.name} defined twice`);
    if (a.name === 'artifacts' || a.name === 'consumed' || a.name.startsWith('gate.')) throw new UnsupportedWorkloadError(`workload ${w.name}: agent name ${a.name} clashes with a graph channel or gate name`);
    if (/[|:]/.test(a.name)) throw new UnsupportedWorkloadError(`workload ${w.name}: agent name ${a.name} contains '|' or ':' (reserved by LangGraph)`);
    if (a.allowSelfTrigger && a.consumes.types.includes(a.publishes)) throw new UnsupportedWorkloadError(`workload ${w.name}: agent ${a.name} consumes its own output (a cycle; the graph baselines compile DAGs only)`);
    names.add(a.name);
  }
  const deps = new Map<string, string[]>();
  for (const b of w.agents) {
    deps.set(b.name, w.agents.filter((a) => a !== b && b.consumes.types.includes(a.publishes)).map((a) => a.name));
  }
  const order: AgentSpec[] = [];
  const placed = new Set<string>();
  const left = [...w.agents];
  while (left.length) {
    const i = left.findIndex((a) => deps.get(a.name)!.every((d) => placed.has(d)));
    if (i < 0) throw new UnsupportedWorkloadError(`workload ${w.name}: agents ${left.map((a) => a.name).join(', ')} form a cycle (the graph baselines compile DAGs only)`);
    const [a] = left.splice(i, 1);
    order.push(a);
    placed.add(a.name);
  }
  const ancestors = new Map<string, Set<string>>();
  for (const a of order) {
    const s = new Set<string>();
    for (const d of deps.get(a.name)!) {
      s.add(d);
      for (const x of ancestors.get(d)!) s.add(x);
    }
    ancestors.set(a.name, s);
  }
  return { order, deps, ancestors };
}

/**
 * The superstep of a node task. A task's checkpoint namespace is `<graph ns>|<node>:<task id>`
 * (`<node>:<task id>` at the root); the graph's own namespace (without the last segment) tells
 * one subgraph invocation's loop from another's.
 */
export function taskMeta(config: LangGraphRunnableConfig | undefined): StepMeta {
  const thread = String(config?.configurable?.thread_id ?? 'default');
  const ns = String(config?.metadata?.langgraph_checkpoint_ns ?? config?.configurable?.checkpoint_ns ?? '');
  const cut = ns.lastIndexOf('|');
  return { scope: cut < 0 ? thread : `${thread}|${ns.slice(0, cut)}`, step: Number(config?.metadata?.langgraph_step ?? -1) };
}

export const gateName = (agent: string) => `gate.${agent}`;

// Node names are computed from the spec, which StateGraph's generics cannot track: the builder is
// typed loosely here and the compiled graph is used through `invoke`/`getState` only.
// biome-ignore lint/suspicious/noExplicitAny: node names are data, StateGraph's generics cannot follow them
type LooseBuilder = any;

/**
 * Per agent a gate node and the agent node: the gate groups the state's artifacts for the agent
 * and fans out one Send per execution. `entry` feeds the gates of agents none of `agents`
 * produces for; `deferJoins` marks the gates of batch/join subscriptions `defer` (they run once
 * nothing else in their graph is pending).
 */
function addAgentNodes(g: LooseBuilder, agents: readonly AgentSpec[], deps: (a: AgentSpec) => string[], hooks: CompileHooks, deferJoins: boolean): void {
  for (const agent of agents) {
    const gate = gateName(agent.name);
    const isJoin = !!(agent.consumes.batch || agent.consumes.join);
    g.addNode(gate, (_s: GraphStateValue, config: LangGraphRunnableConfig) => {
      hooks.onTask?.(taskMeta(config));
      return {};
    }, deferJoins && isJoin ? { defer: true } : undefined);
    g.addNode(agent.name, async (arg: { inputs?: Artifact[] }, config: LangGraphRunnableConfig) => {
      const m = taskMeta(config);
      hooks.onTask?.(m);
      if (!arg.inputs?.length) return {};
      return { artifacts: await hooks.execute(agent, arg.inputs, m) };
    });
    g.addConditionalEdges(gate, (s: GraphStateValue) => {
      const groups = inputGroups(agent, s.artifacts);
      hooks.onDispatch?.(agent, groups.length);
      if (!groups.length) return [new Send(agent.name, { inputs: [] })];
      return groups.map((grp) => new Send(agent.name, { inputs: grp.inputs }));
    }, [agent.name]);
    const from = deps(agent);
    g.addEdge(from.length === 1 ? from[0] : from, gate);
  }
}

export interface CompileOptions {
  /** Mark the gates of batch/join subscriptions `defer: true` (default false). */
  deferJoins?: boolean;
}

/**
 * Parallel form: START -> gate.A -> Send(A, group)... ; [producers of B] -> gate.B -> Send(B, ...).
 * Every agent node runs at least once (an empty Send when there is nothing to do), so the waiting
 * edges of its consumers always fire. Supersteps per run: 2 x (length of the longest agent chain).
 */
export function compileParallel(w: WorkloadSpec, hooks: CompileHooks, o: CompileOptions = {}) {
  const plan = planAgents(w);
  const g: LooseBuilder = new StateGraph(GraphState);
  addAgentNodes(g, plan.order, (a) => {
    const d = plan.deps.get(a.name)!;
    return d.length ? d : [START];
  }, hooks, o.deferJoins ?? false);
  return g as StateGraph<typeof GraphState.spec>;
}

/**
 * Agents that only ever see one task's artifacts (`perTask`), and the rest (`crossTask`): those
 * with a global batch and everything downstream of them, in dependency order.
 */
export function splitByTask(w: WorkloadSpec): { perTask: AgentSpec[]; crossTask: AgentSpec[] } {
  const plan = planAgents(w);
  const cross = new Set<string>();
  for (const a of plan.order) {
    if (batchSpansTasks(a) || plan.deps.get(a.name)!.some((d) => cross.has(d))) cross.add(a.name);
  }
  return { perTask: plan.order.filter((a) => !cross.has(a.name)), crossTask: plan.order.filter((a) => cross.has(a.name)) };
}

/** Outer state of the subgraph form: the seeds to map over, and every artifact the tasks produced. */
export const MapReduceState = Annotation.Root({
  seeds: Annotation<Artifact[]>({ reducer: (a, b) => a.concat(b), default: () => [] }),
  artifacts: Annotation<Artifact[]>({ reducer: (a, b) => a.concat(b), default: () => [] }),
});

export const TASK_NODE = 'task';

/**
 * Subgraph form, LangGraph's map-reduce idiom in one graph run: START -> Send(task, {seed}) per
 * seed, `task` being the per-task agents compiled as their own graph (parallel form, joins
 * deferred), so each task advances through its own supersteps; the agents that gather several
 * tasks (global batches) and what follows them run in the outer graph after every task subgraph
 * ended, their gates deferred. The subgraph's artifacts (its seed included) are merged into the
 * outer state by the reducer.
 */
export function compileSubgraph(w: WorkloadSpec, hooks: CompileHooks) {
  const { perTask, crossTask } = splitByTask(w);
  if (!perTask.length) throw new UnsupportedWorkloadError(`workload ${w.name}: no agent works on one task alone, so there is nothing to map over per task`);
  if (crossTask.some((a) => a.name === TASK_NODE)) throw new UnsupportedWorkloadError(`workload ${w.name}: agent name ${TASK_NODE} clashes with the subgraph node`);
  const sub = compileParallel({ ...w, agents: perTask }, hooks, { deferJoins: true }).compile();
  const g: LooseBuilder = new StateGraph(MapReduceState);
  g.addNode(TASK_NODE, sub);
  g.addConditionalEdges(START, (s: typeof MapReduceState.State) => s.seeds.map((seed) => new Send(TASK_NODE, { artifacts: [seed] })), [TASK_NODE]);
  const plan = planAgents(w);
  const outer = new Set(crossTask.map((a) => a.name));
  // A gate whose producers all ran inside the task subgraphs (or that takes seeds) waits on `task`.
  addAgentNodes(g, crossTask, (a) => {
    const d = [...new Set(plan.deps.get(a.name)!.map((x) => (outer.has(x) ? x : TASK_NODE)))];
    return d.length ? d : [TASK_NODE];
  }, hooks, true);
  return g as StateGraph<typeof MapReduceState.spec>;
}

/** Everything ready to run in the stepwise form, best first. */
export function readyExecutions(plan: AgentPlan, s: Pick<GraphStateValue, 'artifacts' | 'consumed'>, itemIndex: Map<string, number>) {
  const consumedBy = new Map<string, Set<string>>();
  for (const c of s.consumed) {
    const i = c.indexOf('\u0000');
    const agent = c.slice(0, i);
    let set = consumedBy.get(agent);
    if (!set) consumedBy.set(agent, (set = new Set()));
    set.add(c.slice(i + 1));
  }
  const pendingByAgent = new Map<string, InputGroup[]>();
  for (const a of plan.order) pendingByAgent.set(a.name, inputGroups(a, s.artifacts, consumedBy.get(a.name)));
  const ready: { agent: AgentSpec; inputs: Artifact[]; item: number; depth: number }[] = [];
  let waiting = 0;
  plan.order.forEach((agent, depth) => {
    const upstreamIdle = [...plan.ancestors.get(agent.name)!].every((x) => pendingByAgent.get(x)!.length === 0);
    for (const grp of pendingByAgent.get(agent.name)!) {
      if (!grp.complete && !upstreamIdle) { waiting++; continue; }
      const item = Math.min(...grp.inputs.map((a) => itemIndex.get(a.correlationId) ?? Number.MAX_SAFE_INTEGER));
      ready.push({ agent, inputs: grp.inputs, item, depth });
    }
  });
  // Earliest item first; within an item the deepest agent, so one item finishes before the next starts.
  ready.sort((x, y) => x.item - y.item || y.depth - x.depth);
  return { ready, waiting };
}

/**
 * Stepwise form: one agent execution per superstep. START and every agent node route through the
 * same function to the agent owning the best ready execution; that node recomputes the same pick
 * from the same state and runs it. Supersteps = executions.
 */
export function compileStepwise(w: WorkloadSpec, hooks: CompileHooks) {
  const plan = planAgents(w);
  const itemIndex = new Map<string, number>();
  w.tasks.forEach((s, i) => { if (!itemIndex.has(s.correlationId)) itemIndex.set(s.correlationId, i); });
  const g: LooseBuilder = new StateGraph(GraphState);
  const names = plan.order.map((a) => a.name);
  const route = (s: GraphStateValue) => {
    const { ready, waiting } = readyExecutions(plan, s, itemIndex);
    hooks.onPending?.(ready.length + waiting);
    return ready.length ? ready[0].agent.name : END;
  };
  for (const agent of plan.order) {
    g.addNode(agent.name, async (s: GraphStateValue, config: LangGraphRunnableConfig) => {
      const m = taskMeta(config);
      hooks.onTask?.(m);
      const pick = readyExecutions(plan, s, itemIndex).ready[0];
      if (!pick || pick.agent.name !== agent.name) throw new Error(`stepwise graph: router chose ${agent.name} but the best ready execution is ${pick ? executionIdentity(pick.agent.name, pick.inputs.map((a) => a.key)) : 'none'}`);
      const outputs = await hooks.execute(agent, pick.inputs, m);
      return { artifacts: outputs, consumed: pick.inputs.map((a) => `${agent.name}\u0000${a.key}`) };
    });
    g.addConditionalEdges(agent.name, route, [...names, END]);
  }
  g.addConditionalEdges(START, route, [...names, END]);
  return g as StateGraph<typeof GraphState.spec>;
}
