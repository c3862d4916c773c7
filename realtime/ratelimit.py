"""Per-user and per-connection event rate limits, on the ``limits`` library.

The storage is memory for one process and Redis when MESSAGE_QUEUE is set, so
the per-user message limit holds across tabs and across processes.
"""
from __future__ import annotations

import math
import time

from limits import parse_many
from limits.storage import storage_from_string
from limits.strategies import MovingWindowRateLimiter

from realtime.errors import RateLimited


class EventLimiter:
    def __init__(self, storage_uri: str, messages: str, events: str) -> None:
        self._storage = storage_from_string(storage_uri)
        self._limiter = MovingWindowRateLimiter(self._storage)
        self._rules = {"messages": parse_many(messages), "events": parse_many(events)}

    def hit(self, rule: str, key: str) -> None:
        """Count one hit against every window of ``rule``; raise when over.

        ``hit()`` itself decides and records atomically in the storage: a
        separate test-then-hit let concurrent events (greenlets yield inside
        the storage) all pass the test before any was recorded.
        """
        for item in self._rules[rule]:
            if not self._limiter.hit(item, rule, key):
                reset, _ = self._limiter.get_window_stats(item, rule, key)
                retry = max(1, math.ceil(reset - time.time()))
                raise RateLimited(
                    f"Too many {'messages' if rule == 'messages' else 'events'}; "
                    f"try again in {retry} s.",
                    retry_after=retry,
                )

    def reset(self) -> None:
        self._storage.reset()
