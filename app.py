"""Switchboard: create_app() and ``python app.py`` (migrate, then serve).

``python app.py`` monkey-patches for the chosen ASYNC_MODE before anything
else is imported, brings the database to the current schema and serves.
"""
from __future__ import annotations

import logging
import os
import sys
from datetime import timedelta

if __name__ == "__main__":
    from patching import patch_for

    patch_for()

from flask import Flask, jsonify, request  # noqa: E402
from flask_babel import gettext as _  # noqa: E402
from sqlalchemy import event as sa_event  # noqa: E402
from werkzeug.middleware.proxy_fix import ProxyFix  # noqa: E402

import i18n  # noqa: E402
import logs  # noqa: E402
from audit import audit  # noqa: E402
from config import ConfigError, Settings, database_url, load_secret_key  # noqa: E402
from extensions import csrf, db, limiter, login_manager, migrate, socketio  # noqa: E402
from middleware.clientinfo import client_ip  # noqa: E402
from realtime.ratelimit import EventLimiter  # noqa: E402
from realtime.state import ConnectionState, MemoryState, pubsub_channel  # noqa: E402


def create_app(settings: Settings | None = None, **overrides) -> Flask:
    """Build the app. ``overrides`` set Flask config keys (tests use TESTING)."""
    settings = settings or Settings.from_env()
    app = Flask(__name__, instance_path=settings.INSTANCE_PATH)
    uri = database_url(settings)
    app.config.update(
        SECRET_KEY=load_secret_key(settings),
        SQLALCHEMY_DATABASE_URI=uri,
        SQLALCHEMY_ENGINE_OPTIONS=_engine_options(uri),
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.secure_cookies,
        REMEMBER_COOKIE_HTTPONLY=True,
        REMEMBER_COOKIE_SAMESITE="Lax",
        REMEMBER_COOKIE_SECURE=settings.secure_cookies,
        # Flask-Login's default is 365 days: a stolen or forgotten "keep me
        # signed in" cookie would outlive most staff changes. 30 days.
        REMEMBER_COOKIE_DURATION=timedelta(days=30),
        WTF_CSRF_TIME_LIMIT=None,  # tied to the session instead of a clock
        RATELIMIT_STORAGE_URI=settings.MESSAGE_QUEUE or "memory://",
        RATELIMIT_HEADERS_ENABLED=True,
        MAX_CONTENT_LENGTH=max(settings.MAX_PACKET_BYTES, 64 * 1024),
    )
    # ONE Redis client (and so one connection pool) for the state, both rate
    # limiters and /readyz; before, each made its own and /readyz a new one
    # per request (connect, AUTH, SELECT, PING, close every time).
    # python-socketio's message queue keeps its own (a pub/sub connection).
    # The state backend (realtime/state.py): Redis when MESSAGE_QUEUE is set,
    # sharing that client's pool, else memory. Chosen here, not by a factory in
    # state.py, which had to import redis_state, which imports state: a cycle.
    redis_client = None
    state: ConnectionState
    if settings.MESSAGE_QUEUE:
        from realtime.redis_state import RedisState, connect

        redis_client = connect(settings.MESSAGE_QUEUE)
        app.config["RATELIMIT_STORAGE_OPTIONS"] = {
            "connection_pool": redis_client.connection_pool}
        state = RedisState(redis_client, expiry=settings.PRESENCE_EXPIRY)
    else:
        state = MemoryState()
    app.config.update(overrides)
    app.extensions["switchboard.settings"] = settings
    app.extensions["switchboard.redis"] = redis_client
    # Its namespaces are set in _init_socketio, once they are registered.
    app.extensions["switchboard.state"] = state
    app.extensions["switchboard.limiter"] = EventLimiter(
        settings.MESSAGE_QUEUE or "memory://",
        settings.RATE_LIMIT_MESSAGES,
        settings.RATE_LIMIT_EVENTS,
        redis_client=redis_client,
    )

    db.init_app(app)
    if uri.startswith("sqlite"):
        with app.app_context():
            sa_event.listen(db.engine, "connect", _sqlite_pragmas)
    migrate.init_app(app, db, directory=os.path.join(os.path.dirname(__file__), "migrations"),
                     render_as_batch=True)
    i18n.init_app(app)
    _init_login(app)
    csrf.init_app(app)
    limiter.init_app(app)

    from blueprints.admin import bp as admin_bp
    from blueprints.auth import bp as auth_bp
    from blueprints.chat import bp as chat_bp
    from blueprints.market import bp as market_bp
    from blueprints.ops import bp as ops_bp
    from blueprints.people import bp as people_bp

    app.register_blueprint(admin_bp)
    app.register_blueprint(auth_bp)
    app.register_blueprint(chat_bp)
    app.register_blueprint(market_bp)
    app.register_blueprint(ops_bp)
    app.register_blueprint(people_bp)
    from blueprints.auth.invites_cli import cli as invites_cli

    app.cli.add_command(invites_cli)

    _init_socketio(app, settings)
    _init_http_extras(app, settings)
    _init_error_pages(app)
    return app


