"""The one event wrapper, and the namespace base class every feature uses.

Every client event of every namespace goes through ``AppNamespace.dispatch``:

    strict pydantic validation -> rate limit -> handler -> ack envelope
    -> ``error`` event when the client sent no ack -> logging and metrics

Valid ``message:send`` events count against the user's message allowance
(all tabs, all processes); every other event, and every invalid one, against
the connection's event allowance.

Handlers hold only their feature's logic. They receive the connection record
(who is calling) and the validated payload, and return the ack fields. An
``AppError`` becomes ``{"ok": false, "error": {...}}``; any other exception
becomes ``internal`` plus a logged traceback, and the connection stays up.
"""
from __future__ import annotations

import contextvars
import logging
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import request as flask_request
from flask_login import current_user
from flask_socketio import ConnectionRefusedError, Namespace
from pydantic import BaseModel, ValidationError

from audit import audit
from errors import (
    AppError,
    BadRequest,
    Forbidden,
    Internal,
    TooManyConnections,
    Unauthorized,
)
from i18n import DEFAULT, N_, _l, in_locale, locale_for
from middleware.clientinfo import client_ip, transport_of
from realtime import compat, metrics
from realtime.housekeeping import ensure_started
from realtime.rooms import user_room
from realtime.state import Connection

# Flask-SocketIO adds ``sid`` to the request, which Flask's Request type does not declare.
request: Any = flask_request

log = logging.getLogger("switchboard.events")

# Whether the event being handled carries an ack id. python-socketio does not
# tell handlers, and the contract needs it: a failure without an ack is sent
# as an ``error`` event instead. See install_ack_tracking().
_ack_requested: contextvars.ContextVar[bool] = contextvars.ContextVar(
    "ack_requested", default=True
)


def install_ack_tracking(server) -> None:
    """Record, per event, whether the client asked for an acknowledgement.

    python-socketio tells no handler whether its event carries an ack id:
    realtime.compat.around_each_event sees the packet id before dispatch.
    """

    def around(call, data, ack_id):
        if data and data[0] in RESERVED_EVENTS:
            # A client-sent "connect" or "disconnect" event would otherwise
            # reach on_connect/on_disconnect: re-run admission, or drop the
            # connection's record while its socket stays in its rooms.
            data = [RESERVED_PREFIX + str(data[0]), *data[1:]]
        token = _ack_requested.set(ack_id is not None)
        try:
            return call(data)
        finally:
            _ack_requested.reset(token)

    compat.around_each_event(server, around)


RESERVED_EVENTS = frozenset({"connect", "disconnect", "connect_error"})
RESERVED_PREFIX = "reserved:"


def mark_seen(user_id: int) -> None:
    """users.last_seen_at = now, on a user's first connect and last disconnect
    in a namespace: the admin's "last seen" without a write per message.
    A failure here (a busy database) must not refuse or break the socket."""
    from sqlalchemy import update

    from extensions import db
    from models import User, utcnow

    try:
        db.session.execute(update(User).where(User.id == user_id).values(last_seen_at=utcnow()))
        db.session.commit()
    except Exception:  # noqa: BLE001 - logged; presence matters more than this column
        db.session.rollback()
        log.warning("could not record last_seen_at for user %s", user_id, exc_info=True)


@dataclass(frozen=True)
class EventSpec:
    name: str
    schema: type[BaseModel] | None
    limit: str | None  # "events", "messages" or None
    ack: bool


def event(name: str, schema: type[BaseModel] | None = None, *, limit: str | None = "events",
          ack: bool = True):
    """Declare a method as the handler of client event ``name``."""

    def decorate(fn: Callable) -> Callable:
        fn._event_spec = EventSpec(name, schema, limit, ack)  # type: ignore[attr-defined]  # read by dispatch
        return fn

    return decorate


