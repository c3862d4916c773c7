"""The directory and avatars over HTTP (PROTOCOL sections 10 and 15).

``GET /api/users`` and ``POST /api/avatar`` take either a bearer token
(``Authorization: Bearer <token>``: no cookie involved, so no CSRF) or the
browser's session cookie plus ``X-CSRFToken`` (checked here for GET too:
the API has one rule, and a cookie alone never authenticates a call).
``GET /avatars/<id>.webp`` is an image for ``<img>``: the session cookie
(or a bearer token) is enough, there is nothing to forge on a GET of a
picture, but anonymous requests get 401.
"""
from __future__ import annotations

from flask import Blueprint, Response, current_app, jsonify, request
from flask_login import current_user
from flask_wtf.csrf import CSRFError, validate_csrf
from werkzeug.exceptions import RequestEntityTooLarge
from wtforms import ValidationError

from audit import audit
from blueprints.people import service
from blueprints.people.announce import announce_user_updated
from errors import AppError, BadRequest, NotFound, TooLarge, Unauthorized
from extensions import csrf, limiter
from i18n import _l
from middleware.clientinfo import client_ip
from models import AVATAR_EXT

bp = Blueprint("people", __name__)

MAX_QUERY_CHARS = 64
# Multipart framing around the file (boundaries, part headers) on top of
# MAX_AVATAR_BYTES; the service checks the file's own size exactly.
MULTIPART_OVERHEAD = 16 * 1024


def _error(exc: AppError, status: int):
    return jsonify(error=exc.to_dict()), status


STATUS = {"bad_request": 400, "unauthorized": 401, "forbidden": 403, "not_found": 404,
          "conflict": 409, "too_large": 413, "rate_limited": 429}


def _bearer_user():
    header = request.headers.get("Authorization", "")
    if not header.startswith("Bearer "):
        return None
    return current_app.extensions["switchboard.user_from_token"](header[len("Bearer "):].strip())


def api_user(check_csrf: bool = True):
    """The caller: a bearer token's user, or the session's user with a valid
    X-CSRFToken header; ``Unauthorized`` otherwise."""
    user = _bearer_user()
    if user is not None:
        return user
    if not current_user.is_authenticated:
        raise Unauthorized(_l("Log in, or send Authorization: Bearer <token>."))
    if check_csrf:
        try:
            validate_csrf(request.headers.get("X-CSRFToken"))
        except (ValidationError, CSRFError):
            raise Unauthorized(_l("Send the page's CSRF token in the X-CSRFToken header.")) from None
    return current_user._get_current_object()


def _user_json(user, online: set[int]) -> dict:
    return {**user.to_dict(), "online": user.id in online}


def online_ids() -> set[int]:
    """Users with a /chat connection now, on any process (the shared state)."""
    return current_app.extensions["switchboard.state"].online_user_ids("/chat")


@bp.get("/api/users")
def users():
    try:
        api_user()
        q = request.args.get("q", "")
        if len(q) > MAX_QUERY_CHARS:
            raise BadRequest(_l("q: at most %(limit)s characters", limit=MAX_QUERY_CHARS))
        found, has_more = service.directory(q)
    except AppError as exc:
        return _error(exc, STATUS.get(exc.code, 500))
    online = online_ids()
    return jsonify(users=[_user_json(u, online) for u in found], has_more=has_more)


@bp.post("/api/avatar")
@csrf.exempt  # checked in api_user, after the body limit below is raised for this route
@limiter.limit("10/minute", key_func=lambda: f"avatar:{client_ip(request.environ)}")
def upload_avatar():
    limit = current_app.extensions["switchboard.settings"].MAX_AVATAR_BYTES
    # The app-wide MAX_CONTENT_LENGTH is one Engine.IO packet (64 KiB); this
    # route alone takes a picture. Werkzeug stops reading past it (413).
    request.max_content_length = limit + MULTIPART_OVERHEAD
    user = None
    try:
        user = api_user()
        try:
            upload = request.files.get("file")
        except RequestEntityTooLarge:
            raise TooLarge(_l("file: at most %(limit)s bytes", limit=limit), limit=limit) from None
        if upload is None:
            raise BadRequest(_l("file: send the picture as the multipart field 'file'"))
        data = upload.stream.read(limit + 1)
        user = service.set_avatar(user.id, data)
    except RequestEntityTooLarge:
        exc = TooLarge(_l("file: at most %(limit)s bytes", limit=limit), limit=limit)
        return _error(exc, 413)
    except AppError as exc:
        if exc.code == "bad_request":
            audit("avatar_refused", user=getattr(user, "username", None),
                  user_id=getattr(user, "id", None), ip=client_ip(request.environ),
                  reason=exc.english[:120])
        return _error(exc, STATUS.get(exc.code, 500))
    audit("avatar_set", user=user.username, user_id=user.id, ip=client_ip(request.environ),
          version=user.avatar_version)
    announce_user_updated(user)
    return jsonify(user=user.to_dict())


@bp.get(f"/avatars/<int:user_id>.{AVATAR_EXT}")
def avatar(user_id: int):
    try:
        api_user(check_csrf=False)
    except AppError as exc:
        return _error(exc, 401)
    picture = service.avatar_of(user_id)
    if picture is None:
        return _error(NotFound(_l("No such avatar.")), 404)
    response = Response(picture.data, mimetype=picture.content_type)
    if request.args.get("v") == str(picture.version):
        # A new upload is a new ?v=: this URL's bytes never change. "private":
        # for the logged-in browser's cache only, never a shared one.
        response.headers["Cache-Control"] = "private, max-age=31536000, immutable"
    else:
        response.headers["Cache-Control"] = "private, no-cache"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Disposition"] = f'inline; filename="{user_id}.{AVATAR_EXT}"'
    # Opened on its own, the picture runs nothing and embeds nothing.
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response
