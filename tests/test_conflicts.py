"""The one conflict definition: half-open, ACTIVE, non-series rows, shared resource or blackout."""

from __future__ import annotations

from datetime import timedelta

import pytest

from calendar_app import conflicts, scheduling
from calendar_app.conflicts import ConflictType, Window
from calendar_app.models import EventType, RecurrenceType
from tests.conftest import at


def window(start: str, end: str) -> Window:
    return Window(at(start), at(end))


def hits(partner, w, resources, kind=ConflictType.BOTH, ignore=()):
    found = conflicts.find(partner, [w], [r.pk for r in resources], kind, ignore)
    return [c.event.pk for c in found]


@pytest.fixture
def room(make_resource):
    return make_resource("Room 101")


def test_it_finds_an_overlap_on_the_same_resource(partner, room, make_event):
    booked = make_event("2026-09-07 09:00", 90, resources=[room])
    assert hits(partner, window("2026-09-07 10:00", "2026-09-07 11:00"), [room]) == [booked.pk]


def test_back_to_back_is_free(partner, room, make_event):
    make_event("2026-09-07 09:00", 60, resources=[room])
    assert hits(partner, window("2026-09-07 10:00", "2026-09-07 11:00"), [room]) == []
    assert hits(partner, window("2026-09-07 08:00", "2026-09-07 09:00"), [room]) == []


def test_another_resource_is_free(partner, room, make_resource, make_event):
    make_event("2026-09-07 09:00", 60, resources=[make_resource("Room 102")])
    assert hits(partner, window("2026-09-07 09:00", "2026-09-07 10:00"), [room]) == []


def test_a_cancelled_event_does_not_conflict(partner, actor, room, make_event):
    booked = make_event("2026-09-07 09:00", 60, resources=[room])
    scheduling.cancel_event(actor, booked.pk)
    assert hits(partner, window("2026-09-07 09:00", "2026-09-07 10:00"), [room]) == []


def test_a_deleted_event_does_not_conflict(partner, actor, room, make_event):
    booked = make_event("2026-09-07 09:00", 60, resources=[room])
    scheduling.delete_event(actor, booked.pk)
    assert hits(partner, window("2026-09-07 09:00", "2026-09-07 10:00"), [room]) == []


def test_occurrences_conflict_but_the_series_row_does_not(partner, room, make_series):
    series = make_series("2026-09-07 09:00", 60, zone="UTC", count=3, resources=[room])
    found = hits(partner, window("2026-09-07 09:30", "2026-09-07 09:45"), [room])
    first = series.occurrences.order_by("start").first()
    assert found == [first.pk]


def test_a_blackout_conflicts_whatever_the_resources(partner, room, make_event):
    blackout = make_event("2026-09-07 00:00", 24 * 60, type=EventType.BLACKOUT)
    assert hits(partner, window("2026-09-07 09:00", "2026-09-07 10:00"), [room]) == [blackout.pk]
    assert hits(partner, window("2026-09-07 09:00", "2026-09-07 10:00"), []) == [blackout.pk]


def test_conflict_type_selects_resource_or_blackout_conflicts(partner, room, make_event):
    booked = make_event("2026-09-07 09:00", 60, resources=[room])
    blackout = make_event("2026-09-07 00:00", 24 * 60, type=EventType.BLACKOUT)
    w = window("2026-09-07 09:00", "2026-09-07 10:00")
    assert hits(partner, w, [room], ConflictType.RESOURCE) == [booked.pk]
    assert hits(partner, w, [room], ConflictType.BLACKOUT) == [blackout.pk]
    assert sorted(hits(partner, w, [room], ConflictType.BOTH)) == sorted([booked.pk, blackout.pk])


def test_ignoring_a_series_ignores_its_occurrences(partner, room, make_series):
    series = make_series("2026-09-07 09:00", 60, zone="UTC", count=3, resources=[room])
    w = window("2026-09-14 09:00", "2026-09-14 10:00")
    assert hits(partner, w, [room], ignore=[series.pk]) == []


def test_ignoring_one_event_keeps_the_others(partner, room, make_event):
    first = make_event("2026-09-07 09:00", 60, resources=[room])
    second = make_event("2026-09-07 09:30", 60, resources=[room], allow_conflicts=True)
    w = window("2026-09-07 09:00", "2026-09-07 11:00")
    assert hits(partner, w, [room], ignore=[first.pk]) == [second.pk]


