"""Run N Switchboard processes behind nginx with Redis, on this machine.

    python deploy/cluster.py [--processes 2] [--port 8080]      (what `make cluster` runs)

Starts its own redis-server on a free loopback port (unless MESSAGE_QUEUE
is set), migrates the database once, starts the processes on free
127.0.0.1 ports with MESSAGE_QUEUE pointing at Redis, renders
deploy/nginx/switchboard.conf.in for them and runs nginx in the foreground
of this script on the given port. Ctrl-C stops everything it started.
The end-to-end cluster tests use the same Cluster class.
"""
from __future__ import annotations

import argparse
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TEMPLATE = ROOT / "deploy" / "nginx" / "switchboard.conf.in"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def stop_processes(procs, grace: float = 10.0) -> None:
    """SIGTERM to every one still running, then wait up to ``grace`` seconds
    for each and SIGKILL what is left. All are asked first, so they shut down
    side by side, not one after another. ``None`` entries are skipped."""
    live = [p for p in procs if p is not None]
    for proc in live:
        if proc.poll() is None:
            proc.terminate()
    for proc in live:
        try:
            proc.wait(grace)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(grace)


def find_nginx() -> str | None:
    return shutil.which("nginx") or next(
        (p for p in ("/usr/sbin/nginx", "/usr/local/sbin/nginx") if os.path.exists(p)), None)


def render_nginx(backends: dict[str, int], listen: str, max_body: str = "64k") -> str:
    """The nginx server config for these backends (node name -> port)."""
    node_map = "\n".join(f"    {name} switchboard_{name};" for name in backends)
    any_ = "\n".join(f"    server 127.0.0.1:{port} max_fails=1 fail_timeout=5s;"
                     for port in backends.values())
    nodes = []
    for name, port in backends.items():
        others = "\n".join(f"    server 127.0.0.1:{p} backup;" for n, p in backends.items()
                           if n != name)
        nodes.append(f"upstream switchboard_{name} {{\n    server 127.0.0.1:{port} "
                     f"max_fails=1 fail_timeout=5s;\n{others}\n}}")
    return (TEMPLATE.read_text().replace("@NODE_MAP@", node_map)
            .replace("@UPSTREAM_ANY@", any_).replace("@UPSTREAM_NODES@", "\n".join(nodes))
            .replace("@LISTEN@", listen).replace("@MAX_BODY@", max_body))


def wait_http(url: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=1) as r:
                if r.status == 200:
                    return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"{url} did not answer within {timeout}s")


