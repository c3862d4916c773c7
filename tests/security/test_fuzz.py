"""Property-based fuzzing of every event of every namespace (hypothesis).

Properties, for any JSON value (nested dicts and lists, strings, ints beyond
64 bits, floats, bools, null, huge strings, deep nesting) sent as the payload
of any client event, and for made-up event names:
- the reply is ``{"ok": false, "error": {"code", "message"}}`` with a code of
  PROTOCOL section 3, or a valid success ``{"ok": true, ...}``;
- no handler raises (never the ``internal`` code, nothing logged by the
  event wrapper's exception handler);
- the client stays connected;
- an invalid call writes no row (every table counted before and after).
Namespaces and events are read from the registered handlers at test time.
The in-process run uses Flask-SocketIO's test client; a shorter run goes
over a real websocket to ``python app.py``.
"""
from __future__ import annotations

import json
import logging
import time

import pytest
import requests
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from extensions import socketio
from tests.security.helpers import log_text, make_user
from tests.security.inproc import (
    ERROR_CODES,
    app_namespaces,
    call,
    connect_everywhere,
    row_counts,
    sample,
)
from tests.support.app import make_app
from tests.support.clients import Client

QUIET = {"RATE_LIMIT_EVENTS": "1000000/minute", "RATE_LIMIT_MESSAGES": "1000000/minute"}
EXAMPLES_PER_EVENT = 25
REAL_EXAMPLES = 100


def nest(depth: int, kind: str, leaf):
    value = leaf
    for _ in range(depth):
        value = [value] if kind == "list" else {"k": value}
    return value


def json_values(max_huge: int, max_depth: int):
    scalars = (st.none() | st.booleans()
               | st.integers(min_value=-(2 ** 70), max_value=2 ** 70)
               | st.floats(allow_nan=False, allow_infinity=False)
               | st.text(max_size=40))
    # max_huge bounds the UTF-8 size in bytes (the real run stays below MAX_PACKET_BYTES)
    huge = st.sampled_from(["a", "é", "\U0001f4a5", "\x00", " ", "<script>", "\u202e"]).flatmap(
        lambda ch: st.integers(1_000 // len(ch.encode()), max_huge // len(ch.encode())).map(
            lambda n: ch * n))
    deep = st.builds(nest, st.integers(20, max_depth), st.sampled_from(["list", "dict"]), scalars)
    tree = st.recursive(scalars | huge,
                        lambda children: st.lists(children, max_size=5)
                        | st.dictionaries(st.text(max_size=12), children, max_size=5),
                        max_leaves=15)
    return tree | deep


def payloads_for(spec, values):
    """Random JSON, or an object with the schema's field names and random values
    (with a bias to near-valid values, to get past the first field)."""
    if spec is None or spec.schema is None:
        return values
    root = spec.schema.model_json_schema()
    fields = {}
    for name, prop in root.get("properties", {}).items():
        near = st.one_of(st.just(sample(prop, root)), st.integers(-3, 2 ** 64),
                         st.text(max_size=70), st.lists(st.text(max_size=8), max_size=3))
        fields[name] = near | values
    shaped = st.fixed_dictionaries({}, optional=fields)
    extra = st.builds(lambda d, k, v: {**d, k: v}, shaped, st.text(max_size=8), values)
    return values | shaped | extra


def check_reply(reply, ack: bool) -> str | None:
    """What is wrong with this reply, or None."""
    if reply is None:
        return None if not ack else "no reply"
    if not isinstance(reply, dict) or not isinstance(reply.get("ok"), bool):
        return f"not an envelope: {reply!r:.200}"
    if reply["ok"]:
        return None
    err = reply.get("error")
    if not isinstance(err, dict) or not isinstance(err.get("message"), str):
        return f"bad error: {reply!r:.200}"
    if err.get("code") not in ERROR_CODES:
        return f"unknown code: {reply!r:.200}"
    if err["code"] == "internal":
        return f"a handler raised: {reply!r:.300}"
    return None


