#!/usr/bin/env bash
# Install ReplayWeb.page (the npm package `replaywebpage`: ui.js, sw.js, index.html) into a
# folder that any static web server can serve beside a WACZ file. Used by the ReplayWeb.page
# browser test and bench/bench_wacz.py; works for people too (see README, "Open an export").
#
#   scripts/install-replaywebpage.sh [DIR]     # prints DIR when done
#
# DIR defaults to ~/.cache/dcs-archiver/replaywebpage-VERSION. Idempotent: an installed DIR
# is left as it is. Needs npm (Debian's `npm` is installed with apt-get when missing, which
# needs root or sudo). VERSION is the one the tests were written against (they read its
# page list and search box, which are not an API); REPLAYWEBPAGE_VERSION=x.y.z picks another.
set -euo pipefail
source "$(dirname "$0")/_apt.sh"

VERSION="${REPLAYWEBPAGE_VERSION:-2.5.3}"
DIR="${1:-${XDG_CACHE_HOME:-$HOME/.cache}/dcs-archiver/replaywebpage-$VERSION}"
FILES=(ui.js sw.js index.html LICENSE)

installed() {
    for name in "${FILES[@]}"; do [ -s "$DIR/$name" ] || return 1; done
    [ "$(cat "$DIR/VERSION" 2>/dev/null)" = "$VERSION" ]
}

if installed; then
    echo "$DIR"
    exit 0
fi

if ! command -v npm >/dev/null 2>&1; then
    apt_install npm >&2  # stdout says where ReplayWeb.page is, and nothing else
fi

# `npm pack` fetches the package's tarball alone: its built ui.js and sw.js need none of
# its dependencies (Electron among them), which `npm install` would fetch.
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
(cd "$work" && npm pack --silent "replaywebpage@$VERSION" >/dev/null)
tar -xzf "$work"/replaywebpage-*.tgz -C "$work"
mkdir -p "$DIR"
for name in "${FILES[@]}"; do
    cp "$work/package/$name" "$DIR/$name"
done
echo "$VERSION" > "$DIR/VERSION"
echo "$DIR"
