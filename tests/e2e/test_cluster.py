"""Two processes behind nginx with Redis and PostgreSQL (all real).

Clients are placed on a process with nginx's sticky cookie (``sbnode``), the
way a browser that first landed there would carry it.
"""
from __future__ import annotations

import json
import threading
import time

import pytest
import requests
import socketio

from deploy.cluster import Cluster, find_nginx
from tests.conftest import require
from tests.support.clients import register, token
from tests.support.node_replica import NodeReplica, session_cookie
from tests.support.server import OUTPUT
from tests.support.services import REDIS_DATABASES, postgres_database, redis_db

GENERAL = 1


def on_node(node: str) -> requests.Session:
    http = requests.Session()
    http.cookies.set("sbnode", node)
    return http


class Peer:
    """A python-socketio client pinned to one process through nginx."""

    def __init__(self, cluster: Cluster, username: str, node: str, transport: str) -> None:
        self.events: dict[str, list] = {}
        self.lock = threading.Lock()
        self.sio = socketio.Client(http_session=on_node(node), reconnection=False)
        self.sio.on("*", self._record, namespace="/chat")
        self.disconnected = threading.Event()
        self.sio.on("disconnect", lambda *a: self.disconnected.set(), namespace="/chat")
        self.sio.connect(cluster.url, namespaces=["/chat"], transports=[transport],
                         auth={"token": token(cluster.url, username)}, wait_timeout=10)

    def _record(self, event, *args):
        with self.lock:
            self.events.setdefault(event, []).append(args[0] if args else None)

    def call(self, event, payload):
        return self.sio.call(event, payload, namespace="/chat", timeout=10)

    def wait_for(self, event, predicate=lambda p: True, timeout=10.0):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                for p in self.events.get(event, []):
                    if predicate(p):
                        return p
            time.sleep(0.05)
        raise TimeoutError(f"no {event} within {timeout}s: {self.events.keys()}")

    def close(self):
        if self.sio.connected:
            self.sio.disconnect()


def log_marks(cluster: Cluster) -> dict[str, int]:
    """How long each process's log is now (logs are appended to across runs)."""
    return {name: (cluster.log_dir / f"{name}.log").stat().st_size for name in cluster.nodes}


def node_of(cluster: Cluster, username: str, since: dict[str, int] | None = None) -> set[str]:
    """Which processes logged a connect of this user (from their audit logs, after ``since``)."""
    found = set()
    for name in cluster.nodes:
        with open(cluster.log_dir / f"{name}.log", "rb") as f:
            f.seek((since or {}).get(name, 0))
            log = f.read().decode(errors="replace")
        if f"connect user={username} " in log:
            found.add(name)
    return found


@pytest.fixture(scope="module")
def cluster():
    require("nginx", find_nginx() is not None, "apt-get install nginx-light")
    OUTPUT.mkdir(exist_ok=True)
    with (redis_db(REDIS_DATABASES["tests/e2e/test_cluster.py::cluster"]) as queue,
          postgres_database() as database):
        c = Cluster(2, env={
            "MESSAGE_QUEUE": queue, "DATABASE_URL": database,
            "RATE_LIMIT_LOGIN": "1000/minute", "RATE_LIMIT_MESSAGES": "8/minute;100/second",
        }, log_dir=OUTPUT / "cluster")
        with c:
            yield c


def test_messages_and_presence_cross_processes(cluster):
    for name in ("ann", "ben"):
        register(cluster.url, name)
    ann = Peer(cluster, "ann", "node1", "websocket")
    ben = Peer(cluster, "ben", "node2", "polling")
    try:
        assert node_of(cluster, "ann") == {"node1"} and node_of(cluster, "ben") == {"node2"}
        ann.call("room:join", {"room": GENERAL})
        online_b = ben.call("room:join", {"room": GENERAL})["online"]
        online_a = ann.call("room:join", {"room": GENERAL})["online"]
        assert {u["username"] for u in online_a} == {u["username"] for u in online_b} >= {"ann", "ben"}
        sent = ann.call("message:send", {"room": GENERAL, "text": "from node1", "client_id": "a1"})
        got = ben.wait_for("message", lambda m: m["text"] == "from node1")
        assert got["id"] == sent["message"]["id"]
        back = ben.call("message:send", {"room": GENERAL, "text": "from node2", "client_id": "b1"})
        assert ann.wait_for("message", lambda m: m["text"] == "from node2")["seq"] == \
            back["message"]["seq"] == sent["message"]["seq"] + 1
        # ben's last connection closes on node2: ann on node1 hears he went offline.
        ben.close()
        ann.wait_for("presence", lambda p: p["user"]["username"] == "ben" and p["status"] == "offline")
    finally:
        ann.close()
        ben.close()


