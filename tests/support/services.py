"""Real Redis and PostgreSQL for tests: a clean Redis database, a fresh PostgreSQL database.

In CI (CI=true) a missing service fails the test; elsewhere it skips.
"""
from __future__ import annotations

import contextlib
import os
import uuid

from tests.conftest import require

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379")
PG_ADMIN_URL = os.environ.get("TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/test")


def redis_available() -> bool:
    import redis

    try:
        return bool(redis.Redis.from_url(REDIS_URL, socket_timeout=2).ping())
    except redis.RedisError:
        return False


@contextlib.contextmanager
def redis_db(number: int):
    """redis://.../<number>, emptied before and after."""
    import redis

    require("Redis on 127.0.0.1:6379", redis_available())
    url = f"{REDIS_URL}/{number}"
    client = redis.Redis.from_url(url)
    client.flushdb()
    try:
        yield url
    finally:
        client.flushdb()
        client.close()


MARKET_REDIS_URL = f"{REDIS_URL}/11"  # the market tests' own database


def market_redis_book():
    """A RedisBook on the market tests' database, emptied (Redis required)."""
    from blueprints.market.quotes import RedisBook

    require("Redis on 127.0.0.1:6379", redis_available())
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
        yield f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
    finally:
        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
