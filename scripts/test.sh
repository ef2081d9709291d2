#!/usr/bin/env bash
# The whole test suite, from a fresh machine: set up, start the Docker engine when possible, run pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
if [ -f scripts/docker-engine.sh ]; then
  bash scripts/docker-engine.sh || echo "note: no Docker engine could start; Docker tests will skip and say why." >&2
fi
exec .venv/bin/python -m pytest -n 2 -q "$@"
