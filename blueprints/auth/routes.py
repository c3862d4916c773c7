"""Login, registration, logout and the token endpoint (PROTOCOL section 1)."""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    g,
    jsonify,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user

from audit import audit
from blueprints.auth import service
from blueprints.auth.forms import LoginForm, RegisterForm
from blueprints.auth.limits import login_budget
from errors import AppError
from extensions import csrf
from middleware.clientinfo import client_ip
from realtime.closing import disconnect_user

bp = Blueprint("auth", __name__, cli_group="users")


def _signed_in(user, remember: bool = False) -> None:
    """login_user, then a new CSRF secret: a token read before sign-in (by a
    page an attacker planted, or on a shared computer) must not validate after.

    Flask-WTF keeps the raw secret in ``session["csrf_token"]`` and the signed
    token of this request in ``g.csrf_token`` (flask_wtf.csrf.generate_csrf's
    docstring); it has no rotate call, so both are dropped here and the next
    form gets a fresh secret."""
    login_user(user, remember=remember)
    session.pop("csrf_token", None)
    g.pop("csrf_token", None)


def _safe_next(target: str | None) -> str:
    """Only same-site paths: no scheme, no host, no protocol-relative //host."""
    if not target:
        return url_for("chat.page")
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//") \
            or "\\" in target:
        return url_for("chat.page")
    return target


@bp.get("/")
def index():
    if current_user.is_authenticated:
        return redirect(url_for("chat.page"))
    return redirect(url_for("auth.login"))


@bp.route("/login", methods=["GET", "POST"])
@login_budget
def login():
    if current_user.is_authenticated and request.method == "GET":
        return redirect(_safe_next(request.args.get("next")))
    form = LoginForm()
    error = None
    if form.validate_on_submit():
        user = service.authenticate(form.username.data, form.password.data)
        if user is not None:
            _signed_in(user, remember=form.remember.data)
            audit("login", user=user.username, user_id=user.id, ip=client_ip(request.environ))
            return redirect(_safe_next(request.args.get("next")))
        audit("auth_failed", ip=client_ip(request.environ), via="login",
              user=(form.username.data or "")[:32], reason="bad_credentials")
        error = _("Wrong username or password.")
    elif request.method == "POST":
        error = _("Wrong username or password.") if not form.csrf_token.errors else \
            _("The form expired; please try again.")
    return render_template("auth/login.html", form=form, error=error,
                           registration_open=_registration_open(),
                           empty_install=not service.has_users())


def _registration_open() -> bool:
    return current_app.extensions["switchboard.settings"].REGISTRATION == "open"


@bp.route("/register", methods=["GET", "POST"])
@login_budget
def register():
    if not _registration_open():
        if current_app.extensions["switchboard.settings"].REGISTRATION == "invite":
            abort(403, description=_("Registration is by invitation: open the invite link an "
                                     "admin sent you, or ask an admin for one."))
        abort(403, description=_("Registration is closed; ask an admin for an account."))
    return _register_form()


@bp.route("/join/<code>", methods=["GET", "POST"])
@login_budget
def join(code: str):
    """Registration through an invite link (REGISTRATION=invite, or open).
    A used-up, expired or revoked link: 410 with a page that says which."""
    from blueprints.auth import invites

    if current_app.extensions["switchboard.settings"].REGISTRATION == "closed":
        abort(403, description=_("Registration is closed; ask an admin for an account."))
    try:
        invite = invites.usable(code)
    except invites.InviteGone as gone:
        return _invite_gone(gone.reason)
    except AppError:
        abort(404, description=_("There is no such invite link; check that it was copied whole."))
    if current_user.is_authenticated and request.method == "GET":
        flash(_("You already have an account; this invite link is for someone new."))
        return redirect(url_for("chat.page"))
    return _register_form(invite)


def _invite_gone(reason: str):
    audit("invite_refused", ip=client_ip(request.environ), reason=reason)
    return render_template("auth/invite_gone.html", reason=reason, status=410), 410


