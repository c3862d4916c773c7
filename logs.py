"""Logging: plain text for people, JSON lines for log collectors (LOG_FORMAT).

One record is one line, whatever a client typed: every logged value (the
message, each audit field) goes through ``textnorm.escape_for_log``, which
writes CR, LF, every other control (Cc), format (Cf: zero-width, bidi
overrides) and line/paragraph separator as ``\\xNN``/``\\uNNNN``. An attack
run sent ``{"username": "x\\n<time> INFO switchboard.audit: login user=admin"}``
to /api/token and got a forged "login" line in the text log.
"""
from __future__ import annotations

import json
import logging
import sys
import time

from textnorm import escape_for_log


def _clean(value):
    """A logged value, escaped if it is text (numbers, booleans and None stay typed)."""
    if isinstance(value, str):
        return escape_for_log(value)
    if value is None or isinstance(value, (bool, int, float)):
        return value
    return escape_for_log(str(value))


def _text_field(value) -> str:
    """``k=v`` in the text format: quoted when a value could pass for another field."""
    text = "None" if value is None else str(_clean(value))
    if not text or any(ch in text for ch in ' ="'):
        return '"' + text.replace('"', '\\"') + '"'
    return text


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
        }
        audit = getattr(record, "audit", None)
        if audit:
            entry.update({k: _clean(v) for k, v in audit.items()})
        else:
            entry["message"] = escape_for_log(record.getMessage())
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


class TextFormatter(logging.Formatter):
    def formatMessage(self, record: logging.LogRecord) -> str:
        # record.message is the %-formatted message with its arguments (which
        # may hold what a client sent); the traceback, appended after this by
        # Formatter.format, stays multi-line on purpose.
        record.message = escape_for_log(record.message)
        line = super().formatMessage(record)
        audit = getattr(record, "audit", None)
        if audit:
            line += " " + " ".join(f"{escape_for_log(str(k))}={_text_field(v)}"
                                   for k, v in audit.items() if k != "action")
        return line


class Throttle(logging.Filter):
    """At most ``limit`` records a minute per logger and message template.

    python-socketio logs an ERROR with a traceback for every malformed packet
    a client sends; without this a client could fill the disk with them.
    """

    def __init__(self, limit: int = 5, window: float = 60.0) -> None:
        super().__init__()
        self.limit, self.window = limit, window
        self.seen: dict[tuple[str, str], tuple[float, int]] = {}

    def filter(self, record: logging.LogRecord) -> bool:
        key = (record.name, str(record.msg))
        now = time.monotonic()
        start, count = self.seen.get(key, (now, 0))
        if now - start > self.window:
            start, count = now, 0
        self.seen[key] = (start, count + 1)
        if len(self.seen) > 10_000:  # bound the memory of the filter itself
            self.seen.clear()
        if count == self.limit:
            record.msg = f"{record.msg} (repeated; more like this suppressed for a minute)"
        return count <= self.limit


def configure(fmt: str, level: str) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        JsonFormatter() if fmt == "json"
        else TextFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # The libraries log every packet at INFO; our audit log says what matters.
    throttle = Throttle()
    for noisy in ("socketio", "engineio", "werkzeug", "socketio.server", "engineio.server"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
        logging.getLogger(noisy).addFilter(throttle)
