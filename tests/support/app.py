"""An app bound to a fresh SQLite database, for unit and integration tests."""
from __future__ import annotations

import tempfile

from app import create_app, prepare_database
from config import Settings


def make_app(**env):
    instance = tempfile.mkdtemp(prefix="sb-test-")
    settings = Settings.from_env({
        "ASYNC_MODE": "threading", "INSTANCE_PATH": instance, "SECRET_KEY": "test-secret",
        **{k: str(v) for k, v in env.items()},
    })
    app = create_app(settings, TESTING=True)
    prepare_database(app)
    return app
