"""Nothing lost, nothing doubled: the page's delivery code, through a proxy that cuts connections.

Five clients run the shipped client modules (static/js/chat/sync.js and
outbox.js) under Node with socket.io-client (tests/e2e/node/replica_client.mjs,
driven by tests/support/node_replica.py): two over websocket only, two over
long-polling only, one the page's way (polling, then the upgrade). They send
200 messages in total through the outbox, a few typed at once, and edit and
delete some, through a TCP proxy that cuts connections (one per few messages
stored, and a bounded number more at random moments); in the second test the
server is also SIGKILLed and restarted in the middle.
At the end every client's view, built only from what it received (live
events, the sync it does on every connect and on a gap that stays open),
must equal the server's history: same messages, seqs, revs and texts, edits
and deletes applied, every client_id stored once, each client's messages in
the order typed. No client is asked to sync for the check.

The randomness (which connection is cut, when, how many messages are typed at
once) comes from one seed, printed and recorded; ``FAULT_SEED=<n>`` replays
it. The figures go to test-output/delivery-faults.json for the closing note.
"""
from __future__ import annotations

import json
import os
import random
import threading
import time

import pytest
import socketio

from tests.support.chaos_proxy import ChaosProxy
from tests.support.clients import register, token
from tests.support.node_replica import NodeReplica, session_cookie
from tests.support.server import OUTPUT, ServerProcess

CLIENTS = 5
TOTAL = 200
PER_CLIENT = TOTAL // CLIENTS
TRANSPORTS = [["websocket"], ["polling"], ["websocket"], ["polling"], ["polling", "websocket"]]
GENERAL = 1
EDITS = [i for i in range(PER_CLIENT) if i % 7 == 3]
DELETES = [i for i in range(PER_CLIENT) if i % 11 == 5]
# Cuts: one per CUT_EVERY messages stored, plus at most TIMED_CUTS at random
# moments. Counts, not a rate: a loaded machine gets the same faults, not more.
CUT_EVERY = TOTAL // 25
TIMED_CUTS = 25


@pytest.fixture
def seed() -> int:
    """The run's seed: FAULT_SEED when set (to replay a failure), else a fresh one, printed."""
    value = int(os.environ.get("FAULT_SEED") or random.SystemRandom().randrange(1, 10**6))
    print(f"\nFAULT_SEED={value} replays this run's cuts and bursts")
    return value


@pytest.fixture
def cluster(seed):
    """The server, and a chaos proxy in front of it that the server accepts as an origin."""
    srv = ServerProcess(async_mode="eventlet", name="faults")
    proxy = ChaosProxy(srv.port, seed=seed)
    srv.extra_env.update(
        RATE_LIMIT_MESSAGES="100000/minute", RATE_LIMIT_EVENTS="100000/minute",
        CORS_ALLOWED_ORIGINS=f"{srv.url},{proxy.url}",
    )
    srv.start()
    try:
        with proxy:
            yield srv, proxy
    finally:
        srv.stop()


class Progress:
    """Messages stored and clients finished, across every client (fed by their reader threads)."""

    def __init__(self) -> None:
        self.stored = 0
        self.finished = 0
        self.cond = threading.Condition()

    def on_event(self, _replica: NodeReplica, event: dict) -> None:
        if event["event"] in ("stored", "done"):
            with self.cond:
                if event["event"] == "stored":
                    self.stored += 1
                else:
                    self.finished += 1
                self.cond.notify_all()

    def wait(self, predicate, deadline: float, step: float = 1.0) -> bool:
        """Until ``predicate()`` (under the lock) or the deadline, or ``step`` seconds pass."""
        with self.cond:
            return self.cond.wait_for(predicate, max(0, min(step, deadline - time.monotonic())))


def server_history(base_url: str, tok: str) -> dict[int, dict]:
    """The server's truth: every message of the room at its latest rev."""
    c = socketio.Client()
    c.connect(base_url, namespaces=["/chat"], transports=["websocket"], auth={"token": tok})
    try:
        messages: dict[int, dict] = {}
        after = 0
        while True:
            reply = c.call("sync", {"rooms": {str(GENERAL): after}}, namespace="/chat", timeout=10)
            assert reply["ok"], reply
            for m in reply["messages"]:
                messages[m["id"]] = m
                after = max(after, m["rev"])
            if not reply["has_more"]:
                return messages
    finally:
        c.disconnect()


