"""WSGI guard in front of python-engineio: refuse what it would mishandle.

Measured against python-engineio 4.15.1 / eventlet 0.41.3 with defaults:
- a long-polling POST whose Content-Length exceeds the packet limit, or whose
  body starts with an unknown packet type, is never answered, and its
  greenlet and file descriptor are never freed: ~1,000 of them stop the
  whole server. We answer such requests at once (413 / 400) and close.
- JSONP polling (``j=`` in the query) skips the origin check and no setting
  disables it: we refuse it.
This runs in the single-process default too, not only behind nginx.
"""
from __future__ import annotations

import io
from urllib.parse import parse_qs

# Engine.IO v4 packet types: open close ping pong message upgrade noop; "b" is
# a base64 binary message. Polling payloads join packets with \x1e.
_PACKET_TYPES = frozenset(b"0123456b")


def _reply(start_response, status: str, text: str):
    body = text.encode()
    start_response(status, [
        ("Content-Type", "text/plain; charset=utf-8"),
        ("Content-Length", str(len(body))),
        # Do not keep the connection: the unread body must not be drained.
        ("Connection", "close"),
    ])
    return [body]


class EngineIOGuard:
    def __init__(self, app, max_packet_bytes: int, path: str = "/socket.io/") -> None:
        self.app = app
        self.max_bytes = max_packet_bytes
        self.path = path

    def __call__(self, environ, start_response):
        if not environ.get("PATH_INFO", "").startswith(self.path):
            return self.app(environ, start_response)
        query = parse_qs(environ.get("QUERY_STRING", ""))
        if "j" in query:
            return _reply(start_response, "400 Bad Request", "JSONP polling is not supported.")
        if environ.get("REQUEST_METHOD") == "POST":
            return self._check_post(environ, start_response)
        return self.app(environ, start_response)

    def _check_post(self, environ, start_response):
        raw_length = environ.get("CONTENT_LENGTH") or ""
        try:
            length = int(raw_length)
        except ValueError:
            return _reply(start_response, "411 Length Required", "Content-Length is required.")
        if length < 0:
            return _reply(start_response, "400 Bad Request", "Bad Content-Length.")
        if length > self.max_bytes:
            return _reply(start_response, "413 Payload Too Large",
                          f"At most {self.max_bytes} bytes per request.")
        try:
            body = environ["wsgi.input"].read(length) if length else b""
        except OSError:  # the socket timeout: the client stopped sending
            return _reply(start_response, "408 Request Timeout", "The body did not arrive.")
        if len(body) != length:
            return _reply(start_response, "400 Bad Request", "The body ended early.")
        if not body or any(
            not packet or packet[0] not in _PACKET_TYPES for packet in body.split(b"\x1e")
        ):
            return _reply(start_response, "400 Bad Request", "Not an Engine.IO payload.")
        environ["wsgi.input"] = io.BytesIO(body)
        return self.app(environ, start_response)
