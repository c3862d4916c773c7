"""The colour scheme per account: POST /account/theme, kept on users.theme, put on <html data-theme>."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from blueprints.auth import service
from errors import BadRequest
from extensions import db
from models import User


def csrf(html: str) -> str:
    return re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', html).group(1)


def theme_of(html: str) -> str:
    return re.search(r'<html lang="en" data-theme="([a-z]+)"', html).group(1)


@pytest.fixture
def browser(app):
    with app.app_context():
        service.create_user("alice", "password-123")
    client = app.test_client()
    page = client.get("/login")
    r = client.post("/login", data={"csrf_token": csrf(page.text), "username": "alice",
                                    "password": "password-123"})
    assert r.status_code == 302
    return client


def stored_theme(app) -> str:
    with app.app_context():
        return db.session.execute(db.select(User.theme).filter_by(username="alice")).scalar_one()


def test_a_new_account_follows_the_system_and_logged_out_pages_do_too(app, browser):
    assert stored_theme(app) == "system"
    page = browser.get("/chat")
    assert theme_of(page.text) == "system"
    assert 'id="theme-system"' in page.text and 'aria-pressed="true"' in page.text
    assert theme_of(app.test_client().get("/login").text) == "system"


@pytest.mark.parametrize("theme", ["dark", "light", "system"])
def test_the_choice_is_kept_and_the_form_goes_back_to_its_page(app, browser, theme):
    page = browser.get("/market?symbol=ACME")
    assert 'name="next" value="/market?symbol=ACME"' in page.text
    r = browser.post("/account/theme", data={"csrf_token": csrf(page.text), "theme": theme,
                                             "next": "/market?symbol=ACME"})
    assert r.status_code == 302 and r.headers["Location"] == "/market?symbol=ACME"
    assert stored_theme(app) == theme
    again = browser.get("/chat").text
    assert theme_of(again) == theme
    assert re.search(rf'id="theme-{theme}"\s+aria-pressed="true"', again)


@pytest.mark.parametrize("bad", ["", "DARK", "blue", "dark ", "system;", "x" * 100])
def test_a_bad_value_is_refused_and_nothing_changes(app, browser, bad):
    page = browser.get("/chat")
    r = browser.post("/account/theme", data={"csrf_token": csrf(page.text), "theme": bad})
    assert r.status_code == 400
    assert stored_theme(app) == "system"


def test_no_theme_field_is_refused(app, browser):
    page = browser.get("/chat")
    assert browser.post("/account/theme", data={"csrf_token": csrf(page.text)}).status_code == 400


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/x", "/\\evil.example"])
def test_next_stays_on_this_site(app, browser, target):
    page = browser.get("/chat")
    r = browser.post("/account/theme", data={"csrf_token": csrf(page.text), "theme": "dark",
                                             "next": target})
    assert r.status_code == 302 and r.headers["Location"] == "/chat"


def test_without_the_csrf_token_it_is_refused(app, browser):
    r = browser.post("/account/theme", data={"theme": "dark"})
    assert r.status_code == 400
    assert stored_theme(app) == "system"


def test_logged_out_it_asks_to_log_in(app):
    r = app.test_client().post("/account/theme", data={"theme": "dark"})
    assert r.status_code in (302, 400, 401)  # CSRF or the login redirect: nothing is stored


def test_the_service_refuses_anything_but_the_three_values(app):
    with app.app_context():
        user = service.create_user("bob", "password-123")
        with pytest.raises(BadRequest):
            service.set_theme(user, "sepia")
        assert service.set_theme(user, "dark") == "dark"


def test_the_database_refuses_other_values_too(any_db_app):
    """The CHECK constraint of migration 0004, past the service."""
    service.create_user("carol", "password-123")
    with pytest.raises(IntegrityError):
        db.session.execute(text("UPDATE users SET theme = 'sepia' WHERE username = 'carol'"))
        db.session.commit()
    db.session.rollback()


def test_migration_0004_gives_existing_accounts_system_and_downgrades(any_db_app):
    from flask_migrate import downgrade, upgrade

    downgrade(revision="3c1f0e7a9b52")
    db.session.execute(text("INSERT INTO users (username, username_key, password_hash, is_admin, "
                            "active, auth_epoch, created_at) VALUES ('dave', 'dave', 'x', :f, :t, 0, "
                            "CURRENT_TIMESTAMP)"), {"f": False, "t": True})
    db.session.commit()
    upgrade()
    assert db.session.execute(text("SELECT theme FROM users WHERE username = 'dave'")).scalar_one() \
        == "system"
    with pytest.raises(IntegrityError):
        db.session.execute(text("UPDATE users SET theme = '' WHERE username = 'dave'"))
        db.session.commit()
    db.session.rollback()
