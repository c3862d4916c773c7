"""A chat client that keeps its own copy of a room, the way the page does.

It builds its view only from what it receives (live ``message``,
``message:edited``, ``message:deleted``) plus ``sync`` after every
(re)connect, applies everything by id and rev (idempotent), and retries
sends with the same ``client_id`` until acknowledged. Fault-injection tests
compare its view with the server's history.
"""
from __future__ import annotations

import threading
import time
import uuid

import socketio


class ReplicaClient:
    def __init__(self, base_url: str, token_source, transport: str, room: int, name: str,
                 http_session=None) -> None:
        self.name = name
        self.room = room
        self.transport = transport
        self.base_url = base_url
        self.token_source = token_source  # callable -> fresh token (tokens are short-lived)
        self.view: dict[int, dict] = {}  # message id -> latest Message seen
        # Every change up to this rev has been seen. Live events bump a room's
        # rev by exactly one each, so a live event beyond synced_rev + 1 means
        # something was missed: sync from here, not from the highest rev seen.
        self.synced_rev = 0
        self.gaps = 0
        self.lock = threading.Lock()
        self.need_sync = threading.Event()
        self.connects = 0
        self.live_events = 0
        self.sio = socketio.Client(reconnection=True, reconnection_delay=0.2,
                                   reconnection_delay_max=1.0, randomization_factor=0.3,
                                   http_session=http_session)
        self.sio.on("connect", self._on_connect, namespace="/chat")
        for event in ("message", "message:edited", "message:deleted"):
            self.sio.on(event, self._on_live, namespace="/chat")

    # -- receiving ------------------------------------------------------------
    def _on_connect(self):
        self.connects += 1
        self.need_sync.set()  # the worker thread syncs: handlers must not block on calls

    def _on_live(self, message):
        self.live_events += 1
        self.apply(message)
        with self.lock:
            if message["rev"] == self.synced_rev + 1:
                self.synced_rev += 1
            elif message["rev"] > self.synced_rev + 1:
                self.gaps += 1
                self.need_sync.set()

    def apply(self, message: dict) -> None:
        """Idempotent: the same message again replaces, an older rev is ignored."""
        if message.get("room") != self.room:
            return
        with self.lock:
            have = self.view.get(message["id"])
            if have is None or message["rev"] >= have["rev"]:
                self.view[message["id"]] = message

    # -- calls that survive cuts ------------------------------------------------
    def connect(self) -> None:
        self.sio.connect(self.base_url, namespaces=["/chat"], transports=[self.transport],
                         auth=lambda: {"token": self.token_source()}, wait_timeout=10)

    def call(self, event: str, payload: dict, timeout: float = 3.0):
        """One call; None if it did not get through (cut, timeout, not connected)."""
        try:
            return self.sio.call(event, payload, namespace="/chat", timeout=timeout)
        except (socketio.exceptions.TimeoutError, socketio.exceptions.BadNamespaceError,
                socketio.exceptions.SocketIOError, OSError):
            return None

    def sync(self, deadline: float) -> bool:
        """Sync from synced_rev, page by page, until has_more is false."""
        with self.lock:
            after = self.synced_rev
        while time.monotonic() < deadline:
            reply = self.call("sync", {"rooms": {str(self.room): after}})
            if reply is None:
                time.sleep(0.1)
                continue
            assert reply["ok"], reply
            for message in reply["messages"]:
                self.apply(message)
                after = max(after, message["rev"])
            if not reply["has_more"]:
                with self.lock:
                    self.synced_rev = max(self.synced_rev, after)
                return True
        return False

    def until_ok(self, event: str, payload: dict, deadline: float, done_codes=()) -> dict | None:
        """Retry (syncing after reconnects) until the call is answered."""
        while time.monotonic() < deadline:
            if self.need_sync.is_set():
                self.need_sync.clear()
                if not self.sync(deadline):
                    self.need_sync.set()
                    continue
            reply = self.call(event, payload)
            if reply is None:
                time.sleep(0.05)
                continue
            if reply["ok"] or reply["error"]["code"] in done_codes:
                return reply
            if reply["error"]["code"] == "rate_limited":
                time.sleep(reply["error"].get("retry_after", 1))
                continue
            raise AssertionError(f"{self.name}: {event} refused: {reply}")
        raise AssertionError(f"{self.name}: {event} not answered before the deadline")

    def send(self, text: str, deadline: float) -> dict:
        client_id = f"{self.name}-{uuid.uuid4().hex[:12]}"
        reply = self.until_ok("message:send", {"room": self.room, "text": text,
                                               "client_id": client_id}, deadline)
        self.apply(reply["message"])
        return reply["message"]

    def disconnect(self) -> None:
        try:
            self.sio.disconnect()
        except Exception:
            pass

    def history(self) -> list[dict]:
        """The view as a list in seq order."""
        with self.lock:
            return sorted(self.view.values(), key=lambda m: m["seq"])