def _engine_options(uri: str) -> dict:
    if uri.startswith("sqlite"):
        # Greenlets share pooled connections; sqlite3's thread check would refuse that.
        return {"connect_args": {"check_same_thread": False, "timeout": 30}}
    return {"pool_pre_ping": True}


def _sqlite_pragmas(dbapi_conn, _record) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")  # readers never wait for the writer
    cur.execute("PRAGMA synchronous=NORMAL")  # durable at every WAL checkpoint; safe with WAL
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.close()


def _init_login(app: Flask) -> None:
    from blueprints.auth.service import load_session_user

    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    # Flashed into the session, so a plain string: translated by the callback.
    login_manager.login_message = i18n.N_("Please log in to continue.")
    login_manager.localize_callback = _
    login_manager.session_protection = "basic"
    login_manager.user_loader(load_session_user)


def _init_socketio(app: Flask, settings: Settings) -> None:
    from blueprints.admin import socketio_ui
    from blueprints.admin.events import AdminNamespace
    from blueprints.auth.tokens import bearer_user, token_credential
    from blueprints.chat.events import ChatNamespace
    from blueprints.market.events import MarketNamespace
    from middleware.guard import SESSION_HEADROOM, EngineIOGuard, PendingSessions, RefusalLog
    from realtime import compat
    from realtime.housekeeping import ensure_started
    from realtime.namespace import install_ack_tracking

    if settings.MESSAGE_QUEUE:
        # Redis pub/sub ignores the database number: one channel per deployment.
        queue: dict[str, object] = {"channel": pubsub_channel(settings.DEPLOYMENT,
                                           app.config["SQLALCHEMY_DATABASE_URI"])}
    else:
        # Flask-SocketIO keeps the queue's client manager from an earlier
        # init_app in its server_options; None (python-socketio's default, an
        # in-process manager) says this app has none.
        queue = {"client_manager": None}
    # Only these namespaces accept a connect: python-socketio admits anyone to
    # "/" unless ``namespaces`` names others (PROTOCOL.md section 17).
    served = ["/chat", "/market", "/admin"]
    if settings.SOCKETIO_ADMIN_UI != "off":
        served.append(socketio_ui.NAMESPACE)
    socketio.init_app(
        app,
        async_mode=settings.ASYNC_MODE,
        message_queue=settings.MESSAGE_QUEUE,
        **queue,
        cors_allowed_origins=settings.allowed_origins(),
        max_http_buffer_size=settings.MAX_PACKET_BYTES,
        ping_interval=settings.PING_INTERVAL,
        ping_timeout=settings.PING_TIMEOUT,
        cookie=None,
        logger=False,
        engineio_logger=False,
        namespaces=served,
        # Handlers still run in greenlets of their own, at most
        # compat.HANDLERS_PER_CONNECTION at once per connection (compat.install).
        async_handlers=False,
    )
    install_ack_tracking(socketio.server)
    # realtime/ imports no feature: the token check every namespace's connect
    # needs is handed to it here.
    app.extensions["switchboard.token_credential"] = token_credential
    # /api's bearer check (blueprints/people/routes.py, blueprints/auth/api.py).
    app.extensions["switchboard.user_from_token"] = bearer_user
    socketio.on_namespace(ChatNamespace("/chat", app))
    socketio.on_namespace(AdminNamespace("/admin", app))
    # The market feed loop starts lazily on the first /market connection or page view.
    socketio.on_namespace(MarketNamespace("/market", app))
    from realtime.admission import hold_broadcasts_until_admitted

    hold_broadcasts_until_admitted(socketio.server)  # a socket not yet admitted gets no broadcast
    socketio_ui.install(socketio, app, settings)  # off unless SOCKETIO_ADMIN_UI is set
    # Every namespace registered above is counted and cleaned up by the state.
    app.extensions["switchboard.state"].set_namespaces(socketio.server.namespace_handlers)

    pending = PendingSessions(settings.MAX_PENDING_PER_IP, settings.CONNECT_TIMEOUT)
    refusals = RefusalLog()

    def opened(eio_sid, environ):
        pending.opened(eio_sid, client_ip(environ))
        ensure_started(app, socketio)  # its rounds close the sessions that never connect

    def refused(eio_sid, environ, reason):
        refusals.note("connection_closed", client_ip(environ), reason)

    # After the Admin UI: compat chains the Engine.IO handlers registered by then.
    limits = compat.install(socketio.server, settings.RATE_LIMIT_PACKETS, on_open=opened,
                            on_admit=pending.admitted, on_close=pending.closed,
                            on_idle=pending.idle,
                            on_refuse=refused)
    app.extensions.update({"switchboard.pending": pending, "switchboard.refusals": refusals,
                           "switchboard.transport_limits": limits})
    # Outside the Socket.IO middleware: it must see requests before python-engineio.
    app.wsgi_app = EngineIOGuard(app.wsgi_app, settings.MAX_PACKET_BYTES,  # type: ignore[method-assign]  # Flask's way to add WSGI middleware
                                 settings.allowed_origins(),
                                 max_sessions=settings.MAX_CONNECTIONS + SESSION_HEADROOM,
                                 session_count=_open_engineio_sessions,
                                 pending=pending, refusals=refusals,
                                 refuse_session=lambda sid: limits.refuse_sid(sid, "bad_packet"))


