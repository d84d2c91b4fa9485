"""The sync's admin pages (calendar_app/admin/sync.py): connections, the outbox and the id map.
The actions run against the live upstream (conftest.py), or an address nothing listens on."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from django.urls import reverse

from calendar_app.models import Entry, KalturaConnection, SyncOperation, UpstreamObject
from tests.imports.drop_servers import free_port

Status = SyncOperation.Status
SECRET = "Upstream-s3cret-Value"
TOKEN = "App-t0ken-Value-0123456789abcdef"
SECRETS = ("admin_secret", "app_token")


def admin_url(model, view: str = "changelist", *args) -> str:
    return reverse(f"admin:calendar_app_{model._meta.model_name}_{view}", args=args)


def connect(partner, url: str = "", **fields) -> KalturaConnection:
    # client_for() keeps one client per connection id and updated_at. Ids repeat from test to
    # test and a pinned clock repeats updated_at, so a test could be handed another's client.
    values = {"admin_secret": SECRET, "app_token_id": "0_tok", "app_token": TOKEN, **fields}
    return KalturaConnection.objects.create(
        partner=partner, service_url=url or f"http://127.0.0.1:{free_port()}", upstream_partner_id=4242,
        updated_at=datetime.now(UTC), **values,
    )  # fmt: skip


@pytest.fixture
def unreachable(partner) -> KalturaConnection:
    return connect(partner)


@pytest.fixture
def linked(upstream, partner) -> KalturaConnection:
    upstream.wipe()
    return connect(partner, upstream.url, admin_secret=upstream.admin_secret)


@pytest.fixture
def theirs(upstream):
    client = upstream.client()
    yield client
    client.close()


def queue_op(
    partner, object_id: int | str, status: int = Status.PENDING, kind: str = "event", **fields
) -> SyncOperation:
    return SyncOperation.objects.create(
        partner=partner, kind=kind, object_id=str(object_id), status=status, **fields
    )


def act(admin_client, model, action: str, *objects) -> str:
    form = {"action": action, "_selected_action": [o.pk for o in objects]}
    response = admin_client.post(admin_url(model), form, follow=True)
    assert response.status_code == 200
    return response.content.decode()


def connection_form(connection: KalturaConnection, **fields) -> dict:
    """The change page of `connection` posted back with empty secret fields, except for what is given."""
    names = ["service_url", "upstream_partner_id", "auth", "user_id", "app_token_id", "app_token_hash_type"]
    data = {name: getattr(connection, name) for name in names}
    return {**data, "enabled": "on", "sync_resources": "on", "admin_secret": "", "app_token": "", **fields}


# ---------------------------------------------------------------- connections


def test_it_lists_a_connection_with_its_queue(admin_client, unreachable, partner):
    queue_op(partner, 1)
    queue_op(partner, 2, Status.FAILED, error_code="SCHEDULE_EVENT_INVALID", error="too long")
    queue_op(partner, 3, Status.DONE)
    response = admin_client.get(admin_url(KalturaConnection))
    (row,) = response.context["cl"].result_list
    assert (row.queued_count, row.failed_count) == (1, 1)
    assert row.oldest_queued_at is not None
    assert "SCHEDULE_EVENT_INVALID: too long" in response.content.decode()


def test_it_lists_connections_in_a_fixed_number_of_queries(
    admin_client, partner, outsider_partner, django_assert_max_num_queries
):
    for who in (partner, outsider_partner):
        connect(who)
        queue_op(who, 1, Status.FAILED, error="refused")
    with django_assert_max_num_queries(6):
        admin_client.get(admin_url(KalturaConnection))


def test_it_shows_the_add_and_change_pages(admin_client, unreachable):
    assert admin_client.get(admin_url(KalturaConnection, "add")).status_code == 200
    assert admin_client.get(admin_url(KalturaConnection, "change", unreachable.pk)).status_code == 200


def test_it_never_sends_the_secrets_back(admin_client, unreachable):
    for url in (admin_url(KalturaConnection), admin_url(KalturaConnection, "change", unreachable.pk)):
        page = admin_client.get(url).content.decode()
        assert SECRET not in page
        assert TOKEN not in page


def test_it_says_which_secrets_are_stored(admin_client, partner):
    connection = connect(partner, app_token="")
    page = admin_client.get(admin_url(KalturaConnection, "change", connection.pk)).content.decode()
    admin_secret, app_token = (re.search(rf'<input [^>]*name="{name}"[^>]*>', page)[0] for name in SECRETS)
    assert 'placeholder="stored: leave empty to keep it"' in admin_secret
    assert "placeholder" not in app_token


def test_it_keeps_the_secrets_when_left_empty(admin_client, unreachable):
    form = connection_form(unreachable, user_id="scheduler")
    assert admin_client.post(admin_url(KalturaConnection, "change", unreachable.pk), form).status_code == 302
    unreachable.refresh_from_db()
    assert unreachable.user_id == "scheduler"
    assert (unreachable.admin_secret, unreachable.app_token) == (SECRET, TOKEN)


def test_it_replaces_or_forgets_the_secrets(admin_client, unreachable):
    change = admin_url(KalturaConnection, "change", unreachable.pk)
    admin_client.post(change, connection_form(unreachable, admin_secret="new-one"))
    unreachable.refresh_from_db()
    assert (unreachable.admin_secret, unreachable.app_token) == ("new-one", TOKEN)
    form = connection_form(unreachable, auth="app_token", app_token="t2", forget_secrets="on")
    admin_client.post(change, form)
    unreachable.refresh_from_db()
    assert (unreachable.admin_secret, unreachable.app_token) == ("", "t2")


def test_it_asks_for_the_secret_its_session_needs(admin_client, partner):
    new = KalturaConnection(partner=partner, service_url="https://kaltura.example", upstream_partner_id=1)
    response = admin_client.post(
        admin_url(KalturaConnection, "add"), {**connection_form(new), "partner": partner.pk}
    )
    errors = response.context["adminform"].form.errors
    assert errors == {"admin_secret": ["Required for admin secret sessions."]}
    assert not KalturaConnection.objects.exists()


def test_it_stores_the_event_types_to_push(admin_client, unreachable):
    form = connection_form(unreachable, event_types=["1", "2"])
    admin_client.post(admin_url(KalturaConnection, "change", unreachable.pk), form)
    unreachable.refresh_from_db()
    assert unreachable.event_types == [1, 2]


def test_it_reports_a_connection_that_cannot_be_reached(admin_client, unreachable):
    page = act(admin_client, KalturaConnection, "test_connection", unreachable)
    assert "Alice University (101): failed, UPSTREAM_UNREACHABLE: ConnectError" in page
    unreachable.refresh_from_db()
    assert unreachable.last_test_result.startswith("UPSTREAM_UNREACHABLE: ")


def test_it_reports_an_unreachable_upstream_on_pull_and_reconcile(admin_client, unreachable):
    for action in ("pull_from_upstream", "reconcile_report_only"):
        page = act(admin_client, KalturaConnection, action, unreachable)
        assert "Alice University (101): the upstream answered UPSTREAM_UNREACHABLE" in page


def test_it_tests_a_connection(admin_client, linked):
    page = act(admin_client, KalturaConnection, "test_connection", linked)
    assert "Alice University (101): ok, connected to partner 4242" in page


def test_it_pulls_from_the_upstream(admin_client, linked, theirs, partner):
    room = {"objectType": "KalturaLocationScheduleResource", "name": "Hall A", "systemName": "hall-a"}
    theirs.call("schedule_scheduleresource", "add", scheduleResource=room)
    page = act(admin_client, KalturaConnection, "pull_from_upstream", linked)
    assert "resources created: 1" in page
    assert partner.scheduleresource_set.get().system_name == "hall-a"


def test_it_reconciles_and_keeps_the_report(admin_client, upstream, partner, make_event):
    make_event(summary="Never pushed")  # made before sync was set up
    connection = connect(partner, upstream.url, admin_secret=upstream.admin_secret)
    upstream.wipe()
    page = act(admin_client, KalturaConnection, "reconcile_report_only", connection)
    assert "Alice University (101): checked 1 events: 1 event missing" in page
    change = admin_client.get(admin_url(KalturaConnection, "change", connection.pk)).content.decode()
    assert "<li>missing event (local " in change


# ---------------------------------------------------------------- the outbox and the id map


def test_it_links_an_operation_to_its_event(admin_client, partner, make_event):
    event = make_event(summary="Algebra")
    queue_op(partner, event.pk)
    queue_op(partner, 999_999)  # its object is gone
    page = admin_client.get(admin_url(SyncOperation)).content.decode()
    event_page = reverse("admin:calendar_app_scheduleevent_change", args=[event.pk])
    assert f'<a href="{event_page}">event {event.pk}</a> Algebra' in page
    assert "event 999999" in page


def test_it_links_operations_of_every_kind_to_their_objects(admin_client, partner, make_resource):
    room = make_resource("Hall A")
    entry = Entry.objects.create(partner=partner, id="0_lecture1", name="Lecture capture")
    queue_op(partner, room.pk, kind="resource")
    queue_op(partner, entry.pk, kind="entry")
    queue_op(partner, "0_gone0000", kind="entry")
    page = admin_client.get(admin_url(SyncOperation)).content.decode()
    room_page = reverse("admin:calendar_app_scheduleresource_change", args=[room.pk])
    entry_page = reverse("admin:calendar_app_entry_change", args=[entry.pk])
    assert f'<a href="{room_page}">resource {room.pk}</a> Hall A' in page
    assert f'<a href="{entry_page}">entry 0_lecture1</a> Lecture capture' in page
    assert "entry 0_gone0000" in page


def test_it_finds_operations_by_object_id_status_and_kind(admin_client, partner):
    queue_op(partner, 7, Status.FAILED)
    queue_op(partner, 8)
    for query in ("?q=7", f"?status__exact={Status.FAILED}&kind__exact=event"):
        response = admin_client.get(admin_url(SyncOperation) + query)
        assert [op.object_id for op in response.context["cl"].result_list] == ["7"]


def test_it_retries_the_failed_operations_selected(admin_client, unreachable, partner):
    failed = queue_op(partner, 7, Status.FAILED, error_code="SCHEDULE_EVENT_INVALID")
    done = queue_op(partner, 8, Status.DONE)
    page = act(admin_client, SyncOperation, "retry_failed", failed, done)
    assert "Retried 1 failed sync operation." in page
    failed.refresh_from_db()
    assert failed.status != Status.FAILED
    assert SyncOperation.objects.get(pk=done.pk).status == Status.DONE


def test_it_keeps_the_outbox_and_the_id_map_read_only(admin_client, partner):
    op = queue_op(partner, 7)
    UpstreamObject.objects.create(partner=partner, kind="event", local_id="7", upstream_id="70")
    for model in (SyncOperation, UpstreamObject):
        change = admin_url(model, "change", model.objects.get().pk)
        assert 'name="_save"' not in admin_client.get(change).content.decode()
        assert admin_client.post(change, {"status": Status.DONE}).status_code == 403
        assert admin_client.get(admin_url(model, "add")).status_code == 403
    assert SyncOperation.objects.get(pk=op.pk).status == Status.PENDING


def test_it_finds_an_upstream_object_by_either_id(admin_client, partner):
    UpstreamObject.objects.create(partner=partner, kind="event", local_id="7", upstream_id="70")
    UpstreamObject.objects.create(partner=partner, kind="resource", local_id="8", upstream_id="80")
    for q in ("7", "70"):
        response = admin_client.get(admin_url(UpstreamObject), {"q": q})
        assert [o.local_id for o in response.context["cl"].result_list] == ["7"]
