"""Accounts: registration, password checks, tokens. No Flask request, no Socket.IO."""
from __future__ import annotations

import re
from typing import Any, cast

from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import CursorResult, func, select, update
from sqlalchemy.exc import IntegrityError
from werkzeug.security import check_password_hash, generate_password_hash

from blocking import offload
from errors import BadRequest, Conflict, Unauthorized
from extensions import db
from i18n import LOCALES, _l
from models import ApiToken, Invite, User, utcnow
from textnorm import name_key

# Used with ``fullmatch`` only: ``^...$`` with ``match`` let "root\n" through,
# because ``$`` also matches before a final newline; the page then showed a
# second "root".
USERNAME_RE = re.compile(r"[A-Za-z0-9_.-]{3,32}")
MIN_PASSWORD = 8
# A fixed hash to check against when the user does not exist, so that a wrong
# username and a wrong password take the same time to refuse.
_DUMMY_HASH = generate_password_hash("switchboard-timing-equaliser")


def validate_username(username: str) -> str:
    if not isinstance(username, str) or not USERNAME_RE.fullmatch(username):
        raise BadRequest(_l("username: 3-32 characters of letters, digits, '_', '.' or '-'"))
    return username


def _hash(password: str) -> str:
    # Off the event loop: a hash holds the only OS thread for ~80 ms (blocking.py).
    return offload(generate_password_hash, password)


def _check(pwhash: str, password: str) -> bool:
    return offload(check_password_hash, pwhash, password)


def validate_password(password: str) -> str:
    if not isinstance(password, str) or len(password) < MIN_PASSWORD:
        raise BadRequest(_l("password: at least %(count)s characters", count=MIN_PASSWORD))
    return password


def find_user(username: str) -> User | None:
    """The account whose name looks like ``username`` (same ``name_key``), if any."""
    return db.session.scalar(select(User).where(User.username_key == name_key(username)))


def has_users() -> bool:
    """False on a new install: the login page and the start-up log then say how to begin."""
    return db.session.scalar(select(User.id).limit(1)) is not None


def create_user(username: str, password: str, is_admin: bool | None = None,
                invite_id: int | None = None) -> User:
    """Create an account. The first account ever created is an admin.

    ``invite_id``: take one use of that invite link in the same transaction
    (``invites.InviteGone`` when none is left; a taken name gives the use back)."""
    validate_username(username)
    validate_password(password)
    key = name_key(username)
    existing = db.session.scalar(select(User.username).where(User.username_key == key))
    if existing is not None:
        raise _taken(username, existing)
    if is_admin is None:
        is_admin = db.session.scalar(select(func.count(User.id))) == 0
    user = User(
        username=username,
        username_key=key,
        password_hash=_hash(password),
        is_admin=is_admin,
    )
    db.session.add(user)
    try:
        if invite_id is not None:
            try:
                take_invite_use(invite_id)
            except InviteGone:
                db.session.rollback()
                raise
        db.session.commit()
    except IntegrityError:  # registered at the same moment: the UNIQUE index decides
        db.session.rollback()
        existing = db.session.scalar(select(User.username).where(User.username_key == key))
        raise _taken(username, existing or username) from None
    return user


class InviteGone(Exception):
    """The invite link exists but can no longer be used (HTTP 410); ``reason``
    is used, expired or revoked."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def invite_usable_now(now):
    """The SQL condition of an invite link that can be used at ``now``."""
    return (Invite.revoked_at.is_(None)) & (Invite.uses < Invite.max_uses) & \
        (Invite.expires_at > now)


def take_invite_use(invite_id: int) -> None:
    """Take one use of an invite link, in the caller's transaction, with ONE
    conditional UPDATE: of two registrations racing for the last use the
    database lets exactly one through (PostgreSQL's row lock, SQLite's write
    lock). ``InviteGone`` when none is left. The caller commits with the new
    account, or rolls back (the use too)."""
    result = cast("CursorResult[Any]", db.session.execute(  # an UPDATE's result has rowcount
        update(Invite).where(Invite.id == invite_id, invite_usable_now(utcnow()))
        .values(uses=Invite.uses + 1)))
    if result.rowcount != 1:
        raise InviteGone("used")


def _taken(username: str, existing: str) -> Conflict:
    if existing == username:
        return Conflict(_l("The username %(name)r is taken.", name=username))
    return Conflict(_l("The username %(name)r is taken: an account named %(existing)r "
                       "already exists and looks the same.", name=username, existing=existing))


def authenticate(username: object, password: object) -> User | None:
    """The user for this username and password, or None (never says which was wrong)."""
    user = find_user(username) if isinstance(username, str) else None
    if not isinstance(password, str):  # JSON may send a number or a list
        password = ""
    if user is None:
        _check(_DUMMY_HASH, password)
        return None
    if not _check(user.password_hash, password) or not user.active:
        return None
    return user


def change_password(user: User, new_password: str) -> None:
    """New password: every session ends (the epoch) and every personal access
    token is revoked. A password change is what people do after a leak, and
    whoever knew the old password could have minted tokens with it; "log out
    everywhere" (``end_sessions``) keeps them (blueprints/auth/tokens.py)."""
    validate_password(new_password)
    user.password_hash = _hash(new_password)
    end_sessions(user)
    revoke_personal_tokens(user)


