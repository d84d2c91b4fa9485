#!/usr/bin/env bash
# The embedded default, as `make run` starts it: migrate, collect static files, load the demo
# data (printing the URL and login), then serve with granian and one task worker
# (scheduler_site/embedded.py) until Ctrl-C.
#
# Environment (all optional): HOST, PORT; DATABASE_URL (default: SQLite in db.sqlite3);
# DEBUG (default false: no debug pages, no query log); VAR_DIR (default var/: the generated
# SECRET_KEY, the task queue and the beat schedule); anything else settings.py reads.
set -euo pipefail
cd "$(dirname "$0")/.."
python=${PYTHON:-.venv/bin/python}
export HOST=${HOST:-127.0.0.1} PORT=${PORT:-8000}
export DEBUG=${DEBUG:-false}
# Plain HTTP on this machine: no https redirect, no Secure-only cookies.
export HTTPS=${HTTPS:-false}
export ALLOWED_HOSTS=${ALLOWED_HOSTS:-127.0.0.1,localhost,$HOST}
var=${VAR_DIR:-$PWD/var}
mkdir -p "$var"
if [ -z "${SECRET_KEY:-}" ]; then
    # One key per installation, kept across restarts so that sign-ins survive them.
    if [ ! -s "$var/secret-key" ]; then
        (umask 077 && "$python" -c 'import secrets; print(secrets.token_urlsafe(50))' >"$var/secret-key")
    fi
    SECRET_KEY=$(cat "$var/secret-key")
    export SECRET_KEY
fi
[ -n "${REDIS_URL:-}" ] || export TASK_QUEUE_DIR=${TASK_QUEUE_DIR:-$var/tasks}

"$python" manage.py migrate --no-input -v 0
"$python" manage.py collectstatic --no-input -v 0
"$python" manage.py seed_demo --url "http://$HOST:$PORT/"
echo "Serving on http://$HOST:$PORT/  (Ctrl-C to stop)"
exec "$python" -m scheduler_site.embedded
