"""scheduleEvent through the official client: add, get, update, cancel, delete, series and list."""

from __future__ import annotations

import pytest
from KalturaClient.Plugins.Schedule import (
    KalturaBlackoutScheduleEvent,
    KalturaBlackoutScheduleEventFilter,
    KalturaEntryScheduleEventFilter,
    KalturaLiveStreamScheduleEvent,
    KalturaLiveStreamScheduleEventFilter,
    KalturaMeetingScheduleEvent,
    KalturaRecordScheduleEvent,
    KalturaRecordScheduleEventFilter,
    KalturaScheduleEventRecurrenceFrequency,
    KalturaScheduleEventRecurrenceType,
    KalturaScheduleEventStatus,
)

from calendar_app.models import Entry
from tests.kaltura_api.builders import (
    DAY,
    HOUR,
    MINUTE,
    add_event,
    add_resource,
    add_room_with_camera,
    blackout,
    camera,
    error_code,
    error_of,
    event_filter,
    event_ids,
    hours_from_now,
    live,
    local_time,
    location,
    meeting,
    monday_before_dst_change,
    occurrences,
    pager,
    record,
    series,
    value,
)

NONE = KalturaScheduleEventRecurrenceType.NONE
RECURRING = KalturaScheduleEventRecurrenceType.RECURRING
RECURRENCE = KalturaScheduleEventRecurrenceType.RECURRENCE
CANCELLED = KalturaScheduleEventStatus.CANCELLED
ACTIVE = KalturaScheduleEventStatus.ACTIVE
DELETED = KalturaScheduleEventStatus.DELETED


@pytest.fixture
def soon() -> int:
    """Tomorrow, on a whole minute: the start of most events here."""
    return hours_from_now(24)


@pytest.fixture
def events(admin_client):
    return admin_client.schedule.scheduleEvent


# ---------------------------------------------------------------- add


def test_it_adds_a_record_event(events, partner, soon):
    added = events.add(record(soon, 90, summary="Physics 101"))
    assert isinstance(added, KalturaRecordScheduleEvent)
    assert (added.summary, added.startDate, added.endDate) == ("Physics 101", soon, soon + 90 * MINUTE)
    assert (value(added.status), value(added.recurrenceType)) == (ACTIVE, NONE)
    assert added.partnerId == partner.pk and added.id > 0


def test_it_adds_a_live_stream_event(events, soon):
    added = events.add(live(soon, projectedAudience=300, preStartTime=600, postEndTime=120))
    assert isinstance(added, KalturaLiveStreamScheduleEvent)
    assert (added.projectedAudience, added.preStartTime, added.postEndTime) == (300, 600, 120)


def test_it_adds_a_blackout_event(events, soon):
    added = events.add(blackout(soon, 24 * 60, summary="Holiday"))
    assert isinstance(added, KalturaBlackoutScheduleEvent)
    assert events.get(added.id).summary == "Holiday"


def test_it_adds_a_meeting_event(events, soon):
    added = events.add(meeting(soon, preStartTime=300))
    assert isinstance(added, KalturaMeetingScheduleEvent)
    assert added.preStartTime == 300


def test_it_makes_the_session_user_the_owner(events, soon):
    assert events.add(record(soon)).ownerId == "alice"


def test_it_gets_an_event_with_its_type(events, soon):
    added = events.add(live(soon, summary="Concert", tags="music"))
    got = events.get(added.id)
    assert isinstance(got, KalturaLiveStreamScheduleEvent)
    assert (got.id, got.summary, got.tags, got.startDate) == (added.id, "Concert", "music", soon)


@pytest.mark.parametrize("field", ["summary", "startDate", "endDate", "recurrenceType"])
def test_it_requires_the_core_fields(admin_client, soon, field):
    error = error_of(admin_client.schedule.scheduleEvent.add, record(soon, **{field: NotImplemented}))
    assert error.code == "PROPERTY_VALIDATION_CANNOT_BE_NULL"
    assert f'"{field}"' in error.message
    assert event_ids(admin_client) == []


