"""Real Python clients against the simulated LLM: `python python_clients.py <base-url> <suite>`.

Suites: openai (the openai SDK), litellm, dspy (its ChatAdapter and JSONAdapter through
LiteLLM, as flock-core's engine calls them). Prints one JSON object {check: {"ok": bool,
"detail": ...}}; python-clients.test.ts asserts every check. Versions: the venv's pins
(scripts/flock/requirements.txt), i.e. what flock-core 0.5.7 runs with.
"""

from __future__ import annotations

import enum
import json
import sys
import traceback
import urllib.request
from typing import Literal, Optional

from pydantic import BaseModel, Field

URL = sys.argv[1].rstrip("/")
SUITE = sys.argv[2]
results: dict[str, dict] = {}


def requests_so_far() -> int:
    with urllib.request.urlopen(f"{URL}/metrics") as r:
        return json.load(r)["requests"]


def check(name):
    def deco(fn):
        try:
            detail = fn()
            results[name] = {"ok": True, "detail": detail}
        except AssertionError as e:
            results[name] = {"ok": False, "detail": f"assertion: {e}"}
        except Exception as e:  # noqa: BLE001 - reported to the test
            results[name] = {"ok": False, "detail": f"{type(e).__name__}: {e}", "trace": traceback.format_exc()[-1500:]}
        return fn

    return deco


class Color(str, enum.Enum):
    red = "red"
    blue = "blue"


class Address(BaseModel):
    city: str
    zip: Optional[str]


class Person(BaseModel):
    name: str
    color: Color
    kind: Literal["person"]
    home: Address
    previous: list[Address]
    nickname: Optional[str] = None
    score: float = Field(ge=0, le=1)


WEATHER = [{
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Get the current weather for a city",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
    },
}]


def tool_loop(create) -> int:
    """A hand-written tools loop; returns the number of model calls until a text answer."""
    messages = [{"role": "user", "content": "What is the weather in Paris today?"}]
    for i in range(1, 6):
        msg = create(messages)
        calls = msg.get("tool_calls") or []
        if not calls:
            assert msg.get("content"), "a final answer without content"
            return i
        messages.append({"role": "assistant", "content": None, "tool_calls": calls})
        for c in calls:
            messages.append({"role": "tool", "tool_call_id": c["id"], "content": "sunny"})
    raise AssertionError("still calling tools after 5 rounds")


if SUITE == "openai":
    import openai

    client = openai.OpenAI(base_url=f"{URL}/v1", api_key="sk-test", max_retries=2)

    @check("parse: nested model, Optional, Enum, Literal")
    def _():
        r = client.chat.completions.parse(model="gpt-4.1", messages=[{"role": "user", "content": "describe a person"}], response_format=Person)
        p = r.choices[0].message.parsed
        assert isinstance(p, Person), type(p)
        return p.model_dump(mode="json")

    @check("max_tokens is a cap with finish_reason length")
    def _():
        out = []
        for i in range(12):
            r = client.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": f"tell me {i}"}], max_tokens=20)
            out.append((r.usage.completion_tokens, r.choices[0].finish_reason))
        assert all(n <= 20 for n, _ in out), out
        assert all(f == "length" for n, f in out if n == 20), out
        assert sum(f == "length" for _, f in out) >= 9, out
        return out

    @check("huge max_tokens: 400, server stays up")
    def _():
        try:
            client.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "x"}], max_tokens=1_000_000_000)
            raise AssertionError("no error")
        except openai.BadRequestError as e:
            assert e.status_code == 400
        r = client.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "x"}], max_tokens=2)
        return r.choices[0].finish_reason

    @check("json_object returns an object")
    def _():
        r = client.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "reply in json"}], response_format={"type": "json_object"})
        v = json.loads(r.choices[0].message.content)
        assert isinstance(v, dict), v
        return v

    @check("malformed requests: 400, not retried")
    def _():
        bad = {
            "messages [None]": dict(messages=[None]),
            "tools [None]": dict(messages=[{"role": "user", "content": "x"}], tools=[None]),
            "array schema": dict(messages=[{"role": "user", "content": "x"}], response_format={"type": "json_schema", "json_schema": {"name": "a", "schema": {"type": "array", "items": {"type": "string"}}}}),
            "temperature -1": dict(messages=[{"role": "user", "content": "x"}], temperature=-1),
            "n 0": dict(messages=[{"role": "user", "content": "x"}], n=0),
            "unknown role": dict(messages=[{"role": "bogus", "content": "x"}]),
        }
        seen = {}
        for name, kw in bad.items():
            before = requests_so_far()
            try:
                client.chat.completions.create(model="gpt-4o-mini", **kw)
                raise AssertionError(f"{name}: accepted")
            except openai.BadRequestError as e:
                seen[name] = e.body.get("param") if isinstance(e.body, dict) else None
            assert requests_so_far() - before == 1, f"{name}: retried"
        return seen

    @check("tools: a call, then text after the tool result")
    def _():
        def create(messages):
            r = client.chat.completions.create(model="gpt-4.1", messages=messages, tools=WEATHER)
            return r.choices[0].message.model_dump(exclude_none=True)

        n = tool_loop(create)
        assert n == 2, n
        return n

    @check("x-request-id and /v1/models/{id}")
    def _():
        r = client.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "x"}], max_tokens=2)
        assert (r._request_id or "").startswith("req_"), r._request_id
        m = client.models.retrieve("gpt-4.1")
        assert m.id == "gpt-4.1"
        return r._request_id

