"""The optional Socket.IO Admin UI (https://socket.io/docs/v4/admin-ui/), behind admin login.

Off unless SOCKETIO_ADMIN_UI is ``read-only`` or ``read-write``. python-socketio's
own instrumentation (``socketio.admin.InstrumentedServer``) feeds the UI; what we add:

- admission: the UI's namespace is an ``AppNamespace`` with ``admin_only``,
  so it takes a logged-in admin's session cookie (or a token) like /admin
  does, counts against the connection limits, is audited, and is closed when
  the admin logs out or is disabled. The library's username/password check
  (``auth=``) is switched off in favour of that. A socket waiting for that
  decision, or refused by it, receives none of the UI's broadcasts
  (realtime/admission.py);
- no secrets in any frame: the library reports every socket's handshake -
  all its HTTP headers, the HttpOnly ``Cookie`` and ``Authorization``
  included, and its query string - to every admin, at connect and (in
  development reporting) with every ping, and every received event's
  payload. An admin must not be able to take over a user's session from it.
  ``RedactingInstrumentedServer.report_socket`` keeps only the headers and
  query fields the UI is useful with, and every frame emitted on the UI's
  namespace, whatever produced it, passes ``redact`` (secret-named fields,
  ``name=value`` secrets inside strings) before it is sent or published to
  the message queue;
- the UI's files, vendored from npm by scripts/vendor.sh, are served at
  /admin/socketio/ to admins only (routes.py): no third-party site, and the
  origin check needs no exception;
- ``production`` reporting by default: ``development`` also shows every
  event with its payload (message texts included) and wraps every emit. It is
  refused with MESSAGE_QUEUE (config.Settings.from_env): there it would
  publish one frame per recipient of every emit to every process.
"""
from __future__ import annotations

import re
from typing import Any

from flask import request

from realtime import compat
from realtime.namespace import AppNamespace
from realtime.state import Connection

NAMESPACE = "/socketio-admin"

# Handshake headers the UI shows (keys as python-socketio writes them: the
# WSGI name without HTTP_, lower case). Everything else - Cookie,
# Authorization, proxies' identity headers, Referer with its query - stays
# on the server: an allow-list, so a header we did not think of is not sent.
SHOWN_HEADERS = frozenset({"host", "origin", "user_agent", "accept_language", "upgrade"})
# Engine.IO's own query fields; a client may add anything (a token, say).
SHOWN_QUERY = frozenset({"EIO", "transport", "t", "sid"})

REDACTED = "[redacted]"
# Field names whose values are secrets (``auth`` is Socket.IO's connect payload).
_SECRET_KEY = re.compile(r"^auth$|cookie|authori[sz]ation|token|password|passwd|secret|"
                         r"api[-_]?key|session|credential", re.IGNORECASE)
# ``token=...``, ``password: ...``, ``session=...`` inside a string (a query
# string, a header line, a cookie string in a payload), and ``Bearer ...``.
_SECRET_IN_TEXT = re.compile(
    r"(?i)\b([\w-]*(?:token|password|passwd|secret|api[-_]?key|session|authorization|cookie)"
    r"[\w-]*)(\s*[=:]\s*)(?:bearer\s+|basic\s+)?[^\s&;,\"']+")
_CREDENTIALS_IN_TEXT = re.compile(r"(?i)\b(bearer|basic)(\s+)[\w.~+/=-]+")


def _redact_text(text: str) -> str:
    text = _SECRET_IN_TEXT.sub(lambda m: m.group(1) + m.group(2) + REDACTED, text)
    return _CREDENTIALS_IN_TEXT.sub(lambda m: m.group(1) + m.group(2) + REDACTED, text)


def redact(value: Any) -> Any:
    """``value`` with every secret-looking field and ``name=secret`` text replaced."""
    if isinstance(value, dict):
        return {k: REDACTED if isinstance(k, str) and _SECRET_KEY.search(k) else redact(v)
                for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(redact(v) for v in value)
    if isinstance(value, str):
        return _redact_text(value)
    return value


# The library's class, looked up at run time (a type checker cannot use it as a base).
_InstrumentedServer: Any = compat.admin_ui_instrumentation()


class RedactingInstrumentedServer(_InstrumentedServer):
    """The library's instrumentation, reporting a handshake without its secrets."""

    def report_socket(self, data: dict) -> dict:
        handshake = data["handshake"]
        handshake["headers"] = {k: v for k, v in handshake["headers"].items()
                                if k in SHOWN_HEADERS}
        handshake["query"] = {k: v for k, v in handshake["query"].items() if k in SHOWN_QUERY}
        return data


def _redact_ui_frames(server) -> None:
    """Pass every frame emitted on the UI's namespace through ``redact``.

    ``Server.emit`` is where every UI frame starts (the instrumentation
    always calls ``self.sio.emit(..., namespace=...)``), before the manager
    sends it or publishes it to the other processes. Wrapped on this server
    instance only.
    """
    original = server.emit

    def emit(event, data=None, *args, **kwargs):
        if kwargs.get("namespace") == NAMESPACE:
            data = redact(data)
        return original(event, data, *args, **kwargs)

    server.emit = emit


class SocketIOAdminUINamespace(AppNamespace):
    admin_only = True

    def __init__(self, namespace: str, app, ui_connect) -> None:
        super().__init__(namespace, app)
        self._ui_connect = ui_connect

    def connected(self, conn: Connection, first: bool) -> None:
        # The library's connect handler: sends the UI its feature list (and,
        # in development mode, every socket) once the connect completes.
        self._ui_connect(conn.sid, request.environ, None)


def install(socketio, app, settings) -> None:
    if settings.SOCKETIO_ADMIN_UI == "off":
        return
    server = socketio.server
    # What server.instrument() does, with our subclass.
    RedactingInstrumentedServer(
        server,
        auth=False,  # admission is SocketIOAdminUINamespace's (session or token, admins only)
        mode=settings.SOCKETIO_ADMIN_UI_MODE,
        read_only=settings.SOCKETIO_ADMIN_UI == "read-only",
        namespace=NAMESPACE,
        server_id=settings.NODE_NAME or None,
    )
    _redact_ui_frames(server)
    # The instrumentation registered its connect as a plain handler, which python-socketio
    # would run instead of the namespace class; move it behind our admission.
    ui_connect = compat.take_plain_handler(server, NAMESPACE, "connect")
    socketio.on_namespace(SocketIOAdminUINamespace(NAMESPACE, app, ui_connect))
    # Its server_stats count sockets only in namespaces that have plain handlers;
    # ours are classes.
    compat.list_class_namespaces_for_admin_ui(server)
