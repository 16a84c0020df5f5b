"""Runs a flockbench workload on the real Flock (PyPI flock-core), out of process.

Protocol (JSON lines): the job arrives as one JSON object on stdin; we answer `ready` once
Flock is imported and the agents are built, then wait for `go` (the harness opens its measured
window there and our clock starts). The harness owns the arrivals: each `{"publish": [i, ...]}`
line publishes those tasks now; `drain` means no more will come: we run until idle and answer
`done`. Meanwhile one `execution` line per agent execution. Errors are one `error` line. Flock
prints banners to stdout, so the protocol gets its own fd.

What is real Flock here: publish(), subscription matching (types, where, channels),
create_task scheduling, per-agent semaphores (max_concurrency), BatchEngine (size + timeout
watchdog), the in-memory store, output building/validation through the registered pydantic
types, run_until_idle(). The engine is the job's `engine`:
- "http" (idealized): each agent runs `HttpEngine`, one async POST to the harness's simulated
  OpenAI-compatible endpoint with the execution's identity headers, so latency draws and
  payloads pair with the TS systems.
- "dspy" (as shipped): Flock's own default engine, DSPyEngine through LiteLLM, pointed at the
  same simulator by OPENAI_BASE_URL. It cannot send our headers: the simulator keys its calls by
  pairing markers (see llm/server.ts). A `Recorder` utility (Flock's public component
  hooks) reports each execution; Flock's console output utility is added back when asked,
  since any utility replaces Flock's default one.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import math
import os
import platform
import sys
import time
import uuid
from typing import Annotated, Any, Literal

# The protocol channel: a private copy of the original stdout; fd 1 then points at stderr so
# Flock's console banner and any library prints cannot corrupt the JSON lines.
_PROTO = os.fdopen(os.dup(1), "w", buffering=1, encoding="utf-8")
os.dup2(2, 1)
sys.stdout = sys.stderr

# --- ports of core/canonical.ts and workloads/execute.ts (kept byte-identical) -------------

ERROR_TYPE = "WorkflowError"


def _js_number(x: float | int) -> str:
    """JSON.stringify of a number: integral floats print without '.0', exponents as JS does."""
    if isinstance(x, bool):
        return "true" if x else "false"
    if isinstance(x, int):
        return str(x)
    if math.isnan(x) or math.isinf(x):
        return "null"
    if x.is_integer() and abs(x) < 1e21:
        return str(int(x))
    r = repr(x)
    if "e" in r:
        mant, exp = r.split("e")
        sign = "-" if exp.startswith("-") else "+"
        return f"{mant}e{sign}{int(exp.lstrip('+-'))}"
    return r


def canonical_json(v: Any) -> str:
    """core/canonical.ts canonicalJson: sorted keys, no spaces, JS number formatting."""
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return _js_number(v)
    if isinstance(v, str):
        return json.dumps(v, ensure_ascii=False)
    if isinstance(v, (list, tuple)):
        return "[" + ",".join(canonical_json(x) for x in v) + "]"
    if isinstance(v, dict):
        # JS sorts keys by UTF-16 code units; equal to code-point order for BMP keys.
        keys = sorted(v)
        return "{" + ",".join(f"{json.dumps(k, ensure_ascii=False)}:{canonical_json(v[k])}" for k in keys) + "}"
    raise TypeError(f"not JSON: {type(v).__name__}")


def short_hash(s: str, hex_chars: int = 12) -> str:
    return hashlib.sha256(s.encode("utf-8")).hexdigest()[:hex_chars]


def execution_identity(agent: str, input_keys: list[str]) -> str:
    if len(input_keys) == 1:
        return f"{agent}({input_keys[0]})"
    keys = sorted(input_keys)
    return f"{agent}(batch:{short_hash(','.join(keys))}x{len(keys)})"


def output_correlation(correlations: list[str]) -> str:
    ids = sorted(set(correlations))
    return ids[0] if len(ids) == 1 else f"multi:{short_hash(','.join(ids))}"


def input_tokens(payload: dict) -> int:
    """Tokens an input adds to a prompt, as workloads/execute.ts inputTokens: its declared size
    (payload field prompt_tokens), else its canonical JSON at ~4 characters a token."""
    declared = payload.get("prompt_tokens")
    if isinstance(declared, (int, float)) and not isinstance(declared, bool):
        return declared
    # Flock's artifacts are pydantic dumps: an optional field the task never set comes back as
    # None, where the TS payload has no key at all. Count what the task carried.
    return math.ceil(len(canonical_json({k: v for k, v in payload.items() if v is not None})) / 4)


def output_tokens_for(agent: dict, payloads: list[dict]) -> int:
    """Target output of a call, as workloads/execute.ts outputTokensFor: a single input's declared
    size (payload field output_tokens), else the agent's."""
    declared = payloads[0].get("output_tokens") if len(payloads) == 1 else None
    if isinstance(declared, (int, float)) and not isinstance(declared, bool):
        return declared
    return agent["outputTokens"]


