#!/usr/bin/env bash
# Refresh docs/replaywebpage.png, the README's picture of an export opened in ReplayWeb.page.
# The browser test takes the screenshot (into its tmp folder); this copies it into the repo.
# Run from an installed checkout (pip install -e '.[test]'), e.g. in its virtual environment.
set -euo pipefail
cd "$(dirname "$0")/.."
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
python -m pytest -q -p no:cacheprovider --basetemp "$tmp" \
    tests/test_replay_replaywebpage.py -k lists_searches_and_shows
shot="$(find "$tmp" -name replaywebpage.png | head -n 1)"
if [ -z "$shot" ]; then
    echo "refresh-screenshot: the test took no screenshot (skipped?)" >&2
    exit 1
fi
mkdir -p docs
cp "$shot" docs/replaywebpage.png
echo "docs/replaywebpage.png ($(stat -c %s docs/replaywebpage.png) bytes)"
