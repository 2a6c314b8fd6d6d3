#!/usr/bin/env bash
# Install Debian's headless-capable Chromium for the replay browser test, if missing.
# Idempotent: does nothing when `chromium` is already on PATH. Needs root (or sudo).
set -euo pipefail
source "$(dirname "$0")/_apt.sh"

if command -v chromium >/dev/null 2>&1; then
    echo "chromium already installed: $(command -v chromium)"
    exit 0
fi

apt_install chromium fonts-dejavu-core
command -v chromium
