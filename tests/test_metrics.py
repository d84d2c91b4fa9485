"""/metrics: request latency by view (django-prometheus), tasks run by a real worker (written to
the multiprocess directory it shares with the scrape), device polls, queue depths, and who may
scrape.

This process's own metrics live in prometheus_client's default registry for the whole session,
so a test compares a sample before and after what it does.
"""

from __future__ import annotations

import pytest
from prometheus_client.parser import text_string_to_metric_families

from calendar_app import clock, feed_tokens
from calendar_app.models import BulkUpload, SyncOperation
from scheduler_site.celery import app
from tests.background import (  # noqa: F401 (fixtures)
    eventually,
    fixture_broker,
    fixture_redis_server,
    fixture_redis_url,
    fixture_start_worker,
)

pytestmark = pytest.mark.django_db(transaction=True)
SESSION_START = "/api_v3/service/session/action/start"
LIST = "/api_v3/service/schedule_scheduleevent/action/list"


def scrape(client, **extra) -> dict[tuple[str, frozenset], float]:
    response = client.get("/metrics", **extra)
    assert response.status_code == 200, response.content
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(response.content.decode())
        for sample in family.samples
    }


def sample(client, name: str, **labels: str) -> float:
    return scrape(client).get((name, frozenset(labels.items())), 0.0)


# ---------------------------------------------------------------- requests (django-prometheus)


def test_a_views_latency_is_labelled_by_its_view_name(client):
    latency = "django_http_requests_latency_seconds_by_view_method_count"
    before = sample(client, latency, view="login", method="GET")
    assert client.get("/accounts/login/").status_code == 200
    assert sample(client, latency, view="login", method="GET") == before + 1


def test_responses_are_counted_by_status(client):
    responses = "django_http_responses_total_by_status_view_method_total"
    before = sample(client, responses, view="feed", method="GET", status="404")
    assert client.get("/feeds/no-such-token.ics").status_code == 404
    assert sample(client, responses, view="feed", method="GET", status="404") == before + 1


# ---------------------------------------------------------------- tasks on a real worker


@pytest.fixture
def shared_dir(tmp_path, monkeypatch):
    """The multiprocess directory the worker writes and this process's /metrics reads."""
    folder = tmp_path / "metrics"
    folder.mkdir()
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(folder))
    return folder


def test_a_task_run_by_a_worker_shows_its_duration(client, shared_dir, start_worker):
    worker = start_worker(PROMETHEUS_MULTIPROC_DIR=str(shared_dir))
    app.send_task("calendar_app.tasks.publish_due")
    runs = "scheduler_task_duration_seconds_count"
    eventually(
        lambda: sample(client, runs, task="calendar_app.tasks.publish_due") == 1, "the run", worker.log
    )
    assert sample(client, "scheduler_task_duration_seconds_sum", task="calendar_app.tasks.publish_due") > 0


def test_a_failing_task_is_counted(client, shared_dir, start_worker):
    worker = start_worker(PROMETHEUS_MULTIPROC_DIR=str(shared_dir))
    app.send_task("calendar_app.tasks.sync_apply", args=["not-an-id"])  # its lookup raises ValueError
    failures = "scheduler_task_failures_total"
    eventually(
        lambda: sample(client, failures, task="calendar_app.tasks.sync_apply") == 1, "the failure", worker.log
    )
    assert sample(client, "scheduler_task_duration_seconds_count", task="calendar_app.tasks.sync_apply") == 1


# ---------------------------------------------------------------- device polls


def test_a_feed_poll_is_counted_200_then_304(client, make_resource):
    room = make_resource("Hall 1")
    feed_tokens.ensure(room.partner, [room], clock.now())
    url = f"/feeds/{room.feed.token}.ics"
    polls = "scheduler_device_polls_total"
    fresh, unchanged = (sample(client, polls, kind="feed", answer=a) for a in ("200", "304"))
    etag = client.get(url)["ETag"]
    assert client.get(url, headers={"If-None-Match": etag}).status_code == 304
    assert sample(client, polls, kind="feed", answer="200") == fresh + 1
    assert sample(client, polls, kind="feed", answer="304") == unchanged + 1


