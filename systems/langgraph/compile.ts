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
import { UserError } from '../../core/errors.ts';
import { Annotation, END, Send, START, StateGraph } from '@langchain/langgraph';
import type { LangGraphRunnableConfig } from '@langchain/langgraph';
import { executionIdentity } from '../../workloads/execute.ts';
import type { AgentSpec, Artifact, WorkloadSpec } from '../../workloads/spec.ts';
import { inputGroups, type InputGroup } from '../../workloads/routing.ts';

/** Workload shapes a DAG-compiled graph cannot express (agent cycles, self-consumption). */
export class UnsupportedWorkloadError extends UserError {}

export const GraphState = Annotation.Root({
  artifacts: Annotation<Artifact[]>({ reducer: (a, b) => a.concat(b), default: () => [] }),
  /** Stepwise form only: `agent\u0000artifactKey` of every consumed input. */
  consumed: Annotation<string[]>({ reducer: (a, b) => a.concat(b), default: () => [] }),
});
export type GraphStateValue = typeof GraphState.State;

/** What the compiled graph calls out to: the system supplies the agent body and the probes. */
export interface CompileHooks {
  /** Run one agent execution (the system wraps `executeAgent`). */
  execute(agent: AgentSpec, inputs: Artifact[]): Promise<Artifact[]>;
  /** A node task ran in this superstep (thread id from the run config). */
  onTask?(threadId: string, step: number): void;
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

function taskMeta(config: LangGraphRunnableConfig | undefined): { threadId: string; step: number } {
  return {
    threadId: String(config?.configurable?.thread_id ?? 'default'),
    step: Number(config?.metadata?.langgraph_step ?? -1),
  };
}

export const gateName = (agent: string) => `gate.${agent}`;

// Node names are computed from the spec, which StateGraph's generics cannot track: the builder is
// typed loosely here and the compiled graph is used through `invoke`/`getState` only.
// biome-ignore lint/suspicious/noExplicitAny: node names are data, StateGraph's generics cannot follow them
type LooseBuilder = any;

/**
 * Parallel form: START -> gate.A -> Send(A, group)... ; [producers of B] -> gate.B -> Send(B, ...).
 * Every agent node runs at least once (an empty Send when there is nothing to do), so the waiting
 * edges of its consumers always fire. Supersteps per run: 2 x (length of the longest agent chain).
 */
export function compileParallel(w: WorkloadSpec, hooks: CompileHooks) {
  const plan = planAgents(w);
  const g: LooseBuilder = new StateGraph(GraphState);
  for (const agent of plan.order) {
    const gate = gateName(agent.name);
    g.addNode(gate, (_s: GraphStateValue, config: LangGraphRunnableConfig) => {
      const m = taskMeta(config);
      hooks.onTask?.(m.threadId, m.step);
      return {};
    });
    g.addNode(agent.name, async (arg: { inputs?: Artifact[] }, config: LangGraphRunnableConfig) => {
      const m = taskMeta(config);
      hooks.onTask?.(m.threadId, m.step);
      if (!arg.inputs?.length) return {};
      return { artifacts: await hooks.execute(agent, arg.inputs) };
    });
    g.addConditionalEdges(gate, (s: GraphStateValue) => {
      const groups = inputGroups(agent, s.artifacts);
      hooks.onDispatch?.(agent, groups.length);
      if (!groups.length) return [new Send(agent.name, { inputs: [] })];
      return groups.map((grp) => new Send(agent.name, { inputs: grp.inputs }));
    }, [agent.name]);
    const deps = plan.deps.get(agent.name)!;
    if (!deps.length) g.addEdge(START, gate);
    else g.addEdge(deps.length === 1 ? deps[0] : deps, gate);
  }
  return g as StateGraph<typeof GraphState.spec>;
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
      hooks.onTask?.(m.threadId, m.step);
      const pick = readyExecutions(plan, s, itemIndex).ready[0];
      if (!pick || pick.agent.name !== agent.name) throw new Error(`stepwise graph: router chose ${agent.name} but the best ready execution is ${pick ? executionIdentity(pick.agent.name, pick.inputs.map((a) => a.key)) : 'none'}`);
      const outputs = await hooks.execute(agent, pick.inputs);
      return { artifacts: outputs, consumed: pick.inputs.map((a) => `${agent.name}\u0000${a.key}`) };
    });
    g.addConditionalEdges(agent.name, route, [...names, END]);
  }
  g.addConditionalEdges(START, route, [...names, END]);
  return g as StateGraph<typeof GraphState.spec>;
}
