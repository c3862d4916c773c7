"""Who is on the other end of a request, from the WSGI environ.

Proxy headers are applied (or not) by werkzeug's ProxyFix in create_app,
according to TRUSTED_PROXIES; here we only read the result. For code that
holds a WSGI environ but no Flask request (the Engine.IO guard, Socket.IO
handlers, audit lines); the HTTP limiter keys on flask_limiter's
``get_remote_address`` (request.remote_addr, the same value).
"""
from __future__ import annotations


def client_ip(environ: dict) -> str:
    return environ.get("REMOTE_ADDR") or "unknown"


def transport_of(environ: dict) -> str:
    """The Engine.IO transport a connection was opened with."""
    query = environ.get("QUERY_STRING", "")
    return "websocket" if "transport=websocket" in query else "polling"
