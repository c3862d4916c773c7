"""Monkey-patching for the chosen ASYNC_MODE; imported first by app.py and wsgi.py.

Must run before anything imports socket, ssl, threading or a database driver.
"""
from __future__ import annotations

import os
import warnings


def patch_for(mode: str | None = None) -> str:
    mode = (mode or os.environ.get("ASYNC_MODE") or "eventlet").strip().lower()
    if mode == "eventlet":
        # psycopg's C wait function blocks in poll(), which eventlet cannot
        # patch: one slow query would stall every socket. select() is patched.
        # (gevent is detected by psycopg itself.)
        os.environ.setdefault("PSYCOPG_WAIT_FUNC", "wait_select")
        with warnings.catch_warnings():
            # eventlet warns on import that it is maintenance-only upstream; we
            # know, and app.main() says so in one log line instead of a banner.
            warnings.filterwarnings("ignore", message=r"\s*Eventlet is deprecated")
            import eventlet

        eventlet.monkey_patch()
    elif mode == "gevent":
        from gevent import monkey

        monkey.patch_all()
    return mode
