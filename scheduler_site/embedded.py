"""The web server of the embedded default (`make run`, scripts/serve.sh):

    python -m scheduler_site.embedded

scheduler_site/production.py's server, not Django's runserver (one thread and one SQLite
connection per request, never closed: under 100 clients it failed 4 % of requests and grew to
1.5 GiB). Two processes of two threads by default (WEB_WORKERS, WEB_THREADS): the embedded
default is one machine's service, and its SQLite serves a handful of connections best, which WAL
and the busy timeout serve without "database is locked".

Beside the server runs one Celery worker process (with beat, for the periodic tasks) on the file
queue in TASK_QUEUE_DIR (settings.py): bulk imports and feed publishing leave the request that
sent them. It is started before the web workers and stopped when the server exits. Tasks wait in
the queue's files while it is down (the next start takes them up), and stale bulk jobs are
recovered when it starts (calendar_app/imports/jobs.py, `recover`).
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from pathlib import Path

from scheduler_site import production

log = logging.getLogger("granian")


class TaskWorker:
    """The Celery worker process beside the web server, when tasks go through the file queue."""

    def __init__(self, environ=os.environ) -> None:
        self.queue = environ.get("TASK_QUEUE_DIR")
        self.wanted = bool(self.queue) and not environ.get("REDIS_URL")  # else eager, or its own workers
        self.process: subprocess.Popen | None = None

    def command(self) -> list[str]:
        schedule = Path(self.queue or ".") / "beat-schedule"
        return [
            # -W: Celery warns at length when run as root, which `make run` in a container is.
            sys.executable, "-W", "ignore:You're running the worker with superuser",
            "-m", "celery", "-A", "scheduler_site", "--quiet", "worker", "--beat",
            "--schedule", str(schedule), "--pool", "threads", "--concurrency", "2",
            # The file queue has no broadcast: no gossip, mingle or event heartbeats to wait for.
            "--without-gossip", "--without-mingle", "--without-heartbeat", "--loglevel", "INFO",
        ]  # fmt: skip

    def start(self) -> None:
        if not self.wanted:
            return
        for folder in ("messages", "control"):
            Path(self.queue, folder).mkdir(parents=True, exist_ok=True)
        self.process = subprocess.Popen(self.command(), stdin=subprocess.DEVNULL)
        log.info("Started the task worker (pid %s) on %s", self.process.pid, self.queue)

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()  # Celery's warm shutdown: the task in hand finishes
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()


def main() -> None:
    server = production.server(workers=2)
    worker = TaskWorker()
    # The server's own hooks run in its main process: before the web workers start, and after
    # they stopped.
    server.on_startup(worker.start)
    server.on_shutdown(worker.stop)
    server.serve()


if __name__ == "__main__":
    main()
