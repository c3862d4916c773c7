"""Who may read /metrics (information leak).

Defence: blueprints/ops/routes.metrics serves Prometheus' text only to the
client addresses in METRICS_ALLOW (default 127.0.0.1/32,::1/128); anyone else
gets a plain-text 403 that names no metric. The address is the one werkzeug's
ProxyFix leaves (TRUSTED_PROXIES): behind our nginx the forwarded address
counts, and a forged X-Forwarded-For counts for nothing without it.
/healthz and /readyz stay public (load balancers call them from anywhere).

"Another client" is 127.0.0.2: the test's socket binds that source address
and connects to the server on 127.0.0.1 (the whole of 127/8 is loopback).
"""
from __future__ import annotations

import socket

import pytest

from blueprints.ops.routes import metrics_allowed
from tests.security.helpers import status_of

OTHER = "127.0.0.2"
METRIC = b"switchboard_"  # every metric of realtime/metrics.py starts so


def get(port: int, path: str, source: str = "127.0.0.1", headers: dict | None = None,
        timeout: float = 10) -> tuple[int | None, dict[str, str], bytes]:
    """One GET from ``source`` (Connection: close); (status, headers, body)."""
    sock = socket.socket()
    sock.bind((source, 0))
    sock.settimeout(timeout)
    sock.connect(("127.0.0.1", port))
    lines = [f"GET {path} HTTP/1.1", f"Host: 127.0.0.1:{port}", "Connection: close"]
    lines += [f"{k}: {v}" for k, v in (headers or {}).items()]
    data = b""
    try:
        sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                break
            data += chunk
    finally:
        sock.close()
    head, _, body = data.partition(b"\r\n\r\n")
    fields = {}
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.decode("latin-1").partition(":")
        fields[name.strip().lower()] = value.strip()
    return status_of(data), fields, body


@pytest.fixture(scope="module", params=["eventlet", "gevent"])
def server(request, module_servers):
    return module_servers(mode=request.param, name="metrics-access")


@pytest.fixture(scope="module")
def proxied(module_servers):
    """One proxy in front (TRUSTED_PROXIES=1), as in deploy/: the forwarded address counts."""
    return module_servers(env={"TRUSTED_PROXIES": "1"}, name="metrics-proxied")


@pytest.fixture(scope="module")
def prometheus_net(module_servers):
    """METRICS_ALLOW naming a monitoring network instead of loopback."""
    return module_servers(env={"TRUSTED_PROXIES": "1", "METRICS_ALLOW": "203.0.113.0/24"},
                          name="metrics-allow")


def assert_refused(status, fields, body, what):
    assert status == 403, f"{what}: /metrics answered {status}"
    assert fields.get("content-type", "").startswith("text/plain"), (what, fields)
    assert METRIC not in body and b"# HELP" not in body and b"# TYPE" not in body, (what, body)


def test_metrics_are_served_to_loopback_and_refused_to_another_address(server):
    """The default allow-list is loopback: 127.0.0.1 reads the metrics (what
    tests/e2e and a Prometheus on the same host do); 127.0.0.2 gets a 403
    that names no metric. Before the allow-list both got every metric."""
    status, _, body = get(server.port, "/metrics")
    assert status == 200 and METRIC in body, (status, body[:200])
    assert_refused(*get(server.port, "/metrics", source=OTHER), f"[{server.async_mode}] 127.0.0.2")


def test_a_forged_x_forwarded_for_does_not_count_without_trusted_proxies(server):
    """TRUSTED_PROXIES=0: X-Forwarded-For is the client's own claim, ignored."""
    for forged in ("127.0.0.1", "::1", "127.0.0.1, 127.0.0.1"):
        assert_refused(*get(server.port, "/metrics", source=OTHER,
                            headers={"X-Forwarded-For": forged}),
                       f"[{server.async_mode}] 127.0.0.2 claiming {forged}")


def test_health_and_readiness_stay_public(server):
    """Load balancers and supervisors run anywhere: /healthz and /readyz answer
    every address (they say nothing but ok and which dependency failed)."""
    for path in ("/healthz", "/readyz"):
        status, _, body = get(server.port, path, source=OTHER)
        assert status == 200, (path, status, body[:200])


def test_behind_a_proxy_the_forwarded_address_decides(proxied):
    """TRUSTED_PROXIES=1 (nginx on the same host adds X-Forwarded-For): the
    address nginx saw is the client. A scraper outside the allow-list coming
    through nginx is refused although nginx itself connects from 127.0.0.1;
    a local one through nginx is served."""
    assert_refused(*get(proxied.port, "/metrics", headers={"X-Forwarded-For": "203.0.113.7"}),
                   "forwarded 203.0.113.7")
    # ProxyFix takes the last hop: what the client wrote before nginx's own entry is not used.
    assert_refused(*get(proxied.port, "/metrics",
                        headers={"X-Forwarded-For": "127.0.0.1, 203.0.113.7"}),
                   "forwarded 127.0.0.1, 203.0.113.7")
    status, _, body = get(proxied.port, "/metrics", headers={"X-Forwarded-For": "127.0.0.1"})
    assert status == 200 and METRIC in body, status


def test_metrics_allow_lets_the_named_network_in_and_only_it(prometheus_net):
    """METRICS_ALLOW replaces the default: the monitoring network reads the
    metrics, loopback no longer does."""
    status, _, body = get(prometheus_net.port, "/metrics",
                          headers={"X-Forwarded-For": "203.0.113.9"})
    assert status == 200 and METRIC in body, status
    assert_refused(*get(prometheus_net.port, "/metrics"), "127.0.0.1 (not in the list)")
    assert_refused(*get(prometheus_net.port, "/metrics",
                        headers={"X-Forwarded-For": "198.51.100.1"}), "198.51.100.1")


@pytest.mark.parametrize("address,allowed", [
    ("127.0.0.1", True), ("::1", True), ("::ffff:127.0.0.1", True),  # dual-stack socket
    ("127.0.0.2", False), ("10.0.0.1", False), ("::2", False),
    ("unknown", False), ("", False), ("127.0.0.1 ", False), ("not an address", False),
])
def test_the_allow_list_matches_addresses_not_strings(address, allowed):
    assert metrics_allowed(address, ("127.0.0.1/32", "::1/128")) is allowed
