#!/usr/bin/env bash
# Copy the browser builds the pages load (socket.io-client, uPlot, the
# Socket.IO Admin UI and its icon font) from node_modules into static/vendor/,
# with their licences and a manifest, VERSIONS.json (package, version from
# package-lock.json, path inside the package, sha256 of every file).
#
# static/vendor/ is committed, so running Switchboard needs no Node: this is
# only for refreshing it after package-lock.json changes. `make vendor` runs
# `npm ci` and then this script; commit what it changed.
# tests/unit/test_vendor.py fails while the committed files and the lock disagree.
#
# Usage: scripts/vendor.sh [DEST]   (DEST defaults to static/vendor; the test
# writes a second copy elsewhere and compares). Idempotent.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
dest="${1:-$root/static/vendor}"
nm="$root/node_modules"
python="${PYTHON:-python3}"

die() { echo "vendor.sh: $*" >&2; exit 1; }

[[ -d "$nm" ]] || die "$nm is missing; run 'npm ci' in $root first (or 'make vendor')."

entries=()  # "dest<TAB>package<TAB>path inside the package"
add() {
    local pkg="$1" src="$2" out="$3"
    [[ -f "$nm/$pkg/$src" ]] || die "$nm/$pkg/$src not found; run 'npm ci' in $root (is $pkg in package.json?)."
    entries+=("$out"$'\t'"$pkg"$'\t'"$src")
}

# socket.io-client: the UMD build today's pages load (templates/live.html),
# the ES module build the pages' next step imports, and their source maps.
for f in socket.io.min.js socket.io.min.js.map socket.io.esm.min.js socket.io.esm.min.js.map; do
    add socket.io-client "dist/$f" "$f"
done

# uPlot, the canvas charts of the market and admin pages: the IIFE build they
# load, its stylesheet and the ES module build (uPlot ships no minified ESM).
for f in uPlot.iife.min.js uPlot.esm.js uPlot.min.css; do
    add uplot "dist/$f" "$f"
done

# The Socket.IO Admin UI (served to admins at /admin/socketio/ when
# SOCKETIO_ADMIN_UI is on), instead of the CDNs its index.html names: the
# page's CSP allows only this origin. Its source maps (3.4 MB, fetched only by
# developer tools) are left out; the file names carry content hashes, so they
# are listed from the package rather than named here.
ui=ui/dist
[[ -f "$nm/@socket.io/admin-ui/$ui/index.html" ]] || die "@socket.io/admin-ui is missing from node_modules; run 'npm ci' in $root."
while IFS= read -r -d '' f; do
    rel="${f#"$nm/@socket.io/admin-ui/$ui/"}"
    add @socket.io/admin-ui "$ui/$rel" "socketio-admin-ui/$rel"
done < <(find "$nm/@socket.io/admin-ui/$ui" -type f ! -name '*.map' -print0 | sort -z)

# Its icon font (@mdi/font): the minified stylesheet index.html is rewritten
# to load, and the two formats that stylesheet offers every browser the UI
# runs in (woff2, woff fallback); the .eot (old IE) and .ttf (2.6 MB) would
# never be fetched.
add @mdi/font css/materialdesignicons.min.css socketio-admin-ui/mdi/css/materialdesignicons.min.css
for f in materialdesignicons-webfont.woff2 materialdesignicons-webfont.woff; do
    add @mdi/font "fonts/$f" "socketio-admin-ui/mdi/fonts/$f"
done

# Licences, verbatim.
add socket.io-client LICENSE licenses/socket.io-client.LICENSE
add uplot LICENSE licenses/uplot.LICENSE
add @socket.io/admin-ui LICENSE licenses/socket.io-admin-ui.LICENSE
add @mdi/font LICENSE licenses/mdi-font.LICENSE

# Start from an empty folder (a new version renames hashed files), keeping the
# hand-written README.md. Only a vendor folder is emptied: not a mistyped DEST.
if [[ "$dest" != "$root/static/vendor" && -n "$(ls -A "$dest" 2>/dev/null)" && ! -f "$dest/VERSIONS.json" ]]; then
    die "$dest is not empty and holds no VERSIONS.json; refusing to empty it."
fi
mkdir -p "$dest"
find "$dest" -mindepth 1 -maxdepth 1 ! -name README.md -exec rm -rf {} +
for e in "${entries[@]}"; do
    IFS=$'\t' read -r out pkg src <<<"$e"
    mkdir -p "$(dirname "$dest/$out")"
    cp -f "$nm/$pkg/$src" "$dest/$out"
done

# The one file changed on the way: the Admin UI's index.html loads Roboto from
# Google Fonts (dropped: the UI falls back to the system sans-serif) and the
# icon font from jsDelivr (pointed at the copy above).
index="$dest/socketio-admin-ui/index.html"
sed -i -e 's#<link rel="stylesheet" href="https://fonts.googleapis.com/[^"]*">##' \
       -e 's#https://cdn.jsdelivr.net/npm/@mdi/font@latest/css/materialdesignicons.min.css#mdi/css/materialdesignicons.min.css#' \
       "$index"
if grep -q 'https://' "$index"; then
    die "the Admin UI's index.html still loads from another site; update the rewrite above."
fi

# The manifest: what each file is, from which package and version (as locked).
list="$(mktemp)"
trap 'rm -f "$list"' EXIT
printf '%s\n' "${entries[@]}" >"$list"
"$python" - "$root/package-lock.json" "$nm" "$dest" "$list" <<'PY'
import hashlib, json, sys
from pathlib import Path

lock_path, nm, dest, listed = sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3]), Path(sys.argv[4])
packages = json.loads(Path(lock_path).read_text())["packages"]
sha = lambda p: hashlib.sha256(p.read_bytes()).hexdigest()
files, used = {}, {}
for line in listed.read_text().splitlines():
    out, pkg, src = line.split("\t")
    locked = packages.get(f"node_modules/{pkg}")
    if locked is None:
        sys.exit(f"vendor.sh: {pkg} is not in package-lock.json")
    installed = json.loads((nm / pkg / "package.json").read_text())["version"]
    if installed != locked["version"]:
        sys.exit(f"vendor.sh: node_modules has {pkg} {installed}, the lock says {locked['version']}; run 'npm ci'")
    used[pkg] = {k: locked[k] for k in ("version", "license", "resolved", "integrity") if locked.get(k)}
    entry = {"package": pkg, "version": locked["version"], "source": src,
             "bytes": (dest / out).stat().st_size, "sha256": sha(dest / out)}
    if entry["sha256"] != sha(nm / pkg / src):
        entry["source_sha256"] = sha(nm / pkg / src)
        entry["changed"] = "third-party URLs rewritten by scripts/vendor.sh"
    files[out] = entry
manifest = {
    "about": "Browser builds copied from node_modules by scripts/vendor.sh (make vendor); "
             "do not edit: tests/unit/test_vendor.py checks every file against the pinned packages.",
    "packages": dict(sorted(used.items())),
    "files": dict(sorted(files.items())),
}
(dest / "VERSIONS.json").write_text(json.dumps(manifest, indent=2) + "\n")
print(f"vendor.sh: {len(files)} files from " + ", ".join(f"{p} {v['version']}" for p, v in sorted(used.items()))
      + f" -> {dest}")
PY
