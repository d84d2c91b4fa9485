"""The web calendar's view model: columns grouped by location, events placed by wall-clock time."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from calendar_app import batch_scheduling, scheduling
from calendar_app.models import EventStatus, EventType, ResourceType, ScheduleResource
from calendar_app.web.grid import NowLine, Query, build
from tests.conftest import at

BERLIN = "Europe/Berlin"
MONDAY = date(2026, 9, 7)  # the partner's zone is Europe/Berlin
EVERY_TYPE = frozenset(ResourceType)  # equipment in columns of its own, as before folding


def week(partner, now, first_day=MONDAY, days=7, **filters):
    return build(Query(partner, first_day, days, now, **filters))


def layout(grid):
    return [(group.name, [column.resource.name for column in group.columns]) for group in grid.groups]


def shown(grid, resource):
    """(day index, placed) for every event in the resource's column."""
    column = next(c for c in grid.columns if c.resource.id == resource.pk)
    return [(day.index, p) for day in grid.days for p in grid.cells[day.index][column.index]]


def placed(grid, resource, event):
    return [p for _, p in shown(grid, resource) if p.event_id == event.pk]


@pytest.fixture
def room(make_resource):
    return make_resource("Room 101")


@pytest.fixture
def camera(make_resource, room):
    return make_resource("Camera 101", ResourceType.CAMERA, parent_id=room.pk)


def lecture(make_event, start, minutes=60, **extra):
    return make_event(start, minutes, zone=BERLIN, **extra)


# ---------------------------------------------------------------- groups and columns


def test_it_groups_columns_by_location_in_name_order(partner, now, make_resource):
    hall = make_resource("b-Hall")
    make_resource("Live B", ResourceType.LIVE_ENTRY, parent_id=hall.pk)
    make_resource("cam b", ResourceType.CAMERA, parent_id=hall.pk)
    make_resource("Cam A", ResourceType.CAMERA, parent_id=hall.pk)
    make_resource("Annex")
    make_resource("Spare camera", ResourceType.CAMERA)
    assert layout(week(partner, now, resource_types=EVERY_TYPE)) == [
        ("Annex", ["Annex"]),
        ("b-Hall", ["b-Hall", "Cam A", "cam b", "Live B"]),
        ("Other resources", ["Spare camera"]),
    ]


def test_by_default_a_column_is_a_room_with_its_equipment_folded_in(partner, now, make_resource):
    hall = make_resource("Hall")
    camera = make_resource("Hall camera 1", ResourceType.CAMERA, parent_id=hall.pk)
    make_resource("Spare camera", ResourceType.CAMERA)  # no room to fold into: a column still
    grid = week(partner, now)
    assert layout(grid) == [("Hall", ["Hall"]), ("Other resources", ["Spare camera"])]
    assert [r.name for r in grid.columns[0].folded] == [camera.name]


def test_a_building_groups_its_rooms(partner, now, make_resource):
    building = make_resource("Main building")
    lobby_camera = make_resource("Lobby camera", ResourceType.CAMERA, parent_id=building.pk)
    room = make_resource("Room 1", parent_id=building.pk)
    make_resource("Room 2", parent_id=building.pk)
    make_resource("Room 1 camera", ResourceType.CAMERA, parent_id=room.pk)
    make_resource("Lens", ResourceType.CAMERA, parent_id=lobby_camera.pk)  # below a non-location
    make_resource("Annex")  # no building: a group of its own
    assert layout(week(partner, now)) == [
        ("Annex", ["Annex"]),
        ("Main building", ["Main building", "Room 1", "Room 2"]),  # its own column: it has cameras
    ]
    assert layout(week(partner, now, resource_types=EVERY_TYPE)) == [
        ("Annex", ["Annex"]),
        ("Main building", ["Main building", "Lens", "Lobby camera", "Room 1", "Room 1 camera", "Room 2"]),
    ]


def test_a_building_without_equipment_or_bookings_has_no_column_of_its_own(
    partner, now, make_resource, make_event
):
    building = make_resource("Main building")
    make_resource("Room 1", parent_id=building.pk)
    assert layout(week(partner, now)) == [("Main building", ["Room 1"])]
    lecture(make_event, "2026-09-08 09:00", resources=[building])
    assert layout(week(partner, now)) == [("Main building", ["Main building", "Room 1"])]


