"""serving.tune_gc: the collector settings a serving process runs with (see bench/)."""
import gc

import pytest

from serving import GC_THRESHOLDS, tune_gc


@pytest.fixture
def restore_gc():
    before = gc.get_threshold()
    yield
    gc.unfreeze()
    gc.set_threshold(*before)


def test_tune_gc_freezes_startup_objects_and_raises_the_young_threshold(restore_gc):
    gc.unfreeze()
    assert gc.get_freeze_count() == 0
    tune_gc()
    assert gc.get_threshold() == GC_THRESHOLDS
    assert GC_THRESHOLDS[0] > 700  # CPython's default, which caused the full-collection pauses
    assert gc.get_freeze_count() > 1000  # the modules imported so far, at least


def test_cycles_are_still_collected_after_tuning(restore_gc):
    tune_gc()

    class Node:
        pass

    a, b = Node(), Node()
    a.other, b.other = b, a
    import weakref
    probe = weakref.ref(a)
    del a, b
    # No gc.collect(): allocating containers must trigger collections by itself.
    # They are kept alive, since the young count is allocations less deallocations.
    held = []
    for _ in range(2 * GC_THRESHOLDS[0] * GC_THRESHOLDS[1]):
        held.append([])
        if probe() is None:
            break
    assert probe() is None


def test_the_header_deadline_is_header_timeout():
    """serving.serve() gives both servers HEADER_TIMEOUT as the total time for a
    request head (the socket timeout stays per read); tested against real
    servers in tests/security/test_weaknesses.py."""
    from config import Settings
    from serving import header_timeout, socket_timeout

    default = Settings.from_env({})
    assert header_timeout(default) == 10
    assert header_timeout(default) < socket_timeout(default)  # else it would never decide
    assert header_timeout(Settings.from_env({"HEADER_TIMEOUT": "3"})) == 3


def test_the_408_answer_is_a_complete_response_that_closes():
    from serving import REQUEST_TIMEOUT_RESPONSE

    head, _, body = REQUEST_TIMEOUT_RESPONSE.partition(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    assert lines[0] == b"HTTP/1.1 408 Request Timeout"
    fields = dict(line.split(b": ", 1) for line in lines[1:])
    assert fields[b"Connection"] == b"close"
    assert int(fields[b"Content-Length"]) == len(body)


class _Exited(Exception):
    """Stands for os._exit in these tests."""


class _FailingState:
    def __init__(self) -> None:
        self.shutdown_called = False

    def local_connections(self):
        return []

    def shutdown(self) -> None:
        self.shutdown_called = True
        raise ConnectionError("Redis is gone")


class _Socketio:
    def __init__(self) -> None:
        self.slept: list[float] = []

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)


def test_a_stop_whose_clean_up_fails_still_exits(monkeypatch, caplog):
    """state.shutdown raising (Redis gone, a script error) must not leave the
    process running until a supervisor's SIGKILL: it logs and exits all the same."""
    import os
    from types import SimpleNamespace

    import serving

    exits: list[int] = []

    def fake_exit(code: int) -> None:
        exits.append(code)
        raise _Exited

    monkeypatch.setattr(os, "_exit", fake_exit)
    monkeypatch.setattr(serving.logging, "shutdown", lambda: None)
    state = _FailingState()
    app = SimpleNamespace(extensions={"switchboard.state": state})
    with pytest.raises(_Exited):
        serving.graceful_stop(app, _Socketio())
    assert state.shutdown_called and exits == [0]
    assert "clean-up failed; exiting anyway" in caplog.text


def test_a_stop_with_no_connections_does_not_wait_for_close_packets(monkeypatch):
    import os
    from types import SimpleNamespace

    import serving

    monkeypatch.setattr(os, "_exit", lambda code: (_ for _ in ()).throw(_Exited()))
    monkeypatch.setattr(serving.logging, "shutdown", lambda: None)
    state = _FailingState()
    state.shutdown = lambda: None
    socketio = _Socketio()
    with pytest.raises(_Exited):
        serving.graceful_stop(SimpleNamespace(extensions={"switchboard.state": state}), socketio)
    assert socketio.slept == []
