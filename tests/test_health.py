"""/healthz: the database, Redis, the workers' heartbeats, the beat's last run and the sync queue.

The real-parts tests run a Celery worker (with an embedded beat) over a real Redis
(tests/background.py) and read its heartbeats from Redis, as a web process of the stack does.
Staleness is judged with the clock pinned past the limits.
"""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import pytest
from django.core.cache import caches

from calendar_app import clock, health, heartbeats
from calendar_app.models import SyncOperation
from scheduler_site.celery import app
from tests.background import (  # noqa: F401 (fixtures)
    eventually,
    fixture_broker,
    fixture_redis_server,
    fixture_redis_url,
    fixture_start_worker,
)
from tests.conftest import NOW

REDIS_HEALTH_CACHE = {"BACKEND": "django.core.cache.backends.redis.RedisCache", "KEY_PREFIX": "health",
                      "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1}}  # fmt: skip


def healthz(client) -> tuple[int, dict]:
    response = client.get("/healthz")
    return response.status_code, response.json()


@pytest.fixture
def on_redis(settings, redis_url):
    """This process reads heartbeats where the workers write them, as the stack's web processes do."""
    settings.REDIS_URL = redis_url
    settings.CACHES = {**settings.CACHES, "health": {**REDIS_HEALTH_CACHE, "LOCATION": redis_url}}


@pytest.fixture
def with_workers():
    """Tasks go to workers (not run in-process), so heartbeats count; none is running."""
    saved = app.conf.task_always_eager
    app.conf.task_always_eager = False
    caches["health"].clear()
    yield
    app.conf.task_always_eager = saved


@pytest.fixture
def alive(with_workers, monkeypatch):
    """A worker and the beat that were last heard of at NOW."""
    heartbeats.record_worker("worker1@host", NOW)
    monkeypatch.setattr(heartbeats, "_in_beat", True)
    with clock.pinned(NOW):
        heartbeats.record_beat()


# ---------------------------------------------------------------- in-process (no worker)


@pytest.mark.django_db(transaction=True)
def test_it_is_ok_when_tasks_run_in_process(client):
    status, body = healthz(client)
    assert status == 200
    assert body["status"] == "ok" and body["failed"] == []
    assert set(body["checks"]) == {"database", "redis", "worker", "beat", "sync_queue"}
    assert body["checks"]["worker"] == {"ok": True, "note": "tasks run in-process"}
    assert body["checks"]["redis"] == {"ok": True, "note": "not used"}


# ---------------------------------------------------------------- heartbeats, clock pinned


@pytest.mark.django_db(transaction=True)
def test_it_is_ok_while_the_heartbeats_are_fresh(client, alive):
    with clock.pinned(NOW + timedelta(seconds=59)):
        status, body = healthz(client)
    assert status == 200, body
    assert body["checks"]["worker"] == {"ok": True, "last_seen_seconds": 59, "workers": 1}
    assert body["checks"]["beat"] == {"ok": True, "last_run_seconds": 59}


@pytest.mark.django_db(transaction=True)
def test_it_names_the_worker_when_no_heartbeat_is_fresh(client, alive):
    with clock.pinned(NOW + timedelta(seconds=61)):
        status, body = healthz(client)
    assert (status, body["failed"]) == (503, ["worker"])
    assert body["checks"]["worker"] == {"ok": False, "last_seen_seconds": 61, "workers": 0}


@pytest.mark.django_db(transaction=True)
def test_it_names_the_worker_when_none_was_ever_heard_of(client, with_workers):
    status, body = healthz(client)
    assert status == 503 and "worker" in body["failed"]
    assert body["checks"]["worker"] == {"ok": False, "last_seen_seconds": None, "workers": 0}


@pytest.mark.django_db(transaction=True)
def test_it_counts_each_fresh_worker(client, alive):
    heartbeats.record_worker("worker2@host", NOW - timedelta(seconds=50))
    with clock.pinned(NOW + timedelta(seconds=30)):
        assert healthz(client)[1]["checks"]["worker"]["workers"] == 1
    with clock.pinned(NOW + timedelta(seconds=5)):
        assert healthz(client)[1]["checks"]["worker"]["workers"] == 2


@pytest.mark.django_db(transaction=True)
def test_it_names_the_beat_when_it_sent_nothing_for_too_long(client, alive):
    heartbeats.record_worker("worker1@host", NOW + timedelta(seconds=181))
    with clock.pinned(NOW + timedelta(seconds=181)):
        status, body = healthz(client)
    assert (status, body["failed"]) == (503, ["beat"])
    assert body["checks"]["beat"] == {"ok": False, "last_run_seconds": 181}


def test_only_the_beat_process_records_its_runs(with_workers):
    heartbeats.record_beat()  # a web process or a worker sending a task
    assert heartbeats.last_beat() is None


# ---------------------------------------------------------------- the sync queue


@pytest.mark.django_db(transaction=True)
def test_it_names_the_sync_queue_when_an_operation_waits_too_long(client, partner):
    with clock.pinned(NOW):
        SyncOperation.objects.create(partner=partner, kind=SyncOperation.Kind.EVENT, object_id="1")
    with clock.pinned(NOW + timedelta(seconds=900)):
        assert healthz(client)[0] == 200
    with clock.pinned(NOW + timedelta(seconds=901)):
        status, body = healthz(client)
    assert (status, body["failed"]) == (503, ["sync_queue"])
    assert body["checks"]["sync_queue"] == {"ok": False, "oldest_pending_seconds": 901, "pending": 1}


@pytest.mark.django_db(transaction=True)
def test_an_operation_in_its_backoff_is_not_late(client, partner):
    later = NOW + timedelta(hours=1)
    SyncOperation.objects.create(
        partner=partner, kind=SyncOperation.Kind.EVENT, object_id="1", created_at=NOW, next_attempt_at=later
    )
    with clock.pinned(NOW + timedelta(minutes=30)):
        status, body = healthz(client)
    assert status == 200
    assert body["checks"]["sync_queue"] == {"ok": True, "oldest_pending_seconds": 0, "pending": 1}


@pytest.mark.django_db(transaction=True)
def test_done_and_failed_operations_do_not_wait(client, partner):
    for status in (SyncOperation.Status.DONE, SyncOperation.Status.FAILED):
        SyncOperation.objects.create(
            partner=partner, kind=SyncOperation.Kind.EVENT, object_id=str(status), created_at=NOW,
            next_attempt_at=NOW, status=status,
        )  # fmt: skip
    with clock.pinned(NOW + timedelta(days=1)):
        assert healthz(client)[1]["checks"]["sync_queue"]["pending"] == 0


# ---------------------------------------------------------------- failures say little, and quickly


@pytest.mark.django_db(transaction=True)
def test_a_failed_probe_names_no_host_nor_password(client, settings):
    from bench._server import free_port

    settings.REDIS_URL = f"redis://:s3cret-pass@127.0.0.1:{free_port()}/0"  # nothing listens there
    status, body = healthz(client)
    assert (status, body["failed"]) == (503, ["redis"])
    assert body["checks"]["redis"] == {"ok": False, "error": "ConnectionError"}
    assert "s3cret" not in str(body) and "127.0.0.1" not in str(body)


def test_a_probe_that_hangs_fails_within_the_timeout():
    release = threading.Event()
    started = time.monotonic()
    checks = health.run_all(
        {"stuck": lambda: release.wait(30), "fine": lambda: health.Check(True)}, timeout=0.3
    )
    release.set()
    assert time.monotonic() - started < 2
    assert checks == {
        "stuck": health.Check(False, {"error": "no answer within 0.3 s"}),
        "fine": health.Check(True),
    }


# ---------------------------------------------------------------- real parts


def test_it_is_ok_with_a_real_worker_beat_and_redis(client, on_redis, start_worker):
    worker = start_worker("--beat")
    eventually(lambda: healthz(client)[0] == 200, "all checks passing", worker.log)
    body = healthz(client)[1]
    assert body["checks"]["worker"]["workers"] == 1
    assert body["checks"]["redis"]["ok"] and body["checks"]["beat"]["ok"]


def test_it_names_redis_at_once_when_redis_stops(client, on_redis, broker, redis_server, with_workers):
    redis_server.stop()
    try:
        started = time.monotonic()
        status, body = healthz(client)
        elapsed = time.monotonic() - started
    finally:
        redis_server.start()
    assert status == 503 and "redis" in body["failed"], body
    assert elapsed < 3
