"""Per-user and per-connection event rate limits, on the ``limits`` library.

The storage is memory for one process and Redis when MESSAGE_QUEUE is set, so
the per-user message limit holds across tabs and across processes.
"""
from __future__ import annotations

import math
import time

from limits import parse_many
from limits.storage import MemoryStorage, storage_from_string
from limits.strategies import MovingWindowRateLimiter

from realtime.errors import RateLimited


class SweepingMemoryStorage(MemoryStorage):
    """limits' memory storage, swept for stale entries once a second.

    The stock one restarts a timer thread every 10 ms while it is in use and
    scans every key under a lock each time: with a thousand connections
    (a key each) that was 70% of a core in the small-rooms benchmark. Limits
    are decided from timestamps at every hit either way; the sweep only
    frees memory, so once a second is plenty.
    """

    SWEEP_SECONDS = 1.0

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._last_sweep = time.monotonic()

    def _MemoryStorage__schedule_expiry(self) -> None:  # replaces the timer restart
        now = time.monotonic()
        if now - self._last_sweep >= self.SWEEP_SECONDS:
            self._last_sweep = now
            self._MemoryStorage__expire_events()
            # The stock sweep empties a key's event list but keeps the key.
            for key in [k for k, v in self.events.items() if not v]:
                with self.locks[key]:
                    if not self.events.get(key):
                        self.events.pop(key, None)
                self.locks.pop(key, None)


class EventLimiter:
    def __init__(self, storage_uri: str, messages: str, events: str) -> None:
        self._storage = (SweepingMemoryStorage() if storage_uri.startswith("memory://")
                         else storage_from_string(storage_uri))
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