def test_an_equipment_column_names_its_room(partner, now, room, camera, make_resource):
    make_resource("Room 101 camera 2", ResourceType.CAMERA, parent_id=room.pk)
    grid = week(partner, now, resource_types=EVERY_TYPE)
    assert [c.label for c in grid.columns] == ["Room 101", "Room 101 · Cam 101", "Room 101 · cam 2"]


def test_columns_are_numbered_in_display_order(partner, now, room, camera):
    grid = week(partner, now, resource_types=EVERY_TYPE)
    assert [(c.index, c.resource.name, c.group.name) for c in grid.columns] == [
        (0, "Room 101", "Room 101"),
        (1, "Camera 101", "Room 101"),
    ]
    assert grid.columns[1].resource.type == ResourceType.CAMERA


def test_deleted_resources_are_not_columns(partner, actor, now, room, camera):
    scheduling.delete_resource(actor, camera.pk)
    assert layout(week(partner, now)) == [("Room 101", ["Room 101"])]


def test_a_building_filter_shows_its_rooms(partner, now, make_resource):
    building = make_resource("Main building")
    make_resource("Room 1", parent_id=building.pk)
    make_resource("Room 2", parent_id=building.pk)
    make_resource("Elsewhere")
    make_resource("Spare camera", ResourceType.CAMERA)
    grid = week(partner, now, location_id=building.pk)
    assert layout(grid) == [("Main building", ["Room 1", "Room 2"])]


def test_a_room_filter_shows_that_room(partner, now, room, camera, make_resource):
    make_resource("Room 102")
    grid = week(partner, now, location_id=room.pk, resource_types=EVERY_TYPE)
    assert layout(grid) == [("Room 101", ["Room 101", "Camera 101"])]


def test_the_room_week_shows_one_room_by_default_the_first_by_name(partner, now, make_resource):
    building = make_resource("Main building")
    make_resource("Room B", parent_id=building.pk)
    first = make_resource("room a", parent_id=building.pk)
    grid = week(partner, now, one_location=True)
    assert layout(grid) == [("Main building", ["room a"])]
    assert (grid.location_id, grid.building_id) == (first.pk, building.pk)


def test_the_room_week_of_a_building_shows_its_first_room(partner, now, make_resource):
    building = make_resource("Main building")
    make_resource("Room 2", parent_id=building.pk)
    make_resource("Room 1", parent_id=building.pk)
    make_resource("Annex")
    assert layout(week(partner, now, one_location=True, location_id=building.pk)) == [
        ("Main building", ["Room 1"])
    ]


def test_the_type_filter_chooses_the_columns(partner, now, room, camera, make_resource):
    make_resource("Live 101", ResourceType.LIVE_ENTRY, parent_id=room.pk)
    make_resource("Empty room")
    grid = week(partner, now, resource_types=frozenset({ResourceType.CAMERA}))
    assert layout(grid) == [("Room 101", ["Camera 101"])]


def test_the_location_choices_come_in_tree_order(partner, now, make_resource):
    building = make_resource("Main building")
    make_resource("Room 2", parent_id=building.pk)
    make_resource("room 1", parent_id=building.pk)
    annex = make_resource("Annex")
    make_resource("Camera", ResourceType.CAMERA, parent_id=annex.pk)
    choices = [(name, depth) for _, name, depth in week(partner, now).locations]
    assert choices == [("Annex", 0), ("Main building", 0), ("room 1", 1), ("Room 2", 1)]


def test_a_partner_without_resources_gets_the_first_run_screen(partner, now, make_resource):
    assert week(partner, now).is_empty_partner
    assert week(partner, now).groups == []
    make_resource("Room 101")
    assert not week(partner, now).is_empty_partner


# ---------------------------------------------------------------- days and window


