"""Run the Flock tutorial's own code (fixtures/tutorial_news_agency.py) as a reader would:
import it, then `asyncio.run(main())`, with the OpenAI base URL pointing at a simulated LLM.

Usage: python run_tutorial.py <tutorial.py> <llm base url>   (prints one JSON line last)

Flock as shipped: its DSPyEngine through LiteLLM (OPENAI_BASE_URL / OPENAI_API_KEY), default
adapter, auto-trace and rich console output as they default. Two things are done outside the
tutorial's code, and reported: (1) flock-core 0.5.7's store has no `get_artifacts_by_type`, which
the tutorial's main() calls after the run; when it is missing, an alias to the store's
`list_by_type` (same meaning: artifacts of a type name) lets main() finish, and the JSON says
so; (2) after main() the store is read for the analyses and digests the run produced.
"""

from __future__ import annotations

import asyncio
import importlib.util
import json
import os
import sys
import time
import urllib.request


def metrics(url: str) -> dict:
    with urllib.request.urlopen(f"{url}/metrics") as r:
        return json.load(r)


def main() -> None:
    path, url = sys.argv[1], sys.argv[2].rstrip("/")
    os.environ.setdefault("OPENAI_BASE_URL", f"{url}/v1")
    os.environ.setdefault("OPENAI_API_KEY", "sk-flockbench")
    spec = importlib.util.spec_from_file_location("tutorial_news_agency", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)  # type: ignore[union-attr]
    store_cls = type(mod.flock.store)
    shimmed = not hasattr(store_cls, "get_artifacts_by_type")
    if shimmed:
        store_cls.get_artifacts_by_type = store_cls.list_by_type  # type: ignore[attr-defined]
    t0 = time.perf_counter()
    cpu0 = time.process_time()
    asyncio.run(mod.main())
    wall = time.perf_counter() - t0
    cpu = time.process_time() - cpu0

    async def read():
        return await mod.flock.store.list()

    arts = asyncio.run(read())
    analyses = [a for a in arts if a.type.endswith("NewsAnalysis")]
    digests = [a for a in arts if a.type.endswith("NewsDigest")]
    m = metrics(url)
    print(json.dumps({
        "analyses": len(analyses),
        "digests": len(digests),
        "digestAnalysts": [d.payload.get("total_analysts") for d in digests],
        "categories": sorted({a.payload.get("category") for a in analyses}),
        "shimGetArtifactsByType": shimmed,
        "wallS": wall, "cpuS": cpu,
        "llmRequests": m["requests"], "llmInFlightPeak": m["inFlightPeak"], "byStatus": m["byStatus"],
        "identities": m["identities"],
    }))


if __name__ == "__main__":
    main()
