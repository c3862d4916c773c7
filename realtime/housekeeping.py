"""Periodic work of one process.

- close connections past MAX_CONNECTION_AGE;
- close Engine.IO sessions that have not connected a namespace within
  CONNECT_TIMEOUT (so within CONNECT_TIMEOUT + ROUND_SECONDS), and write the
  per-minute counts of repeated refusals (middleware/guard.py);
- with the Redis state: heartbeat this process, and clean up after processes
  that died without doing so, telling each namespace which users went
  offline with them (so presence can say so);
- sample this process's figures (events/s, errors) for the operator console
  and note connections that upgraded from polling to websocket;
- each namespace's ``each_round`` step: /admin pushes those figures to this
  process's operators (it had a second loop of its own before).

Started on the first Engine.IO session (so it runs under whichever server is
serving, and never in processes that only run CLI commands), through
``socketio.start_background_task`` / ``socketio.sleep`` so it works under
eventlet, gevent and threads alike.
"""
from __future__ import annotations

import logging
import time

from sqlalchemy import select

from audit import audit
from extensions import db
from models import ApiToken, User, utcnow
from realtime import metrics
from realtime.closing import close_connection
from realtime.stats import ProcessStats

log = logging.getLogger("switchboard.housekeeping")

_KEY = "switchboard.housekeeping"
ROUND_SECONDS = 2.0  # the admin console's push interval: its figures are this fresh


def ensure_started(app, socketio) -> None:
    if app.extensions.get(_KEY):
        return
    app.extensions[_KEY] = True
    socketio.start_background_task(_loop, app, socketio)


def _loop(app, socketio) -> None:
    settings = app.extensions["switchboard.settings"]
    state = app.extensions["switchboard.state"]
    interval = min(ROUND_SECONDS, state.heartbeat_interval)
    app.extensions["switchboard.process_stats"] = ProcessStats()
    while True:
        socketio.sleep(interval)
        try:
            with app.app_context():
                run_round(app, state, socketio, settings)
        except Exception:  # keep the loop alive; the next round tries again
            log.exception("housekeeping round failed")


def run_round(app, state, socketio, settings) -> None:
    close_overdue_sessions(app)
    state.publish_stats(app.extensions["switchboard.process_stats"].sample())
    refresh_transports(state, socketio)
    for namespace, user_ids in state.maintain().items():  # {} in memory
        handler = socketio.server.namespace_handlers.get(namespace)
        if handler is not None and user_ids:
            log.info("%d users of %s went offline with a dead process", len(user_ids), namespace)
            handler.users_went_offline(user_ids)
    close_old_connections(state, socketio, settings.MAX_CONNECTION_AGE)
    close_revoked_connections(state, socketio)
    # Last: the figures published above are this round's (the admin stats push).
    for namespace, handler in list(socketio.server.namespace_handlers.items()):
        each_round = getattr(handler, "each_round", None)
        if each_round is None:
            continue
        try:
            each_round()
        except Exception:  # one namespace's step does not cost the others theirs
            log.exception("round step of %s failed", namespace)


def close_overdue_sessions(app) -> int:
    """Close sessions past CONNECT_TIMEOUT without a namespace; flush refusal counts.

    First in the round: it touches no database, so a slow query elsewhere in
    the round cannot hold these sessions open.
    """
    pending = app.extensions.get("switchboard.pending")
    limits = app.extensions.get("switchboard.transport_limits")
    refusals = app.extensions.get("switchboard.refusals")
    closed = 0
    if pending is not None and limits is not None:
        for eio_sid in pending.overdue():
            pending.closed(eio_sid)  # even if its socket is already gone
            limits.refuse_sid(eio_sid, "connect_timeout")
            closed += 1
    if refusals is not None:
        refusals.flush()
    return closed


def close_revoked_connections(state, socketio) -> int:
    """Disconnect connections whose user was disabled, logged out or changed password.

    Those actions disconnect at once where they can (realtime/closing.py),
    but one made elsewhere (``flask users disable`` in another process, with
    no message queue to reach us) only shows in the database: its epoch moved.
    """
    conns = state.local_connections()
    if not conns:
        return 0
    current: dict[int, tuple[int, bool]] = {}
    user_ids = sorted({c.user_id for c in conns})
    for start in range(0, len(user_ids), 500):
        chunk = user_ids[start:start + 500]
        for uid, epoch, active in db.session.execute(
                select(User.id, User.auth_epoch, User.active).where(User.id.in_(chunk))):
            current[uid] = (epoch, active)
    # A personal token's socket outlives the epoch (log out everywhere) but
    # not its token: revoked, expired, or its user disabled.
    live_tokens = tokens_still_valid({c.token_id for c in conns if c.token_id is not None})
    revoked = [c for c in conns
               if (c.token_id is None and current.get(c.user_id) != (c.auth_epoch, True))
               or (c.token_id is not None and c.token_id not in live_tokens)]
    for conn in revoked:
        audit("session_revoked", user=conn.username, user_id=conn.user_id, sid=conn.sid,
              namespace=conn.namespace, ip=conn.ip, transport=conn.transport)
        close_connection(socketio, conn, local=True)
    return len(revoked)


def tokens_still_valid(token_ids: set[int]) -> set[int]:
    """Which of these personal tokens are live: not revoked, not expired,
    their user not disabled (the same rule as blueprints/auth/tokens.py)."""
    if not token_ids:
        return set()
    now = utcnow()
    return set(db.session.scalars(
        select(ApiToken.id).join(User, User.id == ApiToken.user_id)
        .where(ApiToken.id.in_(sorted(token_ids)), ApiToken.revoked_at.is_(None),
               ApiToken.expires_at.is_(None) | (ApiToken.expires_at > now),
               User.active.is_(True))))


def refresh_transports(state, socketio) -> None:
    """Record upgrades (polling -> websocket): python-socketio has no event for them."""
    for conn in state.local_connections():
        try:
            now = socketio.server.transport(conn.sid, conn.namespace)
        except KeyError:  # closing right now
            continue
        if now != conn.transport:
            metrics.CONNECTIONS.labels(conn.namespace, conn.transport).dec()
            metrics.CONNECTIONS.labels(conn.namespace, now).inc()
            state.set_transport(conn.sid, conn.namespace, now)


def close_old_connections(state, socketio, max_age: int) -> int:
    """Disconnect this process's connections older than ``max_age`` seconds."""
    cutoff = time.time() - max_age
    old = [c for c in state.local_connections() if c.connected_at < cutoff]
    for conn in old:
        audit("connection_expired", user=conn.username, user_id=conn.user_id, sid=conn.sid,
              namespace=conn.namespace, ip=conn.ip, transport=conn.transport,
              age=round(time.time() - conn.connected_at))
        close_connection(socketio, conn, local=True, reconnect=True)
    return len(old)
