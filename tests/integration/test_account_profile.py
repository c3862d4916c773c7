"""The account page's profile form (POST /account/profile): the same service
as the chat's ``profile:update`` event, with CSRF, clear errors at the field,
and ``user:updated`` to the user's own tabs and everyone sharing a room."""
from __future__ import annotations

import re

import pytest

from blueprints.auth import service
from extensions import db, socketio
from models import User
from tests.support.app import sign_in

ZH = {"Accept-Language": "zh-CN"}


def csrf(html: str) -> str:
    return re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', html).group(1)


def _payload(packet):
    return packet["args"][0] if isinstance(packet["args"], list) else packet["args"]


def updates(client) -> list[dict]:
    return [_payload(p) for p in client.get_received("/chat") if p["name"] == "user:updated"]


@pytest.fixture
def alice(app):
    """alice signed in over HTTP (a browser), plus a /chat tab of hers."""
    with app.app_context():
        service.create_user("admin", "password-123")
        user = service.create_user("alice", "password-123")
        service.create_user("bob", "password-123")
        token, _ = service.issue_token(user)
    client = app.test_client()
    sign_in(client, "alice", "password-123")
    tab = socketio.test_client(app, namespace="/chat", auth={"token": token})
    assert tab.is_connected("/chat")
    tab.get_received("/chat")
    yield client, tab
    tab.disconnect(namespace="/chat")


def stored(app) -> tuple[str | None, str | None]:
    with app.app_context():
        user = db.session.execute(db.select(User).filter_by(username="alice")).scalar_one()
        return user.display_name, user.status


def post(client, **fields):
    page = client.get("/account")
    return client.post("/account/profile", data={"csrf_token": csrf(page.text), **fields})


def test_the_form_saves_and_tells_the_users_tabs(app, alice):
    client, tab = alice
    r = post(client, display_name="Alice Ng", status="in a meeting")
    assert r.status_code == 302 and r.headers["Location"].startswith("/account")
    assert stored(app) == ("Alice Ng", "in a meeting")
    (seen,) = updates(tab)
    assert (seen["username"], seen["display_name"], seen["status"]) == \
        ("alice", "Alice Ng", "in a meeting")
    page = client.get("/account").text
    assert re.search(r'id="profile-display-name">Alice Ng<', page)
    assert re.search(r'id="profile-status">in a meeting<', page)
    assert 'value="Alice Ng"' in page  # the form shows what is stored


def test_an_unchanged_profile_tells_nobody(app, alice):
    client, tab = alice
    post(client, display_name="Alice Ng", status="here")
    updates(tab)
    r = post(client, display_name="Alice Ng", status=" here ")
    assert r.status_code == 302
    assert updates(tab) == []


@pytest.mark.parametrize("fields,field,words", [
    ({"display_name": "x" * 65, "status": ""}, "display-name", "display_name: at most 64 characters"),
    ({"display_name": "ｂｏｂ", "status": ""}, "display-name", "looks like the username of another"),
    ({"display_name": "", "status": "s" * 81}, "status-text", "status: at most 80 characters"),
    ({"display_name": "a\u202eb", "status": ""}, "display-name", "control or direction characters"),
])
def test_a_refused_value_says_why_at_its_field_and_changes_nothing(app, alice, fields, field, words):
    client, tab = alice
    before = stored(app)
    r = post(client, **fields)
    assert r.status_code == 400
    error = re.search(r'<p class="form-error" id="profile-error" role="alert">([^<]*)</p>', r.text)
    assert error and words in error.group(1).replace("&#39;", "'"), r.text
    assert re.search(rf'id="{field}"[^>]*aria-invalid="true"', r.text)
    assert stored(app) == before
    assert updates(tab) == []


def test_the_error_is_in_the_readers_language(app, alice):
    client, _ = alice
    page = client.get("/account", headers=ZH)
    r = client.post("/account/profile", headers=ZH,
                    data={"csrf_token": csrf(page.text), "display_name": "x" * 65, "status": ""})
    assert r.status_code == 400
    assert "最多 64 个字符" in r.text


def test_without_the_csrf_token_it_is_refused(app, alice):
    client, tab = alice
    before = stored(app)
    r = client.post("/account/profile", data={"display_name": "Mallory", "status": "owned"})
    assert r.status_code == 400
    assert stored(app) == before != ("Mallory", "owned")
    assert updates(tab) == []


def test_it_needs_a_login(app):
    client = app.test_client()
    token = csrf(client.get("/login").text)
    r = client.post("/account/profile", data={"csrf_token": token, "display_name": "x"})
    assert r.status_code == 302 and "/login" in r.headers["Location"]
