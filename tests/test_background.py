"""Background work on a real Celery worker over a real Redis: the way production runs it.

The worker is a separate process (`celery -A scheduler_site worker`, tests/background.py) on the
test database, so these tests commit for real (transactional_db) and wait for the worker's effects
in the database.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from calendar_app import fragments
from calendar_app.imports import jobs
from calendar_app.models import BulkUpload, ScheduleEvent, ScheduleResource
from tests.background import (  # noqa: F401 (fixtures)
    eventually,
    fixture_broker,
    fixture_redis_server,
    fixture_redis_url,
    fixture_start_worker,
    fixture_worker,
)

pytestmark = pytest.mark.django_db(transaction=True)


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