def test_it_refuses_an_end_before_the_start(events, soon):
    event = record(soon, endDate=soon - HOUR)
    assert error_code(events.add, event) == "INVALID_SCHEDULE_END_BEFORE_START"


def test_it_refuses_to_add_an_occurrence(events, soon):
    assert error_code(events.add, record(soon, recurrenceType=RECURRENCE)) == "INVALID_ENUM_VALUE"


def test_an_unknown_event_is_invalid_object_id(events):
    error = error_of(events.get, 999_999)
    assert error.code == "INVALID_OBJECT_ID"
    assert "999999" in error.message


def test_another_partners_event_is_unknown(events, outsider_client, soon):
    added = events.add(record(soon))
    assert error_code(outsider_client.schedule.scheduleEvent.get, added.id) == "INVALID_OBJECT_ID"
    assert error_code(outsider_client.schedule.scheduleEvent.cancel, added.id) == "INVALID_OBJECT_ID"
    assert value(events.get(added.id).status) == ACTIVE


# ---------------------------------------------------------------- update, cancel, delete


def test_it_bumps_the_sequence_on_update(events, soon):
    added = events.add(record(soon))
    assert added.sequence == 12
    assert events.update(added.id, record(soon, summary="Renamed")).sequence == 22


def test_an_update_changes_only_the_fields_sent(events, soon):
    added = events.add(record(soon, description="Intro", tags="physics", location="Hall 1"))
    events.update(added.id, KalturaRecordScheduleEvent(summary="Renamed"))
    got = events.get(added.id)
    assert (got.summary, got.description, got.tags, got.location) == ("Renamed", "Intro", "physics", "Hall 1")
    assert (got.startDate, got.endDate) == (soon, soon + HOUR)


def test_an_update_moves_the_event(events, soon):
    added = events.add(record(soon))
    events.update(added.id, KalturaRecordScheduleEvent(startDate=soon + DAY, endDate=soon + DAY + HOUR))
    got = events.get(added.id)
    assert (got.startDate, got.endDate) == (soon + DAY, soon + DAY + HOUR)


def test_an_update_with_none_clears_the_field(events, soon):
    added = events.add(record(soon, description="Intro"))
    events.update(added.id, KalturaRecordScheduleEvent(description=None))
    got = events.get(added.id)
    assert got.description in ("", None)
    assert got.summary == "Lecture"


def test_an_update_cannot_end_before_the_start(events, soon):
    added = events.add(record(soon))
    change = KalturaRecordScheduleEvent(endDate=soon - HOUR)
    assert error_code(events.update, added.id, change) == "INVALID_SCHEDULE_END_BEFORE_START"
    assert events.get(added.id).endDate == soon + HOUR


def test_it_cancels_an_event(events, soon):
    added = events.add(record(soon))
    assert value(events.cancel(added.id).status) == CANCELLED
    assert value(events.get(added.id).status) == CANCELLED


def test_it_deletes_an_event_by_status(events, soon):
    added = events.add(record(soon))
    assert value(events.delete(added.id).status) == DELETED


def test_a_deleted_event_is_gone(events, soon):
    added = events.add(record(soon))
    events.delete(added.id)
    assert error_code(events.get, added.id) == "INVALID_OBJECT_ID"


# ---------------------------------------------------------------- series


def test_a_series_makes_one_event_per_occurrence(admin_client, soon):
    added = add_event(admin_client, series(soon, 90, count=4))
    found = occurrences(admin_client, added.id)
    assert len(found) == 4
    assert {(value(o.recurrenceType), o.parentId) for o in found} == {(RECURRENCE, added.id)}
    assert [o.startDate for o in found] == [soon + week * 7 * DAY for week in range(4)]
    assert {o.endDate - o.startDate for o in found} == {90 * MINUTE}


