"""Look-alike accounts and rooms, invisible-only text.

Defence: textnorm.name_key (invisible characters removed, NFKC, casefold,
white space runs made one space) stored in users.username_key and
rooms.name_key under UNIQUE constraints (migration 0003 recomputes them);
auth.service.validate_username uses ``fullmatch`` (``^...$`` with ``match``
let "root\\n" through: ``$`` matches before a final newline);
chat.service refuses room names with line, control or direction characters
and names or messages that are blank once invisible characters are removed.
The attack run registered "root\\n", which the page showed as a second
"root", and created rooms that looked like "general".
"""
from __future__ import annotations

import html
import re

import pytest
import requests
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from tests.security.helpers import make_user, unique
from tests.support.clients import HTTP_TIMEOUT, csrf_token

FULLWIDTH = {c: chr(ord(c) + 0xFEE0) for c in "abcdefghijklmnopqrstuvwxyz0123456789"}


def fullwidth(name: str) -> str:
    return "".join(FULLWIDTH.get(c, c) for c in name)


def username_vectors(base: str) -> dict[str, str]:
    """The attack run's vectors against an existing lower-case ``base``."""
    return {
        "newline": base + "\n",
        "case": base.capitalize(),
        "fullwidth": fullwidth(base),
        "zero_width": base[:2] + "\u200b" + base[2:],
        "bidi_override": "\u202e" + base,
    }


@pytest.fixture(scope="module", params=["eventlet", "gevent"])
def server(request, module_servers):
    return module_servers(mode=request.param, name=f"lookalikes-{request.param}")


def post_register(base_url: str, username: str, password: str = "other-pass-9"):
    http = requests.Session()
    page = http.get(base_url + "/register", timeout=HTTP_TIMEOUT)
    return http.post(base_url + "/register", data={
        "csrf_token": csrf_token(page.text), "username": username,
        "password": password, "confirm": password,
    }, allow_redirects=False, timeout=HTTP_TIMEOUT)


def test_register_form_refuses_every_look_alike_and_keeps_what_was_typed(server):
    """Each vector: the form comes back (200, no redirect, no session) with an
    error at the username field, the name as typed still in the field and no
    password echoed; no second account exists (its password gets no token).
    On the old code "root\\n" got 302 and an account."""
    owner = make_user(server, "look")
    for label, name in username_vectors(owner.name).items():
        r = post_register(server.url, name)
        assert r.status_code == 200, f"{label}: {r.status_code} (an account was made)"
        field = re.search(r'<input[^>]*id="username"[^>]*>', r.text).group(0)
        assert 'value="' in field, f"{label}: the typed name is lost: {field}"
        assert "other-pass-9" not in r.text, f"{label}: a password came back in the page"
        errors = re.search(r'id="username-errors">(.*?)</ul>', r.text, re.S)
        assert errors, f"{label}: no error at the username field"
        token = requests.post(server.url + "/api/token",
                              json={"username": name, "password": "other-pass-9"},
                              timeout=HTTP_TIMEOUT)
        assert token.status_code == 401, f"{label}: a second account signs in: {token.text}"
        if label == "case":  # a conflict that names the account it clashes with
            text = html.unescape(errors.group(1))
            assert f"'{owner.name}'" in text and "already exists" in text, text


@pytest.mark.parametrize("transport", ["websocket", "polling"])
def test_room_create_and_message_send_refuse_look_alikes_and_invisible_text(server, clients,
                                                                          transport):
    """room:create answers conflict naming the existing room for "General",
    fullwidth and zero-width variants of "general", bad_request for a
    direction override and for a name of invisible characters only;
    message:send answers bad_request for text of invisible characters only.
    Nothing is stored: rooms:list shows one "general"."""
    user = make_user(server, "lookroom")
    client = clients(server, user, transport)
    for name in ("General", "ｇｅｎｅｒａｌ", "gen\u200beral", "general\u00ad"):
        ack = client.call("room:create", {"name": name, "kind": "public"})
        assert ack["ok"] is False and ack["error"]["code"] == "conflict", (name, ack)
        assert "'general' already exists" in ack["error"]["message"], ack
    for name in ("\u202egeneral", "\u200b\u200d\u2060", "\u3164"):
        ack = client.call("room:create", {"name": name, "kind": "private"})
        assert ack["ok"] is False and ack["error"]["code"] == "bad_request", (name, ack)
    rooms = client.call("rooms:list", {})
    names = [r["name"] for r in rooms["rooms"]]
    assert names.count("general") == 1 and len(names) == len(set(names)), names
    general = next(r["id"] for r in rooms["rooms"] if r["name"] == "general")
    assert client.call("room:join", {"room": general})["ok"]
    for text in ("\u200b", "\u200b\u200c\u200d\ufeff", " \u2060 \u202e "):
        ack = client.call("message:send", {"room": general, "text": text,
                                            "client_id": unique("inv")})
        assert ack["ok"] is False and ack["error"]["code"] == "bad_request", (repr(text), ack)


# -- in process: the CLI, the database constraint, the migration --------------------

@pytest.fixture
def app():
    from tests.support.app import make_app

    app = make_app()
    with app.app_context():
        yield app


