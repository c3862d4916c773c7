"""Driving ``tests/e2e/node/replica_client.mjs``: a chat client under Node that
runs the page's own delivery code (static/js/chat/sync.js and outbox.js) over
socket.io-client, for the fault-injection tests.

One ``NodeReplica`` per client process. A reader thread turns its JSON lines
into ``events`` (and counters the tests watch: ``stored``, ``connect_times``);
every wait has a deadline, and a process that reports an error or exits makes
the wait fail at once with its output.
"""
from __future__ import annotations

import json
import subprocess
import threading
import time
from collections.abc import Callable, Sequence

import requests

from tests.support.node_client import node_binary
from tests.support.server import ROOT

SCRIPT = ROOT / "tests" / "e2e" / "node" / "replica_client.mjs"


def session_cookie(http: requests.Session, **extra: str) -> str:
    """The Cookie header a browser holding ``http``'s cookies would send (plus ``extra``)."""
    jar = {c.name: c.value for c in http.cookies}
    jar.update(extra)
    return "; ".join(f"{k}={v}" for k, v in jar.items())


class NodeReplica:
    """One replica_client.mjs process; see the script's header for the protocol."""

    def __init__(self, name: str, url: str, room: int, transports: list[str], *,
                 cookie: str | None = None, token: str | None = None, origin: str | None = None,
                 messages: int = 0, burst: int = 1, pace_ms: int = 0,
                 edit: Sequence[int] = (), delete: Sequence[int] = (), timeout_s: float = 120,
                 reconnection_delay_ms: int = 200, reconnection_delay_max_ms: int = 1000,
                 on_event: Callable[[NodeReplica, dict], None] | None = None) -> None:
        self.name = name
        self.transports = transports
        self.config = {
            "url": url, "origin": origin or url, "cookie": cookie, "token": token, "name": name,
            "room": room, "transports": transports, "messages": messages, "burst": burst,
            "pace_ms": pace_ms, "edit": list(edit), "delete": list(delete),
            "timeout_ms": int(timeout_s * 1000), "reconnection_delay_ms": reconnection_delay_ms,
            "reconnection_delay_max_ms": reconnection_delay_max_ms,
        }
        self.on_event = on_event
        self.events: list[dict] = []
        self.stored: dict[int, dict] = {}  # index typed -> the stored event
        self.connect_times: list[float] = []  # time.monotonic() of every connect line read
        self.stderr: list[str] = []
        self.cond = threading.Condition()
        self.proc: subprocess.Popen | None = None

    # -- the process ----------------------------------------------------------
    def start(self) -> NodeReplica:
        self.proc = subprocess.Popen(
            [node_binary(), str(SCRIPT), json.dumps(self.config)], cwd=ROOT,
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            text=True, bufsize=1)
        threading.Thread(target=self._read, daemon=True).start()
        threading.Thread(target=self._read_stderr, daemon=True).start()
        return self

    def _read(self) -> None:
        for line in self.proc.stdout:
            try:
                event = json.loads(line)
            except json.JSONDecodeError:
                event = {"event": "noise", "line": line}
            with self.cond:
                if event["event"] == "connect":
                    self.connect_times.append(time.monotonic())
                elif event["event"] == "stored":
                    self.stored[event["index"]] = event
                self.events.append(event)
                self.cond.notify_all()
            if self.on_event is not None:
                self.on_event(self, event)
        with self.cond:
            self.events.append({"event": "exit"})
            self.cond.notify_all()

    def _read_stderr(self) -> None:
        for line in self.proc.stderr:
            if len(self.stderr) < 200:
                self.stderr.append(line)

    def send(self, command: str) -> None:
        self.proc.stdin.write(command + "\n")
        self.proc.stdin.flush()

    def describe(self) -> str:
        told = [e for e in self.events if e["event"] != "state"]
        tail = "\n".join(json.dumps(e)[:300] for e in told[-15:])
        return (f"{self.name} ({'+'.join(self.transports)}), last events:\n{tail}\n"
                f"stderr: {''.join(self.stderr)[-2000:]}")

    # -- waiting --------------------------------------------------------------
    def wait_for(self, kind: str, deadline: float, after: int = 0) -> dict:
        """The first ``kind`` event at or after position ``after``; fails on error, exit or deadline."""
        with self.cond:
            while True:
                for event in self.events[after:]:
                    if event["event"] == kind:
                        return event
                    if event["event"] in ("error", "exit"):
                        raise AssertionError(f"the node client stopped: {self.describe()}")
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError(f"no {kind} before the deadline: {self.describe()}")
                self.cond.wait(min(remaining, 1.0))

    @property
    def connects(self) -> int:
        return len(self.connect_times)

    @property
    def connected(self) -> bool:
        """Whether the last connection event read is a connect."""
        with self.cond:
            for event in reversed(self.events):
                if event["event"] in ("connect", "disconnect"):
                    return event["event"] == "connect"
        return False

    def state(self, deadline: float) -> dict:
        """The client's view now (it does not sync for this: it reports what it holds)."""
        with self.cond:
            mark = len(self.events)
        self.send("state")
        return self.wait_for("state", deadline, after=mark)

    def close(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        try:
            self.send("quit")
            self.proc.wait(5)
        except (OSError, subprocess.TimeoutExpired):
            self.proc.kill()
            self.proc.wait(5)