def test_the_series_row_stays_recurring(events, soon):
    added = events.add(series(soon, 90))
    got = events.get(added.id)
    assert value(got.recurrenceType) == RECURRING
    assert got.duration == 90 * MINUTE
    assert got.recurrence.frequency.getValue() == KalturaScheduleEventRecurrenceFrequency.WEEKLY


def test_occurrences_inherit_the_series_fields(admin_client, soon):
    added = add_event(
        admin_client, series(soon, summary="Physics", tags="science", cls=KalturaLiveStreamScheduleEvent)
    )
    found = occurrences(admin_client, added.id)
    assert {(o.summary, o.tags, type(o)) for o in found} == {
        ("Physics", "science", KalturaLiveStreamScheduleEvent)
    }


def test_a_series_follows_by_day(admin_client):
    monday = monday_before_dst_change()
    added = add_event(admin_client, series(monday, count=4, zone="Europe/Berlin", by_day="MO,WE"))
    starts = [o.startDate for o in occurrences(admin_client, added.id)]
    assert [local_time(s, "Europe/Berlin", "%a %H:%M") for s in starts] == ["Mon 09:00", "Wed 09:00"] * 2
    assert 9 * DAY - HOUR <= starts[-1] - starts[0] <= 9 * DAY + HOUR


def test_occurrences_keep_local_time_across_a_dst_change(admin_client):
    monday = monday_before_dst_change("Europe/Berlin", hour=9)
    added = add_event(admin_client, series(monday, count=3, zone="Europe/Berlin"))
    found = occurrences(admin_client, added.id)
    assert [local_time(o.startDate, "Europe/Berlin") for o in found] == ["09:00"] * 3
    assert found[1].startDate - found[0].startDate != 7 * DAY  # an hour more or less: the clocks moved


def test_it_lists_series_by_recurrence_type(admin_client, soon):
    single = add_event(admin_client, record(soon))
    parent = add_event(admin_client, series(soon + HOUR, count=2))
    assert event_ids(admin_client, recurrenceTypeEqual=RECURRING) == [parent.id]
    listed = event_ids(admin_client, recurrenceTypeIn="0,2")
    assert sorted(listed) == sorted([single.id] + [o.id for o in occurrences(admin_client, parent.id)])


def test_it_lists_occurrences_by_parent(admin_client, soon):
    parent = add_event(admin_client, series(soon, count=3))
    add_event(admin_client, series(soon + HOUR, count=2))
    found = event_ids(admin_client, parentIdEqual=parent.id)
    assert len(found) == 3 and parent.id not in found


def test_a_series_edit_reaches_its_occurrences(admin_client, soon):
    parent = add_event(admin_client, series(soon, summary="Physics"))
    admin_client.schedule.scheduleEvent.update(parent.id, KalturaRecordScheduleEvent(summary="Physics II"))
    assert {o.summary for o in occurrences(admin_client, parent.id)} == {"Physics II"}


def test_a_new_count_regenerates_the_occurrences(admin_client, soon):
    parent = add_event(admin_client, series(soon, count=3))
    admin_client.schedule.scheduleEvent.update(parent.id, series(soon, count=5))
    assert len(occurrences(admin_client, parent.id)) == 5


def test_an_edited_occurrence_survives_a_series_edit(admin_client, soon):
    parent = add_event(admin_client, series(soon, summary="Physics"))
    second = occurrences(admin_client, parent.id)[1]
    events = admin_client.schedule.scheduleEvent
    events.update(second.id, KalturaRecordScheduleEvent(summary="Guest lecture"))
    events.update(parent.id, KalturaRecordScheduleEvent(summary="Physics II", tags="new"))
    found = {o.id: o for o in occurrences(admin_client, parent.id)}
    assert (found[second.id].summary, found[second.id].tags) == ("Guest lecture", "new")
    assert sorted(o.summary for o in found.values()) == ["Guest lecture", "Physics II", "Physics II"]


