"""The committed browser builds in static/vendor/: all there at start-up, or stop.

The pages load socket.io-client and uPlot from static/vendor/ (no CDN). A
checkout that lost one of them (a partial copy, a deploy that skipped the
folder, a stray ``git clean``) used to start fine and serve a chat page that
could not connect, with nothing in the log. ``python app.py`` and wsgi.py ask
:func:`check` first and stop with one line naming the file instead.
VERSIONS.json, written by scripts/vendor.sh, lists every vendored file.
"""
from __future__ import annotations

import json
from pathlib import Path

MANIFEST = "VERSIONS.json"
HOW_TO_FIX = "restore it with `git checkout -- static/vendor`, or run `make vendor`"


def check(vendor_dir: str | Path) -> str | None:
    """None when every file VERSIONS.json lists is present; else one line naming what is missing."""
    vendor_dir = Path(vendor_dir)
    manifest = vendor_dir / MANIFEST
    try:
        files = json.loads(manifest.read_text(encoding="utf-8"))["files"]
    except FileNotFoundError:
        return f"{_shown(manifest)} is missing, so the browser builds cannot be checked; {HOW_TO_FIX}"
    except (OSError, ValueError, KeyError, TypeError) as exc:
        return f"{_shown(manifest)} cannot be read ({exc}); {HOW_TO_FIX}"
    missing = [name for name in files if not (vendor_dir / name).is_file()]
    if not missing:
        return None
    more = f" (and {len(missing) - 1} more)" if len(missing) > 1 else ""
    return f"{_shown(vendor_dir / missing[0])} is missing{more}; the pages need it: {HOW_TO_FIX}"


def _shown(path: Path) -> str:
    """Relative to the working directory when inside it (``static/vendor/...``), else absolute."""
    path = path.absolute()
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)
