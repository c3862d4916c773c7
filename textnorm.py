"""What a person types and others see: invisible characters, look-alike keys, log escaping.

Core module (imports nothing of the app), shared by the services (names and
message text), logs.py (escaping every logged value) and the migration that
backfills the keys (which keeps its own frozen copy of ``name_key``).

Why not a library: the standard ``unicodedata`` has the two pieces needed
(NFKC and the general categories); the PRECIS framework (RFC 8264/8265,
``precis-i18n`` on PyPI) would refuse more but also every non-ASCII username
rule we do not have, and it does not cover room names or the log side.

Attack runs showed three ways to make a second account or room that the page
shows exactly like an existing one: a trailing newline (``root\\n``, the
browser renders it as nothing), Unicode compatibility forms (``ｒｏｏｔ``
fullwidth, ``ℌ``, ligatures) and characters that are invisible or that only
change the display direction (``ro\\u200bot``, ``\\u202eroot``). Two names are
therefore the same name when their ``name_key`` is equal: invisible characters
removed, NFKC, case folded (``casefold``, not ``lower``: ``ß``/``ss``,
final sigma), NFKC again (case folding can undo it), and runs of white space
made one space (HTML shows ``a  b`` exactly like ``a b``).
"""
from __future__ import annotations

import re
import unicodedata

# Characters that draw nothing (or only move other characters) on a page, by
# general category: Cc (C0/C1 controls: \n, \r, \t, NEL...) and Cf (format:
# zero-width space/non-joiner/joiner U+200B-D, LRM/RLM U+200E/F, bidi
# embeddings and overrides U+202A-E, isolates U+2066-9, word joiner U+2060,
# BOM U+FEFF, soft hyphen U+00AD, Arabic letter mark U+061C, Mongolian vowel
# separator U+180E, the tag characters U+E0000 block...), and Zl/Zp (U+2028/9:
# line and paragraph separators break a line like \n does).
INVISIBLE_CATEGORIES = frozenset({"Cc", "Cf", "Zl", "Zp"})

# ... and characters that are blank on screen although their category says
# letter or mark, so the category test misses them (the list Unicode's
# "Default_Ignorable_Code_Point" property adds beyond Cf, plus the blank
# Braille pattern and the Hangul fillers often used as invisible names).
INVISIBLE_EXTRA = frozenset(
    "\u034f"  # combining grapheme joiner (Mn)
    "\u115f\u1160\u3164\uffa0"  # Hangul fillers (Lo): render as nothing
    "\u17b4\u17b5"  # Khmer inherent vowels (Mn): invisible
    "\u180b\u180c\u180d\u180f"  # Mongolian free variation selectors (Mn)
    "\u2800"  # Braille pattern blank (So): an empty cell
    + "".join(chr(c) for c in range(0xFE00, 0xFE10))  # variation selectors 1-16 (Mn)
    + "".join(chr(c) for c in range(0xE0100, 0xE01F0))  # variation selectors 17-256 (Mn)
)

# Characters that reorder what is displayed around them (the "Trojan Source"
# set, CVE-2021-42574) or that break a line: refused in names outright,
# not just ignored for the comparison, because the name shown would differ
# from the name read (``\u202eroot`` shows as "toor").
DIRECTIONAL = frozenset(
    "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
)


def is_invisible(ch: str) -> bool:
    return ch in INVISIBLE_EXTRA or unicodedata.category(ch) in INVISIBLE_CATEGORIES


def strip_invisible(text: str) -> str:
    """``text`` without the characters that draw nothing (see above)."""
    return "".join(ch for ch in text if not is_invisible(ch))


def is_blank(text: str) -> bool:
    """True if nothing would show: empty after removing invisible characters and white space."""
    return not strip_invisible(text).strip()


_SPACES = re.compile(r"\s+")


def name_key(name: str) -> str:
    """The key two names share exactly when a reader cannot tell them apart.

    Stored in ``users.username_key`` and ``rooms.name_key`` under a UNIQUE
    index, so the database refuses a look-alike even if a code path forgets
    to check. ``migrations/versions/0003_name_keys.py`` has a frozen copy.
    """
    key = unicodedata.normalize("NFKC", strip_invisible(name))
    key = unicodedata.normalize("NFKC", key.casefold())
    key = strip_invisible(key)  # NFKC never makes one today; cheap insurance
    return _SPACES.sub(" ", key).strip()


def control_in_name(name: str) -> str | None:
    """The first line-breaking, control or direction-changing character of ``name``, or None."""
    for ch in name:
        if ch in DIRECTIONAL or unicodedata.category(ch) in ("Cc", "Zl", "Zp"):
            return ch
    return None


def escape_for_log(value: str) -> str:
    """``value`` with every invisible character as ``\\xNN``/``\\uNNNN``/``\\UNNNNNNNN``.

    A log line is one record: a client-chosen CR/LF (or U+2028, which some
    viewers break on) would start a forged line, and a bidi override would
    make the line read differently from what it holds. Backslash is escaped
    too, so an escape sequence in the input cannot pass for one of ours.
    """
    if value.isascii() and value.isprintable() and "\\" not in value:
        return value  # the common case, without a per-character loop
    out = []
    for ch in value:
        if ch == "\\":
            out.append("\\\\")
        elif is_invisible(ch) or ch in DIRECTIONAL:
            code = ord(ch)
            out.append(f"\\x{code:02x}" if code < 0x100 else
                       f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}")
        else:
            out.append(ch)
    return "".join(out)