def test_a_moved_occurrence_survives_a_new_count(admin_client, soon):
    parent = add_event(admin_client, series(soon, count=3))
    second = occurrences(admin_client, parent.id)[1]
    moved = KalturaRecordScheduleEvent(
        startDate=second.startDate + 2 * HOUR, endDate=second.endDate + 2 * HOUR
    )
    admin_client.schedule.scheduleEvent.update(second.id, moved)
    admin_client.schedule.scheduleEvent.update(parent.id, series(soon, count=4))
    got = admin_client.schedule.scheduleEvent.get(second.id)
    assert got.startDate == second.startDate + 2 * HOUR
    assert len(occurrences(admin_client, parent.id)) == 4


def test_an_occurrence_cannot_be_deleted(admin_client, soon):
    parent = add_event(admin_client, series(soon))
    first = occurrences(admin_client, parent.id)[0]
    assert error_code(admin_client.schedule.scheduleEvent.delete, first.id) == "RECURRENCE_CANT_BE_DELETE"
    assert value(admin_client.schedule.scheduleEvent.get(first.id).status) == ACTIVE


def test_an_occurrence_can_be_cancelled_alone(admin_client, soon):
    parent = add_event(admin_client, series(soon))
    first = occurrences(admin_client, parent.id)[0]
    admin_client.schedule.scheduleEvent.cancel(first.id)
    statuses = [value(o.status) for o in occurrences(admin_client, parent.id)]
    assert statuses == [CANCELLED, ACTIVE, ACTIVE]


def test_cancelling_a_series_cancels_its_occurrences(admin_client, soon):
    parent = add_event(admin_client, series(soon))
    admin_client.schedule.scheduleEvent.cancel(parent.id)
    assert {value(o.status) for o in occurrences(admin_client, parent.id)} == {CANCELLED}


def test_deleting_a_series_deletes_its_occurrences(admin_client, soon):
    parent = add_event(admin_client, series(soon))
    admin_client.schedule.scheduleEvent.delete(parent.id)
    assert occurrences(admin_client, parent.id) == []
    assert len(event_ids(admin_client, parentIdEqual=parent.id, statusEqual=DELETED)) == 3


# ---------------------------------------------------------------- paging and order


@pytest.fixture
def daily(admin_client, soon):
    """A daily series of 40: the series row and 40 occurrences."""
    frequency = KalturaScheduleEventRecurrenceFrequency.DAILY
    return add_event(admin_client, series(soon, count=40, frequency=frequency))


def test_it_pages_with_page_size_and_index(admin_client, daily):
    everything = admin_client.schedule.scheduleEvent.list(event_filter(orderBy="+startDate"), pager(500))
    page = admin_client.schedule.scheduleEvent.list(event_filter(orderBy="+startDate"), pager(10, 2))
    assert [e.id for e in page.objects] == [e.id for e in everything.objects[10:20]]
    assert page.totalCount == everything.totalCount == 41


def test_a_list_pages_by_30_by_default(admin_client, daily):
    found = admin_client.schedule.scheduleEvent.list()
    assert (len(found.objects), found.totalCount) == (30, 41)


def test_the_last_page_is_short(admin_client, daily):
    found = admin_client.schedule.scheduleEvent.list(event_filter(), pager(30, 2))
    assert (len(found.objects), found.totalCount) == (11, 41)


def test_a_page_never_exceeds_500(admin_client, soon):
    frequency = KalturaScheduleEventRecurrenceFrequency.DAILY
    add_event(admin_client, series(soon, count=520, frequency=frequency))
    found = admin_client.schedule.scheduleEvent.list(event_filter(), pager(1000))
    assert (len(found.objects), found.totalCount) == (500, 521)


