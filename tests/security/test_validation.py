"""Validation: strict schemas, unknown events, nothing invalid reaches a service.

Defence: ``AppNamespace.dispatch`` (realtime/namespace.py) validates every
payload with the event's pydantic schema in strict mode (``Payload``:
strict=True, extra="forbid"), answers ``bad_request`` for unknown events, and
only then calls the handler. Proof here: a spy on every function of every
``blueprints.*.service`` module sees no call, and no table gains or loses a
row, for any invalid call. The namespaces and their events are read from the
registered handlers at test time, so a new namespace (/admin...) is covered
without editing this file.
"""
from __future__ import annotations

import pytest

from extensions import socketio
from tests.security.inproc import (
    ServiceSpy,
    app_namespaces,
    base_payload,
    call,
    connect_everywhere,
    field_mutations,
    row_counts,
)
from tests.support.app import make_app

QUIET = {"RATE_LIMIT_EVENTS": "100000/minute", "RATE_LIMIT_MESSAGES": "100000/minute"}


@pytest.fixture(scope="module")
def world():
    app = make_app(**QUIET)
    from blueprints.auth.service import create_user, issue_token

    with app.app_context():
        admin = create_user("admin0", "password-123")  # the first account is the admin
        token, _ = issue_token(admin)
        other = create_user("bob00", "password-123")
        other_token, _ = issue_token(other)
    clients = connect_everywhere(app, socketio, token)
    spy = ServiceSpy().install()
    yield {"app": app, "clients": clients, "spy": spy, "other_token": other_token}
    spy.uninstall()
    for path, client in clients.items():
        if client.is_connected(path):
            client.disconnect(path)


def test_every_namespace_and_event_is_enumerated(world):
    """Guards the tests below against silently checking nothing."""
    namespaces = app_namespaces(socketio)
    assert "/chat" in namespaces and "message:send" in namespaces["/chat"].handlers
    assert "/market" in namespaces and "trade" in namespaces["/market"].handlers


def _invalid_calls(world):
    for path, handler in app_namespaces(socketio).items():
        for event, (spec, _fn) in sorted(handler.handlers.items()):
            if spec.schema is None:
                continue
            base = base_payload(spec.schema)
            mutations = field_mutations(spec.schema) if base is not None else []
            mutations += [("a list", [base]), ("a string", "x"), ("a number", 5),
                          ("true", True), ("null", None)]
            for what, payload in mutations:
                yield path, event, spec, what, (payload,)
            yield path, event, spec, "two arguments", (base or {}, {})


def test_strict_types_extra_and_missing_fields_are_bad_request_and_reach_no_service(world):
    """For every field of every event's schema: a string for an int ("5"),
    true/1.5/5.0 for an int (``true`` is not an id), a number or true for a
    string, 1 or "true" for a bool, wrong container types, a missing required
    field, an extra field (mass assignment: ``author_id``), non-object payloads
    and two arguments. Each must be answered bad_request; the spy must see no
    service call and no row may change. Lax validation (pydantic's default)
    would coerce many of these and call the service."""
    app, clients, spy = world["app"], world["clients"], world["spy"]
    before = row_counts(app)
    problems = []
    checked = 0
    for path, event, spec, what, args in _invalid_calls(world):
        with spy.watching() as seen:
            reply = call(clients[path], event, *args, namespace=path, ack=spec.ack)
        checked += 1
        code = (reply or {}).get("error", {}).get("code") if isinstance(reply, dict) else None
        if code != "bad_request" or reply.get("ok") is not False:
            problems.append(f"{path} {event} {what}: {reply!r}")
        if seen:
            problems.append(f"{path} {event} {what}: reached the service: {seen}")
        if not clients[path].is_connected(path):
            problems.append(f"{path} {event} {what}: disconnected")
            break
    assert checked > 50
    assert not problems, f"{len(problems)} of {checked} invalid calls:\n" + "\n".join(problems[:40])
    assert row_counts(app) == before