# pydantic's messages are English only: the kinds our payload schemas can
# produce, in words a translator sees (the field path stays as sent: it is the
# protocol's). Any other kind keeps pydantic's own English message.
_VALIDATION_MESSAGES = {
    "missing": N_("%(where)s: required"),
    "extra_forbidden": N_("%(where)s: not a field of this event"),
    "string_type": N_("%(where)s: must be a string"),
    "int_type": N_("%(where)s: must be an integer"),
    "bool_type": N_("%(where)s: must be true or false"),
    "list_type": N_("%(where)s: must be a list"),
    "dict_type": N_("%(where)s: must be an object"),
    "string_too_short": N_("%(where)s: at least %(min_length)s characters"),
    "string_too_long": N_("%(where)s: at most %(max_length)s characters"),
    "too_short": N_("%(where)s: at least %(min_length)s items"),
    "too_long": N_("%(where)s: at most %(max_length)s items"),
    "greater_than_equal": N_("%(where)s: must be at least %(ge)s"),
    "less_than_equal": N_("%(where)s: must be at most %(le)s"),
    "literal_error": N_("%(where)s: must be one of %(expected)s"),
    "string_pattern_mismatch": N_("%(where)s: not in the expected form"),
}


def describe_validation_error(exc: ValidationError):
    """One readable sentence naming the first bad field (lazy: translated when sent)."""
    err = exc.errors()[0]
    where = ".".join(str(p) for p in err["loc"]) or "payload"
    template = _VALIDATION_MESSAGES.get(err["type"])
    if template is None:
        return f"{where}: {err['msg']}"
    ctx = {k: v for k, v in (err.get("ctx") or {}).items() if isinstance(v, (str, int))}
    expected = ctx.get("expected")
    if err["type"] == "literal_error" and isinstance(expected, str):
        # pydantic writes "'a', 'b' or 'c'" in English: a plain list reads in any language.
        ctx["expected"] = ", ".join(re.split(r", | or ", expected))
    return _l(template, where=where, **ctx)


