"""A booking's push to the upstream Kaltura, as its details panel shows it (sync/status.py) and
as an admin retries a failed one. Alice administers, Sam books, Bob only looks; Charlie's
college is the outsider. The upstream is an address nothing listens on: what reaches it fails
at once, as an unreachable Kaltura does."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from django.urls import reverse
from django.utils.html import strip_tags

from calendar_app.models import KalturaConnection, Membership, SyncOperation, UpstreamObject
from tests.imports.drop_servers import free_port

Status = SyncOperation.Status


@pytest.fixture(autouse=True)
def _pinned_clock(now):
    """NOW is 08:00 UTC on 1 September 2026: 10:00 in Alice's Berlin."""


def connect(partner) -> KalturaConnection:
    # client_for() keeps one client per connection id and updated_at. Ids repeat from test to
    # test and the clock is pinned, so a test could be handed another's client (and upstream).
    return KalturaConnection.objects.create(
        partner=partner, service_url=f"http://127.0.0.1:{free_port()}", upstream_partner_id=4242,
        admin_secret="upstream-secret", enabled=True, updated_at=datetime.now(UTC),
    )  # fmt: skip


@pytest.fixture
def linked(partner) -> KalturaConnection:
    return connect(partner)


@pytest.fixture
def booking(linked, make_event):
    """A booking made while sync is on: its push is queued with it (outbox.py)."""
    return make_event("2026-09-07 09:00", summary="Algebra")


def op_of(event) -> SyncOperation:
    return SyncOperation.objects.get(kind=SyncOperation.Kind.EVENT, object_id=event.pk)


def settle(event, status: int, code: str = "", error: str = "", attempts: int = 1) -> SyncOperation:
    """The booking's operation as a worker leaves it."""
    op = op_of(event)
    finished = None if status == Status.PENDING else op.created_at
    SyncOperation.objects.filter(pk=op.pk).update(
        status=status, error_code=code, error=error, attempts=attempts, finished_at=finished
    )
    return op


def failed(event) -> SyncOperation:
    return settle(event, Status.FAILED, "SCHEDULE_EVENT_INVALID", "the summary is too long")


def panel(client, user, event) -> str:
    client.force_login(user)
    response = client.get(reverse("calendar:event", args=[event.pk]))
    assert response.status_code == 200
    return response.content.decode()


def sync_line(html: str) -> str:
    """The panel's sync line as it reads: its text, the whitespace collapsed; "" if it has none."""
    found = re.search(r'<div class="sync-state.*?</div>', html, re.DOTALL)
    return " ".join(strip_tags(found[0]).split()) if found else ""


def retry_url(event, op: SyncOperation) -> str:
    return reverse("calendar:sync_retry", args=[event.pk, op.pk])


@pytest.fixture
def sam(make_member, partner):
    return make_member(partner, Membership.Role.SCHEDULER, "sam")


# ---------------------------------------------------------------- the panel


def test_it_shows_a_queued_push_as_pending(client, bob, booking):
    page = panel(client, bob, booking)
    assert "<dt>Kaltura sync</dt>" in page
    assert sync_line(page) == "Pending"


def test_it_says_what_a_push_being_retried_ran_into(client, bob, booking):
    settle(booking, Status.PENDING, "UPSTREAM_UNREACHABLE", "ConnectError: connection refused", attempts=2)
    line = sync_line(panel(client, bob, booking))
    assert line == "Pending, retrying after UPSTREAM_UNREACHABLE ConnectError: connection refused"


def test_it_shows_when_a_booking_was_synced_and_its_upstream_id(client, bob, booking):
    settle(booking, Status.DONE)
    UpstreamObject.objects.create(
        partner=booking.partner, kind="event", local_id=booking.pk, upstream_id="987"
    )
    assert sync_line(panel(client, bob, booking)) == "Synced 1 Sep 2026, 10:00 (upstream id 987)"


def test_it_shows_a_failure_with_its_code_and_a_retry_button_for_admins(client, alice, booking):
    op = failed(booking)
    page = panel(client, alice, booking)
    assert sync_line(page) == "Failed: SCHEDULE_EVENT_INVALID the summary is too long Retry"
    assert f'hx-post="{retry_url(booking, op)}"' in page


@pytest.mark.parametrize("who", ["sam", "bob"])
def test_only_admins_are_offered_a_retry(client, request, booking, who):
    failed(booking)
    page = panel(client, request.getfixturevalue(who), booking)
    assert sync_line(page) == "Failed: SCHEDULE_EVENT_INVALID the summary is too long"
    assert "/sync/" not in page  # no retry button


def test_an_occurrence_shows_its_series_push(client, bob, linked, make_series):
    series = make_series("2026-09-07 09:00", count=3, summary="Physics")
    failed(series)
    occurrence = series.occurrences.order_by("start").last()
    assert sync_line(panel(client, bob, occurrence)).startswith("Failed: SCHEDULE_EVENT_INVALID")


def test_there_is_no_sync_line_without_an_upstream(client, bob, make_event):
    event = make_event("2026-09-07 09:00")
    page = panel(client, bob, event)
    assert "Kaltura sync" not in page
    assert sync_line(page) == ""


# ---------------------------------------------------------------- retry


def test_an_admin_retries_a_failed_push(client, alice, booking):
    op = failed(booking)
    client.force_login(alice)
    response = client.post(retry_url(booking, op), headers={"HX-Request": "true"})
    assert response.status_code == 200
    # Pushed again at once (no broker: tasks run eagerly), and the upstream was not there.
    page = response.content.decode()
    assert page.startswith(f'<div class="sync-state is-pending" id="sync-state-{booking.pk}">')
    assert sync_line(page).startswith("Pending, retrying after UPSTREAM_UNREACHABLE ConnectError")
    op.refresh_from_db()
    assert (op.status, op.attempts) == (Status.PENDING, 2)


@pytest.mark.parametrize("who", ["sam", "bob"])
def test_a_retry_is_refused_to_non_admins(client, request, booking, who):
    op = failed(booking)
    client.force_login(request.getfixturevalue(who))
    assert client.post(retry_url(booking, op)).status_code == 403
    assert op_of(booking).status == Status.FAILED


def test_a_retry_is_a_post(client, alice, booking):
    op = failed(booking)
    client.force_login(alice)
    assert client.get(retry_url(booking, op)).status_code == 405


def test_another_partners_operation_is_not_found(client, alice, booking, outsider, make_event):
    connect(outsider.partner)
    theirs = make_event("2026-09-07 09:00", summary="Secret", who=outsider)
    their_op = failed(theirs)
    client.force_login(alice)
    assert client.post(retry_url(booking, their_op)).status_code == 404
    assert client.post(retry_url(theirs, their_op)).status_code == 404
    assert op_of(theirs).status == Status.FAILED


def test_another_bookings_operation_is_not_found(client, alice, booking, make_event):
    other = make_event("2026-09-08 09:00", summary="Other")
    op = failed(other)
    client.force_login(alice)
    assert client.post(retry_url(booking, op)).status_code == 404
    assert op_of(other).status == Status.FAILED