def test_the_window_runs_from_local_midnight_to_local_midnight(partner, now):
    grid = week(partner, now)
    assert grid.start == at("2026-09-07 00:00", BERLIN)
    assert grid.end == at("2026-09-14 00:00", BERLIN)
    assert [d.label for d in grid.days][:2] == ["Mon 7 Sep", "Tue 8 Sep"]


def test_a_day_view_has_one_day(partner, now):
    grid = week(partner, now, days=1)
    assert [d.date for d in grid.days] == [MONDAY]
    assert grid.end - grid.start == timedelta(hours=24)


def test_a_grid_shows_one_or_seven_days(partner, now):
    with pytest.raises(ValueError):
        Query(partner, MONDAY, 3, now)


def test_the_now_line_marks_the_current_minute(partner):
    grid = week(partner, at("2026-09-08 10:15", BERLIN))
    assert grid.now_line == NowLine(day_index=1, minute=615)
    assert [d.is_today for d in grid.days][:3] == [False, True, False]


def test_there_is_no_now_line_outside_the_window(partner):
    assert week(partner, at("2026-09-14 00:00", BERLIN)).now_line is None
    assert week(partner, at("2026-09-06 23:59", BERLIN)).now_line is None


def test_day_cells_pair_each_column_with_its_events(partner, now, room, camera, make_event):
    booked = lecture(make_event, "2026-09-08 09:00", resources=[camera])
    tuesday, cells, bands = week(partner, now, resource_types=EVERY_TYPE).day_cells()[1]
    assert tuesday.label == "Tue 8 Sep" and bands == []
    assert [(column.resource.name, [p.event_id for p in placed]) for column, placed in cells] == [
        ("Room 101", []),
        ("Camera 101", [booked.pk]),
    ]


def test_the_rows_are_quarter_hours_labelled_on_the_hour(partner, now):
    rows = week(partner, now).rows
    assert len(rows) == 96
    assert rows[36] == (540, "09:00")
    assert rows[37] == (555, "")


# ---------------------------------------------------------------- which events


def test_it_places_an_event_by_local_time(partner, now, room, make_event):
    booked = lecture(make_event, "2026-09-08 09:00", 90, resources=[room], summary="Algebra")
    [(day, event)] = shown(week(partner, now), room)
    assert (day, event.event_id, event.summary, event.top, event.height) == (1, booked.pk, "Algebra", 540, 90)
    assert event.start.hour == 9 and str(event.start.tzinfo) == BERLIN
    assert (event.lane, event.lanes, event.in_conflict, event.is_occurrence) == (0, 1, False, False)


def test_an_event_on_several_resources_has_a_box_in_each(
    partner, now, room, camera, make_resource, make_event
):
    live = make_resource("Live 101", ResourceType.LIVE_ENTRY, parent_id=room.pk)
    booked = lecture(make_event, "2026-09-08 09:00", resources=[room, camera, live])
    grid = week(partner, now, resource_types=EVERY_TYPE)
    assert [len(placed(grid, r, booked)) for r in (room, camera, live)] == [1, 1, 1]


def test_a_booking_on_a_room_and_its_equipment_shows_once_marked(
    partner, now, room, camera, make_resource, make_event
):
    live = make_resource("Room 101 live", ResourceType.LIVE_ENTRY, parent_id=room.pk)
    booked = lecture(make_event, "2026-09-08 09:00", resources=[room, camera, live])
    on_camera = lecture(make_event, "2026-09-08 11:00", resources=[camera])
    boxes = {p.event_id: p.equipment for _, p in shown(week(partner, now), room)}
    assert boxes == {booked.pk: ("Cam 101", "live"), on_camera.pk: ("Cam 101",)}


def test_it_shows_occurrences_but_not_the_series_row(partner, now, room, make_series):
    series = make_series("2026-09-07 09:00", 60, count=2, frequency="days", resources=[room])
    events = shown(week(partner, now), room)
    assert [(day, p.top) for day, p in events] == [(0, 540), (1, 540)]
    assert all(p.is_occurrence and p.parent_id == series.pk for _, p in events)
    assert series.pk not in {p.event_id for _, p in events}


