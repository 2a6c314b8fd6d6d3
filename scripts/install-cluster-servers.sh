#!/usr/bin/env bash
# Install what a cluster crawl and its tests need, if missing: Debian's Redis and PostgreSQL
# servers, and scrapy-redis (the shared scheduler and duplicate filter).
# Idempotent: installs only what is missing. The servers need root (or sudo).
#
# scrapy-redis is installed without its dependencies: it declares redis>=4.2, while pywb (the
# replay) pins redis==2.10.6, so pip cannot install both; scrapy-redis's code runs on redis-py
# 2.10.6 (the cluster tests run it on that version against a real Redis). Hence the pin too.
set -euo pipefail
source "$(dirname "$0")/_apt.sh"

missing=()
command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing+=(postgresql)
if [ ${#missing[@]} -gt 0 ]; then
    apt_install "${missing[@]}"
fi
"${PYTHON:-python3}" -c "import scrapy_redis" 2>/dev/null || "${PYTHON:-python3}" -m pip install -q --no-deps 'scrapy-redis==0.9.1'
command -v redis-server
ls /usr/lib/postgresql/*/bin/initdb
