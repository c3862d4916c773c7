"""SECURITY.md names the tests that prove each defence: every one it cites must exist.

A renamed or deleted test would otherwise leave a row that claims a proof
nobody runs. Citations are the code spans of SECURITY.md that name tests:

- ``security/test_x.py::test_name`` (paths relative to tests/, or from tests/),
  ``::test_other`` for another test of the last file cited in the same table
  cell, a file alone (``unit/test_compat.py``, ``test_origins.py``);
- ``test_name`` alone (the mutants table): a test of that name anywhere in tests/;
- ``[params]`` after a name, or alone for another parametrisation of the test
  cited before it; ``*`` in them matches anything (``[gevent-*]``);
- a name ending in ``…`` is a prefix (``test_logout_…``).

Parametrised ids are checked against pytest's own collection of the cited
files (one ``--collect-only`` subprocess), names and files against the tree.
"""
from __future__ import annotations

import fnmatch
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
TESTS = ROOT / "tests"
SECURITY_MD = ROOT / "SECURITY.md"

CODE_SPAN = re.compile(r"`([^`]+)`")
CELL_SPLIT = re.compile(r"(?<!\\)\|")
CITATION = re.compile(
    r"^(?:(?P<file>(?:tests/)?(?:[a-z_]+/)*test_[a-z0-9_]+\.py))?"
    r"(?:(?:^|::)(?P<name>test_[A-Za-z0-9_]+)(?P<prefix>…)?)?"
    r"(?:\[(?P<params>[^\]]+)\])?$")


@dataclass(frozen=True)
class Citation:
    line: int
    text: str
    file: str | None  # relative to the repository root (tests/...)
    name: str | None
    prefix: bool
    params: str | None

    def __str__(self) -> str:
        return f"SECURITY.md line {self.line}: `{self.text}`"


def _resolve_file(cited: str) -> str | None:
    """tests/-relative or bare file name -> its path from the root (None: no such file)."""
    cited = cited.removeprefix("tests/")
    if "/" in cited:
        return f"tests/{cited}" if (TESTS / cited).is_file() else None
    found = sorted(TESTS.rglob(cited))
    return str(found[0].relative_to(ROOT)) if len(found) == 1 else None


def citations() -> list[Citation]:
    """Every test citation of SECURITY.md, with ``::name`` and ``[params]`` resolved
    against what the same table cell cited before them."""
    found: list[Citation] = []
    for number, line in enumerate(SECURITY_MD.read_text(encoding="utf-8").splitlines(), 1):
        for cell in CELL_SPLIT.split(line):
            file: str | None = None
            name: str | None = None
            prefix = False
            for span in CODE_SPAN.findall(cell):
                if span.startswith("::"):
                    span = span[2:]
                elif not ("test_" in span or span.startswith("[")):
                    continue
                m = CITATION.match(span)
                if m is None or not any(m.group("file", "name", "params")):
                    continue
                if m.group("file"):
                    file = _resolve_file(m.group("file")) or f"missing:{m.group('file')}"
                    name, prefix = None, False
                if m.group("name"):
                    name, prefix = m.group("name"), bool(m.group("prefix"))
                found.append(Citation(number, span, file, name, prefix, m.group("params")))
    return found


def _collected(files: set[str]) -> list[str]:
    """pytest's node ids for ``files`` (collection only; no test runs)."""
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider",
         "-o", "addopts=", *sorted(files)],
        cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, f"collecting {sorted(files)} failed:\n{result.stdout[-3000:]}"
    return [line.strip() for line in result.stdout.splitlines() if "::" in line]


def _test_names() -> dict[str, set[str]]:
    """test function name -> files (from the root) that define it."""
    names: dict[str, set[str]] = {}
    pattern = re.compile(r"^\s*def (test_[A-Za-z0-9_]+)\(", re.M)
    for path in TESTS.rglob("test_*.py"):
        for name in pattern.findall(path.read_text(encoding="utf-8")):
            names.setdefault(name, set()).add(str(path.relative_to(ROOT)))
    return names


