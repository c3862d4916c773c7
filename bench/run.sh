#!/usr/bin/env bash
# `make bench` (full run, ~20-30 min) and `make bench-smoke` (seconds):
#   bash bench/run.sh            full run: bench/results/latest.{json,md}, docs/performance.md
#   bash bench/run.sh --smoke    every scenario and server at tiny scale
# Any other bench/run.py option passes through (--servers, --scenarios, --out, ...).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

# 10,000 idle connections need ~10,100 descriptors in the server and as many
# in the load generator: raise the soft limit to the hard one.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || ulimit -n 65536 2>/dev/null || true

command -v node >/dev/null || { echo "bench: node is not on PATH (Node 18+ is needed)" >&2; exit 1; }
if [[ ! -f bench/node_modules/.package-lock.json || bench/package-lock.json -nt bench/node_modules/.package-lock.json ]]; then
    npm ci --prefix bench --no-audit --no-fund --loglevel=error
fi

exec "${PYTHON:-$root/.venv/bin/python}" bench/run.py "$@"
