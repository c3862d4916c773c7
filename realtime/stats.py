"""This process's live figures, sampled by housekeeping and summed by the admin console."""
from __future__ import annotations

import time

from realtime import metrics


def _total(counter) -> dict[str, float]:
    """label value -> count, for a one-label Counter."""
    out: dict[str, float] = {}
    for metric in counter.collect():
        for sample in metric.samples:
            if sample.name.endswith("_total"):
                out[next(iter(sample.labels.values()), "")] = sample.value
    return out


class ProcessStats:
    """Events per second over the last sampling interval, and errors by code."""

    def __init__(self) -> None:
        self._last_events = sum(_total(metrics.EVENTS).values())
        self._last_time = time.monotonic()
        self.events_per_sec = 0.0

    def sample(self) -> dict:
        events = sum(_total(metrics.EVENTS).values())
        now = time.monotonic()
        elapsed = now - self._last_time
        if elapsed > 0:
            self.events_per_sec = (events - self._last_events) / elapsed
        self._last_events, self._last_time = events, now
        return {
            "events_per_sec": round(self.events_per_sec, 2),
            "errors_by_code": {k: int(v) for k, v in _total(metrics.ERRORS).items()},
        }