def _register_form(invite=None):
    from blueprints.auth import invites

    form = RegisterForm()
    error = None
    if form.validate_on_submit():
        try:
            user = service.create_user(form.username.data, form.password.data,
                                       invite_id=invite.id if invite else None)
        except invites.InviteGone as gone:
            return _invite_gone(gone.reason)
        except AppError as exc:
            # Shown at the username field; the form renders again with the
            # name as typed (password fields are never sent back).
            form.username.errors = [*form.username.errors, str(exc.message)]
        else:
            _signed_in(user)
            audit("register", user=user.username, user_id=user.id,
                  ip=client_ip(request.environ), admin=user.is_admin,
                  invite=invite.id if invite else None,
                  invited_by=invite.created_by if invite else None)
            flash(_("Welcome, %(name)s! You are the first account, so you are an admin.",
                    name=user.username) if user.is_admin else
                  _("Welcome, %(name)s!", name=user.username))
            return redirect(url_for("chat.page"))
    return render_template("auth/register.html", form=form, error=error, invite=invite)


@bp.post("/logout")
@login_required
def logout():
    user = current_user._get_current_object()
    # Ending the session everywhere also ends every socket and token of it.
    service.end_sessions(user)
    # Personal access tokens are not sessions: their sockets stay (tokens.py).
    disconnect_user(user.id, reason="logout", keep_personal_tokens=True)
    logout_user()
    session.pop("csrf_token", None)  # the next sign-in on this browser starts afresh
    audit("logout", user=user.username, user_id=user.id, ip=client_ip(request.environ))
    return redirect(url_for("auth.login"))


@bp.post("/account/sessions/end")
@login_required
def end_other_sessions():
    """Log out everywhere else: every other browser and short-lived token ends
    (the epoch moves) and their sockets close on every process; this browser
    signs in again with the new epoch. Personal access tokens stay (they are
    revoked one by one on this page; blueprints/auth/tokens.py says why)."""
    user = current_user._get_current_object()
    service.end_sessions(user)
    sockets = disconnect_user(user.id, reason="logout_everywhere", keep_personal_tokens=True)
    _signed_in(user)
    audit("logout_everywhere", user=user.username, user_id=user.id, sockets=sockets,
          ip=client_ip(request.environ))
    flash(_("You were logged out everywhere else."))
    return redirect(url_for("auth.account"))


@bp.post("/account/theme")
@login_required
def set_theme():
    """The header menu's light / dark / system form (CSRF-checked by
    CSRFProtect like every form POST), then back to the page it was on."""
    try:
        service.set_theme(current_user._get_current_object(), request.form.get("theme", ""))
    except AppError as exc:
        abort(400, description=str(exc.message))
    return redirect(_safe_next(request.form.get("next")))


@bp.post("/account/language")
@login_required
def set_language():
    """The header menu's language form, like the theme's: ``locale`` is "en",
    "zh-CN" or "auto" (follow the browser), then back to the page it was on,
    which renders in the new language at once."""
    value = request.form.get("locale", "")
    try:
        service.set_locale(current_user._get_current_object(), None if value == "auto" else value)
    except AppError as exc:
        abort(400, description=str(exc.message))
    audit("locale_changed", user=current_user.username, user_id=current_user.id,
          locale=current_user.locale or "auto")
    return redirect(_safe_next(request.form.get("next")))


@bp.post("/api/token")
@csrf.exempt  # JSON API for non-browser clients: no cookie is used, so no CSRF.
@login_budget
def api_token():
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        return _json_error(400, "bad_request", _('Send JSON {"username", "password"}.'))
    user = service.authenticate(body.get("username"), body.get("password"))
    if user is None:
        audit("auth_failed", ip=client_ip(request.environ), via="token",
              user=str(body.get("username") or "")[:32], reason="bad_credentials")
        return _json_error(401, "unauthorized", _("Wrong username or password."))
    token, ttl = service.issue_token(user)
    return jsonify(token=token, expires_in=ttl)


def _json_error(status: int, code: str, message: str):
    return jsonify(error={"code": code, "message": message}), status
