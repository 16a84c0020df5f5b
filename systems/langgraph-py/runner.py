"""Runs a flockbench workload on LangGraph for Python (PyPI langgraph), out of process.

The Python counterpart of systems/langgraph (compile.ts, per-task.ts): the workload spec is
compiled into a LangGraph StateGraph (per agent a gate node that groups the state's artifacts and
a node the gate fans out to with one Send per execution), in one of three forms:

  per-item  — one compiled graph, one `ainvoke` per task, every task's run started when it
              arrives and all running concurrently (the best form for independent tasks);
  subgraph  — one `ainvoke` per publish: Send(task, {seed}) per task into the per-task agents
              compiled as a subgraph (joins deferred), global batches in the outer graph;
  one-graph — one `ainvoke` per publish over every task published together (langgraph-parallel).

Every agent execution is one HTTP call to the harness's simulated OpenAI-compatible endpoint,
keyed by the execution's identity, so latency draws and payloads pair with every other system.
One asyncio.Semaphore per agent (the workload's maxConcurrency) is shared by every graph run.

Protocol (JSON lines, the same as systems/flock-real/runner.py): the job arrives as one JSON
object on stdin; we answer `ready`, wait for `go` (our clock starts), then each
`{"publish": [i, ...]}` line starts those tasks now; `drain` means no more will come: we wait
for every run and answer `done`. Meanwhile one `execution` line per agent execution (with the
superstep it ran in). Errors are one `error` line.
"""

from __future__ import annotations

import asyncio
import importlib.util
import json
import logging
import operator
import os
import platform
import sys
import time
import uuid
from pathlib import Path
from typing import Annotated, Any, TypedDict

# The byte-identical ports of core/canonical.ts and workloads/execute.ts (identities, output
# correlation, prompt tokens) and the pydantic models of the workload's schemas live in the
# flock-real runner and are tested against the TS there; loading it also moves fd 1 to stderr
# and keeps the protocol channel private (its `emit`).
_spec = importlib.util.spec_from_file_location("flockbench_ports", Path(__file__).resolve().parent.parent / "flock-real" / "runner.py")
ports = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(ports)  # type: ignore[union-attr]
emit = ports.emit
ERROR_TYPE = ports.ERROR_TYPE

FORMS = ("per-item", "subgraph", "one-graph")
TASK_NODE = "task"


# --- routing: a port of workloads/routing.ts (inputGroups, no timers) --------------------------


def matches_where(w: dict, payload: dict) -> bool:
    v = payload.get(w["field"])
    if "equals" in w and v != w["equals"]:
        return False
    if "in" in w and v not in w["in"]:
        return False
    return True


def accepts(agent: dict, a: dict) -> bool:
    sub = agent["consumes"]
    if a["type"] not in sub["types"]:
        return False
    if a["producedBy"] == agent["name"] and not agent.get("allowSelfTrigger"):
        return False
    return not sub.get("where") or matches_where(sub["where"], a["payload"])


def input_groups(agent: dict, artifacts: list[dict]) -> list[list[dict]]:
    """The executions a subscription asks for over every artifact of the state, routed in key
    order; batches still open at the end are released (upstream is done), partial joins are not."""
    sub = agent["consumes"]
    eligible = sorted((a for a in artifacts if accepts(agent, a)), key=lambda a: a["key"])
    out: list[list[dict]] = []
    if sub.get("join"):
        types = list(dict.fromkeys(sub["types"]))
        joins: dict[str, dict[str, dict]] = {}
        for a in eligible:
            g = joins.setdefault(a["correlationId"], {})
            if a["type"] in g:
                continue
            g[a["type"]] = a
            if len(g) == len(types):
                out.append([g[t] for t in types])
                del joins[a["correlationId"]]
        return out
    batch = sub.get("batch")
    if batch:
        buckets: dict[str, list[dict]] = {}
        for a in eligible:
            k = a["correlationId"] if batch.get("by") == "correlationId" else "*"
            b = buckets.setdefault(k, [])
            b.append(a)
            if len(b) >= batch["size"]:
                out.append(buckets.pop(k))
        for k in sorted(buckets):
            out.append(buckets[k])
        return out
    return [[a] for a in eligible]


# --- the agent DAG ----------------------------------------------------------------------------------


