"""The Redis backend of ConnectionState: several processes, one truth.

Layout (prefix ``sb:``):
- ``online:<ns>``            hash user id -> connections in that namespace, all
                             processes; HINCRBY makes first/last detection exact.
- ``users:<ns>:<proc>``      hash user id -> connections this process holds, so a
                             dead process's share can be taken back out.
- ``conns:<proc>``           hash "<ns> <sid>" -> connection JSON (operator table).
- ``sids:<ns>:<user>``       hash sid -> process id: the user's sockets everywhere
                             (taking a user out of a room on every process).
- ``procs``                  sorted set process id -> last heartbeat (unix time).
- ``lease:<name>``           holder id, with expiry.
- ``namespaces``             set of every namespace any process serves: a dead
                             process is cleaned up in each of them, even one
                             the reaping process does not serve.

Each process heartbeats every few seconds. A process silent for longer than
``expiry`` is dead: the first live process to notice takes a lease on its
clean-up, subtracts its users from ``online:*`` (reporting those who are now
offline, so presence can say so) and deletes its keys. The hot path (looking
up the caller of an event) never touches Redis: this process's own
connections are also kept in memory.
"""
from __future__ import annotations

import json
import os
import socket
import time
import uuid
from typing import cast

import redis

from realtime.state import Connection, ConnectionState, MemoryState

P = "sb:"


def connect(url: str) -> redis.Redis:
    """The app's one Redis client (create_app): state, both rate limiters and /readyz
    share its connection pool, instead of a client each and one per /readyz."""
    return redis.Redis.from_url(url, decode_responses=True, socket_timeout=5,
                                health_check_interval=30)

# Renew a lease only if we hold it; take it if free. Returns 1 when held.
_LEASE = """
local cur = redis.call('GET', KEYS[1])
if cur == false or cur == ARGV[1] then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return 1
end
return 0
"""

# Move a dead process's per-user counts out of the global hash; return the
# user ids whose count fell to zero (they are offline now).
_REAP_NS = """
local gone = {}
local entries = redis.call('HGETALL', KEYS[2])
for i = 1, #entries, 2 do
  -- A count of 0 would be sent as "-0", which HINCRBY refuses as not an integer.
  local n = tonumber(entries[i + 1])
  local left = n == 0 and tonumber(redis.call('HGET', KEYS[1], entries[i]) or '0')
    or redis.call('HINCRBY', KEYS[1], entries[i], -n)
  if left <= 0 then
    redis.call('HDEL', KEYS[1], entries[i])
    table.insert(gone, entries[i])
  end
end
redis.call('DEL', KEYS[2])
return gone
"""