def test_events_outside_the_window_are_not_shown(partner, now, room, make_event):
    lecture(make_event, "2026-09-06 22:00", 120, resources=[room])  # ends at Monday's midnight
    lecture(make_event, "2026-09-14 00:00", resources=[room])
    assert shown(week(partner, now), room) == []


def test_a_cancelled_event_is_hidden_by_default(partner, actor, now, room, make_event):
    booked = lecture(make_event, "2026-09-08 09:00", resources=[room])
    scheduling.cancel_event(actor, booked.pk)
    assert shown(week(partner, now), room) == []


def test_a_cancelled_event_is_shown_as_cancelled_when_asked(partner, actor, now, room, make_event):
    booked = lecture(make_event, "2026-09-08 09:00", resources=[room])
    scheduling.cancel_event(actor, booked.pk)
    [(_, event)] = shown(week(partner, now, show_cancelled=True), room)
    assert event.status == EventStatus.CANCELLED and event.is_cancelled


def test_a_deleted_event_is_not_shown(partner, actor, now, room, make_event):
    booked = lecture(make_event, "2026-09-08 09:00", resources=[room])
    scheduling.delete_event(actor, booked.pk)
    assert shown(week(partner, now), room) == []


def test_an_event_without_resources_is_listed_as_unassigned(partner, now, room, make_event):
    loose = lecture(make_event, "2026-09-08 09:00", summary="Where?")
    lecture(make_event, "2026-09-08 11:00", resources=[room])
    [row] = week(partner, now).unassigned
    assert (row.event_id, row.summary, row.start.hour, row.end.hour) == (loose.pk, "Where?", 9, 10)


# ---------------------------------------------------------------- blackouts


def test_a_blackout_is_a_band_not_a_column_event(partner, now, room, make_event):
    closed = lecture(make_event, "2026-09-09 12:00", 120, type=EventType.BLACKOUT, summary="Fire drill")
    grid = week(partner, now)
    assert shown(grid, room) == []
    assert [[(b.event_id, b.summary, b.top, b.height) for b in day] for day in grid.blackouts][1:3] == [
        [],
        [(closed.pk, "Fire drill", 720, 120)],
    ]


def test_a_blackout_linked_to_a_resource_is_still_only_a_band(partner, now, room, make_event):
    lecture(make_event, "2026-09-09 12:00", type=EventType.BLACKOUT, resources=[room])
    grid = week(partner, now)
    assert shown(grid, room) == [] and len(grid.blackouts[2]) == 1
    assert grid.unassigned == []


def test_a_blackout_over_days_is_a_band_on_each(partner, now, make_event):
    lecture(make_event, "2026-09-10 18:00", 2 * 24 * 60, type=EventType.BLACKOUT)
    bands = week(partner, now).blackouts
    assert [[(b.top, b.height, b.continues_before, b.continues_after) for b in day] for day in bands] == [
        [], [], [], [(1080, 360, False, True)], [(0, 1440, True, True)], [(0, 1080, True, False)], [],
    ]  # fmt: skip


# ---------------------------------------------------------------- lanes and conflicts


def test_overlapping_events_sit_side_by_side(partner, now, room, make_event):
    a = lecture(make_event, "2026-09-08 09:00", 90, resources=[room])
    b = lecture(make_event, "2026-09-08 10:00", 60, resources=[room])
    c = lecture(make_event, "2026-09-08 10:30", 90, resources=[room])
    d = lecture(make_event, "2026-09-08 13:00", 60, resources=[room])
    lanes = {p.event_id: (p.lane, p.lanes) for _, p in shown(week(partner, now), room)}
    assert lanes == {a.pk: (0, 2), b.pk: (1, 2), c.pk: (0, 2), d.pk: (0, 1)}


def test_overlapping_events_conflict(partner, now, room, make_event):
    a = lecture(make_event, "2026-09-08 09:00", 90, resources=[room])
    b = lecture(make_event, "2026-09-08 10:00", 60, resources=[room])
    assert {p.event_id: p.in_conflict for _, p in shown(week(partner, now), room)} == {a.pk: True, b.pk: True}


