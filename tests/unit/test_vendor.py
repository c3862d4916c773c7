"""static/vendor/: the committed browser builds are exactly the pinned packages' files.

Each file VERSIONS.json lists must have the sha256 it records, be byte for
byte the file at node_modules/<package>/<source> (the one rewritten file: the
package's file must have the recorded source_sha256, and scripts/vendor.sh
must reproduce it), and come from the version package-lock.json pins. So the
suite fails when someone edits a vendored file, or bumps package-lock.json
without `make vendor`. The comparison with the packages needs node_modules
(`npm ci`; `make test` installs it): missing, it skips here and fails with
CI=true, like the other tests that need Node.

And start-up: a missing vendored file stops ``python app.py`` and wsgi.py
with one line naming it (vendored.check, exit 2).
"""
from __future__ import annotations

import filecmp
import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import vendored
from tests.conftest import require
from tests.support.server import ROOT

VENDOR = ROOT / "static" / "vendor"
NODE_MODULES = ROOT / "node_modules"
LOCK = ROOT / "package-lock.json"
NOT_LISTED = {"README.md", "VERSIONS.json"}  # the hand-written README and the manifest itself


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def load(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def vendor_problems(vendor_dir: Path, node_modules: Path, lock_path: Path) -> list[str]:
    """Every way the vendored files disagree with the manifest, the packages and the lock."""
    manifest = load(vendor_dir / "VERSIONS.json")
    locked = load(lock_path)["packages"]
    problems: list[str] = []
    for pkg, meta in manifest["packages"].items():
        lock = locked.get(f"node_modules/{pkg}")
        if lock is None:
            problems.append(f"{pkg}: not in package-lock.json any more; run `make vendor`")
            continue
        for key in ("version", "integrity"):
            if meta.get(key) != lock.get(key):
                problems.append(f"{pkg}: VERSIONS.json has {key} {meta.get(key)}, package-lock.json "
                                f"{lock.get(key)}; run `make vendor` and commit static/vendor")
        installed = load(node_modules / pkg / "package.json")["version"]
        if installed != lock["version"]:
            problems.append(f"{pkg}: node_modules has {installed}, package-lock.json {lock['version']}; "
                            "run `npm ci`")
    for name, entry in manifest["files"].items():
        ours, theirs = vendor_dir / name, node_modules / entry["package"] / entry["source"]
        if entry["version"] != manifest["packages"][entry["package"]]["version"]:
            problems.append(f"{name}: version {entry['version']} is not its package's")
        if not ours.is_file():
            problems.append(f"{name}: missing from static/vendor")
            continue
        if sha256(ours) != entry["sha256"]:
            problems.append(f"{name}: edited (sha256 differs from VERSIONS.json); "
                            "vendored files are not to be edited: run `make vendor`")
        if not theirs.is_file():
            problems.append(f"{name}: {entry['package']} {entry['version']} has no {entry['source']}")
        elif "source_sha256" in entry:
            if sha256(theirs) != entry["source_sha256"]:
                problems.append(f"{name}: {entry['package']}'s {entry['source']} changed; run `make vendor`")
        elif not filecmp.cmp(ours, theirs, shallow=False):
            problems.append(f"{name}: differs from node_modules/{entry['package']}/{entry['source']}")
    return problems


def require_node_modules() -> None:
    require("node_modules (npm ci)", (NODE_MODULES / "socket.io-client" / "package.json").is_file(),
            f"run `npm ci` in {ROOT} (`make test` does)")


# -- the committed files against the packages -----------------------------------------
def test_vendored_files_are_the_pinned_packages_files():
    require_node_modules()
    assert vendor_problems(VENDOR, NODE_MODULES, LOCK) == []


def test_vendor_folder_holds_what_the_manifest_lists_and_the_pages_load():
    listed = set(load(VENDOR / "VERSIONS.json")["files"])
    on_disk = {p.relative_to(VENDOR).as_posix() for p in VENDOR.rglob("*") if p.is_file()}
    assert on_disk - NOT_LISTED == listed, "files in static/vendor not in VERSIONS.json, or missing"
    # What the pages load today and what the module rework will import.
    for name in ("socket.io.min.js", "socket.io.esm.min.js", "uPlot.iife.min.js", "uPlot.esm.js",
                 "uPlot.min.css", "socketio-admin-ui/index.html"):
        assert name in listed
    for pkg in ("socket.io-client", "uplot", "@socket.io/admin-ui", "@mdi/font"):
        assert any(e["package"] == pkg and e["source"] == "LICENSE"
                   for e in load(VENDOR / "VERSIONS.json")["files"].values()), f"{pkg}'s licence"


def test_vendor_script_reproduces_the_committed_folder(tmp_path):
    """scripts/vendor.sh (what `make vendor` runs after npm ci) writes these very bytes,
    the rewritten Admin UI index.html and VERSIONS.json included."""
    require_node_modules()
    out = tmp_path / "vendor"
    done = subprocess.run(["bash", str(ROOT / "scripts" / "vendor.sh"), str(out)], cwd=ROOT,
                          capture_output=True, text=True, timeout=60,
                          env={**os.environ, "PYTHON": sys.executable})
    assert done.returncode == 0, done.stderr
    fresh = {p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()}
    committed = {p.relative_to(VENDOR).as_posix() for p in VENDOR.rglob("*") if p.is_file()} - {"README.md"}
    assert fresh == committed
    different = [n for n in sorted(fresh) if not filecmp.cmp(out / n, VENDOR / n, shallow=False)]
    assert different == [], "run `make vendor` and commit static/vendor"


# -- the check itself catches what it is for ---------------------------------------------
@pytest.fixture
def vendor_copy(tmp_path) -> Path:
    copy = tmp_path / "vendor"
    shutil.copytree(VENDOR, copy)
    return copy


def test_the_check_catches_an_edited_vendored_file(vendor_copy):
    require_node_modules()
    with open(vendor_copy / "socket.io.min.js", "a") as f:
        f.write("\n// a local fix\n")
    problems = vendor_problems(vendor_copy, NODE_MODULES, LOCK)
    assert any(p.startswith("socket.io.min.js: edited") for p in problems), problems
    assert any(p.startswith("socket.io.min.js: differs from node_modules") for p in problems), problems


def test_the_check_catches_a_lock_bumped_without_make_vendor(vendor_copy, tmp_path):
    require_node_modules()
    lock = load(LOCK)
    lock["packages"]["node_modules/uplot"]["version"] = "1.6.99"
    bumped = tmp_path / "package-lock.json"
    bumped.write_text(json.dumps(lock))
    problems = vendor_problems(vendor_copy, NODE_MODULES, bumped)
    assert any("uplot: VERSIONS.json has version 1.6.32, package-lock.json 1.6.99" in p
               for p in problems), problems


# -- start-up: a missing file stops it, named ------------------------------------------
def test_check_passes_a_complete_folder_and_names_a_missing_file(vendor_copy):
    assert vendored.check(VENDOR) is None
    assert vendored.check(vendor_copy) is None
    (vendor_copy / "uPlot.iife.min.js").unlink()
    problem = vendored.check(vendor_copy)
    assert problem.startswith(f"{vendor_copy / 'uPlot.iife.min.js'} is missing;")
    assert "make vendor" in problem and "\n" not in problem
    (vendor_copy / "socketio-admin-ui" / "index.html").unlink()
    assert "is missing (and 1 more);" in vendored.check(vendor_copy)
    (vendor_copy / "VERSIONS.json").unlink()
    assert vendored.check(vendor_copy).startswith(f"{vendor_copy / 'VERSIONS.json'} is missing")


@pytest.fixture(scope="module")
def checkout_without_socketio(tmp_path_factory) -> Path:
    """A copy of the app (never the real folder: other tests serve it) missing one file."""
    repo = tmp_path_factory.mktemp("checkout") / "switchboard"
    shutil.copytree(ROOT, repo, ignore=shutil.ignore_patterns(
        ".git", ".venv", "node_modules", "instance", "test-output", "__pycache__", "tests", "bench",
        "docs", ".pytest_cache", ".hypothesis"))
    (repo / "static" / "vendor" / "socket.io.min.js").unlink()
    return repo


@pytest.mark.parametrize("entry", ["app.py", "wsgi.py"])
def test_start_up_stops_naming_the_missing_file(checkout_without_socketio, entry, tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("FLASK_", "SWITCHBOARD_"))}
    env.update(INSTANCE_PATH=str(tmp_path), SECRET_KEY="test-secret", HOST="127.0.0.1", PORT="1")
    done = subprocess.run([sys.executable, entry], cwd=checkout_without_socketio, env=env,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2, done.stderr
    lines = [line for line in done.stderr.splitlines() if line.startswith("switchboard: ")]
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("switchboard: static/vendor/socket.io.min.js is missing;")
    assert not (tmp_path / "switchboard.db").exists()  # stopped before touching the database
