"""Per-user and per-connection event rate limits, on the ``limits`` library.

The storage is memory for one process and Redis when MESSAGE_QUEUE is set, so
the per-user message limit holds across tabs and across processes.
"""
from __future__ import annotations

import math
import threading
import time
from collections import deque

from limits import parse_many
from limits.storage import MovingWindowSupport, Storage, storage_from_string
from limits.strategies import MovingWindowRateLimiter

from errors import RateLimited
from i18n import _l


class SweepingMemoryStorage(Storage, MovingWindowSupport):
    """A moving-window memory storage, swept for stale keys once a second.

    Written against limits' public storage API (``Storage`` and
    ``MovingWindowSupport``, limits 5.8.0), not by overriding its
    ``MemoryStorage``'s name-mangled timer method: the stock storage restarts a
    timer thread every 10 ms while it is in use and scans every key under a
    lock each time; with a thousand connections (a key each) that was 70% of
    a core in the small-rooms benchmark. Limits are decided from timestamps
    at every hit either way; the sweep only frees memory, so once a second is
    plenty. Only the moving window (the one strategy EventLimiter uses) is
    implemented; the fixed-window counters answer from nothing.
    """

    STORAGE_SCHEME = None  # not registered under a URI scheme: EventLimiter builds it
    SWEEP_SECONDS = 1.0

    def __init__(self, uri: str | None = None, wrap_exceptions: bool = False, **options) -> None:
        super().__init__(uri, wrap_exceptions=wrap_exceptions, **options)
        # key -> (its window in seconds, timestamps of its entries, newest last)
        self.events: dict[str, tuple[int, deque[float]]] = {}
        self._lock = threading.Lock()  # green once the server has monkey-patched
        self._last_sweep = time.monotonic()

    @property
    def base_exceptions(self) -> type[Exception]:
        return ValueError  # nothing below raises anything a caller should retry

    # -- MovingWindowSupport ------------------------------------------------------
    def acquire_entry(self, key: str, limit: int, expiry: int, amount: int = 1) -> bool:
        if amount > limit:
            return False
        self._maybe_sweep()
        now = time.time()
        with self._lock:
            _, entries = self.events.setdefault(key, (expiry, deque()))
            while entries and entries[0] <= now - expiry:
                entries.popleft()
            if len(entries) + amount > limit:
                return False
            entries.extend([now] * amount)
            return True

    def get_moving_window(self, key: str, limit: int, expiry: int) -> tuple[float, int]:
        """(the oldest entry still in the window, how many are in it)."""
        now = time.time()
        with self._lock:
            _, entries = self.events.get(key, (expiry, ()))
            inside = [t for t in entries if t > now - expiry]
        return (inside[0], len(inside)) if inside else (now, 0)

    # -- Storage ------------------------------------------------------------------
    def incr(self, key: str, expiry: int, amount: int = 1) -> int:
        raise NotImplementedError("SweepingMemoryStorage serves the moving window only")

    def get(self, key: str) -> int:
        return 0

    def get_expiry(self, key: str) -> float:
        return time.time()

    def check(self) -> bool:
        return True

    def reset(self) -> int | None:
        with self._lock:
            count = len(self.events)
            self.events.clear()
        return count

    def clear(self, key: str) -> None:
        with self._lock:
            self.events.pop(key, None)

    def _maybe_sweep(self) -> None:
        now = time.monotonic()
        if now - self._last_sweep < self.SWEEP_SECONDS:
            return
        self._last_sweep = now
        wall = time.time()
        with self._lock:
            for key in [k for k, (expiry, entries) in self.events.items()
                        if not entries or entries[-1] <= wall - expiry]:
                del self.events[key]


def _sync(storage: object) -> Storage:
    """The storage a non-async URI gives (storage_from_string is typed for both kinds)."""
    if not isinstance(storage, Storage):
        raise TypeError(f"not a synchronous limits storage: {storage!r}")
    return storage


class EventLimiter:
    def __init__(self, storage_uri: str, messages: str, events: str, *,
                 redis_client=None) -> None:
        self._storage: Storage
        if storage_uri.startswith("memory://"):
            self._storage = SweepingMemoryStorage()
        elif redis_client is not None:  # the app's shared client: its connection pool
            self._storage = _sync(storage_from_string(storage_uri,
                                                      connection_pool=redis_client.connection_pool))
        else:
            self._storage = _sync(storage_from_string(storage_uri))
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
                message = (_l("Too many messages; try again in %(seconds)s s.", seconds=retry)
                           if rule == "messages" else
                           _l("Too many events; try again in %(seconds)s s.", seconds=retry))
                raise RateLimited(message, retry_after=retry)

    def reset(self) -> None:
        self._storage.reset()