elif SUITE == "litellm":
    import litellm

    litellm.suppress_debug_info = True
    kw = dict(api_base=f"{URL}/v1", api_key="sk-test")

    @check("max_tokens is a cap with finish_reason length")
    def _():
        out = []
        for i in range(10):
            r = litellm.completion(model="openai/gpt-4o-mini", messages=[{"role": "user", "content": f"tell me {i}"}], max_tokens=20, **kw)
            out.append((r.usage.completion_tokens, r.choices[0].finish_reason))
        assert all(n <= 20 for n, _ in out), out
        assert sum(f == "length" for _, f in out) >= 7, out
        return out

    @check("huge max_tokens: BadRequestError, server stays up")
    def _():
        try:
            litellm.completion(model="openai/gpt-4o-mini", messages=[{"role": "user", "content": "x"}], max_tokens=1_000_000_000, num_retries=0, **kw)
            raise AssertionError("no error")
        except litellm.BadRequestError as e:
            detail = str(e)[:120]
        r = litellm.completion(model="openai/gpt-4o-mini", messages=[{"role": "user", "content": "x"}], max_tokens=2, **kw)
        assert r.choices[0].finish_reason == "length"
        return detail

    @check("response_format pydantic: nested, Optional, Enum")
    def _():
        r = litellm.completion(model="openai/gpt-4.1", messages=[{"role": "user", "content": "describe a person"}], response_format=Person, **kw)
        p = Person.model_validate_json(r.choices[0].message.content)
        return p.model_dump(mode="json")

    @check("tools: a call, then text after the tool result")
    def _():
        def create(messages):
            r = litellm.completion(model="openai/gpt-4.1", messages=messages, tools=WEATHER, **kw)
            m = r.choices[0].message
            calls = [{"id": c.id, "type": "function", "function": {"name": c.function.name, "arguments": c.function.arguments}} for c in (m.tool_calls or [])]
            return {"content": m.content, "tool_calls": calls}

        n = tool_loop(create)
        assert n == 2, n
        return n

    @check("streaming: content, usage, finish_reason")
    def _():
        chunks = litellm.completion(model="openai/gpt-4.1-mini", messages=[{"role": "user", "content": "stream"}], max_tokens=30, stream=True, stream_options={"include_usage": True}, **kw)
        text, finish, usage = "", None, None
        for c in chunks:
            if c.choices:
                text += c.choices[0].delta.content or ""
                finish = c.choices[0].finish_reason or finish
            if getattr(c, "usage", None):
                usage = c.usage
        assert text and finish in ("stop", "length"), (text[:40], finish)
        assert usage is None or usage.completion_tokens <= 30, usage
        return finish

elif SUITE == "dspy":
    import dspy

    class NewsAnalysis(BaseModel):
        category: Literal["world", "technology", "business"]
        analyst_name: str
        key_takeaways: list[str] = Field(min_length=3, max_length=5)
        impact_assessment: str

    class Story(BaseModel):
        headline: str
        raw_story: str

    def signature():
        # The shape flock-core 0.5.7's DSPyEngine builds: description + input in, output out.
        fields = {
            "description": (str, dspy.InputField()),
            "input": (Story, dspy.InputField()),
            "output": (NewsAnalysis, dspy.OutputField()),
        }
        return dspy.Signature(fields).with_instructions("Analyzes global events. Return only JSON.")

    lm = dspy.LM(model="openai/gpt-4.1", api_base=f"{URL}/v1", api_key="sk-test", temperature=1.0, max_tokens=32000, cache=False, num_retries=0)
    story = Story(headline="Major AI breakthrough", raw_story="Scientists announced a new technique " * 5)

    def predict(adapter):
        before = requests_so_far()
        with dspy.context(lm=lm, adapter=adapter):
            out = dspy.Predict(signature())(description="Analyzes global events", input=story)
        return out, requests_so_far() - before

    @check("ChatAdapter: [[ ## output ## ]] reply parses, one call")
    def _():
        out, calls = predict(dspy.ChatAdapter())
        assert isinstance(out.output, NewsAnalysis), type(out.output)
        assert calls == 1, f"{calls} calls (a fallback to JSONAdapter means the reply did not parse)"
        return out.output.model_dump()

    @check("JSONAdapter: json_schema with $ref parses, one call")
    def _():
        out, calls = predict(dspy.JSONAdapter())
        assert isinstance(out.output, NewsAnalysis), type(out.output)
        assert calls == 1, calls
        return out.output.model_dump()

    @check("ChatAdapter: str, int, bool and Literal fields")
    def _():
        sig = dspy.Signature({
            "question": (str, dspy.InputField()),
            "answer": (str, dspy.OutputField()),
            "confidence": (float, dspy.OutputField()),
            "count": (int, dspy.OutputField()),
            "ok": (bool, dspy.OutputField()),
            "label": (Literal["yes", "no"], dspy.OutputField()),
        })
        before = requests_so_far()
        with dspy.context(lm=lm, adapter=dspy.ChatAdapter()):
            out = dspy.Predict(sig)(question="Is it raining?")
        assert isinstance(out.answer, str) and out.answer
        assert isinstance(out.count, int) and isinstance(out.ok, bool) and out.label in ("yes", "no")
        assert requests_so_far() - before == 1
        return {"answer": out.answer[:30], "count": out.count, "ok": out.ok, "label": out.label}

else:
    raise SystemExit(f"unknown suite {SUITE}")

print(json.dumps(results))
