#!/usr/bin/env bash
# Debian packages the test suite talks to for real: Redis (Celery's broker in
# tests/test_background.py), OpenSSH's sshd (the SFTP drop-folder tests), Chromium, which
# Playwright drives headless in tests/web/browser (Playwright's own browser download is not used),
# and what the production stack runs (tests/stack: PostgreSQL, openssl for its certificate).
# Chromium recommends fonts-liberation, which --no-install-recommends leaves out; it and DejaVu
# (wide Unicode coverage) are named so that screenshots render the same glyphs on every machine.
set -euo pipefail
cd "$(dirname "$0")"
exec ./apt-install.sh \
    redis-server=/usr/bin/redis-server \
    openssh-server=/usr/sbin/sshd \
    chromium=/usr/bin/chromium \
    fonts-liberation=/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf \
    fonts-dejavu-core=/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf \
    postgresql=/usr/lib/postgresql \
    openssl=/usr/bin/openssl