class RedisState(ConnectionState):
    EXPIRY = 30.0  # default PRESENCE_EXPIRY: a process silent this long is dead

    def __init__(self, url: str | redis.Redis, proc_id: str | None = None,
                 expiry: float | None = None) -> None:
        # A client (the app's shared one, decoding responses) or a URL to make one.
        self.redis = connect(url) if isinstance(url, str) else url
        self.proc = proc_id or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        self.expiry = expiry or self.EXPIRY
        # Six heartbeats per expiry: a process must stall for a long time
        # before others take it for dead.
        self.HEARTBEAT = max(0.5, self.expiry / 6)
        self.local = MemoryState()
        self._lease = self.redis.register_script(_LEASE)
        self._reap_ns = self.redis.register_script(_REAP_NS)
        self.heartbeat()

    # -- namespaces -----------------------------------------------------------
    def set_namespaces(self, namespaces) -> None:
        super().set_namespaces(namespaces)
        if self.namespaces:
            self.redis.sadd(f"{P}namespaces", *self.namespaces)

    def _all_namespaces(self) -> list[str]:
        """Every namespace any process of this Redis recorded (for clean-ups)."""
        recorded = cast("set[str]", self.redis.smembers(f"{P}namespaces"))  # decode_responses
        return sorted(set(self.namespaces) | recorded)

    # -- keys ---------------------------------------------------------------
    @staticmethod
    def _online(ns: str) -> str:
        return f"{P}online:{ns}"

    def _users(self, ns: str, proc: str | None = None) -> str:
        return f"{P}users:{ns}:{proc or self.proc}"

    def _conns(self, proc: str | None = None) -> str:
        return f"{P}conns:{proc or self.proc}"

    @staticmethod
    def _sids(ns: str, user_id: int) -> str:
        return f"{P}sids:{ns}:{user_id}"

    # -- ConnectionState ----------------------------------------------------
    def add(self, conn: Connection) -> int:
        self.local.add(conn)
        pipe = self.redis.pipeline()
        if conn.namespace not in self.namespaces:
            # Not declared by set_namespaces (a test, a namespace added later):
            # count and clean up after it all the same.
            self.namespaces = tuple(sorted({*self.namespaces, conn.namespace}))
            pipe.sadd(f"{P}namespaces", conn.namespace)
        pipe.hincrby(self._online(conn.namespace), conn.user_id, 1)
        pipe.hincrby(self._users(conn.namespace), conn.user_id, 1)
        pipe.hset(self._conns(), f"{conn.namespace} {conn.sid}", json.dumps(conn.to_dict()))
        pipe.hset(self._sids(conn.namespace, conn.user_id), conn.sid, self.proc)
        return int(pipe.execute()[-4])

    def remove(self, sid: str, namespace: str) -> tuple[Connection | None, int]:
        conn, _ = self.local.remove(sid, namespace)
        if conn is None:
            return None, 0
        pipe = self.redis.pipeline()
        pipe.hincrby(self._online(namespace), conn.user_id, -1)
        pipe.hincrby(self._users(namespace), conn.user_id, -1)
        pipe.hdel(self._conns(), f"{namespace} {sid}")
        pipe.hdel(self._sids(namespace, conn.user_id), sid)
        results = pipe.execute()
        left, left_here = int(results[0]), int(results[1])
        # The global count and this process's share reach 0 separately (the
        # user may still be connected through another process); each entry
        # goes when its own count does, so no 0 is left for the reaper.
        if left <= 0:
            self.redis.hdel(self._online(namespace), conn.user_id)
        if left_here <= 0:
            self.redis.hdel(self._users(namespace), conn.user_id)
        return conn, max(left, 0)

    def get(self, sid: str, namespace: str) -> Connection | None:
        return self.local.get(sid, namespace)

    def set_transport(self, sid: str, namespace: str, transport: str) -> None:
        conn = self.local.get(sid, namespace)
        if conn is not None:
            conn.transport = transport
            self.redis.hset(self._conns(), f"{namespace} {sid}", json.dumps(conn.to_dict()))

    def user_connections(self, user_id: int) -> int:
        pipe = self.redis.pipeline()
        for ns in self.namespaces:
            pipe.hget(self._online(ns), user_id)
        return sum(int(v or 0) for v in pipe.execute())

    def user_sids(self, user_id: int, namespace: str) -> list[str]:
        # One small hash per user (not a walk over every connection): room:leave
        # runs this on every call. A dead process's entries stay until it is
        # reaped; addressing one of those sids reaches nobody.
        return cast("list[str]", self.redis.hkeys(self._sids(namespace, user_id)))  # decode_responses

    def local_count(self) -> int:
        return self.local.local_count()

    def online_user_ids(self, namespace: str) -> set[int]:
        return {int(uid) for uid, n in self.redis.hgetall(self._online(namespace)).items()
                if int(n) > 0}

    def connections(self) -> list[Connection]:
        pipe = self.redis.pipeline()
        procs = self.live_processes()
        for proc in procs:
            pipe.hvals(self._conns(proc))
        return [Connection(**json.loads(raw)) for values in pipe.execute() for raw in values]

    def local_connections(self) -> list[Connection]:
        return self.local.local_connections()

    def acquire_lease(self, name: str, holder: str, ttl: float) -> bool:
        return bool(self._lease(keys=[f"{P}lease:{name}"], args=[holder, int(ttl * 1000)]))

    def publish_stats(self, stats: dict) -> None:
        self.redis.set(f"{P}stats:{self.proc}", json.dumps(stats), ex=int(self.expiry))

    def process_stats(self) -> list[dict]:
        procs = self.live_processes()
        if not procs:
            return []
        values = self.redis.mget([f"{P}stats:{p}" for p in procs])
        return [json.loads(v) for v in values if v]

    # -- liveness -----------------------------------------------------------
    @property
    def heartbeat_interval(self) -> float:
        return self.HEARTBEAT

    def maintain(self) -> dict[str, set[int]]:
        self.heartbeat()
        return self.reap_dead()

    def heartbeat(self) -> None:
        known = self.redis.zadd(f"{P}procs", {self.proc: time.time()}, ch=True, xx=True)
        if not known:
            # First beat, or we stalled so long that others reaped us:
            # publish what this process holds again.
            self.redis.zadd(f"{P}procs", {self.proc: time.time()})
            self._republish()

    def _republish(self) -> None:
        """Make the shared counts hold exactly this process's connections.

        Idempotent: whatever share of ours is still recorded is taken out
        first (as a reaper would), then what we hold is added.
        """
        for ns in self._all_namespaces():
            self._reap_ns(keys=[self._online(ns), self._users(ns)])
        self.redis.delete(self._conns())
        conns = self.local.local_connections()
        if not conns:
            return
        pipe = self.redis.pipeline()
        for conn in conns:
            pipe.hincrby(self._online(conn.namespace), conn.user_id, 1)
            pipe.hincrby(self._users(conn.namespace), conn.user_id, 1)
            pipe.hset(self._conns(), f"{conn.namespace} {conn.sid}", json.dumps(conn.to_dict()))
            pipe.hset(self._sids(conn.namespace, conn.user_id), conn.sid, self.proc)
        pipe.execute()

    def live_processes(self) -> list[str]:
        return cast("list[str]",  # decode_responses, no scores
                    self.redis.zrangebyscore(f"{P}procs", time.time() - self.expiry, "+inf"))

    def reap_dead(self) -> dict[str, set[int]]:
        """Clean up after processes that stopped heartbeating.

        Returns namespace -> user ids that went offline with them.
        """
        offline: dict[str, set[int]] = {}
        dead = cast("list[str]",  # decode_responses, no scores
                    self.redis.zrangebyscore(f"{P}procs", "-inf", time.time() - self.expiry))
        namespaces = self._all_namespaces() if dead else []
        for proc in dead:
            # One live process cleans up each dead one.
            if not self.acquire_lease(f"reap:{proc}", self.proc, 30):
                continue
            for ns in namespaces:
                gone = self._reap_ns(keys=[self._online(ns), self._users(ns, proc)])
                if gone:
                    offline.setdefault(ns, set()).update(int(u) for u in gone)
            self._forget_sids(proc)
            self.redis.delete(self._conns(proc))
            self.redis.zrem(f"{P}procs", proc)
        return offline

    def _forget_sids(self, proc: str) -> None:
        """Take a dead process's sockets out of the per-user sid index."""
        records = [json.loads(raw) for raw in self.redis.hvals(self._conns(proc))]
        if not records:
            return
        pipe = self.redis.pipeline()
        for rec in records:
            pipe.hdel(self._sids(rec["namespace"], rec["user_id"]), rec["sid"])
        pipe.execute()

    def shutdown(self) -> None:
        """A clean stop: take this process's share out at once."""
        self.redis.zadd(f"{P}procs", {self.proc: 0})
        self.reap_dead()
