"""Mutants: Switchboard with one defence removed, to show the suite notices.

    SB_SECURITY_MUTANT=no_guard .venv/bin/python -m pytest tests/security

With SB_SECURITY_MUTANT set, every server this suite starts runs this file
instead of ``app.py``: it applies the named patch (in memory, nothing on
disk changes), then runs app.py as ``__main__``. The same patch is applied in
the pytest process too, for the in-process (test client) tests. A test that
still passes against the mutant of its defence proves nothing; the table in
SECURITY.md lists which tests fail for each mutant.
"""
from __future__ import annotations

import dataclasses
import os
import runpy
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
ENV = "SB_SECURITY_MUTANT"


def _settings(**changes):
    import config

    original = config.Settings.from_env.__func__

    def from_env(cls, env=None):
        return dataclasses.replace(original(cls, env), **changes)

    config.Settings.from_env = classmethod(from_env)


def cors_star():
    import config
    config.Settings.allowed_origins = lambda self: "*"


def cors_from_host():  # python-engineio's default: Host / X-Forwarded-Host decide
    import config
    config.Settings.allowed_origins = lambda self: None


def no_guard():
    import middleware.guard as guard
    guard.EngineIOGuard.__call__ = lambda self, environ, start_response: self.app(
        environ, start_response)


def guard_allows_jsonp():
    import middleware.guard as guard
    guard.parse_qs = lambda qs: {}


def debug_on():
    import eventlet.wsgi
    original = eventlet.wsgi.server

    def server(*args, **kwargs):
        kwargs["debug"] = True
        return original(*args, **kwargs)

    eventlet.wsgi.server = server


def no_socket_timeout():
    import serving
    serving.socket_timeout = lambda settings: None


def no_security_headers():
    from flask.sansio.scaffold import Scaffold
    original = Scaffold.after_request

    def after_request(self, f):
        return f if getattr(f, "__name__", "") == "security_headers" else original(self, f)

    Scaffold.after_request = after_request


def lax_cookies():
    from flask.sessions import SessionInterface
    SessionInterface.get_cookie_httponly = lambda self, app: False
    SessionInterface.get_cookie_samesite = lambda self, app: None
    SessionInterface.get_cookie_secure = lambda self, app: False


def no_event_limits():
    from realtime.ratelimit import EventLimiter
    EventLimiter.hit = lambda self, rule, key: None


def per_connection_message_limit():
    from realtime.namespace import AppNamespace

    def _limit(self, rule, conn):
        if rule in ("messages", "events"):  # the message limit keyed by connection
            self.limiter.hit(rule, f"sid:{conn.sid}")

    AppNamespace._limit = _limit


def no_login_limit():
    import flask_limiter
    original = flask_limiter.Limiter.init_app

    def init_app(self, app, *a, **k):
        app.config["RATELIMIT_ENABLED"] = False
        return original(self, app, *a, **k)

    flask_limiter.Limiter.init_app = init_app


def no_caps():
    _settings(MAX_CONNECTIONS=10 ** 6, MAX_CONNECTIONS_PER_USER=10 ** 6)


def no_session_cap():
    import middleware.guard as guard
    original = guard.EngineIOGuard.__init__

    def __init__(self, *args, **kwargs):
        original(self, *args, **kwargs)
        self.max_sessions = None

    guard.EngineIOGuard.__init__ = __init__


def no_text_limit():
    _settings(MAX_MESSAGE_CHARS=10 ** 7)


def no_packet_limit():
    _settings(MAX_PACKET_BYTES=10 ** 8)


def no_connection_age():
    import realtime.housekeeping as hk
    hk.close_old_connections = lambda *a, **k: 0


def lax_schemas():
    from pydantic import BaseModel

    from realtime.schemas import Payload
    original = BaseModel.model_validate.__func__

    def model_validate(cls, obj, *, strict=None, **kwargs):
        return original(cls, obj, strict=False, **kwargs)

    Payload.model_validate = classmethod(model_validate)


def no_token_expiry():
    import blueprints.auth.service as service
    original = service._serializer

    class NoExpiry:
        def __init__(self, inner):
            self.inner = inner

        def loads(self, token, max_age=None):
            return self.inner.loads(token)

        def dumps(self, data):
            return self.inner.dumps(data)

    service._serializer = lambda: NoExpiry(original())