def _open_engineio_sessions() -> int:
    # O(1): counting only the open ones walked every session at every handshake,
    # which in bench/ cost 30 % of the connect rate and 11 KiB per connection
    # at 10,000 (memory fragmentation). Closed sessions count until
    # python-engineio's sweep drops them (within PING_TIMEOUT seconds).
    from realtime.compat import open_session_count  # imported once, then a dict lookup

    return open_session_count(socketio.server)


def _init_http_extras(app: Flask, settings: Settings) -> None:
    if settings.NODE_NAME:
        from middleware.sticky import StickyNodeCookie

        app.wsgi_app = StickyNodeCookie(  # type: ignore[method-assign]  # Flask's way to add WSGI middleware
            app.wsgi_app, settings.NODE_NAME, settings.secure_cookies)
    if settings.TRUSTED_PROXIES:
        # Only as many X-Forwarded-* hops as there are proxies we run.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=settings.TRUSTED_PROXIES,  # type: ignore[method-assign]  # as above
                                x_proto=settings.TRUSTED_PROXIES)

    @app.errorhandler(429)
    def too_many(exc):
        audit("rate_limited", ip=client_ip(request.environ), path=request.path,
              reason=f"HTTP limit {exc.description}")
        message = _("Too many requests (limit: %(limit)s); try again later.",
                    limit=str(exc.description))
        if request.path.startswith("/api/"):
            return jsonify(error={"code": "rate_limited", "message": message}), 429
        # A page of the site, in the reader's language (Werkzeug's is English only).
        from flask import render_template

        try:
            return render_template("errors/429.html", status=429, description=message), 429
        except Exception:  # noqa: BLE001 - the layout itself failed: Werkzeug's page
            return exc

    # HSTS only when the site is HTTPS: we serve TLS (TLS_CERT), or a TLS proxy
    # is in front (COOKIE_SECURE=true says so). Never on a plain-HTTP install,
    # which would lock browsers out of it. No includeSubDomains: the app cannot
    # know what else runs under its host's subdomains (an intranet page on plain
    # HTTP would become unreachable for a year). No preload: entering browsers'
    # built-in lists is hard to undo and is the domain owner's decision. Add
    # either at the proxy if you want them (docs/deploy.md).
    hsts = "max-age=31536000" if settings.secure_cookies else None

    @app.after_request
    def security_headers(response):
        if hsts:
            response.headers.setdefault("Strict-Transport-Security", hsts)
        # Nothing Flask renders is for a shared or disk cache: pages of a
        # logged-in user, tokens and JSON with user data, and the login and
        # register forms (their CSRF token is tied to the session), redirects
        # after login, errors. Only static files keep their caching; a view
        # that sets its own Cache-Control keeps it.
        endpoint = request.endpoint or ""
        if endpoint != "static" and not endpoint.endswith(".static"):
            response.headers.setdefault("Cache-Control", "no-store")
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault(
            "Content-Security-Policy",
            "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
            "connect-src 'self'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'; "
            "object-src 'none'",
        )
        return response


