"""Run CPU-bound work (password hashing) off the event loop: ``offload(fn, *args)``.

Core module, so a service may import it (services import only core; this is
no Socket.IO plumbing, so it does not belong in realtime/).

Why: eventlet and gevent run every request on one OS thread. A password hash
(werkzeug's scrypt, ~80 ms here) holds that thread, so 20 concurrent
wrong-password ``/api/token`` calls kept ``/healthz`` waiting 1.4-1.5 s
(max, both modes; measured before this module). hashlib's scrypt and
pbkdf2 release the GIL, so a real OS thread runs them while the hub goes on
serving: afterwards the same burst leaves ``/healthz`` in tens of
milliseconds (numbers in the changelog / SECURITY.md).

Which pool follows ASYNC_MODE: eventlet's ``tpool`` (EVENTLET_THREADPOOL_SIZE
threads, 20 by default) or gevent's hub threadpool (10 threads by default).
A plain call under ``threading``, outside an app, and when the library has
not monkey-patched the process (unit tests create the app without patching:
there is no hub to keep free, and a pool would only add threads).
"""
from __future__ import annotations

import os
from collections.abc import Callable
from typing import TypeVar

from flask import current_app, has_app_context

T = TypeVar("T")

# At most this many hashes at once, whatever the pool size: with 20 running
# on 2 cores the hub thread was one of 21 runnable threads and /healthz still
# waited up to 0.6 s. One core stays free for the event loop; a burst of
# logins then queues here (each waits its turn, as it did on the loop), and
# nothing else waits for it.
SLOTS = max(1, (os.cpu_count() or 2) - 1)
_slots = None


def _slot():
    # Made on first use, after patching.py ran: under eventlet or gevent the
    # threading module is monkey-patched and this semaphore is a green one,
    # so a greenlet waiting for a slot yields instead of blocking the hub.
    global _slots
    if _slots is None:
        import threading

        _slots = threading.BoundedSemaphore(SLOTS)
    return _slots


def _mode() -> str:
    if not has_app_context():
        return "threading"
    settings = current_app.extensions.get("switchboard.settings")
    return getattr(settings, "ASYNC_MODE", "threading")


def offload(fn: Callable[..., T], *args) -> T:
    """``fn(*args)`` in a native thread when the event loop would otherwise wait for it."""
    mode = _mode()
    if mode == "eventlet":
        from eventlet import patcher, tpool

        if patcher.is_monkey_patched("thread"):
            with _slot():
                return tpool.execute(fn, *args)
    elif mode == "gevent":
        import gevent
        from gevent import monkey

        if monkey.is_module_patched("threading"):
            with _slot():
                return gevent.get_hub().threadpool.apply(fn, args)
    return fn(*args)
