"""Test-wide helpers: what must run in CI, and where output goes."""
from __future__ import annotations

import os
import shutil

import pytest

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def require(what: str, available: bool, why: str = "") -> None:
    """In CI a missing Redis/PostgreSQL/Node/Chromium fails the test; elsewhere it skips."""
    if available:
        return
    message = f"{what} is not available{': ' + why if why else ''}"
    if IN_CI:
        pytest.fail(f"{message} (CI=true: tests that need it must run)")
    pytest.skip(message + " - skipping on this machine (install it to run this test)")


def require_binary(name: str) -> str:
    path = shutil.which(name)
    require(name, path is not None, "not on PATH")
    return path