def test_back_to_back_events_do_not_conflict(partner, now, room, make_event):
    lecture(make_event, "2026-09-08 09:00", 60, resources=[room])
    lecture(make_event, "2026-09-08 10:00", 60, resources=[room])
    events = [p for _, p in shown(week(partner, now), room)]
    assert [(p.in_conflict, p.lanes) for p in events] == [(False, 1), (False, 1)]


def test_a_cancelled_event_does_not_conflict(partner, actor, now, room, make_event):
    kept = lecture(make_event, "2026-09-08 09:00", 60, resources=[room])
    dropped = lecture(make_event, "2026-09-08 09:30", 60, resources=[room])
    scheduling.cancel_event(actor, dropped.pk)
    events = {
        p.event_id: (p.in_conflict, p.lane, p.lanes)
        for _, p in shown(week(partner, now, show_cancelled=True), room)
    }
    assert events == {kept.pk: (False, 0, 1), dropped.pk: (False, 0, 1)}  # behind it, taking no lane


def test_a_conflict_is_per_column(partner, now, room, camera, make_event):
    both = lecture(make_event, "2026-09-08 09:00", 60, resources=[room, camera])
    lecture(make_event, "2026-09-08 09:30", 60, resources=[room])
    grid = week(partner, now, resource_types=EVERY_TYPE)
    assert [p.in_conflict for p in placed(grid, room, both)] == [True]
    assert [p.in_conflict for p in placed(grid, camera, both)] == [False]


def test_a_conflict_in_a_folded_column_is_per_resource(partner, now, room, camera, make_resource, make_event):
    other_camera = make_resource("Room 101 camera 2", ResourceType.CAMERA, parent_id=room.pk)
    a = lecture(make_event, "2026-09-08 09:00", 60, resources=[camera])
    b = lecture(make_event, "2026-09-08 09:30", 60, resources=[other_camera])
    c = lecture(make_event, "2026-09-08 14:00", 60, resources=[room])
    d = lecture(make_event, "2026-09-08 14:30", 60, resources=[room, other_camera])
    flags = {p.event_id: (p.in_conflict, p.lanes) for _, p in shown(week(partner, now), room)}
    assert flags == {a.pk: (False, 2), b.pk: (False, 2), c.pk: (True, 2), d.pk: (True, 2)}


def test_lanes_past_the_readable_most_overflow(partner, now, room, make_event):
    events = [lecture(make_event, "2026-09-08 09:00", 60 + n, resources=[room]) for n in range(4)]
    boxes = {
        p.event_id: (p.lane, p.lanes, p.overflow) for _, p in shown(week(partner, now, max_lanes=2), room)
    }
    assert [boxes[e.pk] for e in reversed(events)] == [
        (0, 2, False),
        (1, 2, False),
        (2, 2, True),
        (3, 2, True),
    ]


def test_an_event_in_a_blackout_conflicts(partner, now, room, make_event):
    inside = lecture(make_event, "2026-09-08 09:00", 60, resources=[room])
    after = lecture(make_event, "2026-09-08 12:00", 60, resources=[room])
    lecture(make_event, "2026-09-08 08:00", 240, type=EventType.BLACKOUT)  # until 12:00
    events = {p.event_id: p.in_conflict for _, p in shown(week(partner, now), room)}
    assert events == {inside.pk: True, after.pk: False}


def test_the_conflict_flag_agrees_with_the_conflict_check(partner, now, room, make_event):
    booked = lecture(make_event, "2026-09-08 09:00", 60, resources=[room])
    lecture(make_event, "2026-09-08 09:59", 30, resources=[room])
    [flag] = [p.in_conflict for p in placed(week(partner, now), room, booked)]
    assert flag == bool(scheduling.conflicts_of(booked))


# ---------------------------------------------------------------- clipping and DST


def test_an_event_over_midnight_is_clipped_to_each_day(partner, now, room, make_event):
    late = lecture(make_event, "2026-09-07 22:00", 240, resources=[room], type=EventType.MEETING)
    events = shown(week(partner, now), room)
    assert [(day, p.top, p.height, p.continues_before, p.continues_after) for day, p in events] == [
        (0, 1320, 120, False, True),
        (1, 0, 120, True, False),
    ]
    assert {p.event_id for _, p in events} == {late.pk}


