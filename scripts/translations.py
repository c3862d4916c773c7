"""`make translations`: extract, update and compile the gettext catalogues.

    python scripts/translations.py            # all three steps
    python scripts/translations.py extract X  # only the template, to X (the tests use it)

Extraction reads babel.cfg over the app's own sources (never .venv, tests or
bench); ``messages.po`` of each language is then updated with the new and
changed msgids (translate the empty ones, and the ones marked fuzzy), and
compiled to the ``messages.mo`` that is committed beside it: running the app
needs only ``pip install -r requirements.txt``, no compile step.
"""
from __future__ import annotations

import sys
from pathlib import Path

from babel.messages.frontend import CommandLineInterface

ROOT = Path(__file__).resolve().parents[1]
TRANSLATIONS = ROOT / "translations"
POT = TRANSLATIONS / "messages.pot"
# The app's Python and templates; everything else (tests, bench, scripts,
# migrations, deploy) has no string a user of the site reads.
SOURCES = ["app.py", "i18n.py", "errors.py", "money.py", "blueprints", "realtime", "middleware",
           "templates"]
KEYWORDS = ["_l", "N_"]


def pybabel(*args: str) -> None:
    CommandLineInterface().run(["pybabel", "-q", *args])


def extract(out: Path) -> None:
    keywords = [arg for k in KEYWORDS for arg in ("-k", k)]
    pybabel("extract", "-F", str(ROOT / "babel.cfg"), *keywords, "--no-location",
            "--sort-output", "--project", "Switchboard", "--copyright-holder",
            "Switchboard contributors", "-o", str(out),
            *(str(ROOT / s) for s in SOURCES))


def update() -> None:
    pybabel("update", "-i", str(POT), "-d", str(TRANSLATIONS), "--no-fuzzy-matching",
            "--ignore-obsolete")


def compile_all() -> None:
    pybabel("compile", "-d", str(TRANSLATIONS), "--statistics")


def main(argv: list[str]) -> int:
    if argv[:1] == ["extract"]:
        extract(Path(argv[1]) if len(argv) > 1 else POT)
        return 0
    extract(POT)
    update()
    compile_all()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