def test_per_user_rate_limit_is_shared(cluster):
    register(cluster.url, "cat")
    tabs = [Peer(cluster, "cat", "node1", "websocket"), Peer(cluster, "cat", "node2", "polling")]
    try:
        assert node_of(cluster, "cat") == {"node1", "node2"}
        tabs[0].call("room:join", {"room": GENERAL})
        replies = [tabs[i % 2].call("message:send", {"room": GENERAL, "text": f"n{i}",
                                                      "client_id": f"cat{i}"}) for i in range(10)]
        assert [r["ok"] for r in replies] == [True] * 8 + [False] * 2
        assert {r["error"]["code"] for r in replies[8:]} == {"rate_limited"}
    finally:
        for t in tabs:
            t.close()


def test_logout_on_one_process_disconnects_sockets_on_the_other(cluster):
    http = register(cluster.url, "dan")
    http.cookies.set("sbnode", "node1")
    sock = Peer(cluster, "dan", "node2", "websocket")
    try:
        page = http.get(cluster.url + "/chat")
        assert page.status_code == 200
        csrf = page.text.split('name="csrf_token" value="')[1].split('"')[0]
        r = http.post(cluster.url + "/logout", data={"csrf_token": csrf}, allow_redirects=False)
        assert r.status_code == 302
        assert sock.disconnected.wait(10), "dan's socket on node2 stayed connected"
    finally:
        sock.close()


@pytest.fixture
def failover_cluster():
    require("nginx", find_nginx() is not None, "apt-get install nginx-light")
    with (redis_db(REDIS_DATABASES["tests/e2e/test_cluster.py::failover"]) as queue,
          postgres_database() as database):
        c = Cluster(2, env={
            "MESSAGE_QUEUE": queue, "DATABASE_URL": database, "PRESENCE_EXPIRY": "6",
            "RATE_LIMIT_LOGIN": "1000/minute", "RATE_LIMIT_MESSAGES": "100000/minute",
            "RATE_LIMIT_EVENTS": "100000/minute",
        }, log_dir=OUTPUT / "failover")
        with c:
            yield c


