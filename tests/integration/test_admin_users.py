"""The admin's users table, disable/enable, grant/revoke admin, and the kick
block (PROTOCOL section 15)."""
from __future__ import annotations

import pytest

from blueprints.admin import service as admin_service
from blueprints.auth import service, tokens
from errors import Conflict
from extensions import db, socketio
from models import User
from tests.support.app import make_app
from tests.support.clients import call, csrf_token

PASSWORD = "password-123"


def sock(app, username, namespace="/chat", pat=False):
    with app.app_context():
        user = service.find_user(username) or service.create_user(username, PASSWORD)
        token = tokens.create_token(user, "t")[1] if pat else service.issue_token(user)[0]
    client = socketio.test_client(app, namespace=namespace, auth={"token": token})
    return client


def browser_of(app, username):
    b = app.test_client()
    page = b.get("/login")
    token = csrf_token(page.text)
    assert b.post("/login", data={"csrf_token": token, "username": username,
                                  "password": PASSWORD}).status_code == 302
    return b


@pytest.fixture
def setup(app):
    admin = sock(app, "root", "/admin")  # the first account: an admin
    assert admin.is_connected("/admin")
    return app, admin


def test_users_lists_admin_disabled_last_seen_and_connections(setup):
    app, admin = setup
    bob = sock(app, "bob")
    users = {u["username"]: u for u in call(admin, "users", {}, namespace="/admin")["users"]}
    assert set(users["bob"]) >= {"id", "username", "admin", "disabled", "last_seen", "connections"}
    assert (users["root"]["admin"], users["bob"]["admin"]) == (True, False)
    assert users["bob"]["connections"] == 1 and users["bob"]["last_seen"] is not None
    bob.disconnect("/chat")
    with app.app_context():
        assert db.session.get(User, users["bob"]["id"]).last_seen_at is not None


def test_disabling_ends_every_session_token_and_socket(setup):
    app, admin = setup
    bob_browser = browser_of_new(app, "bob")
    by_short, by_pat = sock(app, "bob"), sock(app, "bob", pat=True)
    with app.app_context():
        pat = tokens.create_token(service.find_user("bob"), "script")[1]
    assert by_short.is_connected("/chat") and by_pat.is_connected("/chat")
    ack = call(admin, "user:disable", {"username": "bob", "disabled": True}, namespace="/admin")
    assert ack["ok"] and ack["user"]["disabled"] is True
    assert not by_short.is_connected("/chat") and not by_pat.is_connected("/chat")
    assert bob_browser.get("/chat").status_code == 302
    assert app.test_client().get("/api/me", headers={"Authorization": f"Bearer {pat}"}).status_code == 401
    assert not sock(app, "bob").is_connected("/chat")
    # Enabling lets the password in again, not the old tokens.
    assert call(admin, "user:disable", {"username": "bob", "disabled": False},
                namespace="/admin")["user"]["disabled"] is False
    assert sock(app, "bob").is_connected("/chat")
    assert app.test_client().get("/api/me", headers={"Authorization": f"Bearer {pat}"}).status_code == 401


def browser_of_new(app, username):
    with app.app_context():
        service.create_user(username, PASSWORD)
    return browser_of(app, username)


def test_no_self_disable_no_self_demotion_clear_errors(setup):
    app, admin = setup
    ack = call(admin, "user:disable", {"username": "root", "disabled": True}, namespace="/admin")
    assert ack["error"]["code"] == "forbidden" and "your own account" in ack["error"]["message"]
    ack = call(admin, "user:admin", {"username": "ROOT", "admin": False}, namespace="/admin")
    assert ack["error"]["code"] == "forbidden" and "own admin rights" in ack["error"]["message"]
    ack = call(admin, "kick", {"username": "root"}, namespace="/admin")
    assert ack["error"]["code"] == "forbidden" and "kick yourself" in ack["error"]["message"]
    ack = call(admin, "user:admin", {"username": "nobody", "admin": True}, namespace="/admin")
    assert ack["error"]["code"] == "not_found"
    ack = call(admin, "user:admin", {"username": "x" * 65, "admin": True}, namespace="/admin")
    assert ack["error"]["code"] == "bad_request"
    ack = call(admin, "user:disable", {"username": "root", "disabled": "yes"}, namespace="/admin")
    assert ack["error"]["code"] == "bad_request"


