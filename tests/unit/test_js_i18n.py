"""Every string the page scripts show has a Simplified Chinese entry.

The scripts write their words as ``t("English text", {params})``
(static/js/lib/i18n.js); the keys are string literals by rule, so reading the
sources finds all of them. Each must be in static/i18n/zh-CN.json with the same
``{placeholders}``, and the catalogue holds nothing the scripts no longer use.
"""
from __future__ import annotations

import json
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
JS = ROOT / "static" / "js"
CATALOGUE = ROOT / "static" / "i18n" / "zh-CN.json"

# t("...") or t('...'): a call of the function named exactly t.
CALL = re.compile(r"(?<![\w$.])t\(\s*")
LITERAL = re.compile(r"""("(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*')""")
PLACEHOLDER = re.compile(r"\{(\w+)\}")


def _sources() -> list[Path]:
    return sorted(p for p in JS.rglob("*.js") if p.name != "i18n.js")


def _decode(literal: str) -> str:
    """A JS string literal's value (the escapes the sources use are JSON's, plus \\')."""
    if literal[0] == "'":
        literal = '"' + literal[1:-1].replace("\\'", "'").replace('"', '\\"') + '"'
    return json.loads(literal)


def _keys() -> tuple[dict[str, list[str]], list[str]]:
    """key -> where it is used; and the calls whose key is not a literal."""
    keys: dict[str, list[str]] = {}
    dynamic: list[str] = []
    for path in _sources():
        text = path.read_text(encoding="utf-8")
        for match in CALL.finditer(text):
            line = text.count("\n", 0, match.start()) + 1
            where = f"{path.relative_to(ROOT)}:{line}"
            literal = LITERAL.match(text, match.end())
            if literal is None:
                dynamic.append(where)
                continue
            keys.setdefault(_decode(literal.group(1)), []).append(where)
    return keys, dynamic


def _catalogue() -> dict[str, str]:
    return json.loads(CATALOGUE.read_text(encoding="utf-8"))


def test_the_scan_finds_the_scripts_strings():
    keys, _ = _keys()
    # From lib/, market/, admin/ and chat/: a broken scan would pass the rest.
    for key in ("No answer from the server.", "Pick a symbol.", "Kick", "Delete this message?",
                "{name} is typing…"):
        assert key in keys, key
    assert len(keys) > 80


def test_every_key_is_a_literal():
    _, dynamic = _keys()
    assert not dynamic, "t() with a key that is not a string literal (the scan cannot check it): " \
        + ", ".join(dynamic)


def test_every_key_has_a_chinese_entry_with_the_same_placeholders():
    keys, _ = _keys()
    catalogue = _catalogue()
    missing = {k: v for k, v in keys.items() if not isinstance(catalogue.get(k), str)
               or not catalogue[k].strip()}
    assert not missing, "no zh-CN entry in static/i18n/zh-CN.json for:\n" + "\n".join(
        f"{k!r} ({', '.join(v)})" for k, v in missing.items())
    wrong = [k for k in keys if set(PLACEHOLDER.findall(k)) != set(PLACEHOLDER.findall(catalogue[k]))]
    assert not wrong, f"placeholders differ between key and translation: {wrong}"


def test_the_catalogue_has_no_stale_entries():
    keys, _ = _keys()
    stale = sorted(set(_catalogue()) - set(keys))
    assert not stale, f"entries no script uses any more (remove them): {stale}"
