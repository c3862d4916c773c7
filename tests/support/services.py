"""Real Redis and PostgreSQL for tests: a clean Redis database, a fresh PostgreSQL database.

TEST_REDIS_URL (default redis://127.0.0.1:6379) and TEST_PG_URL choose the
servers; every test derives its URLs from them through this module.

In CI (CI=true) a missing service fails the test; elsewhere it skips.
"""
from __future__ import annotations

import contextlib
import fnmatch
import os
import uuid
from urllib.parse import urlsplit, urlunsplit

from tests.conftest import require


def _redis_base(url: str) -> str:
    """TEST_REDIS_URL without a database number: scheme, credentials, host, port."""
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, "", "", ""))


# TEST_REDIS_URL names the Redis server for every test (host, port, password;
# a database number in it is ignored): each module gets its own database on it.
REDIS_URL = _redis_base(os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379"))
PG_ADMIN_URL = os.environ.get("TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/test")
REDIS_WHERE = f"Redis at {urlsplit(REDIS_URL).hostname}:{urlsplit(REDIS_URL).port or 6379}"

# One Redis database per module that uses Redis, so no module ever flushes
# another's data. 0 is left to `make run` / `make cluster`; a new module takes
# a free number and adds its row. Under xdist (`make test`) every test of a
# module listed here runs in the xdist group of its numbers (``redis_group``,
# applied by tests/conftest.py), so two workers never use one database at the
# same time. Two pytest runs on one Redis server need two TEST_REDIS_URLs.
REDIS_DATABASES = {
    "tests/e2e/test_market_e2e.py": 1,          # the publisher's message queue
    "tests/e2e/test_delivery_faults.py": 2,     # reserved (today it runs without Redis)
    "tests/e2e/test_cluster.py::cluster": 6,    # two processes behind nginx
    "tests/e2e/test_cluster.py::failover": 7,   # the failover cluster
    "tests/security/test_deployments.py::b": 10,
    "tests/unit/test_market_*.py": 11,          # MARKET_REDIS_URL: the market's RedisBook
    "tests/security/test_room_leave.py": 12,
    "tests/security/test_room_remove.py": 9,
    "tests/unit/test_redis_state.py": 13,
    "tests/unit/test_state_interface.py": 3,
    "tests/security/test_state_backends.py": 4,
    "tests/security/test_deployments.py::a": 14,
    "tests/security/test_admin_ui_leaks.py": 15,
    "tests/e2e/test_market_history_e2e.py": 8,  # two processes sharing the quote book
}


def redis_group(path: str) -> str | None:
    """The xdist group of the test module at ``path`` (from the repository root):
    ``redis-<n>`` after the Redis database numbers it owns, or None for a module
    that owns none. Modules sharing a number (a glob row) share the group."""
    numbers = sorted({n for key, n in REDIS_DATABASES.items()
                      if fnmatch.fnmatchcase(path, key.split("::", 1)[0])})
    if not numbers:
        return None
    return "redis-" + "-".join(map(str, numbers))


def _check_owner(number: int) -> None:
    """The running test's module must own database ``number`` (REDIS_DATABASES):
    the xdist groups keep two workers apart only for numbers their modules own."""
    current = os.environ.get("PYTEST_CURRENT_TEST", "")
    path = current.split("::", 1)[0]
    if not path:
        return  # not inside a test (an import, a script)
    owned = {n for key, n in REDIS_DATABASES.items()
             if fnmatch.fnmatchcase(path, key.split("::", 1)[0])}
    if number not in owned:
        raise AssertionError(f"{path} uses Redis database {number}, which it does not own: "
                             "add its row to REDIS_DATABASES in tests/support/services.py")


def redis_url(number: int) -> str:
    """TEST_REDIS_URL's server, database ``number`` (see REDIS_DATABASES)."""
    return f"{REDIS_URL}/{number}"


def redis_available() -> bool:
    import redis

    try:
        return bool(redis.Redis.from_url(REDIS_URL, socket_timeout=2).ping())
    except redis.RedisError:
        return False


def redis_client(url: str):
    """A client for ``url`` (decoded replies); Redis required: CI fails without it."""
    import redis

    require(REDIS_WHERE, redis_available(), "set TEST_REDIS_URL to use another server")
    return redis.Redis.from_url(url, decode_responses=True)


@contextlib.contextmanager
def redis_db(number: int):
    """redis_url(number), emptied before and after (Redis required: CI fails without it)."""
    import redis

    _check_owner(number)
    require(REDIS_WHERE, redis_available(), "set TEST_REDIS_URL to use another server")
    url = redis_url(number)
    client = redis.Redis.from_url(url)
    client.flushdb()
    try:
        yield url
    finally:
        client.flushdb()
        client.close()


MARKET_REDIS_URL = redis_url(REDIS_DATABASES["tests/unit/test_market_*.py"])


def market_redis_book():
    """A RedisBook on the market tests' database, emptied (Redis required)."""
    from blueprints.market.quotes import RedisBook

    _check_owner(REDIS_DATABASES["tests/unit/test_market_*.py"])
    require(REDIS_WHERE, redis_available(), "set TEST_REDIS_URL to use another server")
    book = RedisBook(MARKET_REDIS_URL)
    book.redis.flushdb()
    return book


def pg_available() -> bool:
    import psycopg

    try:
        with psycopg.connect(PG_ADMIN_URL, connect_timeout=3):
            return True
    except psycopg.Error:
        return False


@contextlib.contextmanager
def postgres_database():
    """A new, empty PostgreSQL database; its SQLAlchemy URL; dropped afterwards."""
    import psycopg

    require("PostgreSQL on 127.0.0.1:5432", pg_available())
    name = f"sb_test_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        admin = urlsplit(PG_ADMIN_URL)  # TEST_PG_URL's server and role, the new database
        yield urlunsplit(("postgresql+psycopg", admin.netloc, f"/{name}", "", ""))
    finally:
        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
