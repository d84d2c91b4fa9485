#!/usr/bin/env bash
# Debian packages the test suite talks to for real (Redis for Celery; see tests/test_background.py).
# Idempotent and quiet: installs only what is missing. PostgreSQL comes from with-postgres.sh.
set -euo pipefail
missing=()
command -v redis-server >/dev/null || missing+=(redis-server)
if [ ${#missing[@]} -gt 0 ]; then
    echo "== installing ${missing[*]} (apt-get)"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi
