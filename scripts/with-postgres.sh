#!/usr/bin/env bash
# Run a command against a throwaway PostgreSQL cluster on loopback, then stop the cluster.
#   scripts/with-postgres.sh pytest -q
# Installs Debian's postgresql if it is missing. The cluster lives in .pg-test/ and listens on
# 127.0.0.1:${PGTEST_PORT:-54329} (override both with PGTEST_DIR / PGTEST_PORT to run several at
# once); DATABASE_URL points the command at it.
set -euo pipefail
cd "$(dirname "$0")/.."
port="${PGTEST_PORT:-54329}"
root="${PGTEST_DIR:-$PWD/.pg-test}"

bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
if [ -z "$bindir" ]; then
    echo "== installing postgresql (apt-get)"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
    bindir=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
fi

# initdb refuses to run as root: use the postgres system user the package created.
as_owner() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }

rm -rf "$root"
mkdir -p "$root"
[ "$(id -u)" = 0 ] && chown postgres "$root"
as_owner "$bindir/initdb" -D "$root/data" -U postgres -A trust --no-sync -E UTF8 >/dev/null
as_owner "$bindir/pg_ctl" -D "$root/data" -l "$root/log" -w -o \
    "-c listen_addresses=127.0.0.1 -p $port -k $root -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" \
    start >/dev/null
trap 'as_owner "$bindir/pg_ctl" -D "$root/data" -m fast stop >/dev/null 2>&1 || true' EXIT

export DATABASE_URL="postgres://postgres@127.0.0.1:$port/scheduler"
"$bindir/createdb" -h 127.0.0.1 -p "$port" -U postgres scheduler
"$@"
