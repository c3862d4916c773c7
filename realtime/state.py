"""Shared connection state: the one place processes agree on who is connected.

Everything more than one process must agree on (who is online, how many
connections a user holds, the admin's connection table) goes through
``ConnectionState``. ``MemoryState`` serves one process; a Redis backend with
the same interface serves several (selected by MESSAGE_QUEUE). Code never
keeps its own module-level dict of users, which would silently be wrong as
soon as a second process starts.
"""
from __future__ import annotations

import hashlib
import math
import threading
import time
from abc import ABC, abstractmethod
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field


@dataclass
class Connection:
    """One Socket.IO connection to one namespace."""

    sid: str
    namespace: str
    user_id: int
    username: str
    is_admin: bool
    transport: str
    ip: str
    connected_at: float = field(default_factory=time.time)
    auth_epoch: int = 0  # the user's epoch at connect: a newer one revokes this connection
    # The personal access token it connected with (None: a session or a
    # short-lived /api/token token): revoking that token closes it.
    token_id: int | None = None
    locale: str = "en"  # the language of its error messages, chosen at connect (i18n.py)

    def to_dict(self) -> dict:
        return asdict(self)


class ConnectionState(ABC):
    """What the app asks of the shared state. Every method is cheap.

    Housekeeping and the stop signal call ``heartbeat_interval``,
    ``maintain()`` and ``shutdown()`` on every backend (no-ops in memory),
    never probing for them: a backend that lacked one would fail loudly, not
    skip its liveness work in silence.
    """

    namespaces: tuple[str, ...] = ()

    def set_namespaces(self, namespaces: Iterable[str]) -> None:
        """The namespaces this app serves (create_app passes the registered ones).

        Every count across namespaces (``user_connections``) and every
        clean-up after a dead process walks these: a namespace missing here
        escapes MAX_CONNECTIONS_PER_USER and leaves its keys behind.
        """
        self.namespaces = tuple(sorted(set(namespaces)))

    @property
    @abstractmethod
    def heartbeat_interval(self) -> float:
        """Call ``maintain()`` at least this often (seconds; ``math.inf``: never needed)."""

    @abstractmethod
    def maintain(self) -> dict[str, set[int]]:
        """Periodic liveness work: say this process is alive, clean up after dead ones.

        Returns namespace -> ids of the users who went offline with a dead process.
        """

    @abstractmethod
    def shutdown(self) -> None:
        """A clean stop: take this process's connections out of the shared state."""

    @abstractmethod
    def add(self, conn: Connection) -> int:
        """Record a connection; return the user's connection count in its namespace."""

    @abstractmethod
    def remove(self, sid: str, namespace: str) -> tuple[Connection | None, int]:
        """Forget a connection; return it and the user's remaining count there."""

    @abstractmethod
    def get(self, sid: str, namespace: str) -> Connection | None:
        """This process's record of a connection."""

    @abstractmethod
    def user_connections(self, user_id: int) -> int:
        """How many connections the user holds, all namespaces, all processes."""

    @abstractmethod
    def user_sids(self, user_id: int, namespace: str) -> list[str]:
        """The sids of every connection of the user to the namespace, all processes.

        What "take this user's sockets out of a room everywhere" needs
        (realtime/rooms.py): python-socketio's manager can address a sid on
        any process, but only knows the rooms of its own sockets.
        """

    @abstractmethod
    def local_count(self) -> int:
        """Connections held by this process (the per-process cap counts these)."""

    @abstractmethod
    def online_user_ids(self, namespace: str) -> set[int]:
        """Users with at least one connection to the namespace."""

    @abstractmethod
    def connections(self) -> list[Connection]:
        """Every connection, all processes, for the operator console."""

    @abstractmethod
    def local_connections(self) -> list[Connection]:
        """The connections this process holds."""

    @abstractmethod
    def acquire_lease(self, name: str, holder: str, ttl: float) -> bool:
        """Take or renew the lease ``name`` for ``holder`` for ``ttl`` seconds.

        True while ``holder`` has it. Background work that must run once per
        cluster (the quote feed, limit-order matching) runs only while its
        process holds the lease, renewing it well within ``ttl``; when the
        holder dies the lease expires and another process takes it over.
        """

    @abstractmethod
    def block_user(self, user_id: int, seconds: int) -> None:
        """Refuse the user's connects for ``seconds`` (a kick), on every process."""

    @abstractmethod
    def blocked_for(self, user_id: int) -> int:
        """Whole seconds left of the user's block (0: not blocked)."""

    @abstractmethod
    def publish_stats(self, stats: dict) -> None:
        """Record this process's figures (events/s, errors) for the operator console."""

    @abstractmethod
    def process_stats(self) -> list[dict]:
        """The latest published figures of every live process."""

    def set_transport(self, sid: str, namespace: str, transport: str) -> None:
        conn = self.get(sid, namespace)
        if conn is not None:
            conn.transport = transport


