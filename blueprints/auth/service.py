"""Accounts: registration, password checks, tokens. No Flask request, no Socket.IO."""
from __future__ import annotations

import re

from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from werkzeug.security import check_password_hash, generate_password_hash

from extensions import db
from models import User
from realtime.errors import BadRequest, Conflict, Unauthorized

USERNAME_RE = re.compile(r"^[A-Za-z0-9_.-]{3,32}$")
MIN_PASSWORD = 8
# A fixed hash to check against when the user does not exist, so that a wrong
# username and a wrong password take the same time to refuse.
_DUMMY_HASH = generate_password_hash("switchboard-timing-equaliser")


def validate_username(username: str) -> str:
    if not isinstance(username, str) or not USERNAME_RE.match(username):
        raise BadRequest("username: 3-32 characters of letters, digits, '_', '.' or '-'")
    return username


def validate_password(password: str) -> str:
    if not isinstance(password, str) or len(password) < MIN_PASSWORD:
        raise BadRequest(f"password: at least {MIN_PASSWORD} characters")
    return password


def find_user(username: str) -> User | None:
    return db.session.scalar(select(User).where(User.username_key == username.lower()))


def has_users() -> bool:
    """False on a new install: the login page and the start-up log then say how to begin."""
    return db.session.scalar(select(User.id).limit(1)) is not None


def create_user(username: str, password: str, is_admin: bool | None = None) -> User:
    """Create an account. The first account ever created is an admin."""
    validate_username(username)
    validate_password(password)
    if is_admin is None:
        is_admin = db.session.scalar(select(func.count(User.id))) == 0
    user = User(
        username=username,
        username_key=username.lower(),
        password_hash=generate_password_hash(password),
        is_admin=is_admin,
    )
    db.session.add(user)
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        raise Conflict("That username is taken.") from None
    return user


def authenticate(username: str, password: str) -> User | None:
    """The user for this username and password, or None (never says which was wrong)."""
    user = find_user(username) if isinstance(username, str) else None
    if user is None:
        check_password_hash(_DUMMY_HASH, password or "")
        return None
    if not check_password_hash(user.password_hash, password or "") or not user.active:
        return None
    return user


def change_password(user: User, new_password: str) -> None:
    validate_password(new_password)
    user.password_hash = generate_password_hash(new_password)
    end_sessions(user)


def end_sessions(user: User) -> None:
    """Invalidate every session cookie and token of the user."""
    user.auth_epoch += 1
    db.session.commit()


def set_active(user: User, active: bool) -> None:
    user.active = active
    end_sessions(user)


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
    return URLSafeTimedSerializer(current_app.secret_key, salt="switchboard.socket-token")


def issue_token(user: User) -> tuple[str, int]:
    ttl = current_app.extensions["switchboard.settings"].TOKEN_TTL
    return _serializer().dumps({"uid": user.id, "epoch": user.auth_epoch}), ttl


def user_from_token(token) -> User:
    """The user a Socket.IO connect token names; ``Unauthorized`` if it is not good."""
    if not isinstance(token, str) or len(token) > 512:
        raise Unauthorized("The token is not valid.")
    ttl = current_app.extensions["switchboard.settings"].TOKEN_TTL
    try:
        data = _serializer().loads(token, max_age=ttl)
    except SignatureExpired:
        raise Unauthorized("The token has expired; ask /api/token for a new one.") from None
    except BadSignature:
        raise Unauthorized("The token is not valid.") from None
    user = load_session_user(f"{data.get('uid')}:{data.get('epoch')}")
    if user is None:
        raise Unauthorized("The token is no longer valid.")
    return user
