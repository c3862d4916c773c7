"""A copy of the repository's tracked files: what a fresh clone holds.

For tests that must prove the project runs from its own files alone: no
node_modules, no .venv, no untracked or git-ignored output. Tracked files are
copied as they are in the work tree, so a local edit is tested too.
"""
from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from tests.conftest import require
from tests.support.server import ROOT


def tracked_files() -> list[str]:
    git = shutil.which("git")
    listed = None
    if git:
        done = subprocess.run([git, "ls-files", "-z"], cwd=ROOT, capture_output=True, timeout=30)
        if done.returncode == 0:
            listed = [os.fsdecode(p) for p in done.stdout.split(b"\0") if p]
    require("a git checkout (git ls-files)", bool(listed), f"{ROOT} is not a git work tree")
    return listed


def copy_tracked(dest: Path) -> Path:
    """Copy every tracked file under ``dest`` (created); returns ``dest``."""
    dest.mkdir(parents=True, exist_ok=True)
    for rel in tracked_files():
        src = ROOT / rel
        if not src.is_file():  # deleted in the work tree and not yet committed
            continue
        target = dest / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(src, target)
    return dest
