#!/usr/bin/env bash
# Copy the browser build of socket.io-client from node_modules into
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

version="$(node -p 'require(process.argv[1]).version' "$root/node_modules/socket.io-client/package.json" 2>/dev/null || echo '?')"
echo "vendor.sh: socket.io-client $version -> ${dest#"$root"/}/"
