"""What a newcomer meets first: the error pages, the admin's way to /admin, a new install's login page."""
from __future__ import annotations

import re

import pytest

from blueprints.auth import service
from tests.support.app import make_app


def csrf(html: str) -> str:
    return re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html).group(1)


def logged_in(app, username: str):
    with app.app_context():
        if service.find_user(username) is None:
            service.create_user(username, "password-123")
    client = app.test_client()
    page = client.get("/login")
    r = client.post("/login", data={"csrf_token": csrf(page.text), "username": username,
                                    "password": "password-123"})
    assert r.status_code == 302, r.text
    return client


def assert_error_page(r, status: int, heading: str, back: str) -> None:
    assert r.status_code == status
    assert r.mimetype == "text/html"
    html = r.text
    assert 'class="topbar"' in html and "css/app.css" in html  # the site's layout, not Werkzeug's
    assert f"Error {status}" in html
    assert f'<h1 id="error-title">{heading}</h1>' in html
    assert f'id="error-back" href="{back}"' in html


@pytest.fixture
def boom_app():
    """An app with a view that fails, answering as in production (no exception propagation)."""
    app = make_app()

    def boom():
        raise RuntimeError("secret detail that must not reach the page")

    app.add_url_rule("/boom", "boom", boom)
    app.add_url_rule("/api/boom", "api_boom", boom)
    app.config["PROPAGATE_EXCEPTIONS"] = False
    return app


def test_404_page_has_the_layout_and_a_way_back(app):
    assert_error_page(app.test_client().get("/no/such/page"), 404, "Page not found", "/login")
    assert_error_page(logged_in(app, "root").get("/no/such/page"), 404, "Page not found", "/chat")


def test_403_page_says_why_and_leads_back_to_the_chat(app):
    logged_in(app, "root")  # the first account is the admin
    r = logged_in(app, "mallory").get("/admin")
    assert_error_page(r, 403, "Not allowed", "/chat")
    assert "The operator console is for admins." in r.text


def test_500_page_hides_the_exception(boom_app):
    r = boom_app.test_client().get("/boom")
    assert_error_page(r, 500, "Something went wrong", "/login")
    assert "secret detail" not in r.text


def test_api_errors_stay_json(boom_app):
    client = boom_app.test_client()
    r = client.get("/api/no-such-endpoint")
    assert r.status_code == 404 and r.is_json
    assert r.get_json()["error"]["code"] == "not_found"
    r = client.get("/api/boom")
    assert r.status_code == 500 and r.is_json
    assert r.get_json()["error"]["code"] == "internal"
    assert "secret detail" not in r.text


def test_admin_link_only_for_admins(app):
    admin, member = logged_in(app, "root"), logged_in(app, "bob")
    for path in ("/chat", "/market"):
        assert 'href="/admin" id="admin-link"' in admin.get(path).text
        assert "admin-link" not in member.get(path).text
        assert 'href="/admin"' not in member.get(path).text


def test_login_page_of_an_empty_install_says_to_register(app):
    page = app.test_client().get("/login").text
    assert "This install has no accounts yet." in page
    assert "the first account becomes the admin" in page
    assert 'href="/register" id="first-run-register"' in page
    logged_in(app, "root")
    page = app.test_client().get("/login").text
    assert "no accounts yet" not in page and "first-run" not in page


def test_login_page_of_an_empty_closed_install_names_the_command():
    app = make_app(REGISTRATION="closed")
    page = app.test_client().get("/login").text
    assert "no accounts yet" in page and "registration is closed" in page
    assert "flask --app app users create NAME --admin" in page
    assert 'href="/register"' not in page
