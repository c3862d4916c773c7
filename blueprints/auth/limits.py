"""The login budget shared by every route that checks a password."""
from __future__ import annotations

from flask import current_app

from extensions import limiter


def _login_rate() -> str:
    return current_app.extensions["switchboard.settings"].RATE_LIMIT_LOGIN


# ONE budget of RATE_LIMIT_LOGIN per client address for every route that
# hashes a password (PROTOCOL section 17). With a limit per route, one address
# had 10/minute on each of /login, /register and /api/token: 30 hashes a
# minute (40 with the password form), each ~80 ms of CPU. Flask-Limiter's
# shared_limit keeps one counter for the scope "login" whichever route is hit.
login_budget = limiter.shared_limit(_login_rate, scope="login", methods=["POST"])