def test_sigkill_one_process_clients_fail_over_and_nothing_is_lost(failover_cluster):
    """Four clients running the page's delivery code (chat/sync.js, chat/outbox.js under
    Node), two on each process, one per transport; node1 is SIGKILLed a third of the way.

    Each client sends its session cookie and sticky cookie (``sbnode``) in its
    headers on every request, both transports. node1's clients keep sending
    sbnode=node1 after it dies (the driver keeps no cookie jar; a browser
    would take node2's cookie): nginx sends them to node2 (``backup``) either
    way. Nothing may be lost or doubled, and every client's own view (no
    sync asked for the check) must end equal to the server's history.
    """
    cluster = failover_cluster
    names = ["fail_a", "fail_b", "fail_c", "fail_d"]
    placement = {"fail_a": ("node1", "websocket"), "fail_b": ("node1", "polling"),
                 "fail_c": ("node2", "websocket"), "fail_d": ("node2", "polling")}
    per_client = 30
    deadline = time.monotonic() + 120
    stored = {"count": 0}
    progress = threading.Condition()

    def on_event(_replica, event):
        if event["event"] == "stored":
            with progress:
                stored["count"] += 1
                progress.notify_all()

    replicas = []
    watcher = None
    marks = log_marks(cluster)
    try:
        # Each client's process starts as soon as its account exists; the
        # other accounts and connections are made while they boot.
        for n in names:
            node, transport = placement[n]
            http = register(cluster.url, n)
            replicas.append(NodeReplica(
                n, cluster.url, GENERAL, [transport],
                cookie=session_cookie(http, sbnode=node), messages=per_client,
                pace_ms=20, timeout_s=deadline - time.monotonic() + 10, on_event=on_event).start())
        for n in ("watcher", "ghost"):
            register(cluster.url, n)
        watcher = Peer(cluster, "watcher", "node2", "websocket")
        ghost = Peer(cluster, "ghost", "node1", "websocket")  # does not reconnect: goes offline
        watcher.call("room:join", {"room": GENERAL})
        ghost.call("room:join", {"room": GENERAL})
        for r in replicas:
            r.wait_for("ready", deadline)
        # The sticky cookie in the client's headers placed it (polling needs it on every request).
        assert {n: node_of(cluster, n, marks) for n in names} == \
            {n: {p[0]} for n, p in placement.items()}

        for r in replicas:
            r.send("start")
        with progress:
            progress.wait_for(lambda: stored["count"] >= per_client * len(replicas) // 3,
                              max(0, deadline - time.monotonic()))
            sent_at_kill = stored["count"]
        on_node1 = [r for r in replicas if placement[r.name][0] == "node1"]
        killed_at = time.monotonic()
        cluster.kill_node("node1")
        for r in replicas:
            r.wait_for("done", deadline)
        # Time until each node1 client was connected again (through nginx, to node2).
        reconnect = {}
        for r in on_node1:
            after = [t for t in r.connect_times if t > killed_at]
            assert after, f"{r.name} did not reconnect after node1 died"
            reconnect[r.name] = after[0] - killed_at
        # The dead process's user goes offline within the expiry (6 s) plus a heartbeat round.
        offline = watcher.wait_for("presence", lambda p: p["user"]["username"] == "ghost"
                                   and p["status"] == "offline", timeout=20)
        offline_after = time.monotonic() - killed_at

        truth = {}
        reader = Peer(cluster, "watcher", "node2", "websocket")
        after_rev = 0
        while True:
            reply = reader.call("sync", {"rooms": {str(GENERAL): after_rev}})
            for m in reply["messages"]:
                truth[m["id"]] = m
                after_rev = max(after_rev, m["rev"])
            if not reply["has_more"]:
                break
        reader.close()
        ordered = sorted(truth.values(), key=lambda m: m["seq"])
        typed = [f"{r.name}-{i}" for r in replicas for i in range(per_client)]
        stored_ids = [m["client_id"] for m in ordered]
        lost = len(set(typed) - set(stored_ids))
        duplicated = len(stored_ids) - len(set(stored_ids))
        assert lost == 0 and duplicated == 0 and len(stored_ids) == len(typed)
        assert [m["seq"] for m in ordered] == list(range(1, len(truth) + 1))
        expected = [[m["id"], m["seq"], m["rev"], m["text"], m["deleted"], m["client_id"]]
                    for m in ordered]
        settle_by = min(deadline, time.monotonic() + 30)
        for r in replicas:
            while True:
                state = r.state(time.monotonic() + 10)
                if state["messages"] == expected and state["pending"] == 0:
                    break
                assert time.monotonic() < settle_by, \
                    f"{r.name}: its view never equalled the server's ({len(state['messages'])} " \
                    f"of {len(expected)} messages, synced_rev {state['synced_rev']})"
                time.sleep(0.2)  # polling the client's state until the deadline
    finally:
        for r in replicas:
            r.close()
        if watcher is not None:
            watcher.close()
    figures = {
        "messages_sent": len(typed), "sent_before_kill": sent_at_kill, "lost": lost,
        "duplicated": duplicated, "reconnect_seconds": {k: round(v, 2) for k, v in reconnect.items()},
        "offline_presence_after_seconds": round(offline_after, 2), "presence_expiry": 6,
    }
    (OUTPUT / "failover.json").write_text(json.dumps(figures, indent=2))
    assert offline["status"] == "offline"


