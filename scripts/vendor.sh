#!/usr/bin/env bash
# Copy the browser builds of socket.io-client and uPlot from node_modules into
# static/vendor/, where the pages load it from (served by Flask, no CDN).
#
# Run after `npm ci` (or `npm install`). Idempotent: running it again just
# overwrites the same files. static/vendor/ is git-ignored; setup creates it.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
src="$root/node_modules/socket.io-client/dist"
dest="$root/static/vendor"

if [[ ! -d "$root/node_modules" ]]; then
    echo "vendor.sh: $root/node_modules is missing; run 'npm ci' in $root first." >&2
    exit 1
fi
if [[ ! -f "$src/socket.io.min.js" ]]; then
    echo "vendor.sh: $src/socket.io.min.js not found; is socket.io-client installed? Run 'npm ci' in $root." >&2
    exit 1
fi

mkdir -p "$dest"
cp -f "$src/socket.io.min.js" "$dest/socket.io.min.js"
if [[ -f "$src/socket.io.min.js.map" ]]; then
    cp -f "$src/socket.io.min.js.map" "$dest/socket.io.min.js.map"
fi

# uPlot: the small canvas charting library of the market and admin pages.
uplot="$root/node_modules/uplot/dist"
if [[ ! -f "$uplot/uPlot.iife.min.js" ]]; then
    echo "vendor.sh: $uplot/uPlot.iife.min.js not found; run 'npm ci' in $root." >&2
    exit 1
fi
cp -f "$uplot/uPlot.iife.min.js" "$dest/uPlot.iife.min.js"
cp -f "$uplot/uPlot.min.css" "$dest/uPlot.min.css"

# The Socket.IO Admin UI (served to admins at /admin/socketio/ when
# SOCKETIO_ADMIN_UI is on) and its icon font, instead of the CDNs its
# index.html names: the page's CSP allows only this origin.
ui="$root/node_modules/@socket.io/admin-ui/ui/dist"
mdi="$root/node_modules/@mdi/font"
if [[ ! -f "$ui/index.html" || ! -f "$mdi/css/materialdesignicons.min.css" ]]; then
    echo "vendor.sh: @socket.io/admin-ui or @mdi/font missing from node_modules; run 'npm ci' in $root." >&2
    exit 1
fi
rm -rf "$dest/socketio-admin-ui"
mkdir -p "$dest/socketio-admin-ui/mdi"
cp -R "$ui/." "$dest/socketio-admin-ui/"
cp -R "$mdi/css" "$mdi/fonts" "$dest/socketio-admin-ui/mdi/"
sed -i -e 's#<link rel="stylesheet" href="https://fonts.googleapis.com/[^"]*">##' \
       -e 's#https://cdn.jsdelivr.net/npm/@mdi/font@latest/css/materialdesignicons.min.css#mdi/css/materialdesignicons.min.css#' \
       "$dest/socketio-admin-ui/index.html"
if grep -q 'https://' "$dest/socketio-admin-ui/index.html"; then
    echo "vendor.sh: the Admin UI's index.html still loads from another site; update the rewrite above." >&2
    exit 1
fi

version="$(node -p 'require(process.argv[1]).version' "$root/node_modules/socket.io-client/package.json" 2>/dev/null || echo '?')"
echo "vendor.sh: socket.io-client $version, uPlot, Socket.IO Admin UI -> ${dest#"$root"/}/"