def test_it_orders_by_start_descending(admin_client, soon):
    middle = add_event(admin_client, record(soon + HOUR))
    first = add_event(admin_client, record(soon))
    last = add_event(admin_client, record(soon + 2 * HOUR))
    assert event_ids(admin_client, orderBy="-startDate") == [last.id, middle.id, first.id]


# ---------------------------------------------------------------- list filters


def test_zero_means_now_in_a_time_filter(admin_client):
    add_event(admin_client, record(hours_from_now(-3)))
    future = add_event(admin_client, record(hours_from_now(3)))
    assert event_ids(admin_client, startDateGreaterThanOrEqual=0) == [future.id]


def test_small_time_values_are_relative_to_now(admin_client):
    past = add_event(admin_client, record(hours_from_now(-3)))
    add_event(admin_client, record(hours_from_now(3)))
    near = add_event(admin_client, record(hours_from_now(1)))
    assert event_ids(
        admin_client, startDateGreaterThanOrEqual=-4 * HOUR, startDateLessThanOrEqual=2 * HOUR
    ) == [
        past.id,
        near.id,
    ]


def test_it_lists_what_ended_before_now(admin_client):
    past = add_event(admin_client, record(hours_from_now(-3)))
    add_event(admin_client, record(hours_from_now(3)))
    assert event_ids(admin_client, endDateLessThanOrEqual=0) == [past.id]


def test_it_lists_by_resource_id(admin_client, soon):
    room, cam = add_room_with_camera(admin_client)
    on_room = add_event(admin_client, record(soon), room)
    add_event(admin_client, record(soon), cam)
    assert event_ids(admin_client, resourceIdsLike=str(room.id)) == [on_room.id]
    assert event_ids(admin_client, resourceIdEqual=str(room.id)) == [on_room.id]


def test_it_lists_events_on_any_or_all_resources(admin_client, soon):
    a = add_resource(admin_client, location("A"))
    b = add_resource(admin_client, location("B"))
    only_a = add_event(admin_client, record(soon), a)
    both = add_event(admin_client, record(soon), a, b)
    add_event(admin_client, record(soon))
    assert sorted(event_ids(admin_client, resourceIdsMultiLikeOr=f"{a.id},{b.id}")) == [only_a.id, both.id]
    assert event_ids(admin_client, resourceIdsMultiLikeAnd=f"{a.id},{b.id}") == [both.id]


def test_it_finds_a_cameras_events_by_its_room(admin_client, soon):
    room, cam = add_room_with_camera(admin_client)
    on_camera = add_event(admin_client, record(soon), cam)
    add_event(admin_client, record(soon), add_resource(admin_client, camera("Elsewhere")))
    assert event_ids(admin_client, parentResourceIdsLike=str(room.id)) == [on_camera.id]


def test_it_lists_by_resource_system_name(admin_client, soon):
    hall = add_resource(admin_client, location("Hall", systemName="hall-1"))
    on_hall = add_event(admin_client, record(soon), hall)
    add_event(admin_client, record(soon), add_resource(admin_client, location("Other", systemName="other")))
    assert event_ids(admin_client, resourceSystemNamesLike="hall-1") == [on_hall.id]


def test_it_lists_by_template_entry(admin_client, partner, soon):
    for template_id in ("0_tmpl0001", "0_tmpl0002"):
        Entry.objects.create(partner=partner, id=template_id, name=template_id)
    wanted = add_event(admin_client, record(soon, templateEntryId="0_tmpl0001"))
    add_event(admin_client, record(soon, templateEntryId="0_tmpl0002"))
    found = event_ids(admin_client, cls=KalturaEntryScheduleEventFilter, templateEntryIdEqual="0_tmpl0001")
    assert found == [wanted.id]


def test_it_lists_by_entry_id(admin_client, soon):
    wanted = add_event(admin_client, record(soon, entryIds="0_aaaa0001,0_bbbb0002"))
    add_event(admin_client, record(soon, entryIds="0_cccc0003"))
    assert event_ids(admin_client, cls=KalturaEntryScheduleEventFilter, entryIdsLike="0_bbbb0002") == [
        wanted.id
    ]