def test_an_api_poll_is_counted_by_kind_and_answer(client, partner):
    ks = client.post(SESSION_START, {"secret": partner.admin_secret, "partnerId": partner.pk, "type": 2,
                                     "format": 1}).json()  # fmt: skip
    polls = "scheduler_device_polls_total"
    before = {
        (k, a): sample(client, polls, kind=k, answer=a) for k in ("ical", "api") for a in ("200", "304")
    }
    query = {"ks": ks, "format": "ical", "filter[objectType]": "KalturaScheduleEventFilter"}
    etag = client.get(LIST, query)["ETag"]
    assert client.get(LIST, query, headers={"If-None-Match": etag}).status_code == 304
    assert client.get(LIST, {**query, "format": "1"}).status_code == 200
    after = {key: sample(client, polls, kind=key[0], answer=key[1]) for key in before}
    assert {key: after[key] - before[key] for key in before} == {
        ("ical", "200"): 1,
        ("ical", "304"): 1,
        ("api", "200"): 1,
        ("api", "304"): 0,
    }


# ---------------------------------------------------------------- queue depths, read at scrape time


def test_queue_depths_show_waiting_sync_operations_and_bulk_jobs(client, partner):
    for pk in ("1", "2"):
        SyncOperation.objects.create(partner=partner, kind=SyncOperation.Kind.EVENT, object_id=pk)
    SyncOperation.objects.create(
        partner=partner, kind=SyncOperation.Kind.EVENT, object_id="3", status=SyncOperation.Status.DONE
    )
    BulkUpload.objects.create(partner=partner, kind=BulkUpload.Kind.RESOURCES_CSV, file_data=b"")
    found = scrape(client)
    assert found[("scheduler_sync_operations_waiting", frozenset())] == 2
    assert found[("scheduler_bulk_uploads", frozenset({("state", "waiting")}))] == 1
    assert found[("scheduler_bulk_uploads", frozenset({("state", "processing")}))] == 0


def test_the_celery_queue_depth_is_read_from_redis(client, settings, broker):
    settings.REDIS_URL = broker
    for _ in range(3):
        app.send_task("calendar_app.tasks.publish_due")  # no worker: they wait
    assert sample(client, "scheduler_celery_queue_messages") == 3


def test_a_depth_that_cannot_be_read_is_left_out(client, settings):
    from bench._server import free_port

    settings.REDIS_URL = f"redis://127.0.0.1:{free_port()}/0"  # nothing listens there
    found = scrape(client)
    assert ("scheduler_celery_queue_messages", frozenset()) not in found
    assert ("scheduler_sync_operations_waiting", frozenset()) in found


# ---------------------------------------------------------------- who may scrape


def test_it_refuses_another_host_without_the_token(client):
    assert client.get("/metrics", REMOTE_ADDR="10.1.2.3").status_code == 403


def test_it_refuses_what_a_proxy_on_this_host_forwards(client):
    assert client.get("/metrics", headers={"X-Forwarded-For": "203.0.113.9"}).status_code == 403


def test_another_host_may_scrape_with_the_token(client, settings):
    settings.METRICS_TOKEN = "t0ken-for-prometheus"
    assert (
        client.get("/metrics", REMOTE_ADDR="10.1.2.3", headers={"Authorization": "Bearer nope"}).status_code
        == 403
    )
    good = {"Authorization": "Bearer t0ken-for-prometheus"}
    assert client.get("/metrics", REMOTE_ADDR="10.1.2.3", headers=good).status_code == 200


def test_healthz_is_public(client):
    assert client.get("/healthz", REMOTE_ADDR="10.1.2.3").status_code == 200