def lease_holder_pid(queue_url: str) -> int | None:
    import redis

    holder = redis.Redis.from_url(queue_url, decode_responses=True).get("sb:lease:market-feed")
    return int(holder.split(":")[1]) if holder else None


def test_the_quote_feed_moves_to_the_survivor(failover_cluster):
    """The feed runs in one process (the lease holder); SIGKILL it and quotes keep flowing."""
    cluster = failover_cluster
    queue = cluster.env["MESSAGE_QUEUE"]
    register(cluster.url, "quoter")
    subscribers = {}
    for node in ("node1", "node2"):
        sio = socketio.Client(http_session=on_node(node), reconnection=False)
        quotes: list[dict] = []
        sio.on("quote", lambda q, quotes=quotes: quotes.append(q), namespace="/market")
        sio.connect(cluster.url, namespaces=["/market"], transports=["websocket"],
                    auth={"token": token(cluster.url, "quoter")}, wait_timeout=10)
        assert sio.call("subscribe", {"symbols": ["ACME"]}, namespace="/market", timeout=10)["ok"]
        subscribers[node] = (sio, quotes)
        if node == "node1":
            # node1 connected first: its feed takes the lease.
            deadline = time.monotonic() + 15
            while lease_holder_pid(queue) is None and time.monotonic() < deadline:
                time.sleep(0.1)
    try:
        assert lease_holder_pid(queue) == cluster.procs["node1"].pid
        survivor_quotes = subscribers["node2"][1]
        deadline = time.monotonic() + 15
        while not survivor_quotes and time.monotonic() < deadline:
            time.sleep(0.1)
        assert survivor_quotes, "quotes from node1's feed did not reach node2's subscriber"
        cluster.kill_node("node1")
        killed_at = time.monotonic()
        seen = len(survivor_quotes)
        deadline = killed_at + 20
        while len(survivor_quotes) <= seen + 2 and time.monotonic() < deadline:
            time.sleep(0.1)
        assert len(survivor_quotes) > seen + 2, "quotes stopped after the feed's process died"
        resumed_after = time.monotonic() - killed_at
        assert lease_holder_pid(queue) == cluster.procs["node2"].pid
        figures = json.loads((OUTPUT / "failover.json").read_text()) \
            if (OUTPUT / "failover.json").exists() else {}
        figures["feed_resumed_after_seconds"] = round(resumed_after, 2)
        (OUTPUT / "failover.json").write_text(json.dumps(figures, indent=2))
    finally:
        for sio, _ in subscribers.values():
            if sio.connected:
                sio.disconnect()


def test_admin_stats_count_both_processes_and_kick_reaches_the_other(cluster):
    # An operator account made with the CLI, as docs/deploy.md says.
    cluster.flask("users", "create", "opsroot", "--admin", input="correct-horse\ncorrect-horse\n")
    for name in ("eve", "fay"):
        register(cluster.url, name)
    eve = Peer(cluster, "eve", "node2", "polling")
    fay = Peer(cluster, "fay", "node1", "websocket")
    admin = socketio.Client(http_session=on_node("node1"), reconnection=False)
    try:
        admin.connect(cluster.url, namespaces=["/admin"], transports=["websocket"],
                      auth={"token": token(cluster.url, "opsroot")}, wait_timeout=10)
        # Each process publishes its figures every housekeeping round (2 s).
        deadline = time.monotonic() + 15
        while True:
            stats = admin.call("stats", {}, namespace="/admin", timeout=10)
            if stats["processes"] == 2 or time.monotonic() > deadline:
                break
            time.sleep(0.5)
        assert stats["ok"] and stats["processes"] == 2
        assert stats["connections"]["by_namespace"].get("/chat", 0) >= 2
        assert stats["connections"]["by_transport"]["polling"] >= 1
        kicked = admin.call("kick", {"username": "eve"}, namespace="/admin", timeout=10)
        assert kicked == {"ok": True, "disconnected": 1, "blocked_seconds": 60}
        assert eve.disconnected.wait(10), "eve's socket on node2 stayed connected"
        assert fay.sio.connected
    finally:
        for c in (eve, fay):
            c.close()
        if admin.connected:
            admin.disconnect()
