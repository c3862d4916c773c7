"""The account page (/account): password, theme, personal access tokens, sessions.

Profile (display name, status, avatar) and language have their places on the
page (``templates/account/account.html``): they render what the user model
and the routes offer, so the features that add them only fill them in.
"""
from __future__ import annotations

from flask import current_app, render_template
from flask_login import current_user, login_required

from blueprints.auth import bp, tokens
from blueprints.auth.forms import PasswordForm

# The expiry choices the page offers (seconds; 0: never). The API takes any
# value from tokens.MIN_EXPIRES_IN to tokens.MAX_EXPIRES_IN.
EXPIRY_CHOICES = ((7 * 86400, "7 days"), (30 * 86400, "30 days"), (90 * 86400, "90 days"),
                  (365 * 86400, "1 year"), (0, "Never"))


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
