#!/usr/bin/env bash
# `make bench` (full run, ~20-30 min) and `make bench-smoke` (seconds):
#   bash bench/run.sh            full run: bench/results/latest.{json,md}, docs/performance.md
#   bash bench/run.sh --smoke    every scenario and server at tiny scale
# Any other bench/run.py option passes through (--servers, --scenarios, --out, ...).
# bench/run.py itself raises the open-file limit and installs bench's npm packages.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
exec "${PYTHON:-$root/.venv/bin/python}" bench/run.py "$@"
