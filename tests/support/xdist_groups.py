"""Grouping tests on xdist workers (`make test`: ``-n N --dist loadgroup``).

tests/conftest.py decides each test's group (``_xdist_group``) and marks it
``xdist_group``. pytest-xdist 3.8 carries the group from the workers to the
scheduler by appending ``@group`` to the test's node id, which pytest 9.2's
structured node ids silently ignore (pytest-xdist issue 1386, no release with
a fix yet): every test would be scheduled alone, servers started once per
worker instead of once per module, and two workers could share a Redis
database. So the groups travel beside the node ids instead:

- the controller names a folder (``GROUPS_DIR`` in the environment, inherited
  by the workers it starts);
- each worker writes {node id: group} for what it collected there
  (``write``), before it reports its collection;
- ``GroupScheduling`` (xdist's loadgroup scheduler) reads them when it splits
  the collection into work units: one unit per group, every other test alone.
"""
from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

GROUPS_DIR = "SB_XDIST_GROUPS_DIR"


def start_controller() -> None:
    """In the xdist controller, before the workers start: the folder they write to."""
    os.environ[GROUPS_DIR] = tempfile.mkdtemp(prefix="sb-xdist-groups-")


def write(worker: str, groups: dict[str, str]) -> None:
    """In a worker: its node id -> group map (written whole, then renamed into place)."""
    folder = os.environ.get(GROUPS_DIR)
    if not folder:
        return
    tmp = Path(folder) / f".{worker}.json"
    tmp.write_text(json.dumps(groups))
    tmp.replace(Path(folder) / f"{worker}.json")


def read() -> dict[str, str]:
    """Every worker's map, merged (they collect the same tests, so they agree)."""
    folder = os.environ.get(GROUPS_DIR)
    merged: dict[str, str] = {}
    if folder:
        for path in sorted(Path(folder).glob("*.json")):
            merged.update(json.loads(path.read_text()))
    return merged


def make_scheduler(config, log):
    """xdist's loadgroup scheduler, fed the groups the workers wrote."""
    from xdist.scheduler import LoadGroupScheduling

    class GroupScheduling(LoadGroupScheduling):
        _groups: dict[str, str] | None = None

        def _split_scope(self, nodeid: str) -> str:
            if self._groups is None:
                self._groups = read()
            group = self._groups.get(nodeid)
            return group if group is not None else super()._split_scope(nodeid)

    return GroupScheduling(config, log)