def prompt_tokens_for(agent: dict, payloads: list[dict]) -> int:
    return agent["promptTokens"] + sum(input_tokens(p) for p in payloads)


# JS sorts strings by UTF-16 code units; Python by code points. They agree unless keys mix
# astral characters with U+E000..U+FFFF; workload keys are ASCII.


# --- pydantic models from the workload's JSON-schema subset --------------------------------------


def _field_type(name: str, s: dict) -> Any:
    from pydantic import Field

    if "enum" in s:
        return Literal[tuple(s["enum"])]  # type: ignore[valid-type]
    t = s.get("type")
    if t == "string":
        return Annotated[str, Field(min_length=s.get("minLength"), max_length=s.get("maxLength"))]
    if t == "integer":
        return Annotated[int, Field(ge=s.get("minimum"), le=s.get("maximum"))]
    if t == "number":
        return Annotated[float, Field(ge=s.get("minimum"), le=s.get("maximum"))]
    if t == "boolean":
        return bool
    if t == "array":
        item = _field_type(name + "Item", s.get("items", {}))
        return Annotated[list[item], Field(min_length=s.get("minItems"), max_length=s.get("maxItems"))]  # type: ignore[valid-type]
    if t == "object" or "properties" in s:
        return _object_model(name, s)
    return Any


def _object_model(name: str, s: dict):
    from pydantic import create_model

    required = set(s.get("required", []))
    fields: dict[str, Any] = {}
    for prop, ps in (s.get("properties") or {}).items():
        ft = _field_type(f"{name}_{prop}", ps)
        fields[prop] = (ft, ...) if prop in required else (ft | None, None)
    return create_model(name, **fields)


# --- the run --------------------------------------------------------------------------------------


def emit(obj: dict) -> None:
    _PROTO.write(json.dumps(obj, separators=(",", ":")) + "\n")
    _PROTO.flush()


def correlation_uuid(corr: str) -> uuid.UUID:
    # Flock's correlation_id is a UUID; the harness's is a string. A stable mapping keeps
    # Flock's own correlation semantics (an output inherits its first input's id).
    return uuid.uuid5(uuid.NAMESPACE_URL, f"flockbench:{corr}")