class Raised(logging.Handler):
    """Collects what the event wrapper logs when a handler raises."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[str] = []

    def emit(self, record):
        self.records.append(record.getMessage())


@pytest.fixture(scope="module")
def world():
    app = make_app(**QUIET)
    from blueprints.auth.service import create_user, issue_token

    with app.app_context():
        admin = create_user("fuzzadmin", "password-123")  # first account: admin
        create_user("fuzzbob", "password-123")
        token, _ = issue_token(admin)
    clients = connect_everywhere(app, socketio, token)
    raised = Raised()
    logging.getLogger("switchboard").addHandler(raised)
    yield {"app": app, "clients": clients, "raised": raised}
    logging.getLogger("switchboard").removeHandler(raised)
    for path, client in clients.items():
        if client.is_connected(path):
            client.disconnect(path)


def _targets():
    """(namespace, event, spec) for every event, plus made-up names (spec None)."""
    out = []
    for path, handler in app_namespaces(socketio).items():
        for event, (spec, _fn) in sorted(handler.handlers.items()):
            out.append((path, event, spec))
        out.append((path, None, None))
    return out


def test_fuzz_every_event_in_process(world):
    app, clients, raised = world["app"], world["clients"], world["raised"]
    targets = _targets()
    assert any(e == "message:send" for _, e, _ in targets)
    values = json_values(max_huge=200_000, max_depth=400)
    failures: list[str] = []

    namespaces = app_namespaces(socketio)
    for path, event, spec in targets:
        client = clients[path]
        ack = spec.ack if spec is not None else True
        names = st.just(event) if event else st.text(min_size=0, max_size=30).filter(
            lambda n, h=namespaces[path]: n not in h.handlers
            and n not in ("connect", "disconnect"))

        @settings(max_examples=EXAMPLES_PER_EVENT, deadline=None, derandomize=True,
                  suppress_health_check=list(HealthCheck))
        @given(name=names, payload=payloads_for(spec, values))
        def run(name, payload):
            before = row_counts(app)
            reply = call(client, name, payload, namespace=path, ack=ack)
            client.get_received(path)  # drop broadcasts
            problem = check_reply(reply, ack)
            if problem is None and not client.is_connected(path):
                problem = "disconnected"
            if problem is None and isinstance(reply, dict) and not reply["ok"] \
                    and row_counts(app) != before:
                problem = f"an invalid call changed rows: {reply!r:.200}"
            if problem is None and event is None and reply["ok"]:
                problem = f"a made-up event succeeded: {reply!r:.200}"
            assert problem is None, f"{path} {name!r} {payload!r:.300}: {problem}"

        try:
            run()
        except AssertionError as exc:
            failures.append(str(exc).splitlines()[0][:600])
            if not client.is_connected(path):
                client.connect(namespace=path)
    assert not raised.records, f"handlers raised: {raised.records[:5]}"
    assert not failures, "\n".join(failures)


@pytest.fixture(scope="module")
def server(module_servers):
    return module_servers(env={**QUIET, "LOG_FORMAT": "json"})


def test_fuzz_over_a_real_websocket(server, world):
    """A shorter run over a real connection (python-socketio client, websocket
    transport, python app.py under eventlet): same properties, then the server
    still answers HTTP and events, and its log shows no handler exception.
    Huge values stay below MAX_PACKET_BYTES here (an oversize frame closes the
    connection by design: test_limits.py)."""
    user = make_user(server, "fuzz")
    conns = {}
    for path in app_namespaces(socketio):
        conns[path] = Client(server.url, "websocket", token=user.token(), namespace=path).connect()
    targets = [t for t in _targets() if t[1] is not None]
    values = json_values(max_huge=8_000, max_depth=150)
    strategy = st.sampled_from(targets).flatmap(
        lambda t: st.tuples(st.just(t), payloads_for(t[2], values))).filter(
        lambda case: len(json.dumps(case[1], separators=(",", ":"))) < 50_000)
    try:
        # No shrinking against a live server: its state changes between examples.
        @settings(max_examples=REAL_EXAMPLES, deadline=None, derandomize=True,
                  phases=[Phase.explicit, Phase.generate],
                  suppress_health_check=list(HealthCheck))
        @given(case=strategy)
        def run(case):
            (path, event, spec), payload = case
            client = conns[path]
            try:
                if spec.ack:
                    reply = client.call(event, payload, timeout=10)
                else:
                    client.emit(event, payload)
                    reply = None
            except Exception as exc:  # no answer, or the connection went away
                raise AssertionError(f"{path} {event} {payload!r:.300}: {exc!r}") from None
            problem = check_reply(reply, spec.ack)
            assert problem is None and client.connected, \
                f"{path} {event} {payload!r:.300}: {problem or 'disconnected'}"

        run()
        assert requests.get(server.url + "/healthz", timeout=5).status_code == 200
        assert conns["/chat"].call("rooms:list")["ok"]
    finally:
        for c in conns.values():
            c.disconnect(wait=False)
    time.sleep(0.2)
    assert "failed" not in " ".join(
        line for line in log_text(server).splitlines() if "switchboard.events" in line), \
        "a handler raised on the real server (see its log)"
