"""`make run` on a new install: the start-up log says how to begin, and reads as information.

The real ``python app.py`` (ServerProcess); its log is the terminal a newcomer reads.
"""
from __future__ import annotations

import tempfile

from tests.support.clients import register
from tests.support.server import ServerProcess


def test_start_up_log_of_an_empty_install_says_to_register_then_stops_saying_it():
    instance = tempfile.mkdtemp(prefix="sb-first-run-")
    with ServerProcess(async_mode="eventlet", instance_path=instance, name="first-run") as server:
        log = server.log()
        register(server.url, "founder")
    hint = (f"INFO switchboard: no accounts yet: register at {server.url}/register; "
            "the first account becomes the admin")
    assert hint in log, log
    assert ("INFO switchboard: serving with eventlet (the default); gevent is the tested "
            "alternative: ASYNC_MODE=gevent") in log
    assert not [line for line in log.splitlines() if "WARNING" in line and "eventlet" in line]
    assert log.index(hint) < log.index("Switchboard serving on")  # before it serves

    with ServerProcess(async_mode="gevent", instance_path=instance, name="first-run") as again:
        log = again.log()
    assert "no accounts yet" not in log, log
    assert "serving with eventlet" not in log  # the notice is eventlet's alone
