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

version="$(node -p 'require(process.argv[1]).version' "$root/node_modules/socket.io-client/package.json" 2>/dev/null || echo '?')"
echo "vendor.sh: socket.io-client $version, uPlot -> ${dest#"$root"/}/"
