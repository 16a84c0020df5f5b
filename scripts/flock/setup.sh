#!/usr/bin/env bash
# Prepare the Python venv the flock-real and langgraph-py systems run in: .venv/ at the repo
# root with the pinned flock-core and its verified dependency set, PyPI langgraph included
# (scripts/flock/requirements.txt). Idempotent: a ready venv is left alone.
set -euo pipefail
cd "$(dirname "$0")/../.."

FLOCK_VERSION=0.5.7
PY=${PYTHON:-python3}
MARKER=.venv/.flock-core-ok
REQS=scripts/flock/requirements.txt

# The marker records what was installed; a changed pin or requirements file reinstalls.
want="flock-core==$FLOCK_VERSION $(sha256sum "$REQS" | cut -c1-16)"
if [[ -f $MARKER && "$(cat "$MARKER")" == "$want" ]]; then
  echo "flock-core $(.venv/bin/python -c 'import importlib.metadata as m; print(m.version("flock-core"), "+ langgraph", m.version("langgraph"))') ready in .venv (python $(.venv/bin/python -c 'import platform; print(platform.python_version())'))"
  exit 0
fi

[[ -x .venv/bin/python ]] || "$PY" -m venv .venv
rm -f "$MARKER"
.venv/bin/python -m pip install -q --disable-pip-version-check -r "$REQS"
.venv/bin/python -m pip install -q --disable-pip-version-check --no-deps "flock-core==$FLOCK_VERSION"
# Import what the runner imports: a broken dependency fails here, not in the first benchmark.
.venv/bin/python - <<'PY'
import importlib.metadata as m, platform
from flock.orchestrator import Flock
from flock.components import EngineComponent
from flock.orchestrator_component import OrchestratorComponent
from flock.subscription import BatchSpec
from langgraph.graph import StateGraph
from langgraph.types import Send
print(f"flock-core {m.version('flock-core')} + langgraph {m.version('langgraph')} ready in .venv (python {platform.python_version()})")
PY
echo "$want" > "$MARKER"
