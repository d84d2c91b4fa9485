#!/usr/bin/env bash
# Debian packages the test suite talks to: OpenSSH's sshd serves the SFTP drop-folder tests.
# Idempotent and quiet: installs only what is missing. The package's own service is kept from
# starting (policy-rc.d), so no system sshd is left listening on port 22.
set -euo pipefail
[ -x /usr/sbin/sshd ] && exit 0
if [ "$(id -u)" != 0 ]; then
    echo "openssh-server is missing; install it as root: apt-get install openssh-server" >&2
    exit 1
fi
echo "== installing openssh-server (apt-get)"
policy=/usr/sbin/policy-rc.d
made_policy=
if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' >"$policy" && chmod +x "$policy" && made_policy=1
fi
trap 'if [ -n "$made_policy" ]; then rm -f "$policy"; fi' EXIT
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends openssh-server >/dev/null
