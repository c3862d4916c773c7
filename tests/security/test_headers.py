"""Cookies and response headers (and no-store, HSTS).

Defences: ``create_app`` sets SESSION_COOKIE_HTTPONLY, SESSION_COOKIE_SAMESITE=Lax
and SESSION_COOKIE_SECURE=settings.secure_cookies (TLS_CERT or COOKIE_SECURE),
the same for the remember-me cookie; ``_init_http_extras.security_headers``
adds CSP, nosniff, Referrer-Policy and X-Frame-Options to every Flask response,
``Cache-Control: no-store`` to every one but static files (pages of a logged-in
user, tokens, forms with a CSRF token, redirects, errors), and
``Strict-Transport-Security: max-age=31536000`` when the site is HTTPS
(TLS_CERT or COOKIE_SECURE; over TLS itself: test_tls.py).
Whether the pages keep working under the CSP is the browser suite's console
check (tests/browser/test_security_browser.py).
"""
from __future__ import annotations

import re

import pytest
import requests

from tests.security.helpers import make_user, unique
from tests.support.clients import DEFAULT_PASSWORD, HTTP_TIMEOUT, csrf_token

EXPECTED_CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
                "connect-src 'self'; frame-ancestors 'none'; base-uri 'self'; "
                "form-action 'self'; object-src 'none'")
SAFE_REFERRER_POLICIES = {"no-referrer", "same-origin", "strict-origin",
                          "strict-origin-when-cross-origin"}


@pytest.fixture(scope="module")
def server(module_servers):
    return module_servers()


@pytest.fixture(scope="module")
def secure_server(module_servers):
    return module_servers(env={"COOKIE_SECURE": "true"}, name="headers-secure")


def set_cookies(response: requests.Response) -> dict[str, str]:
    """name -> the whole Set-Cookie line, from the raw headers (requests merges them)."""
    out = {}
    for line in response.raw.headers.getlist("Set-Cookie"):
        out[line.split("=", 1)[0].strip()] = line
    return out


def attrs(line: str) -> set[str]:
    return {a.strip().lower() for a in line.split(";")[1:]}


def register_by_hand(base_url: str, username: str, password: str) -> None:
    """The register form, sending the (maybe Secure) session cookie back by hand."""
    page = requests.get(base_url + "/register", timeout=HTTP_TIMEOUT)
    session = set_cookies(page)["session"].split(";", 1)[0]
    r = requests.post(base_url + "/register", headers={"Cookie": session}, data={
        "csrf_token": csrf_token(page.text), "username": username, "password": password,
        "confirm": password}, allow_redirects=False, timeout=HTTP_TIMEOUT)
    assert r.status_code == 302, f"register: {r.status_code} {r.text[:200]}"


def login_cookies(base_url: str, username: str, password: str) -> dict[str, str]:
    """Set-Cookie lines of a successful login with remember-me, done by hand so that
    Secure cookies are sent back over plain HTTP too (a browser would refuse)."""
    page = requests.get(base_url + "/login", timeout=HTTP_TIMEOUT)
    session = set_cookies(page)["session"].split(";", 1)[0]
    r = requests.post(base_url + "/login", headers={"Cookie": session}, data={
        "csrf_token": csrf_token(page.text), "username": username, "password": password,
        "remember": "y"}, allow_redirects=False, timeout=HTTP_TIMEOUT)
    assert r.status_code == 302, f"login: {r.status_code}"
    return {"first": set_cookies(page)["session"], **set_cookies(r)}


def test_session_cookies_are_httponly_lax_and_not_secure_over_plain_http(server):
    """HttpOnly: script injected into a page cannot read the session; SameSite=Lax:
    a foreign site's POST does not carry it. Not Secure over plain HTTP, or the
    default single-process install (no TLS) could not keep anyone logged in."""
    user = make_user(server, "cookie")
    cookies = login_cookies(server.url, user.name, user.password)
    for name in ("first", "session", "remember_token"):
        assert name in cookies, f"no {name} cookie in {list(cookies)}"
        a = attrs(cookies[name])
        assert "httponly" in a, cookies[name]
        assert "samesite=lax" in a, cookies[name]
        assert "secure" not in a, cookies[name]


def test_cookies_are_secure_with_cookie_secure(secure_server):
    """COOKIE_SECURE=true (TLS at a proxy in front): every cookie is Secure,
    so it never travels over plain HTTP. (With TLS_CERT: test_tls.py.)"""
    name = unique("securecookie")
    register_by_hand(secure_server.url, name, DEFAULT_PASSWORD)
    cookies = login_cookies(secure_server.url, name, DEFAULT_PASSWORD)
    for name in ("first", "session", "remember_token"):
        a = attrs(cookies[name])
        assert {"secure", "httponly", "samesite=lax"} <= a, cookies[name]


