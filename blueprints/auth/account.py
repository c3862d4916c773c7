"""The account page (/account): profile, theme and language, personal access
tokens, password, sessions.

The profile form calls the people feature's service (the chat's
``profile:update`` does the same), the language form is the header menu's
``POST /account/language``, and the avatar goes to ``POST /api/avatar`` from
the page's script: one rule each, wherever it is used from.
"""
from __future__ import annotations

from flask import current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from audit import audit
from blueprints.auth import service, tokens
from blueprints.auth.forms import PasswordForm
from blueprints.auth.limits import login_budget
from blueprints.auth.routes import _signed_in, bp
from blueprints.people import service as people
from blueprints.people.announce import announce_user_updated
from errors import AppError
from i18n import _l
from middleware.clientinfo import client_ip
from realtime.closing import disconnect_user

# The expiry choices the page offers (seconds; 0: never). The API takes any
# value from tokens.MIN_EXPIRES_IN to tokens.MAX_EXPIRES_IN.
# Lazy: the labels are read per request, in its language.
EXPIRY_CHOICES = ((7 * 86400, _l("7 days")), (30 * 86400, _l("30 days")),
                  (90 * 86400, _l("90 days")), (365 * 86400, _l("1 year")), (0, _l("Never")))


def render_account(password_form: PasswordForm | None = None, password_error: str | None = None,
                   profile_error: str | None = None, profile_field: str | None = None,
                   profile_values: dict | None = None):
    """The page; the forms' errors (and the values typed) when one was refused."""
    user = current_user._get_current_object()
    settings = current_app.extensions["switchboard.settings"]
    return render_template(
        "account/account.html", user=user, password_form=password_form or PasswordForm(),
        password_error=password_error, expiry_choices=EXPIRY_CHOICES,
        token_name_max=tokens.MAX_NAME, max_tokens=settings.MAX_TOKENS_PER_USER,
        profile_error=profile_error, profile_field=profile_field,
        profile_values=profile_values or {"display_name": user.display_name or "",
                                          "status": user.status or ""},
        display_name_max=people.MAX_DISPLAY_NAME, status_max=people.MAX_STATUS,
        # Filled in by the features that add them; the page shows what exists.
        has_profile="display_name" in user.__table__.columns,
        has_language=any(r.endpoint == "auth.set_language"
                         for r in current_app.url_map.iter_rules()),
    )


@bp.get("/account")
@login_required
def account():
    return render_account()


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
@login_budget  # it hashes twice: the same budget as signing in
def change_password():
    form = PasswordForm()
    error = None
    if form.validate_on_submit():
        user = current_user._get_current_object()
        if service.authenticate(user.username, form.current_password.data) is None:
            audit("auth_failed", user=user.username, ip=client_ip(request.environ), via="password",
                  reason="bad_current_password")
            error = _("The current password is wrong.")
        else:
            # Every other session, token and socket of the user ends here.
            service.change_password(user, form.new_password.data)
            disconnect_user(user.id, reason="password_changed")
            _signed_in(user)  # this browser stays signed in, with the new epoch
            audit("password_changed", user=user.username, user_id=user.id,
                  ip=client_ip(request.environ))
            flash(_("Password changed. You were signed out everywhere else, and your "
                    "personal access tokens were revoked."))
            return redirect(url_for("auth.account"))
    # The form lives on the account page (GET /account/password shows the same page).
    return render_account(password_form=form, password_error=error)


# The fields a profile error names first ("display_name: ...", "status: ..."):
# the page marks that input (aria-invalid) and keeps what was typed.
PROFILE_FIELDS = ("display_name", "status")


@bp.post("/account/profile")
@login_required
def update_profile():
    """The profile form: the same service as the chat's ``profile:update``
    event (the same rules and errors), the same audit line, and the same
    ``user:updated`` to the user's tabs and everyone sharing a room. CSRF:
    CSRFProtect, as every form POST."""
    user = current_user._get_current_object()
    display_name = request.form.get("display_name", "")
    status = request.form.get("status", "")
    try:
        user, changed = people.update_profile(user.id, display_name, status)
    except AppError as exc:
        field = exc.english.split(":", 1)[0]
        return render_account(
            profile_error=str(exc.message),
            profile_field=field if field in PROFILE_FIELDS else None,
            profile_values={"display_name": display_name, "status": status}), 400
    if changed:
        audit("profile_update", user=user.username, user_id=user.id, fields=changed,
              ip=client_ip(request.environ))
        announce_user_updated(user)
        flash(_("Profile saved."))
    else:
        flash(_("Your profile was already like that; nothing changed."))
    return redirect(url_for("auth.account") + "#profile-section")
