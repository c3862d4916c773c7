"""The account page (/account): password, theme, personal access tokens, sessions.

Profile (display name, status, avatar) and language have their places on the
page (``templates/account/account.html``): they render what the user model
and the routes offer, so the features that add them only fill them in.
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
from i18n import _l
from middleware.clientinfo import client_ip
from realtime.closing import disconnect_user

# The expiry choices the page offers (seconds; 0: never). The API takes any
# value from tokens.MIN_EXPIRES_IN to tokens.MAX_EXPIRES_IN.
# Lazy: the labels are read per request, in its language.
EXPIRY_CHOICES = ((7 * 86400, _l("7 days")), (30 * 86400, _l("30 days")),
                  (90 * 86400, _l("90 days")), (365 * 86400, _l("1 year")), (0, _l("Never")))


def render_account(password_form: PasswordForm | None = None, password_error: str | None = None):
    user = current_user._get_current_object()
    settings = current_app.extensions["switchboard.settings"]
    return render_template(
        "account/account.html", user=user, password_form=password_form or PasswordForm(),
        password_error=password_error, expiry_choices=EXPIRY_CHOICES,
        token_name_max=tokens.MAX_NAME, max_tokens=settings.MAX_TOKENS_PER_USER,
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
