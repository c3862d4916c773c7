from __future__ import annotations

import time

import pytest
from itsdangerous import URLSafeTimedSerializer

from blueprints.auth import service
from errors import BadRequest, Conflict, Unauthorized


def test_first_account_is_admin_and_names_are_unique_case_insensitively(app):
    first = service.create_user("Alice", "password-1")
    second = service.create_user("bob", "password-1")
    assert first.is_admin and not second.is_admin
    with pytest.raises(Conflict):
        service.create_user("ALICE", "password-1")


@pytest.mark.parametrize("name", ["ab", "a" * 33, "with space", "<script>", "ünï"])
def test_bad_usernames_are_refused(app, name):
    with pytest.raises(BadRequest):
        service.create_user(name, "password-1")


def test_short_passwords_are_refused_and_hashes_are_not_plain(app):
    with pytest.raises(BadRequest):
        service.create_user("alice", "short")
    user = service.create_user("alice", "password-1")
    assert "password-1" not in user.password_hash
    assert user.password_hash.startswith(("scrypt:", "pbkdf2:"))


def test_authenticate(app):
    service.create_user("alice", "password-1")
    assert service.authenticate("ALICE", "password-1").username == "alice"
    assert service.authenticate("alice", "wrong-pass") is None
    assert service.authenticate("nobody", "password-1") is None


def test_tokens_round_trip_and_die_with_the_epoch(app):
    user = service.create_user("alice", "password-1")
    token, ttl = service.issue_token(user)
    assert ttl == 300
    assert service.user_from_token(token).id == user.id
    service.change_password(user, "password-2")
    with pytest.raises(Unauthorized):
        service.user_from_token(token)


def test_tampered_and_expired_tokens_are_refused(app):
    user = service.create_user("alice", "password-1")
    token, _ = service.issue_token(user)
    with pytest.raises(Unauthorized):
        service.user_from_token(token[:-2] + ("A" if token[-2] != "A" else "B") + token[-1])
    old = URLSafeTimedSerializer(app.secret_key, salt="switchboard.socket-token")
    expired = old.dumps({"uid": user.id, "epoch": user.auth_epoch})
    real_time = time.time
    try:  # ten minutes later: beyond the 300 s lifetime
        time.time = lambda: real_time() + 600
        with pytest.raises(Unauthorized, match="expired"):
            service.user_from_token(expired)
    finally:
        time.time = real_time


def test_disabled_users_cannot_log_in(app):
    user = service.create_user("alice", "password-1")
    service.set_active(user, False)
    assert service.authenticate("alice", "password-1") is None
    assert service.load_session_user(user.get_id()) is None


# -- look-alike names -------------------------------------------------

@pytest.mark.parametrize("name", ["root\n", "root\r\n", "ｒｏｏｔ", "ro\u200bot", "\u202eroot",
                                  "root\u00ad", "\ufeffroot"])
def test_usernames_with_invisible_or_compatibility_characters_are_refused(app, name):
    """The attack run's vectors. "root\\n" passed ``^...$`` with ``re.match`` ($ matches
    before a final newline) and was a second "root" on the page."""
    service.create_user("root", "password-1")
    with pytest.raises(BadRequest):
        service.create_user(name, "password-1")
    with pytest.raises(BadRequest):
        service.validate_username(name)


def test_a_name_differing_only_by_case_is_a_conflict_that_names_the_existing_account(app):
    service.create_user("root", "password-1")
    with pytest.raises(Conflict) as exc:
        service.create_user("Root", "password-1")
    assert "'root'" in exc.value.message and "'Root'" in exc.value.message


def test_sign_in_finds_the_account_by_its_look_alike_key(app):
    """A fullwidth or zero-width variant typed at sign-in is the same account, not another."""
    service.create_user("root", "password-1")
    for typed in ("ROOT", "ｒｏｏｔ", "ro\u200bot", "root\n"):
        assert service.authenticate(typed, "password-1").username == "root", typed
    assert service.authenticate("root", 12345678) is None  # a JSON number is no password