def _responses(server) -> dict[str, requests.Response]:
    user = make_user(server, "hdr")
    http = user.http
    bad_token = requests.post(server.url + "/api/token", json={"username": "x", "password": "y"},
                              timeout=HTTP_TIMEOUT)
    good_token = requests.post(server.url + "/api/token",
                               json={"username": user.name, "password": user.password},
                               timeout=HTTP_TIMEOUT)
    return {
        "GET /login (page)": requests.get(server.url + "/login", timeout=HTTP_TIMEOUT),
        "GET /register (page)": requests.get(server.url + "/register", timeout=HTTP_TIMEOUT),
        "GET /chat (page, logged in)": http.get(server.url + "/chat", timeout=HTTP_TIMEOUT),
        "GET /market (page, logged in)": http.get(server.url + "/market", timeout=HTTP_TIMEOUT),
        "GET /chat (redirect)": requests.get(server.url + "/chat", allow_redirects=False,
                                             timeout=HTTP_TIMEOUT),
        "GET /healthz (JSON)": requests.get(server.url + "/healthz", timeout=HTTP_TIMEOUT),
        "GET /readyz (JSON)": requests.get(server.url + "/readyz", timeout=HTTP_TIMEOUT),
        "POST /api/token 401 (JSON)": bad_token,
        "POST /api/token 200 (JSON)": good_token,
        "POST /api/token 400 (JSON)": requests.post(server.url + "/api/token", data="x",
                                                    timeout=HTTP_TIMEOUT),
        "GET /nope (404)": requests.get(server.url + "/nope", timeout=HTTP_TIMEOUT),
        "GET /static/js/chat/main.js": requests.get(server.url + "/static/js/chat/main.js",
                                               timeout=HTTP_TIMEOUT),
    }


def test_security_headers_on_pages_json_endpoints_and_errors(server):
    """The exact CSP (no inline script, connect-src 'self' which covers ws:/wss:
    of the same host in CSP 3, frame-ancestors 'none' against clickjacking),
    nosniff and a referrer policy on every kind of response. Removing the
    after_request hook, or loosening the policy, fails here."""
    problems = []
    for what, r in _responses(server).items():
        h = r.headers
        if h.get("Content-Security-Policy") != EXPECTED_CSP:
            problems.append(f"{what}: CSP {h.get('Content-Security-Policy')!r}")
        if h.get("X-Content-Type-Options") != "nosniff":
            problems.append(f"{what}: X-Content-Type-Options {h.get('X-Content-Type-Options')!r}")
        if h.get("Referrer-Policy") not in SAFE_REFERRER_POLICIES:
            problems.append(f"{what}: Referrer-Policy {h.get('Referrer-Policy')!r}")
        if h.get("X-Frame-Options") != "DENY":
            problems.append(f"{what}: X-Frame-Options {h.get('X-Frame-Options')!r}")
    assert not problems, "\n".join(problems)


def test_the_csp_forbids_inline_script_and_foreign_connections():
    """What the exact string above means, directive by directive, so that a
    future edit of EXPECTED_CSP cannot quietly allow inline script."""
    directives = {d.split()[0]: d.split()[1:] for d in EXPECTED_CSP.split("; ")}
    for name in ("script-src", "default-src"):
        assert directives[name] == ["'self'"], (name, directives[name])
    assert directives["connect-src"] == ["'self'"]
    assert directives["frame-ancestors"] == ["'none'"]
    assert directives["object-src"] == ["'none'"]
    assert directives["base-uri"] == ["'self'"]
    joined = " ".join(sum(directives.values(), []))
    for loose in ("'unsafe-inline'", "'unsafe-eval'", "*", "http:", "https:", "ws:", "wss:"):
        assert loose not in joined.split(), loose


def test_pages_carry_no_inline_script(server):
    """script-src 'self' would block an inline script; a page that needs one is
    broken or pushes someone to loosen the policy. Static check of the HTML."""
    user = make_user(server, "inline")
    for path in ("/login", "/register", "/chat", "/market", "/account/password"):
        html = user.http.get(server.url + path, timeout=HTTP_TIMEOUT).text
        inline = [m for m in re.findall(r"<script\b([^>]*)>(.*?)</script>", html, re.S | re.I)
                  if "src=" not in m[0] or m[1].strip()]
        handlers = re.findall(r"<[^>]+\son[a-z]+\s*=", html, re.I)
        assert not inline and not handlers, f"{path}: inline script {inline or handlers}"


def test_engineio_responses_carry_nosniff(server):
    """Polling responses carry user text (chat messages) as text/plain from the
    app's origin; nosniff keeps a browser from ever sniffing them as HTML. The
    guard's own 400/413 answers too. They bypass Flask's after_request, so the
    header must be added by a WSGI middleware in front of python-engineio."""
    r = requests.get(server.url + "/socket.io/?EIO=4&transport=polling", timeout=HTTP_TIMEOUT)
    guard = requests.get(server.url + "/socket.io/?EIO=4&transport=polling&j=0",
                         timeout=HTTP_TIMEOUT)
    missing = [name for name, resp in (("handshake", r), ("guard 400", guard))
               if resp.headers.get("X-Content-Type-Options") != "nosniff"]
    assert not missing, f"no X-Content-Type-Options: nosniff on Engine.IO responses: {missing}"


# -- caching and HSTS -------------------------------------------------------

HSTS = "max-age=31536000"