USER_INSERT = sa.text(
    "INSERT INTO users (username, username_key, password_hash, is_admin, active, auth_epoch, "
    "created_at) VALUES (:n, :k, '-', :no, :yes, 0, CURRENT_TIMESTAMP)"
).bindparams(no=False, yes=True)
ROOM_INSERT = sa.text(
    "INSERT INTO rooms (name, name_key, kind, last_seq, last_rev, created_at) "
    "VALUES (:n, :k, :kind, 0, 0, CURRENT_TIMESTAMP)"
)


def test_cli_users_create_refuses_a_look_alike_naming_the_clash(app):
    runner = app.test_cli_runner()
    assert runner.invoke(args=["users", "create", "root"],
                         input="password-123\npassword-123\n").exit_code == 0
    for name in ("Root", "ｒｏｏｔ", "ro\u200bot", "root\n", "\u202eroot"):
        result = runner.invoke(args=["users", "create", name],
                               input="password-123\npassword-123\n")
        assert result.exit_code != 0, (name, result.output)
    result = runner.invoke(args=["users", "create", "Root"], input="password-123\npassword-123\n")
    assert "'root'" in result.output and "already exists" in result.output, result.output


def test_the_database_refuses_a_raw_insert_of_a_clashing_key(any_db_app):
    """The invariant holds without the service: UNIQUE on the canonical keys."""
    from blueprints.auth import service
    from extensions import db
    from textnorm import name_key

    service.create_user("root", "password-1")
    assert name_key("ｒｏｏｔ\u200b") == "root"
    with pytest.raises(IntegrityError):
        db.session.execute(USER_INSERT, {"n": "ｒｏｏｔ\u200b", "k": name_key("ｒｏｏｔ\u200b")})
        db.session.commit()
    db.session.rollback()
    with pytest.raises(IntegrityError):
        db.session.execute(ROOM_INSERT, {"n": "Ｇｅｎｅｒａｌ", "k": name_key("Ｇｅｎｅｒａｌ"),
                                         "kind": "private"})
        db.session.commit()
    db.session.rollback()


def test_migration_0003_backfills_keys_and_sets_clashing_rows_apart(any_db_app):
    """Rows made before 0003 (keys were lower(name)): after the upgrade every key
    is the name_key; of a clashing pair the older row keeps it, the newer user
    is disabled and signed out, the newer room renamed; a room named like a
    placeholder ("~1") keeps its name; downgrade and upgrade again work."""
    from flask_migrate import downgrade, upgrade

    from extensions import db

    downgrade(revision="88cda9017691")
    for name, key in [("root", "root"), ("root\n", "root\n"), ("ｒｏｏｔ", "ｒｏｏｔ"),
                      ("alice", "alice")]:
        db.session.execute(USER_INSERT, {"n": name, "k": key})
    for name in ("Ops", "ｏｐｓ", "gen\u200beral", "~1"):
        db.session.execute(ROOM_INSERT, {"n": name, "k": name.lower(), "kind": "public"})
    db.session.commit()
    db.session.remove()
    upgrade()
    users = db.session.execute(sa.text(
        "SELECT username, username_key, active, auth_epoch FROM users ORDER BY id")).all()
    assert tuple(users[0]) == ("root", "root", True, 0), users
    assert tuple(users[3]) == ("alice", "alice", True, 0), users
    for name, key, active, epoch in users[1:3]:
        assert key.startswith("root\x1f") and not active and epoch == 1, (name, key)
    rooms = dict(db.session.execute(sa.text("SELECT name, name_key FROM rooms")).all())
    assert rooms["general"] == "general" and rooms["Ops"] == "ops" and rooms["~1"] == "~1"
    renamed = {n: k for n, k in rooms.items() if n.endswith(")")}
    assert len(renamed) == 2 and all(k.endswith(")") for k in renamed.values()), rooms
    db.session.remove()
    downgrade(revision="88cda9017691")
    upgrade()
    db.session.remove()


def test_an_announcement_of_invisible_characters_only_is_refused(app):
    """What an admin announces is shown to everyone: the same blank rule as messages."""
    from blueprints.auth import service
    from extensions import socketio

    token, _ = service.issue_token(service.create_user("root", "password-1"))  # the admin
    admin = socketio.test_client(app, namespace="/admin", auth={"token": token})
    for text in ("\u200b", "\u2060\ufeff \u200d"):
        ack = admin.emit("announce", {"text": text}, namespace="/admin", callback=True)
        assert ack["ok"] is False and ack["error"]["code"] == "bad_request", (repr(text), ack)
    admin.disconnect("/admin")


def test_every_regex_validation_matches_the_whole_value(app):
    """``^...$`` with ``re.match`` accepts a trailing newline; every check uses fullmatch."""
    from blueprints.auth.service import validate_username
    from blueprints.market.quotes import parse_money
    from errors import BadRequest

    with pytest.raises(BadRequest):
        validate_username("root\n")
    with pytest.raises(ValueError):
        parse_money("101.25\n", "price")
    assert str(parse_money("101.25", "price")) == "101.25"
