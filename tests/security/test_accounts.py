"""Accounts: personal access tokens, invite links, disabling and the kick block.

In-process tests (the Flask-SocketIO test client) prove each defence on one
process; the two-process tests prove it across processes: an eventlet and a
gevent server on one Redis message queue and one SQLite database, the victim
connected to the process that did NOT receive the admin's (or owner's) call,
over websocket and long-polling.
"""
from __future__ import annotations

import hashlib
import math
import re
import secrets

import pytest
import requests
from sqlalchemy import text

from blueprints.auth import invites, service, tokens
from extensions import db, socketio
from tests.security.helpers import SecServerProcess, make_user, refusal_code, unique
from tests.support.app import make_app
from tests.support.clients import HTTP_TIMEOUT, call, csrf_token
from tests.support.services import REDIS_DATABASES, redis_db

PASSWORD = "password-123"


# -- in-process ------------------------------------------------------------------------


def admin_and_bob(app):
    """The admin ("root", the first account) connected to /admin, and bob's short-lived token."""
    with app.app_context():
        service.create_user("root", PASSWORD)
        bob = service.create_user("bob", PASSWORD)
        admin_token, _ = service.issue_token(service.find_user("root"))
        short, _ = service.issue_token(bob)
    return socketio.test_client(app, namespace="/admin", auth={"token": admin_token}), short

def test_personal_tokens_are_stored_hashed():
    """A copy of the database gives no working token: only SHA-256 of the secret is kept."""
    app = make_app()
    with app.app_context():
        user = service.create_user("alice", PASSWORD)
        row, secret = tokens.create_token(user, "bot")
        stored = db.session.execute(text("SELECT token_hash FROM api_tokens")).scalar_one()
        assert stored == hashlib.sha256(secret.encode()).hexdigest() and secret not in stored
        # The stored value itself is no credential.
        client = socketio.test_client(app, namespace="/chat", auth={"token": stored})
        assert not client.is_connected("/chat")


def test_a_revoked_token_is_refused_at_the_next_connect_and_on_the_api():
    app = make_app()
    with app.app_context():
        user = service.create_user("alice", PASSWORD)
        row, secret = tokens.create_token(user, "bot")
        tokens.revoke_token(user, row.id)
    assert not socketio.test_client(app, namespace="/chat",
                                    auth={"token": secret}).is_connected("/chat")
    assert app.test_client().get("/api/me", headers={
        "Authorization": f"Bearer {secret}"}).status_code == 401


def test_invite_codes_carry_128_random_bits():
    app = make_app(REGISTRATION="invite")
    with app.app_context():
        codes = [invites.create(None).code for _ in range(20)]
    assert len(set(codes)) == len(codes)
    # The whole base64url alphabet is in use (hex, 4 bits a character, would show 16).
    assert len(set("".join(codes))) > 32
    for code in codes:
        assert re.fullmatch(r"[A-Za-z0-9_-]+", code)
        assert len(code) * math.log2(64) >= 128, code  # base64url: 6 bits a character


def test_a_used_up_invite_link_answers_410_and_registers_nobody():
    app = make_app(REGISTRATION="invite")
    with app.app_context():
        invite = invites.create(None, uses=1)
        code = invite.code
        service.create_user("first", PASSWORD, invite_id=invite.id)
    page = app.test_client().get(f"/join/{code}")
    assert page.status_code == 410
    browser = app.test_client()
    form = browser.get("/login").text
    csrf = csrf_token(form)
    r = browser.post(f"/join/{code}", data={"csrf_token": csrf, "username": "second",
                                            "password": PASSWORD, "confirm": PASSWORD})
    assert r.status_code == 410
    with app.app_context():
        assert service.find_user("second") is None
    guessed = secrets.token_urlsafe(16)
    assert app.test_client().get(f"/join/{guessed}").status_code == 404


def test_disabling_cuts_every_socket_and_token_at_once():
    app = make_app()
    admin, short = admin_and_bob(app)
    with app.app_context():
        pat = tokens.create_token(service.find_user("bob"), "bot")[1]
    tabs = [socketio.test_client(app, namespace=ns, auth={"token": t})
            for ns in ("/chat", "/market") for t in (short, pat)]
    assert all(t.is_connected(ns) for t, ns in zip(tabs, ["/chat"] * 2 + ["/market"] * 2, strict=True))
    assert call(admin, "user:disable", {"username": "bob", "disabled": True},
                namespace="/admin")["ok"]
    assert not any(t.is_connected(ns) for t, ns in zip(tabs, ["/chat"] * 2 + ["/market"] * 2, strict=True))
    for t in (short, pat):
        assert not socketio.test_client(app, namespace="/chat", auth={"token": t}).is_connected(
            "/chat")


def test_a_kicked_user_cannot_come_straight_back():
    app = make_app()
    admin, short = admin_and_bob(app)
    tab = socketio.test_client(app, namespace="/chat", auth={"token": short})
    assert call(admin, "kick", {"username": "bob"}, namespace="/admin")["ok"]
    assert not tab.is_connected("/chat")
    assert not socketio.test_client(app, namespace="/chat", auth={"token": short}).is_connected(
        "/chat")