def test_it_lists_by_any_category(admin_client, soon):
    first = add_event(admin_client, record(soon, categoryIds="11,12"))
    second = add_event(admin_client, record(soon, categoryIds="13"))
    add_event(admin_client, record(soon, categoryIds="111"))
    found = event_ids(admin_client, cls=KalturaEntryScheduleEventFilter, categoryIdsMultiLikeOr="12,13")
    assert sorted(found) == [first.id, second.id]


def test_it_lists_by_all_tags(admin_client, soon):
    both = add_event(admin_client, record(soon, tags="physics,exam"))
    add_event(admin_client, record(soon, tags="physics"))
    assert event_ids(admin_client, tagsMultiLikeAnd="physics,exam") == [both.id]


def test_a_blackout_filter_lists_only_blackouts(admin_client, soon):
    holiday = add_event(admin_client, blackout(soon))
    add_event(admin_client, record(soon))
    add_event(admin_client, live(soon))
    assert event_ids(admin_client, cls=KalturaBlackoutScheduleEventFilter) == [holiday.id]


def test_a_record_filter_lists_only_recordings(admin_client, soon):
    recording = add_event(admin_client, record(soon))
    add_event(admin_client, blackout(soon))
    add_event(admin_client, live(soon))
    assert event_ids(admin_client, cls=KalturaRecordScheduleEventFilter) == [recording.id]


def test_a_live_stream_filter_lists_only_live_streams(admin_client, soon):
    add_event(admin_client, record(soon))
    stream = add_event(admin_client, live(soon))
    assert event_ids(admin_client, cls=KalturaLiveStreamScheduleEventFilter) == [stream.id]


def test_a_list_leaves_deleted_events_out(admin_client, soon):
    kept = add_event(admin_client, record(soon))
    cancelled = add_event(admin_client, record(soon))
    gone = add_event(admin_client, record(soon))
    admin_client.schedule.scheduleEvent.cancel(cancelled.id)
    admin_client.schedule.scheduleEvent.delete(gone.id)
    assert event_ids(admin_client) == [kept.id, cancelled.id]


def test_a_status_filter_lists_deleted_events(admin_client, soon):
    add_event(admin_client, record(soon))
    gone = add_event(admin_client, record(soon))
    admin_client.schedule.scheduleEvent.delete(gone.id)
    assert event_ids(admin_client, statusEqual=DELETED) == [gone.id]


# ---------------------------------------------------------------- more round trips and edges


def test_it_keeps_every_writable_field(events, soon):
    sent = record(
        soon, referenceId="ext-1", location="Hall 1", organizer="bob", priority=5, geoLatitude=51.5,
        geoLongitude=-0.1, classificationType=2, contact="x@example.org", comment="note", tags="a,b",
    )  # fmt: skip
    got = events.get(events.add(sent).id)
    assert (got.referenceId, got.location, got.organizer, got.priority) == ("ext-1", "Hall 1", "bob", 5)
    assert (got.geoLatitude, got.geoLongitude, value(got.classificationType)) == (51.5, -0.1, 2)
    assert (got.contact, got.comment, got.tags) == ("x@example.org", "note", "a,b")


def test_a_live_stream_keeps_its_booleans(events, soon):
    added = events.add(live(soon, isContentInterruptible=True, sourceEntryId="0_src00001"))
    got = events.get(added.id)
    assert (got.isContentInterruptible, got.sourceEntryId) == (True, "0_src00001")
    events.update(added.id, KalturaLiveStreamScheduleEvent(isContentInterruptible=False))
    assert events.get(added.id).isContentInterruptible is False


def test_a_series_needs_a_recurrence(events, soon):
    error = error_of(events.add, record(soon, recurrenceType=RECURRING))
    assert error.code == "PROPERTY_VALIDATION_CANNOT_BE_NULL"
    assert "recurrence" in error.message


