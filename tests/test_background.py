"""Background work on a real Celery worker over a real Redis: the way production runs it.

The worker is a separate process (`celery -A scheduler_site worker`) on the test database, so
these tests commit for real (transactional_db) and wait for the worker's effects in the database.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
import redis
from django.db import connection

from calendar_app import fragments
from calendar_app.imports import jobs
from calendar_app.models import BulkUpload, ScheduleEvent, ScheduleResource
from scheduler_site.celery import app

ROOT = Path(__file__).resolve().parent.parent
WAIT = 60  # seconds; a worker normally answers in well under one

pytestmark = pytest.mark.django_db(transaction=True)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def eventually(check: Callable[[], bool], what: str, log: Path | None = None) -> None:
    deadline = time.monotonic() + WAIT
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.1)
    tail = log.read_text()[-3000:] if log else ""
    pytest.fail(f"{what} did not happen within {WAIT} s\n{tail}")


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory):
    binary = shutil.which("redis-server")
    assert binary, "redis-server is missing: `make test` installs it (scripts/install-test-packages.sh)"
    port, folder = free_port(), tmp_path_factory.mktemp("redis")
    args = [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
    server = subprocess.Popen([*args, "--dir", str(folder)], stdout=subprocess.DEVNULL)
    url = f"redis://127.0.0.1:{port}/0"
    client = redis.Redis.from_url(url)

    def answers() -> bool:
        try:
            return client.ping()
        except redis.ConnectionError:
            return False

    eventually(answers, "redis-server start")
    yield url
    server.terminate()
    server.wait(10)


def database_url() -> str:
    """The test database (not the configured one), for the worker process."""
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{db['NAME']}"
    return f"postgres://{db['USER']}:{db['PASSWORD']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"


@pytest.fixture
def worker(redis_url, transactional_db, tmp_path):
    """A Celery worker process, and this process sending tasks to it through Redis."""
    log = tmp_path / "worker.log"
    env = {**os.environ, "REDIS_URL": redis_url, "DATABASE_URL": database_url(), "DB_CONN_MAX_AGE": "0"}
    command = [sys.executable, "-m", "celery", "-A", "scheduler_site", "worker", "--pool", "solo",
               "--without-gossip", "--without-mingle", "--without-heartbeat", "-l", "INFO"]  # fmt: skip
    with log.open("w") as out:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    saved = {k: app.conf[k] for k in ("broker_url", "result_backend", "task_always_eager")}
    app.conf.update(broker_url=redis_url, result_backend=redis_url, task_always_eager=False)
    _forget_connections()
    try:
        eventually(lambda: bool(app.control.ping(timeout=0.5)), "worker start", log)
        yield log
    finally:
        app.conf.update(saved)
        _forget_connections()
        process.terminate()
        process.wait(20)


def _forget_connections() -> None:
    """Connection pools made under the old broker setting would keep using it (what Celery
    does after a fork)."""
    app._after_fork()


CSV = b"*action,name,type,systemName\n1,Hall A,location,hall-a\n1,Hall B,location,hall-b\n"


def finished(job: BulkUpload) -> Callable[[], bool]:
    return lambda: BulkUpload.objects.get(pk=job.pk).status in jobs.DONE


def test_a_bulk_upload_is_processed_by_the_worker(worker, actor):
    job = jobs.submit(actor, BulkUpload.Kind.RESOURCES_CSV, CSV, file_name="rooms.csv")
    eventually(finished(job), "processing", worker)
    job.refresh_from_db()
    assert (job.status, job.num_rows, job.num_errors) == (BulkUpload.Status.FINISHED, 2, 0)
    assert sorted(
        ScheduleResource.objects.for_partner(actor.partner).values_list("system_name", flat=True)
    ) == [
        "hall-a",
        "hall-b",
    ]
    assert "process_bulk_upload[" in worker.read_text()  # the worker ran it, not this process


def test_a_task_delivered_twice_processes_the_file_once(worker, actor):
    rows = b"*action,name,type\n1,Unnamed hall,location\n"  # no systemName: a second run would add twice
    job = jobs.submit(actor, BulkUpload.Kind.RESOURCES_CSV, rows)
    jobs.process_bulk_upload.delay(job.pk)
    eventually(finished(job), "processing", worker)
    eventually(lambda: worker.read_text().count("succeeded") >= 2, "both deliveries", worker)
    assert ScheduleResource.objects.for_partner(actor.partner).filter(name="Unnamed hall").count() == 1


def test_the_worker_publishes_the_fragments_of_a_long_series(worker, make_series, make_resource, partner):
    room = make_resource("Hall 1")
    make_series(count=fragments.INLINE_LIMIT + 10, by_day="MO", resources=[room])
    stale = ScheduleEvent.objects.for_partner(partner).filter(fragments.SHOWN).filter(fragments.STALE)
    eventually(lambda: not stale.exists(), "publishing", worker)
    assert "publish_feeds[" in worker.read_text()