# -- two processes ---------------------------------------------------------------------

@pytest.fixture(scope="module")
def two_processes():
    """Two processes (eventlet and gevent) on one Redis queue and one SQLite database."""
    with redis_db(REDIS_DATABASES["tests/security/test_accounts.py"]) as queue:
        env = {"MESSAGE_QUEUE": queue, "DEPLOYMENT": unique("acct")}
        one = SecServerProcess(async_mode="eventlet", env=env, name="accounts-one")
        two = SecServerProcess(async_mode="gevent", env=env, instance_path=one.instance_path,
                               name="accounts-two")
        try:
            one.start()
            two.start()  # after one: it finds the database migrated
            admin = make_user(one, "acadm")  # the first account: the admin
            yield one, two, admin
        finally:
            two.stop()
            one.stop()


def personal_token(server, user) -> dict:
    r = requests.post(server.url + "/api/tokens", json={
        "username": user.name, "password": user.password, "name": "script"},
        timeout=HTTP_TIMEOUT)
    assert r.status_code == 201, r.text
    return r.json()


@pytest.mark.parametrize("transport", ["websocket", "polling"])
def test_disabling_on_one_process_cuts_the_users_sockets_on_the_other(two_processes, clients,
                                                                      transport):
    one, two, admin_user = two_processes
    victim = make_user(one, "acdis")
    pat = personal_token(one, victim)["token"]
    tabs = [clients(two, victim, transport, via="cookie"),
            clients(two, victim, transport, token=pat)]
    admin = clients(one, admin_user, transport, namespace="/admin")
    ack = admin.call("user:disable", {"username": victim.name, "disabled": True})
    assert ack["ok"], ack
    for tab in tabs:
        assert tab.wait_disconnected(5), "a disabled user's socket on the other process stayed"
    refused = clients.make(two, victim, transport, token=pat).connect_refused()
    assert refusal_code(refused) == "unauthorized", refused


@pytest.mark.parametrize("transport", ["websocket", "polling"])
def test_a_kick_on_one_process_keeps_the_user_out_of_the_other(two_processes, clients, transport):
    one, two, admin_user = two_processes
    victim = make_user(one, "ackick")
    tab = clients(two, victim, transport, via="cookie")
    admin = clients(one, admin_user, transport, namespace="/admin")
    ack = admin.call("kick", {"username": victim.name})
    assert ack["ok"] and ack["disconnected"] == 1, ack
    assert tab.wait_disconnected(5)
    for server in (two, one):
        refused = clients.make(server, victim, transport, via="cookie").connect_refused()
        assert refused is not None, "a kicked user reconnected at once"
        data = refused.get("data", refused)
        assert refusal_code(refused) == "forbidden" and data["reason"] == "kicked", refused
        assert 1 <= data["retry_after"] <= 60


@pytest.mark.parametrize("transport", ["websocket", "polling"])
def test_revoking_a_token_on_one_process_cuts_its_socket_on_the_other(two_processes, clients,
                                                                      transport):
    one, two, _ = two_processes
    owner = make_user(one, "acrev")
    made = personal_token(one, owner)
    kept = personal_token(one, owner)["token"]
    by_token = clients(two, owner, transport, token=made["token"])
    by_other = clients(two, owner, transport, token=kept)
    r = requests.delete(f"{one.url}/api/tokens/{made['id']}",
                        headers={"Authorization": f"Bearer {made['token']}"}, timeout=HTTP_TIMEOUT)
    assert r.status_code == 204
    assert by_token.wait_disconnected(5), "the revoked token's socket on the other process stayed"
    assert by_other.connected, "another token's socket is not touched"
    refused = clients.make(two, owner, transport, token=made["token"]).connect_refused()
    assert refusal_code(refused) == "unauthorized", refused


@pytest.mark.parametrize("transport", ["websocket", "polling"])
def test_log_out_everywhere_else_cuts_sessions_on_the_other_process_not_personal_tokens(
        two_processes, clients, transport):
    """POST /account/sessions/end on one process: the user's session sockets on
    the other close; a personal token's socket stays (by design, docs/protocol.md);
    this browser stays signed in."""
    from tests.support.clients import login

    one, two, _ = two_processes
    user = make_user(one, "acall")
    second_sign_in = login(one.url, user.name).http
    other_browser = clients(two, user, transport, http=second_sign_in)
    by_pat = clients(two, user, transport, token=personal_token(one, user)["token"])
    page = user.http.get(one.url + "/account", timeout=HTTP_TIMEOUT)
    r = user.http.post(one.url + "/account/sessions/end", data={"csrf_token": csrf_token(page.text)},
                       allow_redirects=False, timeout=HTTP_TIMEOUT)
    assert r.status_code == 302
    assert other_browser.wait_disconnected(5), "a session socket on the other process stayed"
    assert by_pat.connected
    by_pat.assert_no_event("disconnect", within=1.0)
    assert user.http.get(one.url + "/account", allow_redirects=False,
                         timeout=HTTP_TIMEOUT).status_code == 200
    assert second_sign_in.get(one.url + "/account", allow_redirects=False,
                              timeout=HTTP_TIMEOUT).status_code == 302
