"""Invite links (PROTOCOL section 15): REGISTRATION=invite, /join/<code>,
410 for a link that can no longer be used, the CLI, the admin events, QR codes."""
from __future__ import annotations

import re
import threading
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError

from blueprints.auth import invites, service
from extensions import db, socketio
from models import Invite, User, utcnow
from tests.support.app import make_app
from tests.support.clients import call, csrf_token

PASSWORD = "password-123"


def csrf(html: str) -> str:
    return csrf_token(html)  # the form's (anonymous pages have no meta tag)


def join(app, code: str, username: str):
    browser = app.test_client()
    page = browser.get(f"/join/{code}")
    if page.status_code != 200:
        return page
    return browser.post(f"/join/{code}", data={"csrf_token": csrf(page.text), "username": username,
                                               "password": PASSWORD, "confirm": PASSWORD})


@pytest.fixture
def invite_app():
    app = make_app(REGISTRATION="invite", PUBLIC_URL="https://chat.example.com/")
    with app.app_context():
        service.create_user("root", PASSWORD)
    return app


def admin_socket(app, username="root"):
    with app.app_context():
        token, _ = service.issue_token(service.find_user(username))
    client = socketio.test_client(app, namespace="/admin", auth={"token": token})
    assert client.is_connected("/admin")
    return client


def test_register_is_closed_but_a_link_registers_once(invite_app):
    app = invite_app
    r = app.test_client().get("/register")
    assert r.status_code == 403 and "invitation" in r.text
    admin = admin_socket(app)
    ack = call(admin, "invite:create", {"uses": 1, "days": 2}, namespace="/admin")
    assert ack["ok"], ack
    inv = ack["invite"]
    assert inv["url"] == f"https://chat.example.com/join/{inv['code']}"
    assert (inv["uses"], inv["max_uses"], inv["status"]) == (0, 1, "active")
    r = join(app, inv["code"], "carol")
    assert r.status_code == 302 and r.headers["Location"].endswith("/chat")
    used = join(app, inv["code"], "dave")
    assert used.status_code == 410 and "Every use of this link has been taken" in used.text
    with app.app_context():
        assert service.find_user("dave") is None
    listed = call(admin, "invites", {}, namespace="/admin")["invites"]
    assert (listed[0]["uses"], listed[0]["status"]) == (1, "used")


def test_a_taken_name_gives_the_use_back(invite_app):
    with invite_app.app_context():
        invite = invites.create(None, uses=1, days=1)
        code, invite_id = invite.code, invite.id
    r = join(invite_app, code, "root")
    assert r.status_code == 200 and "is taken" in r.text
    with invite_app.app_context():
        assert db.session.get(Invite, invite_id).uses == 0
    assert join(invite_app, code, "erin").status_code == 302


def test_expired_and_revoked_links_are_410_unknown_is_404(invite_app):
    app = invite_app
    with app.app_context():
        expired = invites.create(None, uses=5, days=1)
        db.session.execute(update(Invite).where(Invite.id == expired.id).values(
            created_at=utcnow() - timedelta(days=3), expires_at=utcnow() - timedelta(days=2)))
        db.session.commit()
        revoked = invites.create(None, uses=5, days=1)
        invites.revoke(revoked.code)
        expired_code, revoked_code = expired.code, revoked.code
    r = app.test_client().get(f"/join/{expired_code}")
    assert r.status_code == 410 and "expired" in r.text
    r = app.test_client().get(f"/join/{revoked_code}")
    assert r.status_code == 410 and "revoked" in r.text
    assert app.test_client().get("/join/" + "A" * 22).status_code == 404
    assert app.test_client().get("/join/short").status_code == 404
    assert app.test_client().get("/join/" + "%3Cscript%3E" * 3).status_code == 404


def test_closed_registration_refuses_links_too():
    app = make_app(REGISTRATION="closed")
    with app.app_context():
        code = invites.create(None).code
    assert app.test_client().get(f"/join/{code}").status_code == 403


def test_codes_are_128_random_bits_url_safe(invite_app):
    with invite_app.app_context():
        codes = {invites.create(None).code for _ in range(50)}
    assert len(codes) == 50
    assert all(re.fullmatch(r"[A-Za-z0-9_-]{22}", c) for c in codes)


def test_cli_create_list_revoke(invite_app):
    runner = invite_app.test_cli_runner()
    out = runner.invoke(args=["invites", "create", "--uses", "3", "--days", "2"])
    assert out.exit_code == 0, out.output
    last = out.output.strip().splitlines()[-1]
    assert re.fullmatch(r"https://chat\.example\.com/join/[A-Za-z0-9_-]{22}", last), last
    code = last.rsplit("/", 1)[1]
    listed = runner.invoke(args=["invites", "list"])
    assert code in listed.output and "0/3" in listed.output and "active" in listed.output
    assert runner.invoke(args=["invites", "revoke", code]).exit_code == 0
    assert invite_app.test_client().get(f"/join/{code}").status_code == 410
    bad = runner.invoke(args=["invites", "create", "--uses", "0"])
    assert bad.exit_code != 0
    assert runner.invoke(args=["invites", "revoke", "nope"]).exit_code != 0


