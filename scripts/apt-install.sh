#!/usr/bin/env bash
# Installs the Debian packages that are missing, each named with a path that proves it is there:
#   scripts/apt-install.sh redis-server=/usr/bin/redis-server postgresql=/usr/lib/postgresql
# Idempotent and quiet: installs only what is missing. The packages' own services are kept from
# starting (policy-rc.d): the tests and `make stack` start their own, on their own ports.
set -euo pipefail
missing=()
for wanted in "$@"; do
    package=${wanted%%=*} path=${wanted#*=}
    [ -e "$path" ] || missing+=("$package")
done
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
