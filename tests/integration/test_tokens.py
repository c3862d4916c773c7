"""Personal access tokens (PROTOCOL section 10): /api/tokens, /api/me, Bearer
on /api, auth.token at a Socket.IO connect, revocation cutting sockets."""
from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest
from sqlalchemy import select, text

from blueprints.auth import service, tokens
from extensions import db, socketio
from models import ApiToken, utcnow
from realtime.housekeeping import close_revoked_connections
from tests.support.app import make_app
from tests.support.clients import csrf_token

PASSWORD = "password-123"


def page_csrf(html: str) -> str:
    return csrf_token(html)  # the form's (anonymous pages have no meta tag)


def signed_in(app, username: str):
    with app.app_context():
        if service.find_user(username) is None:
            service.create_user(username, PASSWORD)
    browser = app.test_client()
    page = browser.get("/login")
    r = browser.post("/login", data={"csrf_token": page_csrf(page.text), "username": username,
                                     "password": PASSWORD})
    assert r.status_code == 302
    return browser, page_csrf(browser.get("/account").text)


def create(app, username="alice", name="bot", **extra):
    with app.app_context():
        if service.find_user(username) is None:
            service.create_user(username, PASSWORD)
    r = app.test_client().post("/api/tokens", json={"username": username, "password": PASSWORD,
                                                    "name": name, **extra})
    assert r.status_code == 201, r.json
    return r.json


def bearer(secret: str) -> dict:
    return {"Authorization": f"Bearer {secret}"}


def test_script_creates_a_token_with_its_password_and_uses_it(app):
    body = create(app, expires_in=3600)
    assert body["token"].startswith("sbp_") and body["name"] == "bot"
    assert body["expires_at"].endswith("Z")
    me = app.test_client().get("/api/me", headers=bearer(body["token"]))
    assert me.status_code == 200
    assert (me.json["user"]["id"], me.json["user"]["username"]) == (1, "alice")
    listed = app.test_client().get("/api/tokens", headers=bearer(body["token"])).json["tokens"]
    assert [t["name"] for t in listed] == ["bot"]
    assert set(listed[0]) == {"id", "name", "created_at", "last_used_at", "expires_at"}
    assert listed[0]["last_used_at"] is not None


def test_wrong_password_and_bad_bearer_are_401(app):
    with app.app_context():
        service.create_user("alice", PASSWORD)
    r = app.test_client().post("/api/tokens", json={"username": "alice", "password": "nope-nope",
                                                    "name": "x"})
    assert r.status_code == 401 and r.json["error"]["code"] == "unauthorized"
    for header in ("Bearer sbp_not-a-token", "Basic abc", "Bearer "):
        r = app.test_client().get("/api/me", headers={"Authorization": header})
        assert r.status_code == 401, header
    assert app.test_client().get("/api/me").status_code == 401


def test_the_short_lived_api_token_still_works(app):
    """/api/token keeps working, for Socket.IO and as a bearer token (as on /api/users)."""
    with app.app_context():
        service.create_user("alice", PASSWORD)
    short = app.test_client().post("/api/token", json={"username": "alice",
                                                       "password": PASSWORD}).json["token"]
    assert app.test_client().get("/api/me", headers=bearer(short)).status_code == 200
    sock = socketio.test_client(app, namespace="/chat", auth={"token": short})
    assert sock.is_connected("/chat")


def test_the_page_needs_the_csrf_header_to_create_or_revoke(app):
    browser, csrf = signed_in(app, "alice")
    assert browser.post("/api/tokens", json={"name": "x"}).status_code == 403
    assert browser.post("/api/tokens", json={"name": "x"},
                        headers={"X-CSRFToken": "forged"}).status_code == 403
    made = browser.post("/api/tokens", json={"name": "x", "expires_in": None},
                        headers={"X-CSRFToken": csrf})
    assert made.status_code == 201 and made.json["expires_at"] is None
    assert browser.get("/api/tokens").status_code == 200  # reading needs no CSRF header
    assert browser.delete(f"/api/tokens/{made.json['id']}").status_code == 403
    assert browser.delete(f"/api/tokens/{made.json['id']}",
                          headers={"X-CSRFToken": csrf}).status_code == 204
    assert browser.get("/api/tokens").json == {"tokens": []}


def test_stored_hashed_never_the_secret(app):
    body = create(app)
    with app.app_context():
        stored = db.session.execute(text("SELECT * FROM api_tokens")).mappings().one()
    assert body["token"] not in " ".join(str(v) for v in stored.values())
    assert stored["token_hash"] == hashlib.sha256(body["token"].encode()).hexdigest()


@pytest.mark.parametrize("name, expires_in, field", [
    ("", None, "name"), ("   ", None, "name"), ("x" * 65, None, "name"), (7, None, "name"),
    ("ok", 59, "expires_in"), ("ok", 367 * 86400, "expires_in"), ("ok", "60", "expires_in"),
    ("ok", True, "expires_in"),
])
def test_bad_names_and_expiries_are_400_naming_the_field(app, name, expires_in, field):
    with app.app_context():
        service.create_user("alice", PASSWORD)
    r = app.test_client().post("/api/tokens", json={"username": "alice", "password": PASSWORD,
                                                    "name": name, "expires_in": expires_in})
    assert r.status_code == 400 and r.json["error"]["message"].startswith(field + ":")


def test_tokens_per_user_are_limited():
    app = make_app(MAX_TOKENS_PER_USER=2)
    create(app, name="a")
    create(app, name="b")
    with app.app_context():
        user = service.find_user("alice")
        r = app.test_client().post("/api/tokens", json={"username": "alice", "password": PASSWORD,
                                                        "name": "c"})
        assert r.status_code == 409 and "MAX_TOKENS_PER_USER" in r.json["error"]["message"]
        assert len(tokens.list_tokens(user)) == 2


