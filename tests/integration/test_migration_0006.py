"""Migration 0006 (profiles and room settings) on SQLite and PostgreSQL.

Existing rows get the defaults (no display name, empty status and topic, not
archived); the CHECK constraints refuse over-long text past the services;
the downgrade takes it all away again.
"""
from __future__ import annotations

import pytest
from sqlalchemy import inspect, text
from sqlalchemy.exc import DataError, IntegrityError

from blueprints.auth import service
from extensions import db


def _refused(sql: str, **params) -> None:
    # PostgreSQL's VARCHAR(n) refuses over-long text itself (DataError) before
    # the CHECK; SQLite ignores VARCHAR lengths, so there the CHECK does it.
    with pytest.raises((IntegrityError, DataError)):
        db.session.execute(text(sql), params)
        db.session.commit()
    db.session.rollback()


def test_the_database_refuses_over_long_profiles_and_topics(any_db_app):
    service.create_user("carol", "password-123")
    _refused("UPDATE users SET display_name = :v WHERE username = 'carol'", v="x" * 65)
    _refused("UPDATE users SET display_name = '' WHERE username = 'carol'")
    _refused("UPDATE users SET status = :v WHERE username = 'carol'", v="s" * 81)
    _refused("UPDATE users SET avatar_version = 0 WHERE username = 'carol'")
    _refused("UPDATE rooms SET topic = :v WHERE name = 'general'", v="t" * 251)
    # Characters, not bytes: 64 Chinese characters (192 bytes in UTF-8) fit.
    db.session.execute(text("UPDATE users SET display_name = :v WHERE username = 'carol'"),
                       {"v": "王" * 64})
    db.session.commit()


def test_migration_0006_upgrades_existing_rows_and_downgrades(any_db_app):
    from flask_migrate import downgrade, upgrade

    downgrade(revision="5a1e0c7b2d40")
    columns = {c["name"] for c in inspect(db.engine).get_columns("users")}
    assert not columns & {"display_name", "status", "avatar_version", "display_key"}
    assert "avatars" not in inspect(db.engine).get_table_names()
    db.session.execute(text("INSERT INTO users (username, username_key, password_hash, is_admin, "
                            "active, auth_epoch, created_at, theme) VALUES ('dave', 'dave', 'x', "
                            ":f, :t, 0, CURRENT_TIMESTAMP, 'system')"), {"f": False, "t": True})
    db.session.commit()
    upgrade()
    row = db.session.execute(text("SELECT display_name, status, avatar_version FROM users "
                                  "WHERE username = 'dave'")).one()
    assert tuple(row) == (None, "", None)
    topic, archived = db.session.execute(text("SELECT topic, archived FROM rooms "
                                              "WHERE name = 'general'")).one()
    assert topic == "" and not archived