def test_a_series_may_end_by_date(admin_client, soon):
    rule = series(soon)
    rule.recurrence.count = NotImplemented
    rule.recurrence.until = soon + 15 * DAY
    parent = add_event(admin_client, rule)
    assert len(occurrences(admin_client, parent.id)) == 3


def test_moving_a_series_moves_its_occurrences(admin_client, soon):
    parent = add_event(admin_client, series(soon, count=3))
    before = [o.startDate for o in occurrences(admin_client, parent.id)]
    admin_client.schedule.scheduleEvent.update(
        parent.id, KalturaRecordScheduleEvent(startDate=soon + HOUR, endDate=soon + 2 * HOUR)
    )
    assert [o.startDate for o in occurrences(admin_client, parent.id)] == [s + HOUR for s in before]


def test_clearing_a_series_field_clears_its_occurrences(admin_client, soon):
    parent = add_event(admin_client, series(soon, description="Intro"))
    admin_client.schedule.scheduleEvent.update(parent.id, KalturaRecordScheduleEvent(description=None))
    assert {o.description or "" for o in occurrences(admin_client, parent.id)} == {""}


def test_an_edited_occurrence_gets_a_new_sequence(admin_client, soon):
    parent = add_event(admin_client, series(soon))
    first = occurrences(admin_client, parent.id)[0]
    edited = admin_client.schedule.scheduleEvent.update(first.id, KalturaRecordScheduleEvent(summary="Moved"))
    assert edited.sequence > first.sequence
    assert (value(edited.recurrenceType), edited.parentId) == (RECURRENCE, parent.id)


def test_a_page_past_the_end_is_empty(admin_client, daily):
    found = admin_client.schedule.scheduleEvent.list(event_filter(), pager(30, 5))
    assert (found.objects, found.totalCount) == ([], 41)


def test_it_lists_by_ids(admin_client, soon):
    first, second, third = (add_event(admin_client, record(soon)) for _ in range(3))
    assert event_ids(admin_client, idIn=f"{first.id},{third.id}") == [first.id, third.id]
    assert event_ids(admin_client, idNotIn=str(first.id)) == [second.id, third.id]


def test_it_lists_by_reference_id(admin_client, soon):
    wanted = add_event(admin_client, record(soon, referenceId="ext-1"))
    add_event(admin_client, record(soon, referenceId="ext-2"))
    assert event_ids(admin_client, referenceIdEqual="ext-1") == [wanted.id]


def test_a_listed_event_names_its_blackouts(admin_client, soon):
    holiday = add_event(admin_client, blackout(soon - HOUR, 8 * 60))
    lecture = add_event(admin_client, record(soon))
    listed = admin_client.schedule.scheduleEvent.list(event_filter(idEqual=lecture.id)).objects[0]
    assert [(type(b), b.id) for b in listed.blackoutConflicts] == [(KalturaBlackoutScheduleEvent, holiday.id)]


def test_a_cancelled_blackout_is_no_blackout_conflict(admin_client, soon):
    holiday = add_event(admin_client, blackout(soon - HOUR, 8 * 60))
    lecture = add_event(admin_client, record(soon))
    admin_client.schedule.scheduleEvent.cancel(holiday.id)
    assert admin_client.schedule.scheduleEvent.get(lecture.id).blackoutConflicts == []


def test_another_partner_lists_none_of_the_events(admin_client, outsider_client, soon):
    add_event(admin_client, record(soon))
    assert event_ids(outsider_client) == []


def test_text_survives_the_xml_round_trip(events, soon):
    text = 'Über <b>"R&D"</b> ✓ — 日本'
    added = events.add(record(soon, summary=text, description="line 1\nline 2"))
    got = events.get(added.id)
    assert (got.summary, got.description) == (text, "line 1\nline 2")