def start_replicas(srv: ServerProcess, url: str, seed: int, progress: Progress,
                   deadline: float) -> list[NodeReplica]:
    """One Node client per user, each with its room loaded (ready), not sending yet."""
    rng = random.Random(seed)
    replicas = []
    for i, transports in enumerate(TRANSPORTS):
        name = f"faulty{i}"
        http = register(srv.url, name)
        replicas.append(NodeReplica(
            name, url, GENERAL, transports, cookie=session_cookie(http), origin=url,
            messages=PER_CLIENT, burst=rng.randint(1, 4), edit=EDITS, delete=DELETES,
            timeout_s=deadline - time.monotonic() + 10, on_event=progress.on_event).start())
    for r in replicas:
        r.wait_for("ready", deadline)
    return replicas


def run_workload(replicas: list[NodeReplica], progress: Progress, deadline: float,
                 middle=None) -> None:
    """Every client sends its messages (and edits and deletes) until done; ``middle`` meanwhile."""
    for r in replicas:
        r.send("start")
    if middle is not None:
        middle()
    for r in replicas:
        r.wait_for("done", deadline)


def expected_view(truth: dict[int, dict]) -> list[list]:
    return [[m["id"], m["seq"], m["rev"], m["text"], m["deleted"], m["client_id"]]
            for m in sorted(truth.values(), key=lambda m: m["seq"])]


def converged(r: NodeReplica, expected: list[list], deadline: float, where: str) -> dict:
    """The client's own view once it equals the server's (polled, no sync asked); fails at the deadline."""
    while True:
        state = r.state(time.monotonic() + 10)
        if state["messages"] == expected and not state["gap"] and state["pending"] == 0:
            return state
        if time.monotonic() > deadline:
            have = {m[0]: m for m in state["messages"]}
            want = {m[0]: m for m in expected}
            missing = sorted(set(want) - set(have))
            extra = sorted(set(have) - set(want))
            stale = sorted(i for i in set(have) & set(want) if have[i] != want[i])
            raise AssertionError(
                f"{r.name} diverged from the server: missing ids {missing[:20]}, extra {extra[:20]}, "
                f"different {[(have[i], want[i]) for i in stale[:5]]}; synced_rev "
                f"{state['synced_rev']}, gap {state['gap']}, pending {state['pending']} {where}")
        time.sleep(0.2)  # polling the client's state until the deadline


def check_convergence(base_url: str, tok: str, replicas: list[NodeReplica], deadline: float,
                      seed: int) -> dict:
    truth = server_history(base_url, tok)
    ordered = sorted(truth.values(), key=lambda m: m["seq"])
    where = f"(FAULT_SEED={seed})"
    # Gapless seq from 1 and one stored message per client_id typed.
    assert [m["seq"] for m in ordered] == list(range(1, len(ordered) + 1)), where
    typed = [f"{r.name}-{i}" for r in replicas for i in range(PER_CLIENT)]
    stored_ids = [m["client_id"] for m in ordered]
    lost = sorted(set(typed) - set(stored_ids))
    duplicated = len(stored_ids) - len(set(stored_ids))
    assert len(typed) == TOTAL and not lost and duplicated == 0, (lost, duplicated, where)
    # Nothing else stored either (a retry under a new client_id would double a message).
    extra = sorted(set(stored_ids) - set(typed))
    assert not extra and len(ordered) == TOTAL, (extra[:20], len(ordered), where)
    by_client_id = {m["client_id"]: m for m in ordered}
    for r in replicas:
        # The outbox sends one at a time in the order typed: seqs rise with the index.
        seqs = [by_client_id[f"{r.name}-{i}"]["seq"] for i in range(PER_CLIENT)]
        assert seqs == sorted(seqs), (r.name, "not in the order typed", where)
        for i in range(PER_CLIENT):
            m = by_client_id[f"{r.name}-{i}"]
            assert r.stored[i]["id"] == m["id"], (r.name, i, where)
            if i in DELETES:
                assert m["deleted"] and m["text"] == "", (m, where)
            elif i in EDITS:
                assert m["text"] == f"{r.name} #{i} (edited)" and m["edited_ts"], (m, where)
            else:
                assert m["text"] == f"{r.name} #{i}" and not m["edited_ts"], (m, where)

    expected = expected_view(truth)
    settle_by = min(deadline, time.monotonic() + 30)
    states = {r.name: converged(r, expected, settle_by, where) for r in replicas}
    return {"seed": seed, "messages_sent": len(typed), "stored": len(ordered), "lost": len(lost),
            "duplicated": duplicated, "edits": len(EDITS) * CLIENTS,
            "deletes": len(DELETES) * CLIENTS,
            "reconnects": sum(s["connects"] - 1 for s in states.values()),
            "syncs": sum(s["syncs"] for s in states.values()),
            "gap_syncs": sum(s["gap_syncs"] for s in states.values()),
            "resends": sum(s["resends"] for s in states.values()),
            "duplicate_acks": sum(s["duplicate_acks"] for s in states.values()),
            "bursts": {r.name: r.config["burst"] for r in replicas}}