def test_default_public_url_is_host_and_port():
    app = make_app(REGISTRATION="invite", HOST="127.0.0.1", PORT="5123")
    out = app.test_cli_runner().invoke(args=["invites", "create"])
    assert out.output.strip().splitlines()[-1].startswith("http://127.0.0.1:5123/join/")


def test_invites_per_admin_are_limited():
    app = make_app(REGISTRATION="invite", MAX_INVITES_PER_ADMIN="2")
    with app.app_context():
        service.create_user("root", PASSWORD)
    admin = admin_socket(app)
    for _ in range(2):
        assert call(admin, "invite:create", {}, namespace="/admin")["ok"]
    ack = call(admin, "invite:create", {}, namespace="/admin")
    assert ack["error"]["code"] == "conflict" and "MAX_INVITES_PER_ADMIN" in ack["error"]["message"]
    first = call(admin, "invites", {}, namespace="/admin")["invites"][0]["code"]
    assert call(admin, "invite:revoke", {"code": first}, namespace="/admin")["ok"]
    assert call(admin, "invite:create", {}, namespace="/admin")["ok"], "a revoked one frees a slot"


@pytest.mark.parametrize("payload, field", [
    ({"uses": 0}, "uses"), ({"uses": 1001}, "uses"), ({"days": 0}, "days"),
    ({"days": 366}, "days"), ({"uses": "3"}, "uses"),
])
def test_admin_invite_bounds(invite_app, payload, field):
    ack = call(admin_socket(invite_app), "invite:create", payload, namespace="/admin")
    assert ack["error"]["code"] == "bad_request" and ack["error"]["message"].startswith(field)


def test_members_cannot_manage_invites(invite_app):
    with invite_app.app_context():
        code = invites.create(None, uses=2).code
    join(invite_app, code, "member1")
    with invite_app.app_context():
        token, _ = service.issue_token(service.find_user("member1"))
    client = socketio.test_client(invite_app, namespace="/admin", auth={"token": token})
    assert not client.is_connected("/admin")


def test_qr_code_is_an_svg_for_admins_only(invite_app):
    app = invite_app
    with app.app_context():
        code = invites.create(None, uses=2).code
    browser = app.test_client()
    page = browser.get("/login")
    browser.post("/login", data={"csrf_token": csrf(page.text), "username": "root",
                                 "password": PASSWORD})
    r = browser.get(f"/admin/invites/{code}/qr.svg")
    assert r.status_code == 200
    assert r.mimetype == "image/svg+xml"
    assert r.headers["X-Content-Type-Options"] == "nosniff"
    assert r.headers["Content-Security-Policy"].startswith("default-src 'none'")
    assert r.data.startswith(b"<svg") and b"<script" not in r.data
    assert browser.get("/admin/invites/" + "B" * 22 + "/qr.svg").status_code == 404
    join(app, code, "member2")
    member = app.test_client()
    page = member.get("/login")
    member.post("/login", data={"csrf_token": csrf(page.text), "username": "member2",
                                "password": PASSWORD})
    assert member.get(f"/admin/invites/{code}/qr.svg").status_code == 403


def test_check_constraints_hold_the_invariants(any_db_app):
    invite = invites.create(None, uses=1)
    for values in ({"uses": 2}, {"uses": -1}, {"max_uses": 0}):
        with pytest.raises(IntegrityError):
            db.session.execute(update(Invite).where(Invite.id == invite.id).values(**values))
            db.session.commit()
        db.session.rollback()


def test_two_registrations_racing_for_one_use_exactly_one_wins(any_db_app):
    """Two threads, each its own session, register on a 1-use link at once."""
    app = any_db_app
    invite = invites.create(None, uses=1)
    invite_id = invite.id
    db.session.remove()
    barrier = threading.Barrier(2)
    results: dict[str, str] = {}

    def register(name: str) -> None:
        with app.app_context():
            barrier.wait(timeout=10)
            try:
                service.create_user(name, PASSWORD, invite_id=invite_id)
                results[name] = "ok"
            except invites.InviteGone:
                results[name] = "gone"
            finally:
                db.session.remove()

    threads = [threading.Thread(target=register, args=(n,)) for n in ("racer1", "racer2")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sorted(results.values()) == ["gone", "ok"], results
    assert db.session.get(Invite, invite_id).uses == 1
    assert db.session.scalar(select(func.count(User.id)).where(
        User.username.in_(["racer1", "racer2"]))) == 1
