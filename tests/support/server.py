"""Run the real server (``python app.py``) as a subprocess on a free port."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests

from deploy.cluster import free_port, stop_processes

ROOT = Path(__file__).resolve().parents[2]
OUTPUT = ROOT / "test-output"

# Set by tests/conftest.py for the running test when it is an in-process one
# (neither ``e2e`` nor ``browser``): starting a server from it is a mistake of
# classification that would slow `make test-fast` down, so ``start`` refuses.
RUNNING_IN_PROCESS_TEST: str | None = None


def _listening_inodes(port: int) -> set[str] | None:
    """Socket inodes listening on ``port`` (Linux /proc/net/tcp*); None without /proc."""
    found: set[str] = set()
    tables = [Path("/proc/net/tcp"), Path("/proc/net/tcp6")]
    if not tables[0].exists():
        return None
    for table in tables:
        try:
            lines = table.read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            # local_address is ADDR:PORT in hex; state 0A is LISTEN; field 9 the inode.
            if len(fields) > 9 and fields[3] == "0A" \
                    and int(fields[1].rsplit(":", 1)[1], 16) == port:
                found.add(fields[9])
    return found


def listens_on(pid: int, port: int) -> bool:
    """Whether process ``pid`` itself holds the socket listening on ``port``.

    A 200 from /healthz only says that *something* answers on the port; a
    server that failed to bind (the port taken by another test's server, or a
    leftover one) would otherwise be taken as started, against the wrong
    server. Without /proc (not Linux) this cannot be checked: True.
    """
    inodes = _listening_inodes(port)
    if inodes is None:
        return True
    try:
        fds = os.listdir(f"/proc/{pid}/fd")
    except OSError:
        return False
    for fd in fds:
        try:
            target = os.readlink(f"/proc/{pid}/fd/{fd}")
        except OSError:
            continue  # closed meanwhile
        if target.startswith("socket:[") and target[8:-1] in inodes:
            return True
    return False


class PortTaken(RuntimeError):
    """The server could not bind its port: someone else took it first."""


class ServerProcess:
    """One ``python app.py`` with its own instance folder, port and log file."""

    def __init__(self, async_mode: str = "eventlet", env: dict | None = None,
                 instance_path: str | None = None, port: int | None = None,
                 name: str = "server") -> None:
        self.async_mode = async_mode
        self.name = name
        # free_port() only finds a port free *now*: another process (another
        # test run on this machine) can take it before the server binds it.
        # start() then moves a port it chose itself, never one it was given.
        self._chosen_port = port is None
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

    def start(self, timeout: float = 60.0) -> ServerProcess:
        """Start the process; return once *it* answers /healthz on its port.

        Started means: the process is alive, holds the listening socket of
        ``self.port`` (checked in /proc, see ``listens_on``) and answers 200 on
        /healthz. Any exit before that fails at once with the log's tail,
        except a port taken between ``free_port()`` and the bind (seen once in
        a full run while another run shared the machine): a port this object
        chose itself is then chosen again, up to three times.
        """
        if RUNNING_IN_PROCESS_TEST is not None:
            raise RuntimeError(
                f"{RUNNING_IN_PROCESS_TEST} starts a server but is classified in-process: "
                "give it a server fixture (module_servers/servers/server) or see "
                "tests/conftest.py for how layers are marked")
        for attempt in range(3):
            try:
                return self._start_once(timeout)
            except PortTaken:
                if not self._chosen_port or attempt == 2:
                    raise
                self.port = free_port()
                self.log_path = OUTPUT / f"{self.name}-{self.async_mode}-{self.port}.log"
        raise AssertionError("unreachable")

    def _start_once(self, timeout: float) -> ServerProcess:
        with open(self.log_path, "ab") as log:  # the child keeps its own descriptor
            offset = log.tell()
            self.proc = subprocess.Popen(self.command(), cwd=ROOT, env=self.env(),
                                         stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                try:
                    mine = self.log_path.read_bytes()[offset:].decode(errors="replace")
                except OSError:
                    mine = ""
                if f"cannot listen on 127.0.0.1:{self.port}" in mine and "in use" in mine:
                    raise PortTaken(f"port {self.port} was taken before the server bound it")
                raise RuntimeError(f"server exited with {self.proc.returncode}:\n{self.log()}")
            try:
                healthy = requests.get(self.url + "/healthz", timeout=1,
                                       verify=self.verify_tls).status_code == 200
            except requests.RequestException:
                healthy = False
            # Ours only if it is still alive and holds the port (not another server).
            if healthy and listens_on(self.proc.pid, self.port) and self.proc.poll() is None:
                return self
            time.sleep(0.05)
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

    def stop(self, grace: float = 10.0) -> None:
        """SIGTERM, then SIGKILL after ``grace`` seconds."""
        stop_processes([self.proc], grace)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