def record(name: str, figures: dict) -> None:
    OUTPUT.mkdir(exist_ok=True)
    path = OUTPUT / "delivery-faults.json"
    data = json.loads(path.read_text()) if path.exists() else {}
    data[name] = figures
    path.write_text(json.dumps(data, indent=2))


def cut_every(proxy: ChaosProxy, progress: Progress, messages: int, deadline: float):
    """A workload ``middle`` that cuts one live connection per ``messages`` stored.

    Driven by progress, not by the clock: a quick machine finishes the
    workload in a few seconds, and timed cuts alone then land only a few.
    """
    def middle() -> None:
        next_cut = messages
        while time.monotonic() < deadline:
            progress.wait(lambda due=next_cut: progress.stored >= due or progress.finished == CLIENTS,
                          deadline, step=0.05)
            if progress.finished == CLIENTS:
                return
            if progress.stored >= next_cut and proxy.cut_one():
                next_cut += messages
    return middle


def stop_all(replicas: list[NodeReplica]) -> None:
    for r in replicas:
        r.close()


def test_random_cuts_lose_and_double_nothing(cluster, seed):
    srv, proxy = cluster
    deadline = time.monotonic() + 150
    progress = Progress()
    replicas = start_replicas(srv, proxy.url, seed, progress, deadline)
    try:
        proxy.start_cutting(0.15, 0.6, max_cuts=TIMED_CUTS)
        run_workload(replicas, progress, deadline,
                     middle=cut_every(proxy, progress, CUT_EVERY, deadline))
        proxy.stop_cutting()
        figures = check_convergence(srv.url, token(srv.url, "faulty0"), replicas, deadline, seed)
    finally:
        stop_all(replicas)
    figures["cuts"] = proxy.cuts
    record("random_cuts", figures)
    assert proxy.cuts >= 20, f"the proxy should have cut connections many times (FAULT_SEED={seed})"
    assert figures["reconnects"] > 0


def test_server_killed_and_restarted_midway(cluster, seed):
    srv, proxy = cluster
    deadline = time.monotonic() + 180
    progress = Progress()
    replicas = start_replicas(srv, proxy.url, seed, progress, deadline)
    killed = {}

    def kill_in_the_middle() -> None:
        progress.wait(lambda: progress.stored >= TOTAL // 2, deadline, step=deadline)
        killed["at_sent"] = progress.stored
        srv.kill()
        proxy.cut_all()
        # The outage lasts as long as the restart (a few seconds): clients retry meanwhile.
        started = time.monotonic()
        srv.start()
        killed["restart_seconds"] = round(time.monotonic() - started, 2)

    try:
        proxy.start_cutting(0.3, 1.0, max_cuts=TIMED_CUTS // 2)
        run_workload(replicas, progress, deadline, middle=kill_in_the_middle)
        proxy.stop_cutting()
        figures = check_convergence(srv.url, token(srv.url, "faulty0"), replicas, deadline, seed)
    finally:
        stop_all(replicas)
    figures.update(cuts=proxy.cuts, killed_after_messages=killed["at_sent"],
                   restart_seconds=killed["restart_seconds"])
    record("server_sigkill", figures)
    assert TOTAL // 2 <= killed["at_sent"] < TOTAL, f"FAULT_SEED={seed}"
    # Every client lost its connection with the server and came back.
    assert all(len(r.connect_times) >= 2 for r in replicas), f"FAULT_SEED={seed}"