def test_a_recurring_probe_says_which_occurrence_collides(actor, room, make_event):
    clash = make_event("2026-09-21 09:30", 30, resources=[room])
    proposal = {
        "type": EventType.RECORD,
        "summary": "Physics",
        "start": at("2026-09-07 09:00"),
        "end": at("2026-09-07 10:30"),
        "recurrence_type": RecurrenceType.RECURRING,
        "recurrence": {"frequency": "weeks", "count": 15, "time_zone": "UTC"},
    }
    found = scheduling.check_proposal(actor, proposal, [room.pk], ConflictType.BOTH)
    assert [(c.window.start, c.event.pk) for c in found] == [(at("2026-09-21 09:00"), clash.pk)]


def test_a_probe_costs_the_same_two_queries_however_many_occurrences_it_has(
    actor, room, make_event, django_assert_num_queries
):
    for week in (7, 14, 21):
        make_event(f"2026-09-{week:02d} 09:00", 60, resources=[room])
    few = [window(f"2026-09-{d:02d} 09:30", f"2026-09-{d:02d} 10:30") for d in (7, 14, 21, 28)]
    many = [
        Window(w.start + timedelta(days=7 * n), w.end + timedelta(days=7 * n))
        for w in few[:1]
        for n in range(500)
    ]
    with django_assert_num_queries(2):  # the candidates, then the rows that collide
        found = conflicts.find(actor.partner, few, [room.pk])
    assert [c.window for c in found] == few[:3]
    with django_assert_num_queries(2):
        assert len(conflicts.find(actor.partner, many, [room.pk])) == 3


def test_a_probe_without_collisions_costs_one_query(actor, room, django_assert_num_queries):
    with django_assert_num_queries(1):
        assert (
            conflicts.find(actor.partner, [window("2026-09-07 09:00", "2026-09-07 10:00")], [room.pk]) == []
        )


def test_one_stored_event_may_collide_with_several_proposed_slots(partner, room, make_event):
    long = make_event("2026-09-07 09:00", 8 * 60, resources=[room])
    windows = [window("2026-09-07 09:00", "2026-09-07 10:00"), window("2026-09-07 14:00", "2026-09-07 15:00")]
    found = conflicts.find(partner, windows, [room.pk])
    assert [(c.window, c.event.pk) for c in found] == [(windows[0], long.pk), (windows[1], long.pk)]


def test_another_partners_events_never_conflict(partner, outsider, room, make_event, make_resource):
    their_room = make_resource("Their room", who=outsider)
    make_event("2026-09-07 09:00", 60, resources=[their_room], who=outsider)
    make_event("2026-09-07 00:00", 24 * 60, type=EventType.BLACKOUT, who=outsider)
    w = window("2026-09-07 09:00", "2026-09-07 10:00")
    assert hits(partner, w, [room, their_room]) == []


# ---------------------------------------------------------------- collisions (stored events, in bulk)


def test_collisions_pairs_each_event_with_what_it_overlaps(partner, actor, room, make_resource, make_event):
    other_room = make_resource("Room 102")
    first = make_event("2026-09-07 09:00", 90, resources=[room])
    second = make_event("2026-09-07 10:00", 60, resources=[room], allow_conflicts=True)
    elsewhere = make_event("2026-09-07 09:00", 90, resources=[other_room])
    closed = make_event("2026-09-08 00:00", 24 * 60, type=EventType.BLACKOUT)
    inside = make_event("2026-09-08 09:00", 60, resources=[room], allow_conflicts=True)
    pairs = conflicts.collisions(partner, [first.pk, elsewhere.pk, inside.pk])
    assert pairs == sorted([(first.pk, second.pk), (inside.pk, closed.pk)])


def test_collisions_skip_cancelled_series_rows_and_other_partners(
    partner, actor, room, make_event, make_series, outsider
):
    mine = make_event("2026-09-07 09:00", 90, resources=[room])
    scheduling.cancel_event(
        actor, make_event("2026-09-07 09:30", 30, resources=[room], allow_conflicts=True).pk
    )
    series = make_series("2026-09-07 09:00", 60, zone="UTC", count=1, resources=[room])
    theirs = scheduling.create_event(
        outsider,
        {
            "type": EventType.BLACKOUT,
            "summary": "Closed",
            "start": at("2026-09-07 00:00"),
            "end": at("2026-09-08 00:00"),
        },
    )
    occurrence = series.occurrences.get()
    assert conflicts.collisions(partner, [mine.pk]) == [(mine.pk, occurrence.pk)]
    assert theirs.pk not in {other for _, other in conflicts.collisions(partner, [mine.pk])}
