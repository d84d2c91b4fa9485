#!/usr/bin/env bash
# Debian packages the test suite talks to for real: Redis (Celery's broker in
# tests/test_background.py), OpenSSH's sshd (the SFTP drop-folder tests) and Chromium, which
# Playwright drives headless in tests/web/browser (Playwright's own browser download is not used).
# Chromium recommends fonts-liberation, which --no-install-recommends leaves out; it and DejaVu
# (wide Unicode coverage) are named so that screenshots render the same glyphs on every machine.
# PostgreSQL comes from with-postgres.sh. Idempotent and quiet: installs only what is missing. The packages' own
# services are kept from starting (policy-rc.d): the tests start their own on free ports.
set -euo pipefail
missing=()
command -v redis-server >/dev/null || [ -x /usr/bin/redis-server ] || missing+=(redis-server)
[ -x /usr/sbin/sshd ] || missing+=(openssh-server)
[ -x /usr/bin/chromium ] || missing+=(chromium)
[ -e /usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf ] || missing+=(fonts-liberation)
[ -e /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ] || missing+=(fonts-dejavu-core)
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" != 0 ]; then
    echo "missing: ${missing[*]}; install as root: apt-get install ${missing[*]}" >&2
    exit 1
fi
echo "== installing ${missing[*]} (apt-get)"
policy=/usr/sbin/policy-rc.d
made_policy=
if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' >"$policy" && chmod +x "$policy" && made_policy=1
fi
trap 'if [ -n "$made_policy" ]; then rm -f "$policy"; fi' EXIT
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
