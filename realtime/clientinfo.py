"""Who is on the other end of a request, from the WSGI environ.

Proxy headers are applied (or not) by werkzeug's ProxyFix in create_app,
according to TRUSTED_PROXIES; here we only read the result.
"""
from __future__ import annotations


def client_ip(environ: dict) -> str:
    return environ.get("REMOTE_ADDR") or "unknown"


def transport_of(environ: dict) -> str:
    """The Engine.IO transport a connection was opened with."""
    query = environ.get("QUERY_STRING", "")
    return "websocket" if "transport=websocket" in query else "polling"