def no_epoch():
    import blueprints.auth.service as service
    from extensions import db
    from models import User

    def load_session_user(session_id):
        try:
            uid = int(str(session_id).split(":")[0])
        except ValueError:
            return None
        return db.session.get(User, uid)

    service.load_session_user = load_session_user


def no_disconnect_on_logout():
    # Both ways a revoked user's sockets end: at once (disconnect_user) and the
    # housekeeping backstop (within a round), else the tests, which wait 5 s
    # for the sockets to end, are satisfied by the backstop alone.
    import realtime.closing as closing
    import realtime.housekeeping as housekeeping
    closing.disconnect_user = lambda user_id, reason: 0
    housekeeping.close_revoked_connections = lambda state, socketio: 0


def trust_proxy_headers():
    _settings(TRUSTED_PROXIES=1)


def no_audit():
    import audit
    audit.log.disabled = True


def lookalike_names():  # the key is lower(name) again, as before look-alike keys
    import blueprints.auth.service as auth
    import blueprints.chat.service as chat
    auth.name_key = chat.name_key = lambda name: name.lower()


def username_match():  # ``^...$`` with ``re.match``: "root\n" passes
    import re

    import blueprints.auth.service as auth
    auth.USERNAME_RE = type("Loose", (), {"fullmatch": staticmethod(
        re.compile(r"^[A-Za-z0-9_.-]{3,32}$").match)})()


def blank_text_allowed():  # only str.strip() decides what is empty
    import blueprints.admin.events as admin
    import blueprints.chat.service as chat
    chat.is_blank = admin.is_blank = lambda text: not text.strip()


def hash_on_loop():  # password hashes on the event loop again
    import blueprints.auth.service as auth
    auth.offload = lambda fn, *args: fn(*args)


def login_limit_per_route():  # one RATE_LIMIT_LOGIN per route, not one budget
    import flask_limiter

    def shared_limit(self, limit_value, scope, *, methods=None, **kwargs):
        return self.limit(limit_value, methods=methods)

    flask_limiter.Limiter.shared_limit = shared_limit


def log_unescaped():  # logged values written as they came
    import logs
    logs.escape_for_log = lambda value: value


def csrf_kept_at_login():  # the pre-login CSRF secret survives sign-in
    import flask_login

    import blueprints.auth.routes as routes
    routes._signed_in = lambda user, remember=False: flask_login.login_user(
        user, remember=remember)


def remember_365_days():  # Flask-Login's default remember cookie
    from flask.config import Config
    original = Config.update

    def update(self, *args, **kwargs):
        original(self, *args, **kwargs)
        self.pop("REMEMBER_COOKIE_DURATION", None)

    Config.update = update


def metrics_public():
    import blueprints.ops.routes as ops
    ops.metrics_allowed = lambda address, allow: True


def no_header_deadline():  # back to the per-read socket timeout only
    import serving
    serving.header_timeout = lambda settings: None


def _drop_header(name, only=None):
    """Wrap the security_headers hook so that its responses lose header ``name``
    (only when it equals ``only``, if given)."""
    from flask.sansio.scaffold import Scaffold
    original = Scaffold.after_request

    def after_request(self, f):
        if getattr(f, "__name__", "") != "security_headers":
            return original(self, f)

        def security_headers(response):
            response = f(response)
            if only is None or response.headers.get(name) == only:
                response.headers.pop(name, None)
            return response

        return original(self, security_headers)

    Scaffold.after_request = after_request


def no_hsts():
    _drop_header("Strict-Transport-Security")


def cacheable_pages():  # no-store removed (a view's own Cache-Control would stay)
    _drop_header("Cache-Control", only="no-store")


def admin_ui_headers():  # the library's handshake report and Admin UI frames, unredacted
    from socketio.admin import InstrumentedServer

    import blueprints.admin.socketio_ui as ui
    ui.RedactingInstrumentedServer.serialize_socket = InstrumentedServer.serialize_socket
    ui.redact = lambda value: value


def no_admission_hold():  # sockets pending their connect are broadcast recipients again
    import realtime.admission as admission
    admission.hold_broadcasts_until_admitted = lambda server: None


def no_room_sweep():  # room:leave takes no socket out of the Socket.IO room
    import realtime.rooms as rooms
    rooms.remove_user_from_room = lambda server, state, namespace, user_id, room: 0


