"""Floods for the denial-of-service tests (and the measurements in the hardening notes).

Every flood runs in a child process (so the prober's timing is not the
flooder's GIL), talks to 127.0.0.1 only, stops by itself after ``seconds``,
and reconnects whenever the server closes it, as an attacker would.

    .venv/bin/python -m tests.security.floods ping|message|binary URL SECONDS
"""
from __future__ import annotations

import json
import multiprocessing
import statistics
import sys
import threading
import time
from dataclasses import dataclass, field

import requests
import websocket

# One frame of each kind: an Engine.IO ping (a client never sends one in EIO4),
# and an Engine.IO message holding an undecodable Socket.IO packet.
FRAMES = {"ping": "2", "message": "4AAAA"}
BINARY_HEADER = '459999999999-["x",{"_placeholder":true,"num":0}]'  # 9,999,999,999 attachments, on "/"
BINARY_CHUNK = b"\x00" * 60_000  # under MAX_PACKET_BYTES (65536)


def _ws(url: str) -> websocket.WebSocket:
    ws = websocket.create_connection(
        url.replace("http", "ws", 1) + "/socket.io/?EIO=4&transport=websocket",
        timeout=5, origin=url)
    ws.recv()  # the open packet
    return ws


def _flood(kind: str, url: str, seconds: float, counts) -> None:
    deadline = time.monotonic() + seconds
    sent = connects = 0
    while time.monotonic() < deadline:
        try:
            ws = _ws(url)
            connects += 1
            if kind == "binary":
                ws.send("40")
                ws.send(BINARY_HEADER)
            while time.monotonic() < deadline:
                for _ in range(50):
                    if kind == "binary":
                        ws.send_binary(BINARY_CHUNK)
                    else:
                        ws.send(FRAMES[kind])
                    sent += 1
        except Exception:  # closed (or refused): reconnect, as an attacker would
            time.sleep(0.01)
        else:
            ws.close(timeout=0.2)
    counts.put((sent, connects))


@dataclass
class Flood:
    """A flood in a child process; ``wait()`` gives (frames sent, connections made)."""
    kind: str
    url: str
    seconds: float
    _counts: object = field(default=None, repr=False)
    _proc: object = field(default=None, repr=False)

    def start(self) -> Flood:
        ctx = multiprocessing.get_context("spawn")
        self._counts = ctx.Queue()
        self._proc = ctx.Process(target=_flood, args=(self.kind, self.url, self.seconds,
                                                      self._counts), daemon=True)
        self._proc.start()
        return self

    def wait(self) -> tuple[int, int]:
        try:
            return self._counts.get(timeout=self.seconds + 30)
        finally:
            self._proc.join(5)
            if self._proc.is_alive():
                self._proc.kill()


class Prober(threading.Thread):
    """GET /healthz every ``every`` s until stopped; a timeout counts as ``timeout`` s."""

    def __init__(self, url: str, every: float = 0.1, timeout: float = 5.0) -> None:
        super().__init__(daemon=True)
        self.url, self.every, self.timeout = url, every, timeout
        self.latencies: list[float] = []
        self.failures = 0
        self._halt = threading.Event()

    def run(self) -> None:
        while not self._halt.is_set():
            started = time.monotonic()
            try:
                ok = requests.get(self.url + "/healthz", timeout=self.timeout).status_code == 200
            except requests.RequestException:
                ok = False
            took = time.monotonic() - started
            self.latencies.append(took if ok else max(took, self.timeout))
            self.failures += not ok
            self._halt.wait(max(0.0, self.every - took))

    def stop(self) -> Prober:
        self._halt.set()
        self.join(self.timeout + 5)
        return self

    def summary(self) -> dict:
        lat = self.latencies or [float("nan")]
        return {"probes": len(self.latencies), "failures": self.failures,
                "max": round(max(lat), 3), "median": round(statistics.median(lat), 3)}


def rss_mib(pid: int) -> float:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def run(kind: str, url: str, seconds: float) -> dict:
    prober = Prober(url)
    prober.start()
    flood = Flood(kind, url, seconds).start()
    sent, connects = flood.wait()
    prober.stop()
    return {"kind": kind, "sent": sent, "connects": connects, **prober.summary()}


if __name__ == "__main__":
    print(json.dumps(run(sys.argv[1], sys.argv[2], float(sys.argv[3]))))