def _init_error_pages(app: Flask) -> None:
    """400, 403, 404 and 500 as pages of the site with a way back (Werkzeug's
    bare ones left a newcomer on a white page), in the reader's language;
    under /api/ the JSON error envelope its clients parse, with the codes of
    errors.py."""
    from flask import render_template
    from flask_wtf.csrf import CSRFError
    from werkzeug.exceptions import HTTPException

    codes = {400: "bad_request", 403: "forbidden", 404: "not_found", 500: "internal"}
    # Werkzeug's own descriptions are English only: where a route gave none,
    # these (translated) take their place.
    generic = {400: i18n.N_("The request is not valid."),
               403: i18n.N_("You are not allowed to see this page."),
               404: i18n.N_("There is nothing at this address. Check the link, or go back."),
               500: i18n.N_("The server hit an error and has logged it. Try again in a moment; "
                            "if it keeps happening, tell the admin.")}

    def error_page(exc: HTTPException):
        status = exc.code or 500
        # A 500's description is Werkzeug's generic text, never the exception.
        description = exc.description
        if isinstance(exc, CSRFError):  # Flask-WTF's words are English only
            description = _("The form expired or came from another page; reload the page and "
                            "try again.")
        elif description == type(exc).description or status == 500:
            description = _(generic[status])
        if request.path.startswith("/api/"):
            return jsonify(error={"code": codes[status], "message": description}), status
        try:
            return render_template(f"errors/{status}.html", status=status,
                                   description=description), status
        except Exception:  # noqa: BLE001 - e.g. a 500 from a dead database fails again in the layout
            app.logger.exception("the %d page could not be rendered", status)
            return exc

    for status in codes:
        app.register_error_handler(status, error_page)


def prepare_database(app: Flask) -> None:
    """Bring the schema to the current migration and create the default rooms."""
    from flask_migrate import upgrade

    from blueprints.chat.service import ensure_default_rooms

    with app.app_context():
        upgrade()
        ensure_default_rooms()


def _announce_empty_install(app: Flask, settings: Settings, log: logging.Logger) -> None:
    """A new install has no accounts: say how to make the first one (it becomes the admin)."""
    from blueprints.auth.service import has_users

    with app.app_context():
        if has_users():
            return
    if settings.REGISTRATION == "open":
        log.info("no accounts yet: register at %s://%s:%s/register; the first account becomes "
                 "the admin", settings.scheme, settings.HOST, settings.PORT)
    else:
        log.info("no accounts yet and REGISTRATION=%s: create the first (admin) account with "
                 "`flask --app app users create NAME --admin`", settings.REGISTRATION)


def main() -> int:
    try:
        settings = Settings.from_env()
    except ConfigError as exc:
        print(f"switchboard: configuration error: {exc}", file=sys.stderr)
        return 2
    logs.configure(settings.LOG_FORMAT, settings.LOG_LEVEL)
    log = logging.getLogger("switchboard")
    if settings.ASYNC_MODE == "eventlet":
        log.info("serving with eventlet (the default); gevent is the tested alternative: ASYNC_MODE=gevent")
    app = create_app(settings)
    import vendored

    assert app.static_folder is not None  # create_app keeps Flask's static folder
    problem = vendored.check(os.path.join(app.static_folder, "vendor"))
    if problem:
        print(f"switchboard: {problem}", file=sys.stderr)
        return 2
    prepare_database(app)
    _announce_empty_install(app, settings, log)
    from serving import install_stop_signals, serve, tune_gc

    tune_gc()

    # SIGTERM (systemd, `kill`) and Ctrl-C close every socket, tell the shared
    # state this process's connections are gone, and exit (serving.py).
    if settings.ASYNC_MODE != "threading":
        install_stop_signals(app, settings)
    try:
        serve(app, settings)
    except OSError as exc:
        print(f"switchboard: cannot listen on {settings.HOST}:{settings.PORT}: {exc.strerror}",
              file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