def plan_agents(w: dict) -> tuple[list[dict], dict[str, list[str]]]:
    """Agents in dependency order and each agent's direct producers (compile.ts planAgents)."""
    agents = w["agents"]
    for a in agents:
        if a.get("allowSelfTrigger") and a["publishes"] in a["consumes"]["types"]:
            raise ValueError(f"agent {a['name']} consumes its own output (a cycle; the graph forms compile DAGs only)")
        if a["name"] == TASK_NODE or a["name"].startswith("gate.") or any(c in a["name"] for c in "|:"):
            raise ValueError(f"agent name {a['name']} clashes with a graph node name or LangGraph's reserved characters")
    deps = {b["name"]: [a["name"] for a in agents if a is not b and a["publishes"] in b["consumes"]["types"]] for b in agents}
    order: list[dict] = []
    placed: set[str] = set()
    left = list(agents)
    while left:
        i = next((i for i, a in enumerate(left) if all(d in placed for d in deps[a["name"]])), -1)
        if i < 0:
            raise ValueError(f"agents {', '.join(a['name'] for a in left)} form a cycle")
        a = left.pop(i)
        order.append(a)
        placed.add(a["name"])
    return order, deps


def batch_spans_tasks(a: dict) -> bool:
    b = a["consumes"].get("batch")
    return bool(b) and b.get("by") != "correlationId"


def split_by_task(w: dict) -> tuple[list[dict], list[dict]]:
    """Per-task agents, and the rest: global batches and everything downstream of them."""
    order, deps = plan_agents(w)
    cross: set[str] = set()
    for a in order:
        if batch_spans_tasks(a) or any(d in cross for d in deps[a["name"]]):
            cross.add(a["name"])
    return [a for a in order if a["name"] not in cross], [a for a in order if a["name"] in cross]


class GraphState(TypedDict):
    artifacts: Annotated[list, operator.add]


class MapReduceState(TypedDict):
    seeds: Annotated[list, operator.add]
    artifacts: Annotated[list, operator.add]


def step_of(config: dict) -> tuple[str, int]:
    """(scope, superstep) of a node task: the graph's own checkpoint namespace tells one subgraph
    invocation's Pregel loop from another's (compile.ts taskMeta)."""
    md = config.get("metadata") or {}
    thread = str((config.get("configurable") or {}).get("thread_id", "default"))
    ns = str(md.get("langgraph_checkpoint_ns") or (config.get("configurable") or {}).get("checkpoint_ns") or "")
    cut = ns.rfind("|")
    return (thread if cut < 0 else f"{thread}|{ns[:cut]}"), int(md.get("langgraph_step", -1))


def add_agent_nodes(builder, agents: list[dict], deps_of, execute, on_task, defer_joins: bool) -> None:
    from langgraph.types import Send

    for agent in agents:
        name = agent["name"]
        gate = f"gate.{name}"
        is_join = bool(agent["consumes"].get("batch") or agent["consumes"].get("join"))

        def gate_node(state: dict, config) -> dict:
            on_task(*step_of(config))
            return {}

        def make_node(agent=agent):
            async def node(arg: dict, config) -> dict:
                scope, step = step_of(config)
                on_task(scope, step)
                inputs = arg.get("inputs") or []
                if not inputs:
                    return {}
                return {"artifacts": await execute(agent, inputs, scope, step)}

            return node

        def make_route(agent=agent, name=name):
            def route(state: dict):
                groups = input_groups(agent, state["artifacts"])
                if not groups:
                    return [Send(name, {"inputs": []})]
                return [Send(name, {"inputs": g}) for g in groups]

            return route

        builder.add_node(gate, gate_node, defer=defer_joins and is_join)
        builder.add_node(name, make_node())
        builder.add_conditional_edges(gate, make_route(), [name])
        src = deps_of(agent)
        builder.add_edge(src[0] if len(src) == 1 else src, gate)


def compile_parallel(agents: list[dict], deps: dict[str, list[str]], execute, on_task, defer_joins: bool = False):
    from langgraph.graph import START, StateGraph

    names = {a["name"] for a in agents}
    builder = StateGraph(GraphState)
    add_agent_nodes(builder, agents, lambda a: [d for d in deps[a["name"]] if d in names] or [START], execute, on_task, defer_joins)
    return builder.compile()


def compile_subgraph(w: dict, execute, on_task):
    from langgraph.graph import START, StateGraph
    from langgraph.types import Send

    order, deps = plan_agents(w)
    per_task, cross = split_by_task(w)
    if not per_task:
        raise ValueError(f"workload {w['name']}: no agent works on one task alone, nothing to map over per task")
    sub = compile_parallel(per_task, deps, execute, on_task, defer_joins=True)
    builder = StateGraph(MapReduceState)
    builder.add_node(TASK_NODE, sub)
    builder.add_conditional_edges(START, lambda s: [Send(TASK_NODE, {"artifacts": [seed]}) for seed in s["seeds"]], [TASK_NODE])
    outer = {a["name"] for a in cross}

    def deps_of(a: dict) -> list[str]:
        d = list(dict.fromkeys(x if x in outer else TASK_NODE for x in deps[a["name"]]))
        return d or [TASK_NODE]

    add_agent_nodes(builder, cross, deps_of, execute, on_task, True)
    return builder.compile()


