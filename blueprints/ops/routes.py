"""Health, readiness and metrics for load balancers and Prometheus.

/healthz and /readyz stay public: load balancers and supervisors call them
from wherever they run, and they say nothing but "ok" and which dependency
failed. /metrics tells anyone who reads it how many people are connected,
what they do and which errors happen, so it is served only to METRICS_ALLOW.
"""
from __future__ import annotations

import ipaddress
from functools import lru_cache

from flask import Blueprint, Response, current_app, jsonify, request
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import text

from extensions import db, limiter
from middleware.clientinfo import client_ip

bp = Blueprint("ops", __name__)


@bp.get("/healthz")
@limiter.exempt
def healthz():
    return jsonify(status="ok")


@bp.get("/readyz")
@limiter.exempt
def readyz():
    checks: dict[str, str] = {}
    try:
        db.session.execute(text("SELECT 1"))
        checks["database"] = "ok"
    except Exception as exc:  # any failure means not ready; say which
        checks["database"] = f"error: {type(exc).__name__}"
    client = current_app.extensions["switchboard.redis"]  # None without MESSAGE_QUEUE
    if client is not None:
        try:
            # The app's shared client: a connection from its pool, not a new one.
            client.ping()
            checks["message_queue"] = "ok"
        except Exception as exc:
            checks["message_queue"] = f"error: {type(exc).__name__}"
    ready = all(v == "ok" for v in checks.values())
    return jsonify(status="ready" if ready else "not ready", checks=checks), 200 if ready else 503


@lru_cache(maxsize=8)
def _networks(allow: tuple[str, ...]) -> tuple:
    return tuple(ipaddress.ip_network(n) for n in allow)


def metrics_allowed(address: str, allow: tuple[str, ...]) -> bool:
    """Whether ``address`` (the client after TRUSTED_PROXIES) is in ``allow``.

    An IPv4 client of a dual-stack socket shows as ``::ffff:a.b.c.d``: it is
    matched as the IPv4 address it is. Anything that is not an address (no
    peer, a malformed forwarded value) is refused.
    """
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return False
    if ip.version == 6 and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return any(ip in net for net in _networks(allow))


@bp.get("/metrics")
@limiter.exempt
def metrics():
    # The address as ProxyFix left it: the forwarded one only when
    # TRUSTED_PROXIES says a proxy of ours added it, else the socket's peer.
    allow = current_app.extensions["switchboard.settings"].METRICS_ALLOW
    if not metrics_allowed(client_ip(request.environ), allow):
        return Response("Forbidden: /metrics is served only to the addresses in METRICS_ALLOW.\n",
                        status=403, mimetype="text/plain")
    return Response(generate_latest(), mimetype=CONTENT_TYPE_LATEST)
