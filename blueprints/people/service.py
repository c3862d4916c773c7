"""People: the directory, profiles (display name, status) and avatars.

Plain Python and the database, like every service: the /chat namespace
(``users:list``, ``profile:update``) and the HTTP routes (``GET /api/users``,
``POST /api/avatar``, ``GET /avatars/...``) call the same functions, and
decide themselves whom to tell (``user:updated``).

Display names and statuses are text a user chose for others to read: they
get the rules room names have (textnorm.py), are stored as typed (after
trimming), and pages show them with textContent, never as HTML.
"""
from __future__ import annotations

import io
import unicodedata

from flask import current_app
from PIL import Image, ImageOps, UnidentifiedImageError
from sqlalchemy import or_, select

from errors import BadRequest, Conflict, NotFound, TooLarge
from extensions import db
from i18n import _l
from models import AVATAR_CONTENT_TYPE, Avatar, User, utcnow
from textnorm import control_in_name, is_blank, is_invisible, name_key

MAX_DISPLAY_NAME = 64  # PROTOCOL section 9; users.display_name's CHECK (migration 0006)
MAX_STATUS = 80
DISPLAY_KEY_MAX = 255  # users.display_key is VARCHAR(255); NFKC can lengthen a name
DIRECTORY_PAGE = 200

# Avatars (POST /api/avatar). Only these decoders are tried: Pillow knows
# dozens of formats, each a parser fed untrusted bytes; a picture comes as
# one of these four. SVG (a document that can carry script) is not an image
# to Pillow at all, so it is refused like HTML.
AVATAR_FORMATS = ("PNG", "JPEG", "GIF", "WEBP")
AVATAR_SIZE = 256
# Pixels decoded at most (width x height from the header, before decoding).
# A small file can declare a huge canvas (a "decompression bomb": a few KiB
# of PNG inflate to gigabytes). Pillow's own guard (Image.MAX_IMAGE_PIXELS,
# ~89 M pixels, an error past twice that) is meant for image tools, not a
# chat server decoding uploads in its request workers: 4096 x 4096 RGBA is
# 64 MiB, the most one upload may cost. JPEG photos above it are decoded at
# 1/2..1/8 scale first (draft mode), so a 24-megapixel phone photo passes.
AVATAR_MAX_PIXELS = 4096 * 4096


def _settings():
    return current_app.extensions["switchboard.settings"]


def get_user(user_id: int) -> User:
    user = db.session.get(User, user_id)
    if user is None or not user.active:
        raise NotFound(_l("No user %(id)s.", id=user_id))
    return user


# -- the directory -----------------------------------------------------------

def _like_pattern(key: str) -> str:
    escaped = key.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def directory(q: str | None = None, limit: int = DIRECTORY_PAGE) -> tuple[list[User], bool]:
    """Active accounts whose username or display name contains ``q``, by username.

    Matching is on the look-alike keys (textnorm.name_key: case-folded, NFKC,
    invisible characters dropped), so "ALI", "ａｌｉ" and "ali" find "Alice",
    and a Chinese or Cyrillic display name is found by any part of it.
    Disabled accounts are left out. Returns (users, has_more)."""
    query = select(User).where(User.active.is_(True))
    key = name_key(q or "")
    if key:
        pattern = _like_pattern(key)
        query = query.where(or_(User.username_key.like(pattern, escape="\\"),
                                User.display_key.like(pattern, escape="\\")))
    users = list(db.session.scalars(query.order_by(User.username_key).limit(limit + 1)))
    return users[:limit], len(users) > limit


# -- profiles ----------------------------------------------------------------

def _trim_invisible(text: str) -> str:
    """Without white space and invisible characters at either end.

    Inside a name, zero-width joiners and non-joiners are kept: emoji
    sequences and Persian or Indic spelling need them. At the ends they
    draw nothing and only make two names differ."""
    start, end = 0, len(text)
    while start < end and (text[start].isspace() or is_invisible(text[start])):
        start += 1
    while end > start and (text[end - 1].isspace() or is_invisible(text[end - 1])):
        end -= 1
    return text[start:end]


def _one_line(field: str, text: str) -> str:
    bad = control_in_name(text)
    if bad is not None:
        # Line breaks and direction overrides make the text shown differ from
        # the text read ("\u202eroot" shows as "toor"): refused, not stripped.
        char = f"U+{ord(bad):04X}"
        raise BadRequest(_l("%(field)s: must be one line without control or direction characters "
                            "(found %(char)s)", field=field, char=char))
    return " ".join(unicodedata.normalize("NFC", _trim_invisible(text)).split())


def impersonated(user: User, key: str) -> str | None:
    """The username of another account whose key equals ``key``, or None."""
    return db.session.scalar(select(User.username).where(User.username_key == key,
                                                         User.id != user.id))