def test_an_event_from_before_the_window_starts_at_the_top(partner, now, room, make_event):
    lecture(make_event, "2026-09-05 12:00", 47 * 60, resources=[room], type=EventType.MEETING)  # to 11:00
    [(day, event)] = shown(week(partner, now), room)
    assert (day, event.top, event.height, event.continues_before) == (0, 0, 660, True)
    assert not event.continues_after


def test_an_event_ending_at_midnight_stays_on_its_day(partner, now, room, make_event):
    lecture(make_event, "2026-09-07 22:00", 120, resources=[room])
    [(day, event)] = shown(week(partner, now), room)
    assert (day, event.top, event.height, event.continues_after) == (0, 1320, 120, False)


def test_a_week_when_clocks_go_forward_has_167_hours(partner, now):
    grid = week(partner, now, first_day=date(2026, 3, 23))
    assert grid.end - grid.start == timedelta(hours=167)
    assert grid.days[6].end - grid.days[6].start == timedelta(hours=23)


def test_a_week_when_clocks_go_back_has_169_hours(partner, now):
    grid = week(partner, now, first_day=date(2026, 10, 19))
    assert grid.end - grid.start == timedelta(hours=169)
    assert grid.days[6].end - grid.days[6].start == timedelta(hours=25)


def test_an_event_across_the_spring_gap_is_placed_by_wall_clock(partner, now, room, make_event):
    # 01:30 CET to 03:30 CEST: one hour long, two hours of the wall-clock axis.
    lecture(make_event, "2026-03-29 01:30", 60, resources=[room])
    [(day, event)] = shown(week(partner, now, first_day=date(2026, 3, 29), days=1), room)
    assert (event.start.hour, event.start.minute, event.end.hour) == (1, 30, 3)
    assert (day, event.top, event.height) == (0, 90, 120)


def test_an_event_across_the_autumn_repeat_is_placed_by_wall_clock(partner, now, room, make_event):
    # 01:30 CEST to 03:30 CET: three hours long, two hours of the wall-clock axis.
    lecture(make_event, "2026-10-25 01:30", 180, resources=[room])
    [(day, event)] = shown(week(partner, now, first_day=date(2026, 10, 25), days=1), room)
    assert (event.end.hour, event.end.minute) == (3, 30)
    assert (day, event.top, event.height) == (0, 90, 120)


def test_an_event_inside_the_repeated_hour_never_has_a_negative_height(partner, now, room, make_event):
    # 02:45 CEST to 02:15 CET: half an hour whose end reads earlier than its start.
    make_event("2026-10-25 00:45", 30, resources=[room])  # UTC
    [(_, event)] = shown(week(partner, now, first_day=date(2026, 10, 25), days=1), room)
    assert (event.start.hour, event.start.minute, event.end.hour, event.end.minute) == (2, 45, 2, 15)
    assert (event.top, event.height) == (165, 0)


# ---------------------------------------------------------------- partners


def test_another_partners_rows_never_appear(partner, now, room, make_resource, make_event, outsider):
    theirs = make_resource("Their room", who=outsider)
    make_resource("Their camera", ResourceType.CAMERA, who=outsider)
    make_event("2026-09-08 09:00", resources=[theirs], who=outsider)
    make_event("2026-09-08 10:00", who=outsider)
    make_event("2026-09-08 12:00", type=EventType.BLACKOUT, who=outsider)
    grid = week(partner, now)
    assert layout(grid) == [("Room 101", ["Room 101"])]
    assert grid.unassigned == [] and grid.blackouts == [[]] * 7
    assert [name for _, name, _ in grid.locations] == ["Room 101"]


def test_another_partners_location_filters_to_nothing(partner, now, room, make_resource, outsider):
    theirs = make_resource("Their room", who=outsider)
    assert week(partner, now, location_id=theirs.pk).groups == []


def test_an_outsiders_grid_is_empty(outsider_partner, now, room, make_event):
    lecture(make_event, "2026-09-08 09:00", resources=[room])
    grid = week(outsider_partner, now)
    assert grid.is_empty_partner and grid.groups == [] and grid.unassigned == []