# --- the run ------------------------------------------------------------------------------------------


async def run(job: dict) -> None:
    import httpx
    from importlib.metadata import version as pkg_version

    w = job["workload"]
    params = job["params"]
    form = params["form"]
    if form not in FORMS:
        raise ValueError(f"form must be one of {', '.join(FORMS)}, got {form!r}")
    scale = float(job["latencyScale"])
    llm_url = job["llmUrl"].rstrip("/")
    max_concurrency = int(params["maxConcurrency"])
    recursion_limit = int(params.get("recursionLimit") or 2 * len(w["agents"]) + 25)
    run_id = job.get("runId", "run")

    schemas = {t["name"]: t["schema"] for t in w["types"]}
    models = {t["name"]: ports._object_model(t["name"], t["schema"]) for t in w["types"]}
    sems = {a["name"]: asyncio.Semaphore(a["maxConcurrency"]) for a in w["agents"]} if params.get("perAgentLimit", True) else {}
    clock0 = [time.perf_counter()]
    counters = {"llmCalls": 0, "llmFailures": 0, "invokes": 0, "executions": 0, "peakInFlight": 0}
    in_flight = [0]
    steps: dict[str, set[int]] = {}

    def now_ms() -> float:
        return (time.perf_counter() - clock0[0]) * 1000.0

    for a in w["agents"]:
        if (a.get("fanOut") or 1) != 1:
            raise ValueError(f"agent {a['name']}: fanOut > 1 is not supported by langgraph-py")

    client = httpx.AsyncClient(
        timeout=httpx.Timeout(max(60.0, 600.0 * scale)),
        limits=httpx.Limits(max_connections=None, max_keepalive_connections=1024),
    )

    async def call_llm(a: dict, inputs: list[dict], identity: str, rec: dict) -> dict:
        ptoks = ports.prompt_tokens_for(a, [x["payload"] for x in inputs])
        out_type = a["publishes"]
        headers = {
            "x-flockbench-identity": identity,
            "x-flockbench-prompt-tokens": str(ptoks),
            "x-flockbench-output-tokens": str(ports.output_tokens_for(a, [x["payload"] for x in inputs])),
        }
        if a.get("outputFields"):
            headers["x-flockbench-fixed"] = json.dumps(a["outputFields"], separators=(",", ":"))
        body = {
            "model": a["model"],
            "messages": [
                {"role": "system", "content": a.get("description") or a["name"]},
                {"role": "user", "content": json.dumps([x["payload"] for x in inputs])},
            ],
            "response_format": {"type": "json_schema", "json_schema": {"name": out_type, "schema": schemas[out_type]}},
        }
        counters["llmCalls"] += 1
        r = await client.post(f"{llm_url}/v1/chat/completions", json=body, headers=headers)
        if r.status_code != 200:
            counters["llmFailures"] += 1
            raise RuntimeError(f"LLM HTTP {r.status_code}: {r.text[:200]}")
        data = r.json()
        usage = data.get("usage") or {}
        rec["tokensIn"] = usage.get("prompt_tokens", ptoks)
        rec["tokensOut"] = usage.get("completion_tokens", 0)
        return json.loads(data["choices"][0]["message"]["content"])

    async def execute(a: dict, inputs: list[dict], scope: str, step: int) -> list[dict]:
        """One agent execution (workloads/execute.ts executeAgent): never raises for agent-level
        failures, which become one WorkflowError artifact."""
        sem = sems.get(a["name"])
        if sem is not None:
            await sem.acquire()
        try:
            counters["executions"] += 1
            in_flight[0] += 1
            counters["peakInFlight"] = max(counters["peakInFlight"], in_flight[0])
            input_keys = [x["key"] for x in inputs]
            identity = ports.execution_identity(a["name"], input_keys)
            in_corrs = [x["correlationId"] for x in inputs]
            corr = ports.output_correlation(in_corrs)
            rec: dict[str, Any] = {
                "agent": a["name"], "identity": identity, "inputKeys": input_keys,
                "correlationIds": list(dict.fromkeys(in_corrs)), "startMs": now_ms(), "tokensIn": 0, "tokensOut": 0,
                "superstep": {"scope": scope, "step": step},
            }
            try:
                payload = await call_llm(a, inputs, identity, rec)
                fail = a.get("failWhen")
                if fail and fail["inputKeyIncludes"] in identity:
                    raise RuntimeError(f"{a['name']}: simulated failure on {identity}")
                try:
                    models[a["publishes"]](**payload)
                except Exception as e:  # noqa: BLE001 - becomes the error artifact
                    raise RuntimeError(f"{a['name']}: output {a['publishes']} invalid: {e}") from e
                outputs = [{"key": identity, "type": a["publishes"], "payload": payload, "producedBy": a["name"], "correlationId": corr}]
            except Exception as e:  # noqa: BLE001 - a failing execution must not stop the run
                err = str(e)
                rec["error"] = err
                outputs = [{
                    "key": f"error:{identity}", "type": ERROR_TYPE,
                    "payload": {"agent": a["name"], "error": err, "inputKeys": sorted(input_keys)},
                    "producedBy": a["name"], "correlationId": corr,
                }]
            rec["outputKeys"] = [o["key"] for o in outputs]
            rec["endMs"] = now_ms()
            emit({"kind": "execution", **rec})
            return outputs
        finally:
            in_flight[0] -= 1
            if sem is not None:
                sem.release()

    def on_task(scope: str, step: int) -> None:
        steps.setdefault(scope, set()).add(step)

    order, deps = plan_agents(w)
    if form == "per-item":
        per_task, cross = split_by_task(w)
        if cross:
            raise ValueError(f"langgraph-py form per-item: agent {cross[0]['name']} of workload {w['name']} batches artifacts of several tasks (a global batch), which one graph run per task cannot express; use form subgraph or one-graph")
        graph = compile_parallel(order, deps, execute, on_task)
    elif form == "subgraph":
        graph = compile_subgraph(w, execute, on_task)
    else:
        graph = compile_parallel(order, deps, execute, on_task)

    slots = asyncio.Semaphore(params["maxInvocations"]) if params.get("maxInvocations") else None

    async def invoke(inp: dict) -> list[dict]:
        if slots is not None:
            await slots.acquire()
        try:
            counters["invokes"] += 1
            out = await graph.ainvoke(inp, config={
                "configurable": {"thread_id": f"{run_id}:{uuid.uuid4()}"},
                "max_concurrency": max_concurrency,
                "recursion_limit": recursion_limit,
            })
            return out["artifacts"]
        finally:
            if slots is not None:
                slots.release()

    def seed(index: int) -> dict:
        s = w["tasks"][index]
        return {"key": s["key"], "type": s["type"], "payload": s["payload"], "producedBy": "external", "correlationId": s["correlationId"]}

    # Warm the connection pool path (imports, DNS) before the clock starts; not a draw.
    try:
        await client.get(f"{llm_url}/v1/models")
    except Exception as e:  # noqa: BLE001
        raise RuntimeError(f"simulated LLM at {llm_url} unreachable: {e}") from e

    emit({"kind": "ready", "langgraphVersion": pkg_version("langgraph"), "langchainCoreVersion": pkg_version("langchain-core"), "python": platform.python_version(), "agents": len(w["agents"])})
    loop = asyncio.get_running_loop()
    stdin = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(stdin), sys.stdin)
    line = (await stdin.readline()).decode()
    if line.strip() != "go":
        raise RuntimeError(f"expected 'go', got {line!r}")
    clock0[0] = time.perf_counter()
    cpu0 = time.process_time()

    runs: list[asyncio.Task] = []
    while True:
        line = (await stdin.readline()).decode().strip()
        if not line:
            raise RuntimeError("harness closed the protocol before 'drain'")
        if line == "drain":
            break
        indices = json.loads(line)["publish"]
        if form == "per-item":
            runs.extend(asyncio.create_task(invoke({"artifacts": [seed(i)]})) for i in indices)
        elif form == "subgraph":
            runs.append(asyncio.create_task(invoke({"seeds": [seed(i) for i in indices]})))
        else:
            runs.append(asyncio.create_task(invoke({"artifacts": [seed(i) for i in indices]})))

    results = await asyncio.gather(*runs)
    makespan = now_ms()
    cpu_ms = (time.process_time() - cpu0) * 1000.0
    await client.aclose()
    artifacts = [a for r in results for a in r]
    emit({
        "kind": "done", "artifacts": artifacts, "makespanMs": makespan, "pythonCpuMs": cpu_ms,
        "supersteps": sum(len(s) for s in steps.values()), **counters,
    })


def main() -> None:
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    try:
        job = json.loads(sys.stdin.readline())
        asyncio.run(run(job))
    except Exception as e:  # noqa: BLE001 - one line for the harness
        import traceback

        traceback.print_exc(file=sys.stderr)
        emit({"kind": "error", "message": f"{type(e).__name__}: {e}"})
        sys.exit(1)


if __name__ == "__main__":
    main()