@pytest.fixture(scope="module")
def fresh_server(module_servers):
    """A server of its own, so that the first account registered here is the admin."""
    return module_servers(name="headers-cache")


def test_no_store_on_pages_tokens_forms_and_redirects_but_not_static_files(fresh_server):
    """A shared cache (a proxy) or the browser's disk must never keep a page of a
    logged-in user, a token, or a form whose CSRF token belongs to a session:
    every response Flask renders carries ``Cache-Control: no-store`` - the
    pages of each feature, the account page, the login redirect, token
    answers, errors. Static files keep Flask's revalidated caching. Before,
    none carried Cache-Control at all."""
    base = fresh_server.url
    admin = make_user(fresh_server, "cacheadmin")  # first account: an admin
    assert admin.http.get(base + "/admin", timeout=HTTP_TIMEOUT).status_code == 200
    user = make_user(fresh_server, "cache")
    page = requests.Session()
    form = page.get(base + "/login", timeout=HTTP_TIMEOUT)
    login_post = page.post(base + "/login", data={
        "csrf_token": csrf_token(form.text), "username": user.name, "password": user.password},
        allow_redirects=False, timeout=HTTP_TIMEOUT)
    assert login_post.status_code == 302, login_post.status_code
    responses = {
        "GET /chat": user.http.get(base + "/chat", timeout=HTTP_TIMEOUT),
        "GET /market": user.http.get(base + "/market", timeout=HTTP_TIMEOUT),
        "GET /admin (admin)": admin.http.get(base + "/admin", timeout=HTTP_TIMEOUT),
        "GET /admin (403)": user.http.get(base + "/admin", timeout=HTTP_TIMEOUT),
        "GET /account/password": user.http.get(base + "/account/password", timeout=HTTP_TIMEOUT),
        "GET /login (form)": form,
        "GET /register (form)": requests.get(base + "/register", timeout=HTTP_TIMEOUT),
        "POST /login (302 after login)": login_post,
        "GET /chat (302 to login)": requests.get(base + "/chat", allow_redirects=False,
                                                 timeout=HTTP_TIMEOUT),
        "POST /api/token 200": requests.post(base + "/api/token", json={
            "username": user.name, "password": user.password}, timeout=HTTP_TIMEOUT),
        "POST /api/token 401": requests.post(base + "/api/token", json={
            "username": user.name, "password": "wrong-password"}, timeout=HTTP_TIMEOUT),
        "GET /nope (404)": requests.get(base + "/nope", timeout=HTTP_TIMEOUT),
        # python-engineio answers these itself, around Flask (the guard adds it)
        "GET /socket.io/ (polling handshake)": requests.get(
            base + "/socket.io/?EIO=4&transport=polling", timeout=HTTP_TIMEOUT),
    }
    assert "token" in responses["POST /api/token 200"].json()
    problems = [f"{what} [{r.status_code}]: Cache-Control {r.headers.get('Cache-Control')!r}"
                for what, r in responses.items()
                if "no-store" not in r.headers.get("Cache-Control", "")]
    assert not problems, "\n".join(problems)
    static = requests.get(base + "/static/js/chat/main.js", timeout=HTTP_TIMEOUT)
    assert static.status_code == 200
    assert "no-store" not in static.headers.get("Cache-Control", ""), static.headers
    again = requests.get(base + "/static/js/chat/main.js", timeout=HTTP_TIMEOUT,
                         headers={"If-None-Match": static.headers["ETag"]})
    assert again.status_code == 304, "static files must stay revalidatable"


def test_no_hsts_over_plain_http(server):
    """The default install speaks plain HTTP: HSTS there would be ignored by
    browsers at best, and would lock them out of a site that later drops HTTPS."""
    sent = [what for what, r in _responses(server).items()
            if "Strict-Transport-Security" in r.headers]
    assert not sent, f"HSTS over plain HTTP on {sent}"


def test_hsts_when_a_tls_proxy_is_in_front(secure_server):
    """COOKIE_SECURE=true says the site is HTTPS (TLS at nginx): every response
    carries exactly ``max-age=31536000`` - no includeSubDomains, no preload
    (the app cannot vouch for its host's subdomains; preloading is the domain
    owner's call)."""
    base = secure_server.url
    responses = {
        "GET /login": requests.get(base + "/login", timeout=HTTP_TIMEOUT),
        "GET /chat (302)": requests.get(base + "/chat", allow_redirects=False,
                                        timeout=HTTP_TIMEOUT),
        "GET /healthz": requests.get(base + "/healthz", timeout=HTTP_TIMEOUT),
        "POST /api/token 401": requests.post(base + "/api/token", json={
            "username": "x", "password": "y"}, timeout=HTTP_TIMEOUT),
        "GET /nope (404)": requests.get(base + "/nope", timeout=HTTP_TIMEOUT),
        "GET /static/js/chat/main.js": requests.get(base + "/static/js/chat/main.js",
                                               timeout=HTTP_TIMEOUT),
    }
    wrong = {what: r.headers.get("Strict-Transport-Security") for what, r in responses.items()
             if r.headers.get("Strict-Transport-Security") != HSTS}
    assert not wrong, wrong
