"""Personal access tokens (PROTOCOL section 10): long-lived, named, shown once.

A token is ``sbp_`` + 43 URL-safe characters (256 random bits). Only its
SHA-256 is stored: a copy of the database (a backup, a leaked dump) gives no
working token, and a fast hash is enough because there is nothing to guess in
256 random bits (a password needs a slow hash; this does not). The prefix
tells it apart from the short-lived signed tokens of ``POST /api/token``
(blueprints/auth/service.py), and makes a leaked one easy to find with a
secret scanner.

Personal tokens survive "log out everywhere" and a password change: they are
credentials of scripts and bots, listed on the account page one by one, each
revoked there on its own; logging a browser out must not silently stop a
deployment's bot. Disabling the account revokes them all (``revoke_all``),
and a disabled user's token is refused at every use anyway.
"""
from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import func, select

from blueprints.auth.service import revoke_personal_tokens, user_from_token
from errors import BadRequest, Conflict, NotFound, Unauthorized
from extensions import db
from i18n import _l
from models import ApiToken, User, utcnow
from textnorm import is_blank

PREFIX = "sbp_"
MAX_NAME = 64
# Expiry choices: at least a minute, at most a year; None means never.
MIN_EXPIRES_IN = 60
MAX_EXPIRES_IN = 366 * 86400
# last_used_at is written at most this often per token: not one write per request.
LAST_USED_EVERY = timedelta(seconds=60)


def hash_secret(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def is_personal(token) -> bool:
    return isinstance(token, str) and token.startswith(PREFIX)


def validate_name(name) -> str:
    if not isinstance(name, str) or is_blank(name):
        raise BadRequest(_l("name: give the token a name (1-%(max)s characters), e.g. "
                            "\"deploy bot\"", max=MAX_NAME))
    name = name.strip()
    if len(name) > MAX_NAME:
        raise BadRequest(_l("name: at most %(max)s characters", max=MAX_NAME))
    return name


def validate_expires_in(expires_in) -> int | None:
    if expires_in is None:
        return None
    if isinstance(expires_in, bool) or not isinstance(expires_in, int) \
            or not MIN_EXPIRES_IN <= expires_in <= MAX_EXPIRES_IN:
        raise BadRequest(_l("expires_in: whole seconds from %(min)s to %(max)s (a year), or "
                            "null for no expiry", min=MIN_EXPIRES_IN, max=MAX_EXPIRES_IN))
    return expires_in


def _live(now: datetime):
    return (ApiToken.revoked_at.is_(None)) & (
        ApiToken.expires_at.is_(None) | (ApiToken.expires_at > now))


def create_token(user: User, name, expires_in=None) -> tuple[ApiToken, str]:
    """A new token for ``user``; returns the row and the secret (never stored)."""
    name = validate_name(name)
    expires_in = validate_expires_in(expires_in)
    now = utcnow()
    limit = current_app.extensions["switchboard.settings"].MAX_TOKENS_PER_USER
    held = db.session.scalar(select(func.count(ApiToken.id))
                             .where(ApiToken.user_id == user.id, _live(now)))
    if held >= limit:
        raise Conflict(_l("You already have %(count)s tokens (MAX_TOKENS_PER_USER=%(limit)s); "
                          "revoke one first.", count=held, limit=limit))
    secret = PREFIX + secrets.token_urlsafe(32)
    row = ApiToken(user_id=user.id, name=name, token_hash=hash_secret(secret), created_at=now,
                   expires_at=now + timedelta(seconds=expires_in) if expires_in else None)
    db.session.add(row)
    db.session.commit()
    return row, secret


def list_tokens(user: User) -> list[ApiToken]:
    """The user's tokens not revoked (expired ones too, until revoked: the list says so)."""
    return list(db.session.scalars(
        select(ApiToken).where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
        .order_by(ApiToken.id)))


def revoke_token(user: User, token_id: int) -> ApiToken:
    """Revoke one of the user's own tokens. Someone else's is ``NotFound`` (not
    ``forbidden``: its existence is not the caller's business)."""
    row = db.session.get(ApiToken, token_id) if isinstance(token_id, int) else None
    if row is None or row.user_id != user.id or row.revoked_at is not None:
        raise NotFound(_l("No such token."))
    row.revoked_at = utcnow()
    db.session.commit()
    return row


def revoke_all(user: User) -> int:
    """Revoke every live token of the user (password change, account disabled)."""
    return revoke_personal_tokens(user)


def authenticate(token) -> tuple[User, ApiToken]:
    """The user and row of a personal token, or ``Unauthorized``."""
    if not is_personal(token) or len(token) > 128:
        raise Unauthorized(_l("The token is not valid."))
    row = db.session.scalar(select(ApiToken).where(ApiToken.token_hash == hash_secret(token)))
    now = utcnow()
    if row is None or row.revoked_at is not None:
        raise Unauthorized(_l("The token is not valid."))
    if row.expires_at is not None and row.expires_at <= now:
        raise Unauthorized(_l("The token has expired; create a new one on the account page."))
    user = row.user
    if user is None or not user.active:
        raise Unauthorized(_l("The token is not valid."))
    if row.last_used_at is None or now - row.last_used_at >= LAST_USED_EVERY:
        row.last_used_at = now
        db.session.commit()
    return user, row


def token_credential(token) -> tuple[User, int | None]:
    """The user of a Socket.IO connect token and, for a personal access token,
    its id (the connection records it, so revoking the token closes that
    socket). A short-lived signed token of /api/token gives ``None``."""
    if is_personal(token):
        user, row = authenticate(token)
        return user, row.id
    return user_from_token(token), None


def bearer_user(token) -> User:
    """The user of an ``Authorization: Bearer`` token on /api: a personal
    access token, or a short-lived /api/token token (as every /api route takes)."""
    return token_credential(token)[0]
