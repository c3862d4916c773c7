"""Running ``tests/e2e/node/chat_client.mjs``: a /chat client on socket.io-client
under Node, the library the browser pages use.

The script prints one JSON result and exits non-zero on failure, with a hard
timeout of its own; these helpers start it, bound the wait, and fail the test
with its output.
"""
from __future__ import annotations

import json
import subprocess

import pytest

from tests.conftest import require_binary
from tests.support.server import ROOT

SCRIPT = ROOT / "tests" / "e2e" / "node" / "chat_client.mjs"
NODE_TIMEOUT_MS = 15000


def node_binary() -> str:
    """``node``, with socket.io-client installed at the root (CI=true: missing fails)."""
    path = require_binary("node")  # CI=true: missing node fails; elsewhere it skips
    package = ROOT / "node_modules" / "socket.io-client" / "package.json"
    if not package.is_file():
        pytest.fail(f"{package} is missing: run `npm ci` in {ROOT} (`make test` does; "
                    "so does `make vendor`)")
    return path


def start_node(node: str, config: dict) -> subprocess.Popen:
    config = {"timeout_ms": NODE_TIMEOUT_MS, **config}
    return subprocess.Popen([node, str(SCRIPT), json.dumps(config)], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def finish_node(proc: subprocess.Popen, timeout: float = NODE_TIMEOUT_MS / 1000 + 5) -> dict:
    """Wait for the script (bounded), then return its JSON result; fail with its output."""
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
        pytest.fail(f"node did not exit within {timeout}s\nstdout: {out}\nstderr: {err}")
    lines = [line for line in out.splitlines() if line.strip()]
    try:
        result = json.loads(lines[-1])
    except (IndexError, json.JSONDecodeError):
        pytest.fail(f"node printed no JSON result (exit {proc.returncode})\n"
                    f"stdout: {out}\nstderr: {err}")
    assert proc.returncode == 0 and result.get("ok") is True, \
        f"node failed (exit {proc.returncode}): {json.dumps(result, indent=1)}\nstderr: {err}"
    return result


def stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.kill()
        proc.communicate()
