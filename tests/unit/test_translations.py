"""The gettext catalogues are complete and compiled (templates and Python).

Extraction runs here, as `make translations` runs it (scripts/translations.py,
babel.cfg), into a temporary .pot: a string added to a template or an error
message without a Chinese translation fails this test, and so does a
messages.po edited without `make translations` compiling its .mo.
"""
from __future__ import annotations

import gettext
import subprocess
import sys
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[2]
PO = ROOT / "translations" / "zh_Hans_CN" / "LC_MESSAGES" / "messages.po"
MO = PO.with_suffix(".mo")


@pytest.fixture(scope="module")
def template(tmp_path_factory):
    pot = tmp_path_factory.mktemp("i18n") / "messages.pot"
    subprocess.run([sys.executable, str(ROOT / "scripts" / "translations.py"), "extract", str(pot)],
                   check=True, cwd=ROOT, capture_output=True, text=True)
    with pot.open("rb") as fh:
        return read_po(fh)


@pytest.fixture(scope="module")
def chinese():
    with PO.open("rb") as fh:
        return read_po(fh, locale="zh_CN")


def test_extraction_sees_templates_and_python(template):
    ids = {m.id for m in template if m.id}
    # One from a template, one from a service, one from the event wrapper, one
    # marked N_ for later: a broken babel.cfg or keyword list would pass the
    # completeness test below with nothing to check.
    for msgid in ("Direct messages", "Join the room first.", "Send one payload object per event.",
                  "%(where)s: required", "Please log in to continue."):
        assert msgid in ids, msgid
    assert len(ids) > 150


def test_every_msgid_has_a_chinese_translation(template, chinese):
    missing = [(m.context, m.id) for m in template
               if m.id and not ((found := chinese.get(m.id, m.context)) and found.string)]
    assert not missing, "no zh_CN translation (run `make translations`, then translate):\n" + \
        "\n".join(map(str, missing))


def test_no_translation_is_fuzzy_or_broken(chinese):
    fuzzy = [m.id for m in chinese if m.id and m.fuzzy]
    assert not fuzzy, f"fuzzy (check, then remove the flag): {fuzzy}"
    # Babel's checks: the %(name)s placeholders of msgid and msgstr agree.
    problems = [(m.id, [str(e) for e in errors]) for m, errors in chinese.check()]
    assert not problems, problems


def test_the_compiled_catalogue_is_up_to_date(chinese):
    with MO.open("rb") as fh:
        compiled = gettext.GNUTranslations(fh)
    # GNU gettext keys a message with a context as "context\x04msgid".
    expected = {(f"{m.context}\x04{m.id}" if m.context else m.id): m.string
                for m in chinese if m.id and m.string and not m.fuzzy}
    stale = {k: v for k, v in expected.items() if compiled._catalog.get(k) != v}
    assert not stale, f"messages.mo differs from messages.po: run `make translations` ({stale})"
    extra = set(compiled._catalog) - set(expected) - {""}
    assert not extra, f"messages.mo has msgids messages.po no longer has: {extra}"


def test_translated_placeholders_fill_in():
    """A translation that drops or renames a placeholder breaks at run time:
    every python-format msgstr is formatted once with its msgid's names."""
    import re

    with PO.open("rb") as fh:
        catalog = read_po(fh)
    for m in catalog:
        if not m.id or "%(" not in m.id:
            continue
        names = set(re.findall(r"%\((\w+)\)", m.id))
        values = {n: "x" for n in names}
        m.string % values  # raises KeyError/ValueError when broken
        assert set(re.findall(r"%\((\w+)\)", m.string)) == names, m.id
