"""The optional Socket.IO Admin UI (https://socket.io/docs/v4/admin-ui/), behind admin login.

Off unless SOCKETIO_ADMIN_UI is ``read-only`` or ``read-write``. python-socketio's
own instrumentation (``Server.instrument``) feeds the UI; what we add:

- admission: the UI's namespace is an ``AppNamespace`` with ``admin_only``,
  so it takes a logged-in admin's session cookie (or a token) like /admin
  does, counts against the connection limits, is audited, and is closed when
  the admin logs out or is disabled. The library's username/password check
  (``auth=``) is switched off in favour of that;
- the UI's files, vendored from npm by scripts/vendor.sh, are served at
  /admin/socketio/ to admins only (routes.py): no third-party site, and the
  origin check needs no exception;
- ``production`` reporting by default: ``development`` also shows every
  event with its payload (message texts included) and wraps every emit.
"""
from __future__ import annotations

from flask import request

from realtime.namespace import AppNamespace
from realtime.state import Connection

NAMESPACE = "/socketio-admin"


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
    server.instrument(
        auth=False,  # admission is SocketIOAdminUINamespace's (session or token, admins only)
        mode=settings.SOCKETIO_ADMIN_UI_MODE,
        read_only=settings.SOCKETIO_ADMIN_UI == "read-only",
        namespace=NAMESPACE,
        server_id=settings.NODE_NAME or None,
    )
    # instrument() registered its connect as a plain handler, which python-socketio
    # would run instead of the namespace class; move it behind our admission.
    ui_connect = server.handlers[NAMESPACE].pop("connect")
    socketio.on_namespace(SocketIOAdminUINamespace(NAMESPACE, app, ui_connect))
    # Its server_stats count sockets only in namespaces that have plain handlers;
    # ours are classes. An empty entry lists them and changes no dispatch (an
    # event with no plain handler goes on to the namespace class).
    for namespace in server.namespace_handlers:
        server.handlers.setdefault(namespace, {})