class Cluster:
    """N app processes + nginx. Redis and the database must already answer."""

    def __init__(self, processes: int = 2, port: int | None = None, env: dict | None = None,
                 workdir: str | None = None, log_dir: Path | None = None) -> None:
        self.port = port or free_port()
        self.workdir = Path(workdir or tempfile.mkdtemp(prefix="sb-cluster-"))
        self.log_dir = Path(log_dir or self.workdir)
        self.log_dir.mkdir(parents=True, exist_ok=True)
        self.nodes = {f"node{i + 1}": free_port() for i in range(processes)}
        self.env = {
            "INSTANCE_PATH": str(self.workdir / "instance"),
            "TRUSTED_PROXIES": "1",
            "CORS_ALLOWED_ORIGINS": f"http://127.0.0.1:{self.port},http://localhost:{self.port}",
            **(env or {}),
        }
        self.procs: dict[str, subprocess.Popen] = {}
        self.nginx: subprocess.Popen | None = None
        self.redis: subprocess.Popen | None = None
        self.own_redis = "MESSAGE_QUEUE" not in (env or {})

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def node_url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.nodes[name]}"

    def _env(self, name: str) -> dict:
        env = {k: v for k, v in os.environ.items() if not k.startswith("FLASK_")}
        env.update(self.env, HOST="127.0.0.1", PORT=str(self.nodes[name]), NODE_NAME=name)
        env.setdefault("SECRET_KEY", "cluster-secret-" + self.workdir.name)
        return env

    def flask(self, *args: str, input: str | None = None) -> subprocess.CompletedProcess:
        """A `flask` command against the cluster's database and settings (e.g. `users create`)."""
        return subprocess.run([sys.executable, "-m", "flask", "--app", "app", *args],
                              cwd=ROOT, env=self._env(next(iter(self.nodes))), input=input,
                              text=True, check=True, capture_output=True)

    def migrate(self) -> None:
        """`flask db upgrade` once, before any process starts."""
        self.flask("db", "upgrade")

    def start_node(self, name: str) -> None:
        log = open(self.log_dir / f"{name}.log", "ab")
        self.procs[name] = subprocess.Popen([sys.executable, "app.py"], cwd=ROOT,
                                            env=self._env(name), stdout=log,
                                            stderr=subprocess.STDOUT)
        wait_http(self.node_url(name) + "/healthz")

    def kill_node(self, name: str) -> None:
        proc = self.procs.get(name)
        if proc and proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
            proc.wait(10)

    def start_nginx(self) -> None:
        nginx = find_nginx()
        if nginx is None:
            raise RuntimeError("nginx is not installed (apt-get install nginx-light)")
        conf_dir = self.workdir / "nginx"
        (conf_dir / "logs").mkdir(parents=True, exist_ok=True)
        server = render_nginx(self.nodes, f"127.0.0.1:{self.port}")
        (conf_dir / "nginx.conf").write_text(
            f"worker_processes 1;\npid {conf_dir}/nginx.pid;\nerror_log {self.log_dir}/nginx-error.log;\n"
            "events { worker_connections 4096; }\n"
            "http {\n"
            f"  access_log {self.log_dir}/nginx-access.log;\n"
            f"  client_body_temp_path {conf_dir}/body;\n  proxy_temp_path {conf_dir}/proxy;\n"
            f"  fastcgi_temp_path {conf_dir}/fcgi;\n  uwsgi_temp_path {conf_dir}/uwsgi;\n"
            f"  scgi_temp_path {conf_dir}/scgi;\n"
            f"{server}\n}}\n")
        self.nginx = subprocess.Popen([nginx, "-p", str(conf_dir), "-c", str(conf_dir / "nginx.conf"),
                                       "-g", "daemon off;"],
                                      stdout=open(self.log_dir / "nginx.out", "ab"),
                                      stderr=subprocess.STDOUT)
        wait_http(self.url + "/healthz")

    def start_redis(self) -> None:
        """A private redis-server for this cluster (nothing kept on disk)."""
        server = shutil.which("redis-server")
        if server is None:
            raise RuntimeError("redis-server is not installed (apt-get install redis-server)")
        port = free_port()
        self.redis = subprocess.Popen(
            [server, "--bind", "127.0.0.1", "--port", str(port), "--save", "", "--appendonly", "no"],
            stdout=open(self.log_dir / "redis.log", "ab"), stderr=subprocess.STDOUT)
        self.env["MESSAGE_QUEUE"] = f"redis://127.0.0.1:{port}/0"
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", port)) == 0:
                    return
            time.sleep(0.05)
        raise RuntimeError("redis-server did not start")

    def start(self) -> Cluster:
        if self.own_redis:
            self.start_redis()
        self.migrate()
        for name in self.nodes:
            self.start_node(name)
        self.start_nginx()
        return self

    def stop(self) -> None:
        stop_processes([self.nginx, *self.procs.values(), self.redis])

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--port", type=int, default=8080)
    parser.add_argument("--workdir", default=str(ROOT / "instance" / "cluster"))
    args = parser.parse_args()
    env = {"INSTANCE_PATH": str(Path(args.workdir) / "instance")}
    for name in ("MESSAGE_QUEUE", "DATABASE_URL", "ASYNC_MODE", "SECRET_KEY"):
        if os.environ.get(name):
            env[name] = os.environ[name]
    cluster = Cluster(args.processes, args.port, workdir=args.workdir, env=env)
    # SIGTERM (a supervisor, `timeout`) stops everything we started, like Ctrl-C.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        cluster.start()
        print(f"Switchboard cluster: {args.processes} processes behind nginx at {cluster.url}")
        print(f"logs in {cluster.log_dir}; Ctrl-C stops it")
        while all(p.poll() is None for p in cluster.procs.values()):
            time.sleep(1)
    except (KeyboardInterrupt, SystemExit):
        pass
    finally:
        cluster.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