def no_new_member_sweep():  # new members' open tabs are not put in the room
    import realtime.rooms as rooms
    rooms.add_user_to_room = lambda server, state, namespace, user_id, room: 0


def avatar_no_pixel_limit():  # only Pillow's own decompression-bomb guard (~89 M pixels)
    import blueprints.people.service as people
    people.AVATAR_MAX_PIXELS = 10**12


def avatar_bytes_kept():  # the upload is stored and served as it came (no decode, no re-encode)
    import blueprints.people.service as people
    people.process_avatar = lambda data: data


def avatar_any_decoder():  # every format Pillow knows is tried
    import blueprints.people.service as people
    people.AVATAR_FORMATS = None


def avatar_public():  # /avatars/ without the login check
    import blueprints.people.routes as routes
    original = routes.api_user
    routes.api_user = lambda check_csrf=True: original(check_csrf) if check_csrf else None


def api_cookie_without_csrf():  # the session cookie alone authenticates the HTTP API
    import blueprints.people.routes as routes
    original = routes.api_user
    routes.api_user = lambda check_csrf=True: original(False)


def display_name_impersonation():  # a display name may equal another account's username
    import blueprints.people.service as people
    people.impersonated = lambda user, key: None


def local_user_sids():  # the sweep sees only this process's sockets
    from realtime.redis_state import RedisState
    RedisState.user_sids = lambda self, user_id, namespace: self.local.user_sids(user_id,
                                                                                 namespace)


def shared_channel():  # Flask-SocketIO's default channel, shared by every deployment
    import realtime.state as state
    state.pubsub_channel = lambda deployment, database_uri: "flask-socketio"


def no_packet_budget():
    from realtime import compat
    compat.PacketBudget.spend = lambda self: True


def no_transport_hooks():  # realtime/compat.py not installed: the libraries as they are
    from realtime import compat

    def install(sio_server, packet_rate, **callbacks):
        sio_server.async_handlers = True
        return compat.TransportLimits(sio_server, packet_rate, **callbacks)  # hooks nothing

    compat.install = install


def default_namespace_open():  # python-socketio's default: "/" admits anyone
    from realtime import compat
    original = compat.install

    def install(sio_server, *args, **kwargs):
        sio_server.namespaces = ["/"]
        return original(sio_server, *args, **kwargs)

    compat.install = install


def unbounded_handlers():  # python-socketio's async_handlers: a greenlet per event
    from realtime import compat

    def _bound_handlers(sio_server, lanes):
        sio_server.async_handlers = True

    compat._bound_handlers = _bound_handlers


def unbounded_simple_websocket():  # gevent: simple-websocket reads and buffers at will
    from realtime import compat
    compat._install_simple_websocket_hook = lambda: None


def no_connect_timeout():
    import realtime.housekeeping as hk
    original = hk.close_overdue_sessions

    def close_overdue_sessions(app):
        app.extensions.pop("switchboard.transport_limits", None)
        return original(app)

    hk.close_overdue_sessions = close_overdue_sessions


def no_pending_cap():
    import middleware.guard as guard
    guard.PendingSessions.full = lambda self, ip: False


def refusals_one_line_each():
    import middleware.guard as guard
    from audit import audit
    guard.RefusalLog.note = lambda self, action, ip, reason, **f: audit(
        action, ip=ip, reason=reason, **f)



def fixed_state_namespaces():  # Redis counts a fixed namespace list again (the UI's escapes)
    from realtime.redis_state import RedisState
    RedisState.namespaces = property(lambda self: ("/admin", "/chat", "/market"),
                                     lambda self, value: None)

MUTANTS = {name: fn for name, fn in globals().items()
           if callable(fn) and not name.startswith("_") and fn.__module__ == __name__
           and name not in ("apply", "main")}


def apply(name: str) -> None:
    if name not in MUTANTS:
        raise SystemExit(f"unknown mutant {name!r}; one of {', '.join(sorted(MUTANTS))}")
    MUTANTS[name]()


def main() -> None:
    sys.path.insert(0, str(ROOT))
    os.chdir(ROOT)
    from patching import patch_for

    patch_for()
    apply(os.environ[ENV])
    sys.argv = [str(ROOT / "app.py")]
    runpy.run_path(str(ROOT / "app.py"), run_name="__main__")


if __name__ == "__main__":
    main()
