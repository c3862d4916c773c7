"""Nothing lost, nothing doubled: clients behind a proxy that cuts connections.

Five clients (mixed websocket and polling) send 200 messages in total, edit
and delete some, through a TCP proxy that cuts connections at random
moments; in a second test the server is SIGKILLed and restarted in the
middle. At the end every client's view, built only from what it received
plus ``sync``, must equal the server's history: same seq list, same texts,
edits and deletes applied, no duplicates. The figures are written to
test-output/delivery-faults.json for the closing note.
"""
from __future__ import annotations

import json
import threading
import time

import pytest
import socketio

from tests.support.chaos_proxy import ChaosProxy
from tests.support.clients import register, token
from tests.support.replica import ReplicaClient
from tests.support.server import OUTPUT, ServerProcess

CLIENTS = 5
TOTAL = 200
TRANSPORTS = ["websocket", "polling", "websocket", "polling", "websocket"]
GENERAL = 1


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


def run_workload(replicas: list[ReplicaClient], deadline: float, middle=None) -> dict:
    """Each replica sends TOTAL/CLIENTS messages, editing every 7th and deleting every 11th."""
    per_client = TOTAL // len(replicas)
    sent: dict[str, list[str]] = {r.name: [] for r in replicas}
    edits: dict[int, str] = {}
    deletes: set[int] = set()
    errors: list[BaseException] = []
    progress = {"sent": 0, "finished": 0}
    lock = threading.Lock()

    def work(replica: ReplicaClient) -> None:
        try:
            for i in range(per_client):
                text = f"{replica.name} #{i}"
                message = replica.send(text, deadline)
                sent[replica.name].append(message["client_id"])
                with lock:
                    progress["sent"] += 1
                if i % 7 == 3:
                    new_text = text + " (edited)"
                    replica.until_ok("message:edit", {"id": message["id"], "text": new_text}, deadline)
                    with lock:
                        edits[message["id"]] = new_text
                if i % 11 == 5:
                    # A retried delete of an already deleted message answers not_found: done.
                    replica.until_ok("message:delete", {"id": message["id"]}, deadline,
                                     done_codes=("not_found",))
                    with lock:
                        deletes.add(message["id"])
        except BaseException as exc:
            errors.append(exc)
        finally:
            with lock:
                progress["finished"] += 1

    threads = [threading.Thread(target=work, args=(r,)) for r in replicas]
    for t in threads:
        t.start()
    if middle is not None:
        middle(progress)
    for t in threads:
        t.join(max(1, deadline - time.monotonic()))
    assert not errors, errors
    assert all(not t.is_alive() for t in threads), "workload did not finish in time"
    return {"sent": sent, "edits": edits, "deletes": deletes}


def check_convergence(base_url: str, tok: str, replicas: list[ReplicaClient], work: dict,
                      deadline: float) -> dict:
    truth = server_history(base_url, tok)
    ordered = sorted(truth.values(), key=lambda m: m["seq"])
    # Gapless seq from 1 and one stored message per client_id sent.
    assert [m["seq"] for m in ordered] == list(range(1, len(ordered) + 1))
    all_sent = [cid for ids in work["sent"].values() for cid in ids]
    stored_ids = [m["client_id"] for m in ordered]
    lost = len(set(all_sent) - set(stored_ids))
    duplicated = len(stored_ids) - len(set(stored_ids))
    assert len(all_sent) == TOTAL and lost == 0 and duplicated == 0
    for mid, text in work["edits"].items():
        if mid not in work["deletes"]:
            assert truth[mid]["text"] == text and truth[mid]["edited_ts"]
    for mid in work["deletes"]:
        assert truth[mid]["deleted"] and truth[mid]["text"] == ""

    expected = [(m["id"], m["seq"], m["rev"], m["text"], m["deleted"]) for m in ordered]
    for r in replicas:
        assert r.sync(deadline), f"{r.name} could not sync at the end"
        view = [(m["id"], m["seq"], m["rev"], m["text"], m["deleted"]) for m in r.history()]
        assert view == expected, f"{r.name} diverged from the server"
    return {"messages_sent": len(all_sent), "stored": len(ordered), "lost": lost,
            "duplicated": duplicated, "edits": len(work["edits"]), "deletes": len(work["deletes"]),
            "reconnects": sum(r.connects - 1 for r in replicas)}


