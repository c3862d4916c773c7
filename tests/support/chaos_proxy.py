"""A TCP proxy for tests that cuts connections between clients and the server.

Runs an asyncio loop in a background thread. Every accepted client connection
is piped to the target port; ``cut_one()`` aborts a random live connection
(both sides see a reset, as with a dropped network), ``cut_all()`` every one.
"""
from __future__ import annotations

import asyncio
import random
import threading
import time

from tests.support.server import free_port


class ChaosProxy:
    def __init__(self, target_port: int, seed: int = 1) -> None:
        self.target_port = target_port
        self.port = free_port()
        self.random = random.Random(seed)
        self.cuts = 0
        self._pairs: set[tuple[asyncio.StreamWriter, asyncio.StreamWriter]] = set()
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._server: asyncio.base_events.Server | None = None
        self._cutter: threading.Thread | None = None
        self._stop_cutting = threading.Event()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    # -- lifecycle ------------------------------------------------------------
    def start(self) -> ChaosProxy:
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._listen(), self._loop).result(5)
        return self

    async def _listen(self) -> None:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", self.port)

    def stop(self) -> None:
        self.stop_cutting()
        if self._server is not None:
            self._loop.call_soon_threadsafe(self._server.close)
        self.cut_all(count=False)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)

    # -- piping ---------------------------------------------------------------
    async def _handle(self, client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter):
        try:
            server_r, server_w = await asyncio.open_connection("127.0.0.1", self.target_port)
        except OSError:  # the server is down (being restarted): refuse like it would
            client_w.transport.abort()
            return
        pair = (client_w, server_w)
        self._pairs.add(pair)
        try:
            await asyncio.gather(self._pipe(client_r, server_w), self._pipe(server_r, client_w))
        finally:
            self._pairs.discard(pair)
            for w in pair:
                w.transport.abort()

    @staticmethod
    async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        except (ConnectionError, OSError):
            pass
        finally:
            writer.transport.abort()

    # -- cutting --------------------------------------------------------------
    def _abort(self, pairs, count: bool = True) -> int:
        def do() -> None:
            for pair in pairs:
                for w in pair:
                    w.transport.abort()

        self._loop.call_soon_threadsafe(do)
        if count:
            self.cuts += len(pairs)
        return len(pairs)

    def cut_one(self) -> int:
        pairs = list(self._pairs)
        if not pairs:
            return 0
        return self._abort([self.random.choice(pairs)])

    def cut_all(self, count: bool = True) -> int:
        return self._abort(list(self._pairs), count)

    def start_cutting(self, min_gap: float = 0.2, max_gap: float = 0.8,
                      max_cuts: int | None = None) -> None:
        """Cut one random connection every min_gap..max_gap seconds until stopped,
        or until ``max_cuts`` were made: a bounded count keeps a slow (loaded)
        machine from seeing more faults per message, and the test from lasting
        as long as its clients keep being cut."""
        self._stop_cutting.clear()

        def run() -> None:
            made = 0
            while (max_cuts is None or made < max_cuts) and \
                    not self._stop_cutting.wait(self.random.uniform(min_gap, max_gap)):
                made += self.cut_one()

        self._cutter = threading.Thread(target=run, daemon=True)
        self._cutter.start()

    def stop_cutting(self) -> None:
        self._stop_cutting.set()
        if self._cutter is not None:
            self._cutter.join(5)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
        time.sleep(0)