def test_true_is_not_an_id_and_five_as_a_string_is_not_a_quantity(world):
    """The attack strict mode stops, concretely: message 1 exists; a lax schema
    would turn ``{"id": true}`` into id 1 and delete it, and ``"5"`` into an
    order of 5 shares."""
    app, clients = world["app"], world["clients"]
    chat = clients["/chat"]
    assert call(chat, "room:join", {"room": 1})["ok"]
    sent = call(chat, "message:send", {"room": 1, "text": "keep me", "client_id": "k1"})
    assert sent["ok"], sent
    msg_id = sent["message"]["id"]
    for payload in ({"id": True}, {"id": str(msg_id)}, {"id": float(msg_id)}):
        reply = call(chat, "message:delete", payload)
        assert reply["error"]["code"] == "bad_request", (payload, reply)
    history = call(chat, "history", {"room": 1})
    assert [m["deleted"] for m in history["messages"] if m["id"] == msg_id] == [False]

    before = row_counts(app)
    market = clients["/market"]
    symbols = call(market, "symbols", {}, namespace="/market")["symbols"]
    for quantity in ("5", 5.0, True):
        reply = call(market, "trade", {"symbol": symbols[0], "side": "BUY",
                                       "quantity": quantity, "client_id": "q"}, namespace="/market")
        assert reply["error"]["code"] == "bad_request", (quantity, reply)
    assert row_counts(app) == before


UNKNOWN = ["nope", "message:sendx", "Message:Send", " rooms:list", "rooms:list ", "",
           "on_connect", "dispatch", "handlers", "trigger_event", "emit", "__init__",
           "__class__", "message", "error", "x" * 5000]


def test_unknown_events_are_bad_request_on_every_namespace(world):
    """Names that are no event of the namespace - including the names of
    methods of the namespace object, which python-socketio's default routing
    (``on_<event>``) would call - are answered bad_request and reach nothing."""
    app, clients, spy = world["app"], world["clients"], world["spy"]
    before = row_counts(app)
    problems = []
    for path, handler in app_namespaces(socketio).items():
        for name in UNKNOWN:
            if name in handler.handlers:
                continue
            with spy.watching() as seen:
                reply = call(clients[path], name, {}, namespace=path)
            if not (isinstance(reply, dict) and reply.get("ok") is False
                    and reply["error"]["code"] == "bad_request") or seen:
                problems.append(f"{path} {name[:30]!r}: {reply!r} {seen}")
        assert clients[path].is_connected(path)
    assert not problems, "\n".join(problems)
    assert row_counts(app) == before


@pytest.mark.parametrize("reserved", ["connect", "disconnect"])
def test_client_sent_connect_and_disconnect_events_do_not_touch_the_connection(world, reserved):
    """python-socketio hands a client EVENT named "connect" or "disconnect" to
    the namespace like any other event, and AppNamespace.trigger_event passes
    those two names to on_connect/on_disconnect. A client can then drop its own
    connection record while staying connected (it escapes the caps, logout,
    password change, disable and MAX_CONNECTION_AGE, all of which walk that
    record - see test_sessions.py for the real-server consequence), or re-run
    on_connect (double counting, forged audit lines, a ConnectionRefusedError
    raised into the library). Such an event must be refused (bad_request) and
    leave the connection record and the counts alone."""
    app = world["app"]
    state = app.extensions["switchboard.state"]
    client = socketio.test_client(app, namespace="/chat", auth={"token": world["other_token"]})
    try:
        assert client.is_connected("/chat")
        users = {c.user_id for c in state.connections()}
        counts = {uid: state.user_connections(uid) for uid in users}
        conns_before = sorted((c.sid, c.user_id) for c in state.connections())
        try:
            reply = client.emit(reserved, {}, {"token": world["other_token"]}, namespace="/chat",
                                callback=True)
        except Exception as exc:  # raised out of the library: a handler raised
            reply = exc
        conns_after = sorted((c.sid, c.user_id) for c in state.connections())
        assert conns_after == conns_before, \
            f"a client {reserved!r} event changed the connection table: {reply!r}"
        assert {uid: state.user_connections(uid) for uid in users} == counts
        assert isinstance(reply, dict) and reply.get("error", {}).get("code") == "bad_request", \
            f"expected bad_request, got {reply!r}"
    finally:
        if client.is_connected("/chat"):
            client.disconnect("/chat")