class MemoryState(ConnectionState):
    """One process: plain dicts behind a lock (handlers may run in threads)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._conns: dict[tuple[str, str], Connection] = {}
        self._per_user: dict[tuple[int, str], int] = defaultdict(int)
        self._leases: dict[str, tuple[str, float]] = {}
        self._stats: dict = {}
        self._blocks: dict[int, float] = {}  # user id -> time.monotonic() when it ends

    def add(self, conn: Connection) -> int:
        with self._lock:
            self._conns[(conn.sid, conn.namespace)] = conn
            self._per_user[(conn.user_id, conn.namespace)] += 1
            return self._per_user[(conn.user_id, conn.namespace)]

    def remove(self, sid: str, namespace: str) -> tuple[Connection | None, int]:
        with self._lock:
            conn = self._conns.pop((sid, namespace), None)
            if conn is None:
                return None, 0
            key = (conn.user_id, namespace)
            self._per_user[key] -= 1
            left = self._per_user[key]
            if left <= 0:
                del self._per_user[key]
            return conn, max(left, 0)

    def get(self, sid: str, namespace: str) -> Connection | None:
        return self._conns.get((sid, namespace))

    def user_connections(self, user_id: int) -> int:
        with self._lock:
            return sum(n for (uid, _), n in self._per_user.items() if uid == user_id)

    def user_sids(self, user_id: int, namespace: str) -> list[str]:
        with self._lock:
            return [c.sid for c in self._conns.values()
                    if c.user_id == user_id and c.namespace == namespace]

    def local_count(self) -> int:
        return len(self._conns)

    def online_user_ids(self, namespace: str) -> set[int]:
        with self._lock:
            return {uid for (uid, ns) in self._per_user if ns == namespace}

    def connections(self) -> list[Connection]:
        with self._lock:
            return list(self._conns.values())

    local_connections = connections

    # One process: no other process to tell it is alive, none to clean up after.
    heartbeat_interval = math.inf

    def maintain(self) -> dict[str, set[int]]:
        return {}

    def shutdown(self) -> None:
        pass

    def block_user(self, user_id: int, seconds: int) -> None:
        with self._lock:
            now = time.monotonic()
            # Drop ended blocks here, so the dict never outgrows the live ones.
            self._blocks = {uid: end for uid, end in self._blocks.items() if end > now}
            if seconds > 0:
                self._blocks[user_id] = now + seconds

    def blocked_for(self, user_id: int) -> int:
        end = self._blocks.get(user_id)
        left = (end - time.monotonic()) if end is not None else 0
        return math.ceil(left) if left > 0 else 0

    def publish_stats(self, stats: dict) -> None:
        self._stats = stats

    def process_stats(self) -> list[dict]:
        return [self._stats] if self._stats else []

    def acquire_lease(self, name: str, holder: str, ttl: float) -> bool:
        with self._lock:
            current, expires = self._leases.get(name, (None, 0.0))
            now = time.monotonic()
            if current in (None, holder) or expires < now:
                self._leases[name] = (holder, now + ttl)
                return True
            return False


def pubsub_channel(deployment: str | None, database_uri: str) -> str:
    """The message queue's pub/sub channel of this deployment.

    Redis pub/sub channels belong to the whole Redis server: the database
    number in MESSAGE_QUEUE separates keys, not channels, so two deployments
    on one Redis server (``/0`` and ``/1``) on Flask-SocketIO's default
    channel received each other's broadcasts, kicks and room operations. Every
    process of one deployment must compute the same name: ``DEPLOYMENT`` when
    set, else a short hash of the database URL (the database is what makes a
    deployment one; the password is masked before hashing, and the URL itself
    never appears in the name). ``DEPLOYMENT`` cannot contain ':', so the two
    forms cannot collide.
    """
    if deployment:
        return f"switchboard:{deployment}"
    from sqlalchemy.engine import make_url

    try:
        masked = make_url(database_uri).render_as_string(hide_password=True)
    except Exception:  # not a URL SQLAlchemy parses; the engine will say so itself
        masked = database_uri
    return f"switchboard:db:{hashlib.sha256(masked.encode()).hexdigest()[:16]}"

