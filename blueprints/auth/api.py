"""``/api/tokens`` and ``/api/me`` (PROTOCOL section 10).

Who is calling, for every /api route (``api_user``): ``Authorization: Bearer
<personal access token>``, or the browser's session cookie plus the
``X-CSRFToken`` header on anything that changes state. CSRFProtect is
switched off for these views and the check done here instead, because a
script with a bearer token has no session to hold a CSRF secret; a cross-site
page cannot set the Authorization header without a CORS preflight, which the
site refuses, so a bearer request needs no CSRF token.
"""
from __future__ import annotations

from functools import wraps

from flask import jsonify, request
from flask_login import current_user
from flask_wtf.csrf import CSRFError, validate_csrf
from wtforms.validators import ValidationError

from audit import audit
from blueprints.auth import service, tokens
from blueprints.auth.limits import login_budget
from blueprints.auth.routes import bp
from errors import AppError, Forbidden, Unauthorized
from extensions import csrf
from i18n import _l
from middleware.clientinfo import client_ip
from realtime.closing import disconnect_token

STATUS = {"bad_request": 400, "unauthorized": 401, "forbidden": 403, "not_found": 404,
          "conflict": 409, "too_large": 413, "rate_limited": 429}


def error_response(exc: AppError):
    return jsonify(error=exc.to_dict()), STATUS.get(exc.code, 500)


def api_user():
    """The calling user (bearer token, or session + CSRF header), or ``Unauthorized``."""
    header = request.headers.get("Authorization", "")
    if header:
        scheme, _, value = header.partition(" ")
        if scheme.lower() != "bearer" or not value.strip():
            raise Unauthorized(_l("Send Authorization: Bearer <token>."))
        try:
            user = tokens.bearer_user(value.strip())
        except Unauthorized:
            audit("auth_failed", ip=client_ip(request.environ), via="bearer",
                  path=request.path, reason="bad_token")
            raise
        return user
    if not current_user.is_authenticated:
        raise Unauthorized(_l("Log in, or send Authorization: Bearer <personal access token>."))
    if request.method not in ("GET", "HEAD", "OPTIONS"):
        try:
            validate_csrf(request.headers.get("X-CSRFToken"))
        except (ValidationError, CSRFError):
            raise Forbidden(_l("The X-CSRFToken header is missing or wrong; reload the page.")) \
                from None
    return current_user._get_current_object()


def api_route(fn):
    """CSRF exempt (checked by ``api_user`` instead) and AppError -> JSON envelope."""
    @wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except AppError as exc:
            return error_response(exc)

    return csrf.exempt(wrapper)


@bp.post("/api/tokens")
@login_budget  # it may check a password: the same budget as signing in
@api_route
def create_token():
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        return error_response(_bad(_l('Send JSON {"name", "expires_in"?} (and "username", '
                                      '"password" from a script).')))
    if "username" in body or "password" in body:
        user = service.authenticate(body.get("username"), body.get("password"))
        if user is None:
            audit("auth_failed", ip=client_ip(request.environ), via="tokens",
                  user=str(body.get("username") or "")[:32], reason="bad_credentials")
            raise Unauthorized(_l("Wrong username or password."))
    else:
        user = api_user()
    row, secret = tokens.create_token(user, body.get("name"), body.get("expires_in"))
    audit("token_created", user=user.username, user_id=user.id, token_id=row.id,
          expires_at=row.to_dict()["expires_at"], ip=client_ip(request.environ))
    return jsonify(id=row.id, name=row.name, token=secret,
                   expires_at=row.to_dict()["expires_at"]), 201


@bp.get("/api/tokens")
@api_route
def list_tokens():
    user = api_user()
    return jsonify(tokens=[t.to_dict() for t in tokens.list_tokens(user)])


@bp.delete("/api/tokens/<int:token_id>")
@api_route
def revoke_token(token_id: int):
    user = api_user()
    row = tokens.revoke_token(user, token_id)
    # At once, on every process: the sockets opened with it close now.
    sockets = disconnect_token(row.id, reason="token_revoked")
    audit("token_revoked", user=user.username, user_id=user.id, token_id=row.id,
          sockets=sockets, ip=client_ip(request.environ))
    return "", 204


@bp.get("/api/me")
@api_route
def me():
    return jsonify(user=api_user().to_dict())


def _bad(message):
    from errors import BadRequest

    return BadRequest(message)