def record(name: str, figures: dict) -> None:
    OUTPUT.mkdir(exist_ok=True)
    path = OUTPUT / "delivery-faults.json"
    data = json.loads(path.read_text()) if path.exists() else {}
    data[name] = figures
    path.write_text(json.dumps(data, indent=2))


@pytest.fixture
def cluster():
    """The server, and a chaos proxy in front of it that the server accepts as an origin."""
    srv = ServerProcess(async_mode="eventlet", name="faults")
    proxy = ChaosProxy(srv.port, seed=7)
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


def cut_every(proxy: ChaosProxy, messages: int, deadline: float):
    """A workload ``middle`` that cuts one live connection per ``messages`` sent.

    Driven by progress, not by the clock: a quick machine finishes the
    workload in about a second, and timed cuts alone then land only a few.
    """
    def middle(progress: dict) -> None:
        next_cut = messages
        while progress["finished"] < CLIENTS and time.monotonic() < deadline:
            if progress["sent"] >= next_cut and proxy.cut_one():
                next_cut += messages
            time.sleep(0.005)
    return middle


def make_replicas(srv: ServerProcess, url: str) -> list[ReplicaClient]:
    names = [f"faulty{i}" for i in range(CLIENTS)]
    for n in names:
        register(srv.url, n)
    replicas = []
    for n, transport in zip(names, TRANSPORTS, strict=True):
        # Each (re)connect asks for a fresh token, directly from the server.
        r = ReplicaClient(url, lambda n=n: token(srv.url, n), transport, GENERAL, n)
        r.connect()
        assert r.until_ok("room:join", {"room": GENERAL}, time.monotonic() + 10)["ok"]
        replicas.append(r)
    return replicas


def test_random_cuts_lose_and_double_nothing(cluster):
    srv, proxy = cluster
    deadline = time.monotonic() + 150
    replicas = make_replicas(srv, proxy.url)
    try:
        proxy.start_cutting(0.15, 0.6)
        work = run_workload(replicas, deadline, middle=cut_every(proxy, TOTAL // 25, deadline))
        proxy.stop_cutting()
        figures = check_convergence(srv.url, token(srv.url, "faulty0"), replicas, work, deadline)
    finally:
        for r in replicas:
            r.disconnect()
    figures["cuts"] = proxy.cuts
    record("random_cuts", figures)
    assert proxy.cuts >= 20, "the proxy should have cut connections many times"
    assert figures["reconnects"] > 0


def test_server_killed_and_restarted_midway(cluster):
    srv, proxy = cluster
    deadline = time.monotonic() + 180
    replicas = make_replicas(srv, proxy.url)
    killed = {}

    def kill_in_the_middle(progress):
        while progress["sent"] < TOTAL // 2 and time.monotonic() < deadline:
            time.sleep(0.02)
        killed["at_sent"] = progress["sent"]
        srv.kill()
        proxy.cut_all()
        time.sleep(1.0)
        started = time.monotonic()
        srv.start()
        killed["restart_seconds"] = round(time.monotonic() - started, 2)

    try:
        proxy.start_cutting(0.3, 1.0)
        work = run_workload(replicas, deadline, middle=kill_in_the_middle)
        proxy.stop_cutting()
        figures = check_convergence(srv.url, token(srv.url, "faulty0"), replicas, work, deadline)
    finally:
        for r in replicas:
            r.disconnect()
    figures.update(cuts=proxy.cuts, killed_after_messages=killed["at_sent"],
                   restart_seconds=killed["restart_seconds"])
    record("server_sigkill", figures)
    assert killed["at_sent"] < TOTAL