def test_revoking_cuts_its_sockets_at_once_and_refuses_it_next_time(app):
    body = create(app)
    session_token = create(app, name="other")["token"]
    sock = socketio.test_client(app, namespace="/chat", auth={"token": body["token"]})
    other = socketio.test_client(app, namespace="/chat", auth={"token": session_token})
    assert sock.is_connected("/chat") and other.is_connected("/chat")
    r = app.test_client().delete(f"/api/tokens/{body['id']}", headers=bearer(body["token"]))
    assert r.status_code == 204
    assert not sock.is_connected("/chat")
    assert other.is_connected("/chat"), "only that token's sockets close"
    again = socketio.test_client(app, namespace="/chat", auth={"token": body["token"]})
    assert not again.is_connected("/chat")
    assert app.test_client().get("/api/me", headers=bearer(body["token"])).status_code == 401


def test_someone_elses_token_is_not_found(app):
    mine = create(app, "alice")
    theirs = create(app, "bob")
    r = app.test_client().delete(f"/api/tokens/{theirs['id']}", headers=bearer(mine["token"]))
    assert r.status_code == 404
    assert app.test_client().get("/api/me", headers=bearer(theirs["token"])).status_code == 200


def test_an_expired_token_is_refused_everywhere(app):
    body = create(app, expires_in=60)
    with app.app_context():
        row = db.session.get(ApiToken, body["id"])
        row.created_at = utcnow() - timedelta(hours=2)
        row.expires_at = utcnow() - timedelta(hours=1)
        db.session.commit()
    r = app.test_client().get("/api/me", headers=bearer(body["token"]))
    assert r.status_code == 401 and "expired" in r.json["error"]["message"]
    sock = socketio.test_client(app, namespace="/chat", auth={"token": body["token"]})
    assert not sock.is_connected("/chat")


def test_log_out_everywhere_keeps_personal_tokens_password_change_does_not(app):
    body = create(app)
    browser, csrf = signed_in(app, "alice")
    with app.app_context():
        short, _ = service.issue_token(service.find_user("alice"))
    by_pat = socketio.test_client(app, namespace="/chat", auth={"token": body["token"]})
    by_short = socketio.test_client(app, namespace="/chat", auth={"token": short})
    r = browser.post("/account/sessions/end", data={"csrf_token": csrf})
    assert r.status_code == 302
    assert not by_short.is_connected("/chat"), "session-bound sockets end"
    assert by_pat.is_connected("/chat"), "a personal token's socket stays"
    assert browser.get("/account").status_code == 200, "this browser stays signed in"
    with app.app_context():  # housekeeping agrees: the token is still good
        assert close_revoked_connections(app.extensions["switchboard.state"], socketio) == 0
    assert app.test_client().get("/api/me", headers=bearer(body["token"])).status_code == 200

    page = browser.get("/account")
    r = browser.post("/account/password", data={
        "csrf_token": page_csrf(page.text), "current_password": PASSWORD,
        "new_password": "password-456", "confirm": "password-456"})
    assert r.status_code == 302
    assert not by_pat.is_connected("/chat")
    assert app.test_client().get("/api/me", headers=bearer(body["token"])).status_code == 401


def test_housekeeping_closes_a_socket_whose_token_was_revoked_elsewhere(app):
    """A revocation this process never heard of (no message queue) shows in the database."""
    body = create(app)
    sock = socketio.test_client(app, namespace="/chat", auth={"token": body["token"]})
    with app.app_context():
        db.session.get(ApiToken, body["id"]).revoked_at = utcnow()
        db.session.commit()
        assert close_revoked_connections(app.extensions["switchboard.state"], socketio) == 1
    assert not sock.is_connected("/chat")


def test_account_page_shows_the_token_section_and_password_form(app):
    browser, _ = signed_in(app, "alice")
    html = browser.get("/account").text
    for marker in ('id="token-form"', 'id="tokens-table"', 'id="password-form"',
                   'id="logout-everywhere"', 'id="account-theme-form"', 'id="profile-section"',
                   'id="language-slot"'):
        assert marker in html
    assert browser.get("/account/password").status_code == 200
    assert app.test_client().get("/account").status_code == 302  # login required


def test_token_names_are_audited_never_secrets(app, caplog):
    caplog.set_level("INFO", logger="switchboard.audit")
    body = create(app)
    app.test_client().delete(f"/api/tokens/{body['id']}", headers=bearer(body["token"]))
    actions = [r.audit["action"] for r in caplog.records if hasattr(r, "audit")]
    assert "token_created" in actions and "token_revoked" in actions
    assert body["token"] not in caplog.text
    with app.app_context():
        assert db.session.scalar(select(ApiToken.revoked_at).where(
            ApiToken.id == body["id"])) is not None


def test_migration_0007_matches_the_models_and_downgrades(any_db_app):
    """The schema after migration 0007 is what models.py says (alembic's own
    comparison, on SQLite and PostgreSQL), and it downgrades and upgrades again."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext
    from flask_migrate import downgrade, upgrade

    ours = {"api_tokens", "invites"}
    with db.engine.connect() as conn:
        # The whole schema: a missing index or column of 0007 shows here too.
        assert compare_metadata(MigrationContext.configure(conn), db.metadata) == []
    downgrade(revision="6b2f1d8c3e51")
    tables = set(db.inspect(db.engine).get_table_names())
    assert not ours & tables
    assert "last_seen_at" not in {c["name"] for c in db.inspect(db.engine).get_columns("users")}
    upgrade()
    assert ours <= set(db.inspect(db.engine).get_table_names())