async def warm_up(console_output: bool) -> None:
    """One throwaway Flock run before `ready`: Flock imports parts of itself lazily on first use
    (batch events, dashboard helpers, output utilities), which would otherwise land in the first
    measured executions. No LLM call, so no draw is consumed."""
    from datetime import timedelta

    from pydantic import BaseModel

    from flock.artifacts import Artifact
    from flock.components import EngineComponent
    from flock.orchestrator import Flock
    from flock.registry import type_registry
    from flock.runtime import EvalResult
    from flock.subscription import BatchSpec
    from flock.components import AgentComponent

    class FbWarmA(BaseModel):
        n: int

    class FbWarmB(BaseModel):
        n: int

    class FbWarmC(BaseModel):
        n: int

    type_registry.register(FbWarmA, name="__flockbench_warm_a")
    type_registry.register(FbWarmB, name="__flockbench_warm_b")
    type_registry.register(FbWarmC, name="__flockbench_warm_c")

    class Echo(EngineComponent):
        name: str = "warm"

        async def evaluate(self, agent, ctx, inputs):
            await asyncio.sleep(0)
            out = agent.outputs[0].spec.type_name
            return EvalResult(artifacts=[Artifact(type=out, payload={"n": len(inputs.artifacts)}, produced_by=agent.name)])

        async def evaluate_batch(self, agent, ctx, inputs):
            return await self.evaluate(agent, ctx, inputs)

    f = Flock("openai/warm", max_agent_iterations=10**9)
    w1 = f.agent("warm1").consumes(FbWarmA).publishes(FbWarmB).with_engines(Echo())
    w2 = f.agent("warm2").consumes(FbWarmB, batch=BatchSpec(size=2, timeout=timedelta(milliseconds=50))).publishes(FbWarmC).with_engines(Echo())
    if not console_output:
        w1.with_utilities(AgentComponent(name="flockbench_quiet"))
        w2.with_utilities(AgentComponent(name="flockbench_quiet"))
    for i in range(3):
        await f.publish(FbWarmA(n=i))
    for _ in range(100):
        await f.run_until_idle()
        if not f._tasks and not any(acc.artifacts for acc in f._batch_engine.batches.values()):
            break
        await asyncio.sleep(0.02)
    await f.shutdown()


def _capture_flock_spans():
    """With FLOCK_AUTO_TRACE on, Flock installs its own tracer provider and, unless FLOCK_TRACE_FILE
    or an OTLP endpoint is set, exports its spans nowhere. Add an in-memory exporter to that
    provider, so the spans Flock creates anyway reach the harness (never Flock's DuckDB file
    exporter in a measured run: it opens a connection per span). None when auto-trace is off."""
    from opentelemetry import trace as otel_trace
    from opentelemetry.sdk.trace import TracerProvider as SDKTracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    from flock.logging.auto_trace import ENABLE_AUTO_TRACE

    provider = otel_trace.get_tracer_provider()
    if not ENABLE_AUTO_TRACE or not isinstance(provider, SDKTracerProvider):
        return None
    exporter = InMemorySpanExporter()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    return exporter


def _span_records(exporter) -> list[dict]:
    """Finished spans in the row layout of Flock's own DuckDB trace exporter (its conversion,
    called as is); epoch-ns times as strings, since JSON numbers lose them past 2**53."""
    if exporter is None:
        return []
    from flock.logging.telemetry_exporter.duckdb_exporter import DuckDBSpanExporter

    out = []
    for span in exporter.get_finished_spans():
        rec = DuckDBSpanExporter._span_to_record(None, span)
        rec["start_time"] = str(rec["start_time"])
        rec["end_time"] = str(rec["end_time"])
        out.append(rec)
    return out