def _matches(c: Citation, node_id: str) -> bool:
    path, _, rest = node_id.partition("::")
    test = rest.rsplit("::", 1)[-1]
    test_name, _, params = test.partition("[")
    if c.file is not None and path != c.file:
        return False
    if c.name is not None and not (test_name.startswith(c.name) if c.prefix else test_name == c.name):
        return False
    if c.params is not None and not fnmatch.fnmatchcase(params.rstrip("]"), c.params):
        return False
    return True


def test_security_md_cites_tests():
    """The parser finds the citations (a change of SECURITY.md's format must not make this pass empty)."""
    found = citations()
    assert len(found) > 100, len(found)
    assert any(c.file == "tests/security/test_sessions.py" and c.name for c in found)
    assert any(c.file is None and c.name for c in found)  # the mutants table's bare names
    assert any(c.params and "*" in c.params for c in found)


def problems(found: list[Citation]) -> list[str]:
    """What is wrong with these citations: files, tests or parametrisations that do not exist."""
    names = _test_names()
    missing = [f"{c}: no such file" for c in found if c.file and c.file.startswith("missing:")]
    files: set[str] = set()
    for c in found:
        if c.file and c.file.startswith("missing:"):
            continue
        if c.name is None:
            if c.file:
                files.add(c.file)
            continue
        defined = {f for n, fs in names.items()
                   if (n.startswith(c.name) if c.prefix else n == c.name) for f in fs}
        if c.file:
            defined &= {c.file}
        if not defined:
            missing.append(f"{c}: no test {'starting with ' if c.prefix else ''}{c.name!r}"
                           f" in {c.file or 'tests/'}")
        files |= defined
    if any(c.params for c in found) and files:
        node_ids = _collected(files)
        missing += [f"{c}: no parametrisation [{c.params}] of {c.name}" for c in found
                    if c.params is not None and c.name is not None
                    and not any(_matches(c, node_id) for node_id in node_ids)]
    return missing


def test_every_test_security_md_names_exists():
    missing = problems(citations())
    assert not missing, "SECURITY.md cites tests that do not exist:\n" + "\n".join(missing)


@pytest.mark.parametrize("text, file, name, prefix, params", [
    ("security/test_sessions.py::test_expired_tokens_are_unauthorized",
     "tests/security/test_sessions.py", "test_expired_tokens_are_unauthorized", None, None),
    ("test_logout_…", None, "test_logout_", "…", None),
    ("test_only_served_namespaces_accept_a_connect[*-/]", None,
     "test_only_served_namespaces_accept_a_connect", None, "*-/"),
    ("unit/test_compat.py", "tests/unit/test_compat.py", None, None, None),
    ("[database-url]", None, None, None, "database-url"),
])
def test_the_citation_forms_parse(text, file, name, prefix, params):
    m = CITATION.match(text)
    assert m is not None
    assert (_resolve_file(m.group("file")) if m.group("file") else None) == file
    assert m.group("name", "prefix", "params") == (name, prefix, params)


def test_a_missing_test_file_or_parametrisation_is_reported(tmp_path, monkeypatch):
    """The check can fail: each kind of dangling citation is reported by name."""
    doc = tmp_path / "SECURITY.md"
    doc.write_text(
        "| x | y | `security/test_sessions.py::test_no_such_test_here`, `security/test_nowhere.py` |\n"
        "| x | y | `security/test_sessions.py::test_expired_tokens_are_unauthorized`, `[nosuchparam]` |\n"
        "| x | y | `test_gone_…` |\n", encoding="utf-8")
    monkeypatch.setattr(sys.modules[__name__], "SECURITY_MD", doc)
    report = "\n".join(problems(citations()))
    for expected in ("'test_no_such_test_here' in tests/security/test_sessions.py",
                     "`security/test_nowhere.py`: no such file",
                     "no parametrisation [nosuchparam]",
                     "no test starting with 'test_gone_' in tests/"):
        assert expected in report, report