class AppNamespace(Namespace):
    """Connection admission and event dispatch shared by every namespace."""

    admin_only = False

    def __init__(self, namespace: str, app) -> None:
        super().__init__(namespace)
        self.app = app
        self.state = app.extensions["switchboard.state"]
        self.limiter = app.extensions["switchboard.limiter"]
        self.settings = app.extensions["switchboard.settings"]
        # token -> (User, personal token id or None), or a domain error: the
        # auth feature's check, injected by app.py. Importing blueprints.auth
        # here would make plumbing depend on a feature (and did need a
        # function-level import to dodge a cycle).
        self.token_credential = app.extensions["switchboard.token_credential"]
        self.handlers: dict[str, tuple[EventSpec, Callable]] = {}
        for attr in dir(type(self)):
            fn = getattr(type(self), attr)
            spec = getattr(fn, "_event_spec", None)
            if spec is not None:
                self.handlers[spec.name] = (spec, getattr(self, attr))

    # -- routing ---------------------------------------------------------
    def trigger_event(self, event_name: str, *args):
        if event_name in ("connect", "disconnect"):
            return super().trigger_event(event_name, *args)
        # Events run in an app context only, not Flask-SocketIO's per-event
        # request context with a copied session: handlers are given the
        # connection record instead, and the request context cost showed up
        # on the hot path. Connect and disconnect keep it (the session cookie).
        sid, *payload = args
        with self.app.app_context():
            return self.dispatch(sid, event_name, *payload)

    # -- connect / disconnect ---------------------------------------------
    def on_connect(self, auth=None):
        environ = request.environ
        ip = client_ip(environ)
        user = None
        token_id = None
        accept_language = environ.get("HTTP_ACCEPT_LANGUAGE")
        try:
            if isinstance(auth, dict) and auth.get("token") is not None:
                user, token_id = self.token_credential(auth.get("token"))
                method = "token" if token_id is None else "personal_token"
            elif current_user.is_authenticated:
                user = current_user._get_current_object()
                method = "session"
            else:
                raise Unauthorized(_l("Log in, or pass a token from /api/token in auth.token."))
            blocked = self.state.blocked_for(user.id)
            if blocked:
                # A kick keeps the user out for KICK_BLOCK_SECONDS on every
                # process (the block lives in the shared state); the page
                # shows why and retries after retry_after (lib/connection.js).
                raise Forbidden(_l("An administrator disconnected you; try again in "
                                   "%(seconds)s s.", seconds=blocked),
                                retry_after=blocked, reason="kicked")
            if self.admin_only and not user.is_admin:
                raise Forbidden(_l("This namespace is for admins only."))
            if self.state.local_count() >= self.settings.MAX_CONNECTIONS:
                raise TooManyConnections(_l("The server is at its connection limit."))
            if self.state.user_connections(user.id) >= self.settings.MAX_CONNECTIONS_PER_USER:
                raise TooManyConnections(_l("At most %(count)s connections per user.",
                                            count=self.settings.MAX_CONNECTIONS_PER_USER))
        except AppError as exc:
            audit("connect_refused", namespace=self.namespace, ip=ip, reason=exc.code,
                  detail=exc.english, user=getattr(user, "username", None), sid=request.sid,
                  transport=self.current_transport(request.sid, environ))
            metrics.ERRORS.labels(exc.code).inc()
            # socket.io-client exposes the second argument as err.data: {code, message}.
            with in_locale(locale_for(user, accept_language)):
                error = exc.to_dict()
            raise ConnectionRefusedError(error["message"], error) from None

        transport = self.current_transport(request.sid, environ)
        conn = Connection(
            sid=request.sid, namespace=self.namespace, user_id=user.id,
            username=user.username, is_admin=user.is_admin, transport=transport, ip=ip,
            auth_epoch=user.auth_epoch, token_id=token_id,
            # Events run outside a request (trigger_event): the language of this
            # connection's ack messages is decided here, once (i18n.py).
            locale=locale_for(user, accept_language),
        )
        count = self.state.add(conn)
        if count == 1:
            mark_seen(user.id)
        ensure_started(self.app, self.socketio)
        self.enter_room(request.sid, user_room(user.id))
        metrics.CONNECTIONS.labels(self.namespace, transport).inc()
        audit("connect", user=user.username, user_id=user.id, ip=ip, sid=request.sid,
              namespace=self.namespace, transport=transport, auth=method)
        self.connected(conn, first=count == 1)

    def on_disconnect(self, reason=None):
        conn, left = self.state.remove(request.sid, self.namespace)
        if conn is None:
            return
        metrics.CONNECTIONS.labels(self.namespace, conn.transport).dec()
        audit("disconnect", user=conn.username, user_id=conn.user_id, ip=conn.ip,
              sid=conn.sid, namespace=self.namespace, transport=conn.transport,
              reason=str(reason), seconds=round(time.time() - conn.connected_at, 1))
        if left == 0:
            mark_seen(conn.user_id)
        self.disconnected(conn, last=left == 0)

    def connected(self, conn: Connection, first: bool) -> None:
        """Hook: a connection was admitted (``first``: the user's first here)."""

    def disconnected(self, conn: Connection, last: bool) -> None:
        """Hook: a connection closed (``last``: the user has none left here)."""

    def users_went_offline(self, user_ids: set[int]) -> None:
        """Hook: these users' last connections died with another process."""

    def each_round(self) -> None:
        """Hook: a housekeeping round of this process (realtime/housekeeping.py,
        at most ROUND_SECONDS apart), in an app context. Periodic work of a
        namespace goes here rather than into a loop of its own."""

    # -- the event wrapper -----------------------------------------------
    def dispatch(self, sid: str, event_name: str, *args) -> Any:
        started = time.perf_counter()
        wants_ack = _ack_requested.get()
        spec = None
        conn = None
        try:
            conn = self.state.get(sid, self.namespace)
            if conn is None:
                raise Unauthorized(_l("This connection is not logged in."))
            try:
                entry = self.handlers.get(event_name)
                if entry is None:
                    if event_name.startswith(RESERVED_PREFIX):
                        raise BadRequest(_l("%(event)r is a reserved event name; clients may "
                                            "not send it.",
                                            event=event_name[len(RESERVED_PREFIX):]))
                    raise BadRequest(_l("Unknown event %(event)r on %(namespace)s.",
                                        event=event_name, namespace=self.namespace))
                spec, handler = entry
                data = self._validate(spec, args)
            except BadRequest:
                # Invalid input counts against the connection's event allowance,
                # so garbage cannot be sent for free; it never touches the
                # user's message allowance.
                self._limit("events", conn)
                raise
            self._limit(spec.limit, conn)
            result = handler(conn, data)
            reply = {"ok": True, **(result or {})}
        except AppError as exc:
            reply = {"ok": False, "error": self._localized(exc, conn)}
            if exc.code == "rate_limited":
                metrics.RATE_LIMITED.labels(spec.limit if spec else "events").inc()
                audit("rate_limited", sid=sid, namespace=self.namespace, event=event_name,
                      user=getattr(conn, "username", None), user_id=getattr(conn, "user_id", None),
                      ip=getattr(conn, "ip", None), transport=getattr(conn, "transport", None),
                      reason=f"{spec.limit if spec else 'events'} limit",
                      retry_after=exc.extra.get("retry_after"))
        except Exception:
            log.exception("handler for %s %r failed", self.namespace, event_name)
            reply = {"ok": False, "error": self._localized(Internal(), conn)}
        finally:
            metrics.LATENCY.labels(event_name if spec else "unknown").observe(
                time.perf_counter() - started
            )
        metrics.EVENTS.labels(event_name if spec else "unknown").inc()
        if not reply["ok"]:
            metrics.ERRORS.labels(reply["error"]["code"]).inc()
            if not wants_ack:
                self.emit("error", {**reply["error"], "event": event_name}, to=sid)
                return None
        if not wants_ack or (spec is not None and not spec.ack):
            return None
        return reply

    @staticmethod
    def _localized(exc: AppError, conn: Connection | None) -> dict:
        """The error's wire form, its message in the connection's language."""
        with in_locale(conn.locale if conn is not None else DEFAULT):
            return exc.to_dict()

    def _limit(self, rule: str | None, conn: Connection) -> None:
        if rule == "messages":
            self.limiter.hit("messages", f"user:{conn.user_id}")
        elif rule == "events":
            self.limiter.hit("events", f"sid:{conn.sid}")

    @staticmethod
    def _validate(spec: EventSpec, args: tuple):
        if len(args) > 1:
            raise BadRequest(_l("Send one payload object per event."))
        payload = args[0] if args else {}
        if spec.schema is None:
            return payload
        if not isinstance(payload, dict):
            raise BadRequest(_l("payload: must be a JSON object"))
        try:
            return spec.schema.model_validate(payload, strict=True)
        except ValidationError as exc:
            raise BadRequest(describe_validation_error(exc)) from None

    # -- helpers for subclasses -------------------------------------------
    def join(self, conn: Connection, room: str) -> None:
        """Put this connection in a Socket.IO room (no request context needed)."""
        self.socketio.server.enter_room(conn.sid, room, namespace=self.namespace)

    def leave(self, conn: Connection, room: str) -> None:
        self.socketio.server.leave_room(conn.sid, room, namespace=self.namespace)

    def current_transport(self, sid: str, environ: dict | None = None) -> str:
        """websocket or polling, as of now (a polling connection may upgrade)."""
        try:
            return self.socketio.server.transport(sid, self.namespace)
        except KeyError:  # the test client has no Engine.IO session
            return transport_of(environ or {})

    def emit(self, event_name, data=None, to=None, include_self=True, skip_sid=None,
             namespace=None):
        """Emit within this namespace (``to`` a sid, room or list of rooms)."""
        self.socketio.emit(event_name, data, to=to, include_self=include_self,
                           skip_sid=skip_sid, namespace=namespace or self.namespace)
