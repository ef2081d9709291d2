#!/usr/bin/env bash
# Set up a fresh machine: a virtualenv with the pinned Python packages, and Graphviz for the plan's picture.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v dot >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq graphviz >/dev/null
  else
    echo "note: Graphviz's 'dot' is missing; the plan will write the .dot file but no SVG/PNG (install graphviz)." >&2
  fi
fi
if [ ! -x .venv/bin/python ]; then
  python3 -m venv .venv
fi
.venv/bin/python -m pip install -q --disable-pip-version-check -r requirements.txt
