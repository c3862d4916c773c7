"""Log forging, the CSRF token at sign-in, the remember cookie.

Defences:
* logs.py: every logged value (the message and each audit field) goes
  through textnorm.escape_for_log, in LOG_FORMAT=text and json. The attack
  run sent a username holding "\\n<a whole log line>" to /api/token and the
  text log showed a forged "login" line.
* auth.routes._signed_in: the CSRF secret (Flask-WTF keeps it in the
  session) is dropped at sign-in, so a token read before sign-in is refused
  after it.
* app.create_app: REMEMBER_COOKIE_DURATION is 30 days (Flask-Login: 365).
"""
from __future__ import annotations

import json
import time

import pytest
import requests

from tests.security.helpers import log_text, make_user, unique
from tests.support.clients import DEFAULT_PASSWORD, HTTP_TIMEOUT, csrf_token, login

FORGED = "2026-12-02 06:00:00,000 INFO switchboard.audit: login user=admin user_id=1 ip=10.0.0.1"


def forged_names(marker: str) -> dict[str, str]:
    return {
        "lf": f"{marker}a\n{FORGED}",
        "crlf": f"{marker}b\r\n{FORGED}",
        "u2028": f"{marker}c\u2028{FORGED}",
        "nel": f"{marker}d\x85{FORGED}",
        "bidi": f"{marker}e\u202e{FORGED}",
    }


def wait_lines(server, marker: str, count: int, timeout: float = 10.0) -> list[str]:
    deadline = time.monotonic() + timeout
    while True:
        lines = [ln for ln in log_text(server).splitlines() if marker in ln]
        if len(lines) >= count or time.monotonic() > deadline:
            return lines
        time.sleep(0.1)


@pytest.mark.parametrize("fmt", ["text", "json"])
def test_a_username_with_line_breaks_cannot_forge_a_log_line(servers, fmt):
    """Each forged username sent to /api/token makes exactly one log line (the
    auth_failed audit line), which holds the escaped value; no line of the log
    starts with the forged text, and no raw CR, U+2028, NEL or bidi override
    reaches the file. JSON lines stay parseable and their decoded values hold
    no control characters either."""
    srv = servers(env={"LOG_FORMAT": fmt}, name=f"logforge-{fmt}")
    marker = unique("forge")
    names = forged_names(marker)
    for name in names.values():
        r = requests.post(srv.url + "/api/token", json={"username": name, "password": "x"},
                          timeout=HTTP_TIMEOUT)
        assert r.status_code == 401, r.text
    lines = wait_lines(srv, marker, len(names))
    assert len(lines) == len(names), lines  # one request, one line
    raw = log_text(srv)
    assert not any(ln.startswith(FORGED[:19]) for ln in raw.splitlines()), "a forged line"
    for bad in ("\r", "\u2028", "\x85", "\u202e"):
        assert bad not in raw, f"{bad!r} reached the log"
    for line in lines:
        assert "\\x0a" in line or "\\x0d" in line or "\\u2028" in line or "\\x85" in line \
            or "\\u202e" in line, line
        if fmt == "json":
            entry = json.loads(line)
            assert entry["action"] == "auth_failed", entry
            assert not any(ch in entry["user"] for ch in "\r\n\u2028\x85\u202e"), entry
        else:
            assert "auth_failed" in line and 'user="' in line, line


def test_a_csrf_token_from_before_sign_in_is_refused_after_it(servers):
    """The token on the login page (read before signing in) no longer
    validates once the session is signed in: a POST with it is refused and
    changes nothing; a token read after sign-in works."""
    srv = servers(name="signin-csrf")
    user = make_user(srv, "csrf")
    http = requests.Session()
    page = http.get(srv.url + "/login", timeout=HTTP_TIMEOUT)
    before = csrf_token(page.text)
    r = http.post(srv.url + "/login", data={"csrf_token": before, "username": user.name,
                                            "password": DEFAULT_PASSWORD},
                  allow_redirects=False, timeout=HTTP_TIMEOUT)
    assert r.status_code == 302, r.status_code
    stale = http.post(srv.url + "/logout", data={"csrf_token": before},
                      allow_redirects=False, timeout=HTTP_TIMEOUT)
    assert stale.status_code == 400, f"a pre-login CSRF token passed: {stale.status_code}"
    assert http.get(srv.url + "/chat", allow_redirects=False,
                    timeout=HTTP_TIMEOUT).status_code == 200, "still signed in"
    fresh = csrf_token(http.get(srv.url + "/register", timeout=HTTP_TIMEOUT).text)
    assert fresh != before
    done = http.post(srv.url + "/logout", data={"csrf_token": fresh},
                     allow_redirects=False, timeout=HTTP_TIMEOUT)
    assert done.status_code == 302, done.status_code


def test_the_remember_cookie_lasts_30_days(servers):
    """"Keep me signed in" sets remember_token for 30 days, not Flask-Login's 365."""
    srv = servers(name="signin-remember")
    user = make_user(srv, "remember")
    r = login(srv.url, user.name, remember=True)
    assert r.status_code == 302, r.status_code
    assert "remember_token=" in r.headers.get("Set-Cookie", ""), r.headers
    jar = next(c for c in r.http.cookies if c.name == "remember_token")
    days = (jar.expires - time.time()) / 86400
    # http.cookiejar read the cookie's Expires (or Max-Age) into .expires.
    assert 29.9 < days <= 30.01, f"remember_token lasts {days:.1f} days"
