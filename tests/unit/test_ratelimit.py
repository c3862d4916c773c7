"""The event limiter on limits' strategies, with the once-a-second sweep."""
from __future__ import annotations

import threading
import time

import pytest

from errors import RateLimited
from realtime.ratelimit import EventLimiter, SweepingMemoryStorage


def test_every_window_holds_and_retry_after_is_given():
    limiter = EventLimiter("memory://", "3/second;5/minute", "300/minute")
    for _ in range(3):
        limiter.hit("messages", "user:1")
    with pytest.raises(RateLimited) as refused:
        limiter.hit("messages", "user:1")
    assert refused.value.extra["retry_after"] >= 1
    limiter.hit("messages", "user:2")  # other users are not affected
    time.sleep(1.05)
    limiter.hit("messages", "user:1")
    limiter.hit("messages", "user:1")
    with pytest.raises(RateLimited):  # the minute window: 5 in all
        limiter.hit("messages", "user:1")


def test_no_timer_threads_and_stale_keys_are_swept(monkeypatch):
    monkeypatch.setattr(SweepingMemoryStorage, "SWEEP_SECONDS", 0.2)
    limiter = EventLimiter("memory://", "100/second", "1/second")
    before = threading.active_count()
    for i in range(200):
        limiter.hit("events", f"sid:{i}")
    storage = limiter._storage
    assert len(storage.events) == 200
    assert threading.active_count() <= before + 1  # no timer restarted per hit
    time.sleep(1.1)  # every window has passed
    time.sleep(0.25)
    limiter.hit("events", "sid:new")  # a hit after SWEEP_SECONDS sweeps
    assert len(storage.events) == 1