async def run(job: dict) -> None:
    import httpx
    from importlib.metadata import version as pkg_version

    from flock.artifacts import Artifact
    from flock.components import EngineComponent
    from flock.orchestrator import Flock
    from flock.orchestrator_component import OrchestratorComponent
    from flock.registry import type_registry
    from flock.runtime import EvalResult
    from flock.subscription import BatchSpec
    from flock.components import AgentComponent

    await warm_up(bool(job.get("consoleOutput", False)))
    flock_spans = _capture_flock_spans()

    engine = job.get("engine", "http")
    if engine == "dspy":
        # Import what the first DSPy call would import lazily (dspy, litellm), before the clock.
        import dspy  # noqa: F401
        import litellm  # noqa: F401

        adapter = job.get("adapter", "default")
        if adapter == "chat":
            dspy.configure(adapter=dspy.ChatAdapter())
        elif adapter == "json":
            dspy.configure(adapter=dspy.JSONAdapter())

    w = job["workload"]
    seed = job["seed"]
    scale = float(job["latencyScale"])
    llm_url = job["llmUrl"].rstrip("/")

    schemas = {t["name"]: t["schema"] for t in w["types"]}
    models: dict[str, type] = {}
    for t in w["types"]:
        m = _object_model(t["name"], t["schema"])
        type_registry.register(m, name=t["name"])
        models[t["name"]] = m

    # Harness bookkeeping keyed by Flock's artifact id: logical key and correlation.
    key_of: dict[uuid.UUID, str] = {}
    corr_of: dict[uuid.UUID, str] = {}
    errors: list[dict] = []
    seed_corrs = sorted({s["correlationId"] for s in w["tasks"]})
    clock0 = [time.perf_counter()]

    def now_ms() -> float:
        return (time.perf_counter() - clock0[0]) * 1000.0

    client = httpx.AsyncClient(
        timeout=httpx.Timeout(max(60.0, 600.0 * scale)),
        limits=httpx.Limits(max_connections=None, max_keepalive_connections=1024),
    )
    counters = {"llmCalls": 0, "llmFailures": 0}

    class CorrelationTagComponent(OrchestratorComponent):
        """Tags every artifact with its harness correlation, for by-correlation batches.

        Flock 0.5's BatchEngine keeps one batch per (agent, subscription); the workload's
        `batch.by = correlationId` is expressed as one channel-filtered subscription per
        correlation, so the batching itself stays Flock's.
        """

        name: str = "flockbench_correlation_tags"
        priority: int = 0

        async def on_artifact_published(self, orchestrator, artifact):
            c = corr_of.get(artifact.id)
            if c is not None:
                artifact.tags.add(f"corr:{c}")
            return artifact

    class HttpEngine(EngineComponent):
        """One call to the simulated LLM per execution; publish its JSON as the output type."""

        name: str = "flockbench_http"
        spec: dict = {}

        async def evaluate(self, agent, ctx, inputs):
            return await self._run(agent, inputs)

        async def evaluate_batch(self, agent, ctx, inputs):
            return await self._run(agent, inputs)

        async def _run(self, agent, inputs):
            a = self.spec
            arts = list(inputs.artifacts)
            input_keys = [key_of[x.id] for x in arts]
            identity = execution_identity(a["name"], input_keys)
            in_corrs = [corr_of[x.id] for x in arts]
            corr = output_correlation(in_corrs)
            start = now_ms()
            ptoks = prompt_tokens_for(a, [x.payload for x in arts])
            out_type = a["publishes"]
            rec = {
                "agent": a["name"], "identity": identity, "inputKeys": input_keys,
                "correlationIds": list(dict.fromkeys(in_corrs)), "startMs": start,
                "tokensIn": 0, "tokensOut": 0,
            }
            result_arts = []
            try:
                headers = {
                    "x-flockbench-identity": identity,
                    "x-flockbench-prompt-tokens": str(ptoks),
                    "x-flockbench-output-tokens": str(output_tokens_for(a, [x.payload for x in arts])),
                }
                if a.get("outputFields"):
                    headers["x-flockbench-fixed"] = json.dumps(a["outputFields"], separators=(",", ":"))
                body = {
                    "model": a["model"],
                    "messages": [
                        {"role": "system", "content": a.get("description") or a["name"]},
                        {"role": "user", "content": json.dumps([x.payload for x in arts])},
                    ],
                    "response_format": {"type": "json_schema", "json_schema": {"name": out_type, "schema": schemas[out_type]}},
                }
                counters["llmCalls"] += 1
                r = await client.post(f"{llm_url}/v1/chat/completions", json=body, headers=headers)
                if r.status_code != 200:
                    raise RuntimeError(f"LLM HTTP {r.status_code}: {r.text[:200]}")
                data = r.json()
                usage = data.get("usage") or {}
                rec["tokensIn"] = usage.get("prompt_tokens", ptoks)
                rec["tokensOut"] = usage.get("completion_tokens", 0)
                fail = a.get("failWhen")
                if fail and fail["inputKeyIncludes"] in identity:
                    raise RuntimeError(f"{a['name']}: simulated failure on {identity}")
                if (a.get("fanOut") or 1) != 1:
                    raise RuntimeError("fanOut > 1 is not supported by flock-real")
                payload = json.loads(data["choices"][0]["message"]["content"])
                try:
                    payload = models[out_type](**payload).model_dump()
                except Exception as e:  # noqa: BLE001 - becomes the error artifact
                    raise RuntimeError(f"{a['name']}: output {out_type} invalid: {e}") from e
                art = Artifact(type=out_type, payload=payload, produced_by=a["name"])
                key_of[art.id] = identity
                corr_of[art.id] = corr
                result_arts.append(art)
                rec["outputKeys"] = [identity]
            except Exception as e:  # noqa: BLE001 - a failing execution must not stop the run
                counters["llmFailures"] += 1 if "LLM HTTP" in str(e) else 0
                err = str(e)
                rec["error"] = err
                rec["outputKeys"] = [f"error:{identity}"]
                errors.append({
                    "key": f"error:{identity}", "type": ERROR_TYPE,
                    "payload": {"agent": a["name"], "error": err, "inputKeys": sorted(input_keys)},
                    "correlationId": corr, "producedBy": a["name"],
                })
            rec["endMs"] = now_ms()
            emit({"kind": "execution", **rec})
            # No artifacts: Flock's _make_outputs publishes nothing for this execution.
            return EvalResult(artifacts=result_arts, state={})

    import contextvars

    current = contextvars.ContextVar("flockbench_execution", default=None)

    class Recorder(AgentComponent):
        """Reports each execution of Flock's own engine (engine: dspy) through public hooks:
        inputs at pre-evaluate, outputs (keyed before they are published) at post-evaluate,
        errors, and the `execution` line when the execution ends."""

        name: str = "flockbench_recorder"
        spec: dict = {}

        async def on_pre_evaluate(self, agent, ctx, inputs):
            arts = list(inputs.artifacts)
            input_keys = [key_of.get(x.id, str(x.id)) for x in arts]
            in_corrs = [corr_of.get(x.id, str(x.correlation_id)) for x in arts]
            current.set({
                "agent": self.spec["name"], "identity": execution_identity(self.spec["name"], input_keys),
                "inputKeys": input_keys, "correlationIds": list(dict.fromkeys(in_corrs)),
                "corr": output_correlation(in_corrs), "startMs": now_ms(), "tokensIn": 0, "tokensOut": 0,
                "outputKeys": [],
            })
            return inputs

        async def on_post_evaluate(self, agent, ctx, inputs, result):
            rec = current.get()
            if rec is not None:
                out_type = self.spec["publishes"]
                outs = [a for a in result.artifacts if a.type == out_type and a.id not in key_of]
                if outs:
                    for a in outs:
                        key_of[a.id] = rec["identity"]
                        corr_of[a.id] = rec["corr"]
                    rec["outputKeys"] = [rec["identity"]]
                else:
                    logs = "; ".join(getattr(result, "logs", []) or [])[:300]
                    rec["error"] = f"{self.spec['name']}: no valid {out_type} from the engine ({logs})"
            return result

        async def on_error(self, agent, ctx, error):
            rec = current.get()
            if rec is not None:
                rec["error"] = f"{type(error).__name__}: {error}"[:500]

        async def on_terminate(self, agent, ctx):
            rec = current.get()
            if rec is None or rec.get("done"):
                return
            rec["done"] = True
            rec["endMs"] = now_ms()
            if rec.get("error"):
                rec["outputKeys"] = [f"error:{rec['identity']}"]
                errors.append({
                    "key": f"error:{rec['identity']}", "type": ERROR_TYPE,
                    "payload": {"agent": rec["agent"], "error": rec["error"], "inputKeys": sorted(rec["inputKeys"])},
                    "correlationId": rec["corr"], "producedBy": rec["agent"],
                })
            emit({"kind": "execution", **{k: v for k, v in rec.items() if k not in ("corr", "done")}})

    max_iterations = int(job.get("maxAgentIterations") or 10**9)
    flock = Flock(f"openai/{w['agents'][0]['model']}" if w["agents"] else None, max_agent_iterations=max_iterations)
    flock.add_component(CorrelationTagComponent())
    one_model = len({a["model"] for a in w["agents"]}) <= 1

    for a in w["agents"]:
        if engine == "dspy" and (a.get("failWhen") or (a.get("fanOut") or 1) != 1):
            raise ValueError(f"agent {a['name']}: failWhen / fanOut need engine: http (the DSPy engine writes what the LLM writes)")
        sub = a["consumes"]
        if len(sub["types"]) != 1 or sub.get("join"):
            raise ValueError(f"agent {a['name']}: join / multi-type subscriptions are not mapped to flock-real yet")
        t = models[sub["types"][0]]
        kwargs: dict[str, Any] = {}
        where = sub.get("where")
        if where:
            field, eq, among = where["field"], where.get("equals"), where.get("in")
            if among is not None:
                kwargs["where"] = lambda p, f=field, xs=tuple(among): getattr(p, f, None) in xs
            else:
                kwargs["where"] = lambda p, f=field, v=eq: getattr(p, f, None) == v
        b = a["consumes"].get("batch")
        builder = flock.agent(a["name"]).description(a.get("description") or a["name"])
        if b:
            from datetime import timedelta

            spec = BatchSpec(size=b["size"], timeout=timedelta(milliseconds=b["timeoutMs"] * scale))
            if b.get("by") == "correlationId":
                for c in seed_corrs:
                    builder = builder.consumes(t, batch=spec, channels={f"corr:{c}"}, **kwargs)
            else:
                builder = builder.consumes(t, batch=spec, **kwargs)
        else:
            builder = builder.consumes(t, **kwargs)
        builder = builder.publishes(models[a["publishes"]])
        if engine == "dspy":
            # Flock's default engine (DSPyEngine, the orchestrator's model, the description as
            # instructions) unless agents use different models: then DSPyEngine per agent.
            if not one_model:
                from flock.engines import DSPyEngine

                builder = builder.with_engines(DSPyEngine(model=f"openai/{a['model']}", instructions=a.get("description") or a["name"]))
            utilities = [Recorder(spec=a)]
            if job.get("consoleOutput", False):
                from flock.utility.output_utility_component import OutputUtilityComponent

                utilities.append(OutputUtilityComponent())
            builder = builder.with_utilities(*utilities).max_concurrency(a["maxConcurrency"])
        else:
            builder = builder.with_engines(HttpEngine(spec=a)).max_concurrency(a["maxConcurrency"])
            # Flock's default utility (used when an agent has none) renders every result as a
            # rich table on the console: ~100+ ms CPU per execution here, and its `no_output`
            # flag is not honoured in 0.5.7. A service would not print; a no-op utility replaces
            # it unless the job asks for Flock's console output (systemParams.consoleOutput).
            if not job.get("consoleOutput", False):
                builder = builder.with_utilities(AgentComponent(name="flockbench_quiet"))
        if a.get("allowSelfTrigger"):
            builder = builder.prevent_self_trigger(False)

    # Warm the connection pool path (imports, DNS) before the clock starts; not a draw.
    try:
        await client.get(f"{llm_url}/v1/models")
    except Exception as e:  # noqa: BLE001
        raise RuntimeError(f"simulated LLM at {llm_url} unreachable: {e}") from e

    emit({
        "kind": "ready",
        "flockVersion": pkg_version("flock-core"),
        "python": platform.python_version(),
        "agents": len(w["agents"]),
    })
    loop = asyncio.get_running_loop()
    stdin = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(stdin), sys.stdin)
    line = (await stdin.readline()).decode()
    if line.strip() != "go":
        raise RuntimeError(f"expected 'go', got {line!r}")
    clock0[0] = time.perf_counter()
    cpu0 = time.process_time()
    if flock_spans is not None:
        flock_spans.clear()  # warm-up and set-up spans are not the run's
    prof = None
    if os.environ.get("FLOCKBENCH_PROFILE"):  # debugging aid: cProfile of the measured part
        import cProfile

        prof = cProfile.Profile()
        prof.enable()

    while True:
        line = (await stdin.readline()).decode().strip()
        if not line:
            raise RuntimeError("harness closed the protocol before 'drain'")
        if line == "drain":
            break
        for index in json.loads(line)["publish"]:
            s = w["tasks"][index]
            art = Artifact(
                type=s["type"],
                payload=models[s["type"]](**s["payload"]).model_dump(),
                produced_by="external",
                correlation_id=correlation_uuid(s["correlationId"]),
            )
            key_of[art.id] = s["key"]
            corr_of[art.id] = s["correlationId"]
            await flock.publish(art)

    # run_until_idle() in 0.5.7 returns while partial batches still wait for their timeout
    # (the watchdog keeps running); call it until no task and no batch is left.
    rounds = 0
    while True:
        await flock.run_until_idle()
        rounds += 1
        pending = any(acc.artifacts for acc in flock._batch_engine.batches.values())
        if not pending and not flock._tasks:
            break
        await asyncio.sleep(0.01)
    makespan = now_ms()
    cpu_ms = (time.process_time() - cpu0) * 1000.0
    if prof is not None:
        prof.disable()
        prof.dump_stats(os.environ["FLOCKBENCH_PROFILE"])

    artifacts = []
    for art in await flock.store.list():
        artifacts.append({
            "key": key_of.get(art.id, str(art.id)), "type": art.type, "payload": art.payload,
            "correlationId": corr_of.get(art.id, str(art.correlation_id)), "producedBy": art.produced_by,
        })
    artifacts.extend(errors)
    await client.aclose()
    emit({
        "kind": "done", "artifacts": artifacts, "makespanMs": makespan, "pythonCpuMs": cpu_ms,
        "spans": _span_records(flock_spans),
        "idleRounds": rounds, "agentRuns": flock.metrics.get("agent_runs", 0),
        "artifactsPublished": flock.metrics.get("artifacts_published", 0), **counters,
    })
    await flock.shutdown()


def main() -> None:
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    try:
        if len(sys.argv) > 1 and sys.argv[1] == "--port-fixtures":
            # Used by the tests: identities/correlations/prompt tokens for fixtures on stdin.
            fx = json.loads(sys.stdin.readline())
            emit({
                "identities": [execution_identity(f["agent"], f["inputKeys"]) for f in fx["identities"]],
                "correlations": [output_correlation(c) for c in fx["correlations"]],
                "promptTokens": [prompt_tokens_for(p["agent"], p["payloads"]) for p in fx["promptTokens"]],
                "canonical": [canonical_json(v) for v in fx["canonical"]],
            })
            return
        job = json.loads(sys.stdin.readline())
        asyncio.run(run(job))
    except Exception as e:  # noqa: BLE001 - one line for the harness
        import traceback

        traceback.print_exc(file=sys.stderr)
        emit({"kind": "error", "message": f"{type(e).__name__}: {e}"})
        sys.exit(1)


if __name__ == "__main__":
    main()
