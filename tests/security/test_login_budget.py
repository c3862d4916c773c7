"""Password hashing off the event loop; one login budget per address.

Defences:
* blocking.offload runs werkzeug's password hash and check in a native
  thread (eventlet's tpool / gevent's hub threadpool, at most cpu_count-1 at
  once). Before, each hash (~80 ms of scrypt) held the only OS thread:
  20 concurrent wrong-password /api/token calls kept /healthz waiting
  1.4-1.5 s (max), afterwards 0.03-0.07 s, on both modes.
* blueprints.auth.routes.login_budget: one Flask-Limiter shared_limit
  (scope "login") of RATE_LIMIT_LOGIN per client address over POST /login,
  /register, /api/token (and the password form). Before, each route had its
  own 10/minute: 30 hashes a minute from one address.
"""
from __future__ import annotations

import threading
import time

import pytest
import requests

from tests.security.helpers import unique
from tests.support.clients import HTTP_TIMEOUT, csrf_token

# Old code, 40 concurrent wrong-password calls: /healthz max 3.2-3.8 s (eventlet),
# 1.3-3.2 s (gevent: its hub sometimes serves the probe between two hashes).
# Fixed code: 0.03-0.07 s on both, on this 2-core machine with other suites running.
BURST = 40
HEALTHZ_MAX = 0.75  # seconds: 10x what the fix needs, well under what the old code took


def wrong_token(base: str, headers: dict | None = None) -> requests.Response:
    return requests.post(base + "/api/token", json={"username": unique("nobody"),
                                                    "password": "wrong-password"},
                         headers=headers or {}, timeout=60)


@pytest.mark.parametrize("mode", ["eventlet", "gevent"])
def test_password_hashing_leaves_the_event_loop_free(servers, mode):
    """BURST concurrent wrong-password /api/token calls while /healthz is probed
    every 20 ms: the slowest probe stays under HEALTHZ_MAX. All the calls get
    their 401. The burst and the probe both end by themselves (bounded)."""
    srv = servers(env={"RATE_LIMIT_LOGIN": "10000/minute"}, mode=mode, name="budget-loop")
    assert wrong_token(srv.url).status_code == 401  # the thread pool exists before we time
    latencies: list[float] = []
    statuses: list[int] = []
    done = threading.Event()

    def probe():
        http = requests.Session()
        deadline = time.monotonic() + 60
        while not done.is_set() and time.monotonic() < deadline:
            started = time.monotonic()
            assert http.get(srv.url + "/healthz", timeout=30).status_code == 200
            latencies.append(time.monotonic() - started)
            time.sleep(0.02)

    prober = threading.Thread(target=probe)
    prober.start()
    while not latencies:  # the probe's connection is open before the burst
        time.sleep(0.01)
    callers = [threading.Thread(target=lambda: statuses.append(wrong_token(srv.url).status_code))
               for _ in range(BURST)]
    for t in callers:
        t.start()
    for t in callers:
        t.join(90)
    done.set()
    prober.join(60)
    assert statuses == [401] * BURST, statuses
    assert len(latencies) > 3, latencies
    assert max(latencies) < HEALTHZ_MAX, (
        f"/healthz took up to {max(latencies):.2f} s during {BURST} password checks")


def register_post(base: str, headers: dict):
    http = requests.Session()
    page = http.get(base + "/register", headers=headers, timeout=HTTP_TIMEOUT)
    name = unique("budget")
    return http.post(base + "/register", headers=headers, data={
        "csrf_token": csrf_token(page.text), "username": name,
        "password": "correct-horse", "confirm": "correct-horse"},
        allow_redirects=False, timeout=HTTP_TIMEOUT)


def login_post(base: str, headers: dict):
    http = requests.Session()
    page = http.get(base + "/login", headers=headers, timeout=HTTP_TIMEOUT)
    return http.post(base + "/login", headers=headers, data={
        "csrf_token": csrf_token(page.text), "username": unique("nobody"),
        "password": "wrong-password"}, allow_redirects=False, timeout=HTTP_TIMEOUT)


def test_one_budget_per_address_across_login_register_and_token(servers):
    """RATE_LIMIT_LOGIN=10/minute, behind one (pretend) proxy (TRUSTED_PROXIES=1):
    4 /api/token + 3 /login + 3 /register POSTs from 127.0.0.1 pass; the 11th
    is 429 on each of the three routes (with Retry-After). 127.0.0.2 (the proxy
    says so in X-Forwarded-For) still has its whole budget. The old per-route
    limits let 10 through on each route."""
    srv = servers(env={"RATE_LIMIT_LOGIN": "10/minute", "TRUSTED_PROXIES": "1"},
                  name="budget-shared")
    base, me, other = srv.url, {"X-Forwarded-For": "127.0.0.1"}, {"X-Forwarded-For": "127.0.0.2"}
    statuses = [wrong_token(base, me).status_code for _ in range(4)]
    statuses += [login_post(base, me).status_code for _ in range(3)]
    statuses += [register_post(base, me).status_code for _ in range(3)]
    assert statuses == [401] * 4 + [200] * 3 + [302] * 3, statuses
    for route, attempt in (("token", lambda: wrong_token(base, me)),
                           ("login", lambda: login_post(base, me)),
                           ("register", lambda: register_post(base, me))):
        r = attempt()
        assert r.status_code == 429, f"11th attempt via {route}: {r.status_code}"
        assert r.headers.get("Retry-After"), (route, dict(r.headers))
    assert wrong_token(base, other).status_code == 401
    assert login_post(base, other).status_code == 200
    assert register_post(base, other).status_code == 302