# ---------------------------------------------------------------- speed


def test_it_takes_three_queries_whatever_the_size(
    partner, actor, now, make_resource, make_event, django_assert_max_num_queries
):
    rooms = [make_resource(f"Room {n}") for n in range(20)]
    for room in rooms:
        make_resource(f"Camera {room.name}", ResourceType.CAMERA, parent_id=room.pk)
    lecture(make_event, "2026-09-09 12:00", type=EventType.BLACKOUT)
    lecture(make_event, "2026-09-09 15:00")
    starts = [at("2026-09-07 08:00", BERLIN) + timedelta(days=n // 10, hours=n % 10) for n in range(60)]
    rows = [
        batch_scheduling.NewEvent(
            {"type": EventType.RECORD, "summary": "Lecture", "start": s, "end": s + timedelta(minutes=75)},
            (room.pk,),
        )
        for room in rooms
        for s in starts
    ]
    batch_scheduling.create_events(actor, rows)
    with django_assert_max_num_queries(3):
        grid = week(partner, now, resource_types=EVERY_TYPE)
    assert sum(len(cell) for day in grid.cells for cell in day) == 1200
    assert len(grid.unassigned) == 1 and len(grid.blackouts[2]) == 1


# ---------------------------------------------------------------- past and long events


def test_days_before_today_are_past(partner):
    grid = week(partner, at("2026-09-09 10:00", BERLIN))
    assert [d.is_past for d in grid.days] == [True, True, False, False, False, False, False]


def test_a_long_imported_meeting_from_months_ago_is_shown(partner, actor, now, room):
    """Imports may write a meeting as long as the series horizon (imports/ical_apply.py)."""
    begin = at("2026-06-01 09:00", BERLIN)
    data = {
        "type": EventType.MEETING,
        "summary": "Conference",
        "start": begin,
        "end": begin + timedelta(days=120),
    }
    conference = scheduling.create_event(actor, data, resource_ids=[room.pk], longest=timedelta(days=365))
    days = [day for day, p in shown(week(partner, now), room) if p.event_id == conference.pk]
    assert days == [0, 1, 2, 3, 4, 5, 6]


# ---------------------------------------------------------------- a screenful at a time (timeline)


@pytest.fixture
def campus(make_resource):
    """Three buildings of three rooms, each room with a camera: {building name: [rooms]}."""
    found = {}
    for name in ("Alpha", "Beta", "Gamma"):
        building = make_resource(name)
        found[name] = [make_resource(f"{name} {n}", parent_id=building.pk) for n in range(1, 4)]
        for room in found[name]:
            make_resource(f"{room.name} camera", ResourceType.CAMERA, parent_id=room.pk)
    return found


def camera_of(room):
    return ScheduleResource.objects.get(parent=room)


def boxes(grid):
    """{column's resource name: [(day, event id)]} for the columns with events."""
    found = {}
    for column in grid.columns:
        events = [(d.index, p.event_id) for d in grid.days for p in grid.cells[d.index][column.index]]
        if events:
            found[column.resource.name] = events
    return found


def test_a_campus_builds_its_first_screenful_and_leaves_the_rest_to_load(partner, now, campus, make_event):
    for rooms in campus.values():
        lecture(make_event, "2026-09-08 09:00", resources=[rooms[0]])
    grid = week(partner, now, eager_rows=4)  # Alpha's 3 rows fit, Beta's would make 6
    keys = {group.name: group.key for group in grid.groups}
    assert grid.lazy == {keys["Beta"], keys["Gamma"]}
    assert list(boxes(grid)) == ["Alpha 1"]
    # every group and column is there, numbered as in the whole page: only the cells wait
    assert layout(grid) == layout(week(partner, now))


def test_a_small_partner_builds_everything(partner, now, campus):
    assert week(partner, now, eager_rows=40).lazy == frozenset()


def test_a_part_builds_that_group_alone(partner, now, campus, make_event):
    lectures = [lecture(make_event, "2026-09-08 09:00", resources=[rooms[1]]) for rooms in campus.values()]
    beta = next(g for g in week(partner, now).groups if g.name == "Beta")
    grid = week(partner, now, eager_rows=4, part=beta.key)
    assert grid.lazy == {g.key for g in grid.groups} - {beta.key}
    assert boxes(grid) == {"Beta 2": [(1, lectures[1].pk)]}
    assert week(partner, now, part="loc-0").lazy == {g.key for g in grid.groups}  # no such group: nothing


def test_a_restricted_build_places_what_the_whole_one_does(partner, actor, now, campus, make_event):
    """Folded equipment, conflicts, an event also on a lazy room, a booking on a building, the
    unassigned list and the blackouts all come out as they do when every row is built."""
    alpha, beta = campus["Alpha"], campus["Beta"]
    on_camera = lecture(make_event, "2026-09-08 09:00", resources=[camera_of(alpha[0])])  # in Alpha 1
    lecture(make_event, "2026-09-08 09:30", resources=[alpha[0]], allow_conflicts=True)
    lecture(make_event, "2026-09-08 09:45", resources=[alpha[0]], allow_conflicts=True)  # a conflict
    lecture(make_event, "2026-09-09 10:00", resources=[alpha[1], beta[1]])  # Beta is lazy
    lecture(make_event, "2026-09-10 10:00", resources=[beta[2]])
    lecture(make_event, "2026-09-10 11:00", resources=[alpha[2].parent])  # Alpha's own column
    lecture(make_event, "2026-09-10 12:00")  # no resource
    lecture(make_event, "2026-09-11 12:00", type=EventType.BLACKOUT)
    whole = week(partner, now)
    first = week(partner, now, eager_rows=4)
    built = [c for c in first.columns if c.group.key not in first.lazy]
    assert [c.resource.name for c in built] == ["Alpha", "Alpha 1", "Alpha 2", "Alpha 3"]
    for column in built:
        assert [first.cells[d.index][column.index] for d in first.days] == [
            whole.cells[d.index][column.index] for d in whole.days
        ]
    assert first.unassigned == whole.unassigned and first.blackouts == whole.blackouts
    assert boxes(first) == {k: v for k, v in boxes(whole).items() if k.startswith("Alpha")}
    conflicted = [p.in_conflict for _, p in shown(first, alpha[0])]
    assert conflicted == [False, True, True] and placed(first, alpha[0], on_camera)[0].equipment
    beta_part = week(partner, now, part=next(g.key for g in whole.groups if g.name == "Beta"))
    assert boxes(beta_part) == {k: v for k, v in boxes(whole).items() if k.startswith("Beta")}


def test_a_location_filter_reads_its_resources_events(partner, now, campus, make_event):
    alpha_event = lecture(make_event, "2026-09-08 09:00", resources=[campus["Alpha"][0]])
    lecture(make_event, "2026-09-08 09:00", resources=[campus["Beta"][0]])
    grid = week(partner, now, location_id=campus["Alpha"][0].parent_id)
    assert boxes(grid) == {"Alpha 1": [(1, alpha_event.pk)]}


def test_a_screenful_and_a_part_take_three_queries(
    partner, now, campus, make_event, django_assert_max_num_queries
):
    for rooms in campus.values():
        for room in rooms:
            lecture(make_event, "2026-09-08 09:00", resources=[room, camera_of(room)])
    with django_assert_max_num_queries(3):
        grid = week(partner, now, eager_rows=4)
    with django_assert_max_num_queries(3):
        part = week(partner, now, eager_rows=4, part=sorted(grid.lazy)[0])
    assert len(boxes(grid)) == 3 and len(boxes(part)) == 3


def test_other_resources_load_as_a_part_of_their_own(partner, now, campus, make_resource, make_event):
    spare = make_resource("Spare camera", ResourceType.CAMERA)
    event = lecture(make_event, "2026-09-08 09:00", resources=[spare])
    assert "other" in week(partner, now, eager_rows=4).lazy
    assert boxes(week(partner, now, eager_rows=4, part="other")) == {"Spare camera": [(1, event.pk)]}
