"""Invite links (PROTOCOL section 15): with ``REGISTRATION=invite``, the only
way to register.

A code is 128 random bits, URL-safe (22 characters): not guessable, so a
link is a capability that can be handed around, and an unknown code is a 404
while a known one that can no longer be used (used up, expired, revoked) is a
410 with a page saying so. Codes are stored as they are (not hashed): admins
see their links, and their QR codes, on /admin for as long as they live.

Registering consumes a use with ONE conditional UPDATE (``uses < max_uses``
and still valid) in the same transaction as the new account: of two
registrations racing for the last use, the database lets exactly one through
(PostgreSQL's row lock, SQLite's write lock), and a registration that fails
for another reason (a taken name) rolls its use back. The CHECK constraints
of the table (migration 0007) keep ``0 <= uses <= max_uses`` whatever writes.
"""
from __future__ import annotations

import io
import re
import secrets
from datetime import timedelta

from flask import current_app
from sqlalchemy import func, select

from blueprints.auth.service import InviteGone, invite_usable_now  # noqa: F401  (InviteGone: re-exported)
from errors import BadRequest, Conflict, NotFound
from extensions import db
from i18n import _l
from models import Invite, User, iso, utcnow

CODE_BYTES = 16  # 128 bits
CODE_RE = re.compile(r"[A-Za-z0-9_-]{22,43}")
MAX_USES = 1000
MAX_DAYS = 365


def status(invite: Invite, now=None) -> str:
    """active | used | expired | revoked"""
    now = now or utcnow()
    if invite.revoked_at is not None:
        return "revoked"
    if invite.uses >= invite.max_uses:
        return "used"
    if invite.expires_at <= now:
        return "expired"
    return "active"


def link(code: str) -> str:
    """The absolute link, from PUBLIC_URL (default http(s)://HOST:PORT)."""
    return f"{current_app.extensions['switchboard.settings'].public_url}/join/{code}"


def to_dict(invite: Invite) -> dict:
    return {
        "code": invite.code, "url": link(invite.code),
        "qr_url": f"/admin/invites/{invite.code}/qr.svg",
        "uses": invite.uses, "max_uses": invite.max_uses,
        "created_by": invite.creator.username if invite.creator else None,
        "created_at": iso(invite.created_at), "expires_at": iso(invite.expires_at),
        "status": status(invite),
    }


def create(creator: User | None, uses: int = 1, days: int = 7) -> Invite:
    """A new link. ``creator`` None: the operator's CLI (no per-admin limit)."""
    if isinstance(uses, bool) or not isinstance(uses, int) or not 1 <= uses <= MAX_USES:
        raise BadRequest(_l("uses: a whole number from 1 to %(max)s", max=MAX_USES))
    if isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= MAX_DAYS:
        raise BadRequest(_l("days: a whole number from 1 to %(max)s", max=MAX_DAYS))
    now = utcnow()
    if creator is not None:
        limit = current_app.extensions["switchboard.settings"].MAX_INVITES_PER_ADMIN
        held = db.session.scalar(select(func.count(Invite.id)).where(
            Invite.created_by == creator.id, invite_usable_now(now)))
        if held >= limit:
            raise Conflict(_l("You have %(count)s usable invite links "
                              "(MAX_INVITES_PER_ADMIN=%(limit)s); revoke one first.",
                              count=held, limit=limit))
    invite = Invite(code=secrets.token_urlsafe(CODE_BYTES), created_by=creator.id if creator else None,
                    max_uses=uses, uses=0, created_at=now, expires_at=now + timedelta(days=days))
    db.session.add(invite)
    db.session.commit()
    return invite


def find(code: str) -> Invite | None:
    if not isinstance(code, str) or not CODE_RE.fullmatch(code):
        return None
    return db.session.scalar(select(Invite).where(Invite.code == code))


def usable(code: str) -> Invite:
    """The invite if it can be used now; ``NotFound`` or ``InviteGone`` otherwise."""
    invite = find(code)
    if invite is None:
        raise NotFound(_l("No such invite link."))
    state = status(invite)
    if state != "active":
        raise InviteGone(state)
    return invite


def list_all(limit: int = 200) -> list[Invite]:
    return list(db.session.scalars(select(Invite).order_by(Invite.id.desc()).limit(limit)))


def revoke(code: str) -> Invite:
    invite = find(code)
    if invite is None:
        raise NotFound(_l("No such invite link."))
    if invite.revoked_at is None:
        invite.revoked_at = utcnow()
        db.session.commit()
    return invite


def qr_svg(code: str) -> bytes:
    """The link as a QR code, an SVG document (segno: pure Python, no other
    dependency). Its only variable content is the link built from PUBLIC_URL
    and the code, which CODE_RE allows only URL-safe characters into."""
    import segno

    if not CODE_RE.fullmatch(code):
        raise NotFound(_l("No such invite link."))
    buffer = io.BytesIO()
    segno.make(link(code), error="m", micro=False).save(
        buffer, kind="svg", scale=5, border=2, xmldecl=False, title="Invite link",
        dark="#111111", light="#ffffff")
    return buffer.getvalue()