THEMES = ("light", "dark", "system")


def set_theme(user: User, theme: str) -> str:
    """The account's colour scheme: one of THEMES ("system" follows the browser).
    The users table's CHECK constraint holds the same list (migration 0004)."""
    if theme not in THEMES:
        raise BadRequest(_l("theme: one of light, dark or system"))
    user.theme = theme
    db.session.commit()
    return theme


def set_locale(user: User, locale: str | None) -> str | None:
    """The account's language: one of i18n.LOCALES ("en", "zh-CN"), or None to
    follow the browser's Accept-Language. The users table's CHECK constraint
    holds the same list (migration 0005)."""
    if locale is not None and locale not in LOCALES:
        raise BadRequest(_l("locale: one of %(choices)s, or none to follow the browser",
                            choices=", ".join(LOCALES)))
    user.locale = locale
    db.session.commit()
    return locale


def end_sessions(user: User) -> None:
    """Invalidate every session cookie and token of the user."""
    user.auth_epoch += 1
    db.session.commit()


def set_active(user: User, active: bool) -> None:
    """Disable or enable. Disabling ends every session (the epoch) and revokes
    every personal token: re-enabling later does not bring old tokens back."""
    user.active = active
    end_sessions(user)
    if not active:
        revoke_personal_tokens(user)


def revoke_personal_tokens(user: User) -> int:
    """Revoke every live personal access token of the user; returns how many."""
    result = cast("CursorResult[Any]", db.session.execute(update(ApiToken).where(
        ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None)).values(revoked_at=utcnow())))
    db.session.commit()
    return result.rowcount or 0


def load_session_user(session_id: str) -> User | None:
    """Flask-Login's user loader: ``"<id>:<epoch>"``, refused if the epoch moved."""
    try:
        uid, epoch = (int(x) for x in session_id.split(":"))
    except (ValueError, AttributeError):
        return None
    user = db.session.get(User, uid)
    if user is None or user.auth_epoch != epoch or not user.active:
        return None
    return user


def _serializer() -> URLSafeTimedSerializer:
    assert current_app.secret_key, "create_app sets SECRET_KEY"
    return URLSafeTimedSerializer(current_app.secret_key, salt="switchboard.socket-token")


def issue_token(user: User) -> tuple[str, int]:
    ttl = current_app.extensions["switchboard.settings"].TOKEN_TTL
    return _serializer().dumps({"uid": user.id, "epoch": user.auth_epoch}), ttl


def user_from_token(token) -> User:
    """The user a short-lived /api/token token names; ``Unauthorized`` if it is
    not good. (Personal access tokens: blueprints/auth/tokens.py.)"""
    if not isinstance(token, str) or len(token) > 512:
        raise Unauthorized(_l("The token is not valid."))
    ttl = current_app.extensions["switchboard.settings"].TOKEN_TTL
    try:
        data = _serializer().loads(token, max_age=ttl)
    except SignatureExpired:
        raise Unauthorized(_l("The token has expired; ask /api/token for a new one.")) from None
    except BadSignature:
        raise Unauthorized(_l("The token is not valid.")) from None
    user = load_session_user(f"{data.get('uid')}:{data.get('epoch')}")
    if user is None:
        raise Unauthorized(_l("The token is no longer valid."))
    return user