def clean_display_name(user: User, raw: str) -> tuple[str | None, str | None]:
    """(display_name, display_key) to store; ("", "") typed resets to the username.

    Refused: control or direction characters, only invisible characters,
    more than 64 characters, and a name that looks like another account's
    username (``name_key`` equal): the page shows display names first, so
    "admin" (or "ａｄｍｉｎ") as bob's display name would speak for the admin."""
    name = _one_line("display_name", raw)
    if not raw.strip():
        return None, None
    if not name or is_blank(name):
        raise BadRequest(_l("display_name: 1-64 characters, not only invisible ones "
                            "(or empty to show your username)"))
    if len(name) > MAX_DISPLAY_NAME:
        raise BadRequest(_l("display_name: at most %(limit)s characters (got %(length)s)",
                            limit=MAX_DISPLAY_NAME, length=len(name)))
    key = name_key(name)
    if len(key) > DISPLAY_KEY_MAX:
        raise BadRequest(_l("display_name: too long once written in its plain form (NFKC)"))
    other = impersonated(user, key)
    if other is not None:
        raise Conflict(_l("display_name: looks like the username of another account (%(other)r); "
                          "choose another", other=other))
    if key == user.username_key:
        return (None, None) if name == user.username else (name, key)
    return name, key


def clean_status(raw: str) -> str:
    status = _one_line("status", raw)
    if is_blank(status):
        return ""
    if len(status) > MAX_STATUS:
        raise BadRequest(_l("status: at most %(limit)s characters (got %(length)s)",
                            limit=MAX_STATUS, length=len(status)))
    return status


def update_profile(user_id: int, display_name: str | None = None,
                   status: str | None = None) -> tuple[User, list[str]]:
    """Set the display name and/or status. Returns the user and the fields that changed."""
    if display_name is None and status is None:
        raise BadRequest(_l("payload: give display_name, status or both"))
    user = get_user(user_id)
    changed: list[str] = []
    if display_name is not None:
        name, key = clean_display_name(user, display_name)
        if name != user.display_name:
            user.display_name, user.display_key = name, key
            changed.append("display_name")
    if status is not None:
        status = clean_status(status)
        if status != (user.status or ""):
            user.status = status
            changed.append("status")
    if changed:
        db.session.commit()
    else:
        db.session.rollback()
    return user, changed


# -- avatars -----------------------------------------------------------------

NOT_AN_IMAGE = _l("file: not a picture that can be read (PNG, JPEG, GIF or WebP)")


def process_avatar(data: bytes) -> bytes:
    """The picture as stored and served: a new 256x256 WebP made from its pixels.

    Only the decoded pixels go on: EXIF (camera, GPS position), XMP, ICC,
    comments and whatever trails the image data (an HTML or script payload
    of a polyglot file) never reach the output, which is written by our
    encoder from scratch. The EXIF orientation is applied first so photos
    stand upright. Centre-cropped to a square, then resized."""
    if not data:
        raise BadRequest(_l("file: empty"))
    try:
        with Image.open(io.BytesIO(data), formats=AVATAR_FORMATS) as img:
            if img.format == "JPEG":
                # Decode at the smallest DCT scale still >= 2x the target.
                img.draft("RGB", (AVATAR_SIZE * 2, AVATAR_SIZE * 2))
            width, height = img.size
            if width * height > AVATAR_MAX_PIXELS:
                raise BadRequest(_l("file: %(width)sx%(height)s pixels is more than this server "
                                    "decodes (%(limit)s pixels); use a smaller picture",
                                    width=width, height=height, limit=AVATAR_MAX_PIXELS))
            img.load()  # the whole first frame: a truncated file fails here
            upright = ImageOps.exif_transpose(img)
            mode = "RGBA" if "A" in upright.getbands() or "transparency" in upright.info else "RGB"
            pixels = upright.convert(mode)
    except BadRequest:
        raise
    except (UnidentifiedImageError, Image.DecompressionBombError, OSError, SyntaxError,
            ValueError, EOFError, IndexError, TypeError, KeyError):
        raise BadRequest(NOT_AN_IMAGE) from None
    fitted = ImageOps.fit(pixels, (AVATAR_SIZE, AVATAR_SIZE), Image.Resampling.LANCZOS)
    clean = Image.new(mode, fitted.size)  # a fresh image: no .info carried over
    clean.paste(fitted)
    out = io.BytesIO()
    clean.save(out, "WEBP", quality=85, method=4)
    return out.getvalue()


def set_avatar(user_id: int, data: bytes) -> User:
    """Decode, re-encode and store the user's avatar; bump ``avatar_version``."""
    limit = _settings().MAX_AVATAR_BYTES
    if len(data) > limit:
        raise TooLarge(_l("file: at most %(limit)s bytes", limit=limit), limit=limit)
    picture = process_avatar(data)
    user = get_user(user_id)
    version = (user.avatar_version or 0) + 1
    avatar = db.session.get(Avatar, user_id)
    if avatar is None:
        avatar = Avatar(user_id=user_id)
        db.session.add(avatar)
    avatar.version, avatar.content_type, avatar.data = version, AVATAR_CONTENT_TYPE, picture
    avatar.updated_at = utcnow()
    user.avatar_version = version
    db.session.commit()
    return user


def avatar_of(user_id: int) -> Avatar | None:
    """The stored picture of an active account, or None."""
    user = db.session.get(User, user_id)
    if user is None or not user.active or user.avatar_version is None:
        return None
    return db.session.get(Avatar, user_id)
