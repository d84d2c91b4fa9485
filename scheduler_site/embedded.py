"""gunicorn settings for the embedded default (`make run`, scripts/serve.sh):

    python -m gunicorn -c python:scheduler_site.embedded scheduler_site.wsgi

A production WSGI server, not Django's runserver (one thread and one SQLite connection per
request, never closed: under 100 clients it failed 4 % of requests and grew to 1.5 GiB). Two
processes with a few threads each bound the SQLite connections to WEB_WORKERS x WEB_THREADS,
which WAL and the busy timeout serve without "database is locked".

Beside gunicorn's master runs one Celery worker process (with beat, for the periodic tasks) on
the file queue in TASK_QUEUE_DIR (settings.py): bulk imports and feed publishing leave the
request that sent them. It is started before the web workers fork and stopped when gunicorn
exits. Tasks wait in the queue's files while it is down (the next start takes them up), and
stale bulk jobs are recovered when it starts (calendar_app/imports/jobs.py, `recover`).
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from pathlib import Path

from scheduler_site import production

log = logging.getLogger("gunicorn.error")

# The production server's settings (scheduler_site/production.py), with two processes of four
# threads by default: the embedded default is one machine's service, and its SQLite serves a
# handful of connections best.
bind, worker_class, certfile, keyfile = production.bind, production.worker_class, None, None
workers = int(os.environ.get("WEB_WORKERS", "2"))
threads = production.threads
max_requests, max_requests_jitter = production.max_requests, production.max_requests_jitter
timeout, keepalive, graceful_timeout = production.timeout, production.keepalive, production.graceful_timeout
accesslog, loglevel = production.accesslog, production.loglevel
control_socket_disable = production.control_socket_disable
child_exit = production.child_exit

_worker: subprocess.Popen | None = None


def worker_command() -> list[str]:
    schedule = Path(os.environ.get("TASK_QUEUE_DIR", ".")) / "beat-schedule"
    return [
        # -W: Celery warns at length when run as root, which `make run` in a container is.
        sys.executable, "-W", "ignore:You're running the worker with superuser",
        "-m", "celery", "-A", "scheduler_site", "--quiet", "worker", "--beat",
        "--schedule", str(schedule), "--pool", "threads", "--concurrency", "2",
        # The file queue has no broadcast: no gossip, mingle or event heartbeats to wait for.
        "--without-gossip", "--without-mingle", "--without-heartbeat", "--loglevel", "INFO",
    ]  # fmt: skip


def start_task_worker() -> None:
    global _worker
    queue = os.environ.get("TASK_QUEUE_DIR")
    if not queue or os.environ.get("REDIS_URL"):
        return  # tasks run eagerly, or on workers of their own (production)
    for folder in ("messages", "control"):
        Path(queue, folder).mkdir(parents=True, exist_ok=True)
    _worker = subprocess.Popen(worker_command(), stdin=subprocess.DEVNULL)
    log.info("Started the task worker (pid %s) on %s", _worker.pid, queue)


def stop_task_worker() -> None:
    if _worker is None or _worker.poll() is not None:
        return
    _worker.terminate()  # Celery's warm shutdown: the task in hand finishes
    try:
        _worker.wait(timeout=30)
    except subprocess.TimeoutExpired:
        _worker.kill()


# ---------------------------------------------------------------- gunicorn server hooks


def on_starting(server) -> None:
    start_task_worker()


def on_exit(server) -> None:
    stop_task_worker()
