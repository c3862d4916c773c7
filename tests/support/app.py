"""An app bound to a fresh SQLite database, for unit and integration tests.

Every app gets a database of its own, but the migrations run once per test
process: the first ``make_app`` migrates a template database, later ones start
from a copy of it (SQLite's backup API, a few milliseconds against ~0.1-0.7 s
for Alembic from scratch). ``prepare_database`` still runs on the copy, so
Alembic checks it is at head and the default rooms are ensured, exactly as a
server's start does. A PostgreSQL ``DATABASE_URL`` is migrated as before.
"""
from __future__ import annotations

import sqlite3
import tempfile
from pathlib import Path

from app import create_app, prepare_database
from config import Settings, database_url
from tests.support.clients import csrf_token

_template: Path | None = None


def _settings(instance: str, env: dict) -> Settings:
    return Settings.from_env({
        "ASYNC_MODE": "threading", "INSTANCE_PATH": instance, "SECRET_KEY": "test-secret",
        **{k: str(v) for k, v in env.items()},
    })


def _sqlite_path(settings: Settings) -> Path | None:
    url = database_url(settings)
    return Path(url.removeprefix("sqlite:///")) if url.startswith("sqlite:///") else None


def migrated_template() -> Path:
    """This process's SQLite database at the migrations' head (built on first use)."""
    global _template
    if _template is None:
        from extensions import db

        settings = _settings(tempfile.mkdtemp(prefix="sb-template-"), {})
        app = create_app(settings, TESTING=True)
        prepare_database(app)
        with app.app_context():
            db.engine.dispose()
        _template = _sqlite_path(settings)
    return _template


def copy_database(source: Path, target: Path) -> None:
    """A consistent copy of a SQLite database (WAL included) through the backup API."""
    with sqlite3.connect(source) as src, sqlite3.connect(target) as dst:
        src.backup(dst)
    src.close()
    dst.close()


def make_app(**env):
    settings = _settings(tempfile.mkdtemp(prefix="sb-test-"), env)
    path = _sqlite_path(settings)
    if path is not None and not path.exists():
        copy_database(migrated_template(), path)
    app = create_app(settings, TESTING=True)
    prepare_database(app)
    return app


def sign_in(client, username: str, password: str) -> None:
    """Sign a Flask test client in through the login form, CSRF token and all, as a browser does."""
    page = client.get("/login")
    r = client.post("/login", data={"csrf_token": csrf_token(page.text), "username": username,
                                    "password": password})
    assert r.status_code == 302, (r.status_code, r.text[:200])
