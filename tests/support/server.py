"""Run the real server (``python app.py``) as a subprocess on a free port."""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[2]
OUTPUT = ROOT / "test-output"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class ServerProcess:
    """One ``python app.py`` with its own instance folder, port and log file."""

    def __init__(self, async_mode: str = "eventlet", env: dict | None = None,
                 instance_path: str | None = None, port: int | None = None,
                 name: str = "server") -> None:
        self.async_mode = async_mode
        self.port = port or free_port()
        self.instance_path = instance_path or tempfile.mkdtemp(prefix="sb-inst-")
        self.extra_env = env or {}
        OUTPUT.mkdir(exist_ok=True)
        self.log_path = OUTPUT / f"{name}-{async_mode}-{self.port}.log"
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def env(self) -> dict:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("FLASK_", "SWITCHBOARD_"))}
        env.update(
            ASYNC_MODE=self.async_mode,
            HOST="127.0.0.1",
            PORT=str(self.port),
            INSTANCE_PATH=self.instance_path,
            SECRET_KEY="e2e-secret-key",
            # Tests log in many users from one IP; the login limit has its own test.
            RATE_LIMIT_LOGIN="1000/minute",
            LOG_LEVEL="info",
        )
        env.update(self.extra_env)
        return env

    verify_tls = True  # a subclass serving a self-signed certificate turns this off

    def command(self) -> list[str]:
        return [sys.executable, "app.py"]

    def start(self, timeout: float = 30.0) -> "ServerProcess":
        with open(self.log_path, "ab") as log:  # the child keeps its own descriptor
            self.proc = subprocess.Popen(self.command(), cwd=ROOT, env=self.env(),
                                         stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited with {self.proc.returncode}:\n{self.log()}")
            try:
                if requests.get(self.url + "/healthz", timeout=1,
                                verify=self.verify_tls).status_code == 200:
                    return self
            except requests.RequestException:
                pass
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"server did not answer within {timeout}s:\n{self.log()}")

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-5000:]
        except OSError:
            return ""

    def kill(self) -> None:
        """SIGKILL: no clean-up at all, as a crash would leave it."""
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(10)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.kill()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
