"""Password change: every other session, token and socket ends; this browser stays in."""
from __future__ import annotations

import re

from blueprints.auth import service
from extensions import socketio
from tests.support.app import sign_in


def csrf(html: str) -> str:
    return re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html).group(1)


def test_password_change_ends_other_sessions_tokens_and_sockets(app):
    with app.app_context():
        user = service.create_user("alice", "password-123")
        token, _ = service.issue_token(user)
    browser, other_browser = app.test_client(), app.test_client()
    for b in (browser, other_browser):
        sign_in(b, "alice", "password-123")
    sock = socketio.test_client(app, namespace="/chat", auth={"token": token})
    assert sock.is_connected("/chat")

    page = browser.get("/account/password")
    wrong = browser.post("/account/password", data={
        "csrf_token": csrf(page.text), "current_password": "nope-nope",
        "new_password": "password-456", "confirm": "password-456"})
    assert wrong.status_code == 200 and "current password is wrong" in wrong.text
    r = browser.post("/account/password", data={
        "csrf_token": csrf(page.text), "current_password": "password-123",
        "new_password": "password-456", "confirm": "password-456"})
    assert r.status_code == 302

    assert not sock.is_connected("/chat")
    assert browser.get("/chat").status_code == 200  # still signed in here
    assert other_browser.get("/chat").status_code == 302  # signed out there
    again = socketio.test_client(app, namespace="/chat", auth={"token": token})
    assert not again.is_connected("/chat")
    with app.app_context():
        assert service.authenticate("alice", "password-456") is not None