def test_the_last_admin_cannot_be_demoted_or_disabled(app):
    with app.app_context():
        root = service.create_user("root", PASSWORD)
        bob = service.create_user("bob", PASSWORD)
        with pytest.raises(Conflict, match="last admin"):
            admin_service.set_admin(bob.id, "root", False)
        with pytest.raises(Conflict, match="last admin"):
            admin_service.set_disabled(bob.id, "root", True)
        assert db.session.get(User, root.id).is_admin


def test_granting_and_revoking_admin(setup):
    app, admin = setup
    bob_chat = sock(app, "bob")
    ack = call(admin, "user:admin", {"username": "bob", "admin": True}, namespace="/admin")
    assert ack["ok"] and ack["user"]["admin"] is True
    bob_admin = sock(app, "bob", "/admin")
    assert bob_admin.is_connected("/admin")
    ack = call(admin, "user:admin", {"username": "bob", "admin": False}, namespace="/admin")
    assert ack["ok"] and ack["user"]["admin"] is False
    # Their sockets carried is_admin from connect: they close, and /admin refuses them now.
    assert not bob_admin.is_connected("/admin") and not bob_chat.is_connected("/chat")
    assert not sock(app, "bob", "/admin").is_connected("/admin")


def test_kick_keeps_the_user_out_with_retry_after(setup):
    app, admin = setup
    bob = sock(app, "bob")
    ack = call(admin, "kick", {"username": "bob"}, namespace="/admin")
    assert ack == {"ok": True, "disconnected": 1, "blocked_seconds": 60}
    assert not bob.is_connected("/chat")
    again = sock(app, "bob")
    assert not again.is_connected("/chat")
    state = app.extensions["switchboard.state"]
    with app.app_context():
        uid = service.find_user("bob").id
    assert 55 <= state.blocked_for(uid) <= 60
    # Another user is not affected.
    assert sock(app, "carol").is_connected("/chat")


def test_the_kick_refusal_says_forbidden_kicked_and_retry_after(setup):
    """What the page reads (lib/connection.js): code, reason, retry_after."""
    app, admin = setup
    sock(app, "bob")
    call(admin, "kick", {"username": "bob"}, namespace="/admin")
    ns = socketio.server.namespace_handlers["/chat"]
    with app.test_request_context("/socket.io/"):
        from flask import request
        request.sid = "test-sid"
        request.namespace = "/chat"
        with app.app_context():
            token = service.issue_token(service.find_user("bob"))[0]
        with pytest.raises(Exception) as refused:
            ns.on_connect({"token": token})
    data = refused.value.error_args["data"]
    assert data["code"] == "forbidden" and data["reason"] == "kicked"
    assert 55 <= data["retry_after"] <= 60
    assert "administrator disconnected you" in data["message"]


def test_kick_block_zero_means_no_block():
    app = make_app(KICK_BLOCK_SECONDS="0")
    admin = sock(app, "root", "/admin")
    sock(app, "bob")
    call(admin, "kick", {"username": "bob"}, namespace="/admin")
    assert sock(app, "bob").is_connected("/chat")


def test_everything_is_audited_with_who_and_whom(setup, caplog):
    app, admin = setup
    caplog.set_level("INFO", logger="switchboard.audit")
    sock(app, "bob")
    call(admin, "user:admin", {"username": "bob", "admin": True}, namespace="/admin")
    call(admin, "user:admin", {"username": "bob", "admin": False}, namespace="/admin")
    call(admin, "user:disable", {"username": "bob", "disabled": True}, namespace="/admin")
    call(admin, "user:disable", {"username": "bob", "disabled": False}, namespace="/admin")
    call(admin, "kick", {"username": "bob"}, namespace="/admin")
    records = [r.audit for r in caplog.records if hasattr(r, "audit")]
    for action in ("admin_granted", "admin_revoked", "user_disabled", "user_enabled", "kick"):
        rec = next(r for r in records if r["action"] == action)
        assert rec["by"] == "root" and rec["user"] == "bob", rec
