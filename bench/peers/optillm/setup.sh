#!/usr/bin/env bash
# Installs a pinned OptiLLM into .venv-optillm/ at the repository root (git-ignored), without the
# torch/transformers stack (~3 GB) that only its local-inference mode needs: as a proxy in front of an
# OpenAI-compatible upstream it imports these packages and no more. Idempotent: a venv that already
# has the pinned optillm is left as it is.
#
#   bash bench/peers/optillm/setup.sh [VENV_DIR]   # PYTHON=python3.11 to pick the interpreter
set -euo pipefail

root="$(cd "$(dirname "$0")/../../.." && pwd)"
venv="${1:-$root/.venv-optillm}"
python="${PYTHON:-python3}"
optillm_version="0.4.0"
# Versions that were verified to start the proxy and run every approach the comparison uses.
deps=(
  "flask==3.1.3"
  "openai==3.63.0"
  "cerebras_cloud_sdk==1.91.0"
  "numpy==2.4.6"
  "networkx==3.6.1"
  "z3-solver==4.15.4.0"
  "sympy==1.14.0"
  "math-verify==0.9.0"
  "aiohttp==3.14.5"
  "PyYAML==6.0.4"
  "requests==2.34.2"
)

if [[ -x "$venv/bin/python" ]] &&
  [[ "$("$venv/bin/python" -c 'import importlib.metadata as m; print(m.version("optillm"))' 2>/dev/null)" == "$optillm_version" ]] &&
  "$venv/bin/python" -c 'import optillm.server' >/dev/null 2>&1; then
  echo "optillm $optillm_version already set up in $venv"
  exit 0
fi

"$python" -m venv "$venv"
"$venv/bin/python" -m pip install --quiet --upgrade pip
"$venv/bin/python" -m pip install --quiet --no-deps "optillm==$optillm_version"
# constraints.txt pins what these pull in too. pip then lists the optional heavy packages it left out.
"$venv/bin/python" -m pip install --quiet -c "$root/bench/peers/optillm/constraints.txt" "${deps[@]}"
# Fails here, not in the middle of a comparison, when an import is missing.
"$venv/bin/python" -c 'import optillm.server' >/dev/null
echo "optillm $optillm_version set up in $venv"
