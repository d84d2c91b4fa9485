"""Open-ended series through the official client: a recurrence with neither count nor until is
accepted (we go further than Kaltura, which refuses it), made to the horizon, and rendered
without either; the rule's edits and probes work as for any series."""

from __future__ import annotations

from django.conf import settings
from KalturaClient.Plugins.Schedule import (
    KalturaRecordScheduleEvent,
    KalturaScheduleEventRecurrence,
    KalturaScheduleEventRecurrenceFrequency,
    KalturaScheduleEventRecurrenceType,
)

from calendar_app.models import ScheduleEvent
from tests.kaltura_api.builders import (
    DAY,
    HOUR,
    add_event,
    build,
    error_code,
    occurrences,
    record,
    series,
)
from tests.kaltura_api.http import post, record_event, session_for

WEEKLY = KalturaScheduleEventRecurrenceFrequency.WEEKLY
WEEKS_IN_THE_HORIZON = settings.SCHEDULE_MAX_HORIZON_DAYS // 7 + 1


def open_ended(start: int, minutes: int = 60, **rule) -> KalturaRecordScheduleEvent:
    return build(
        KalturaRecordScheduleEvent,
        summary="Seminar",
        startDate=start,
        endDate=start + minutes * 60,
        recurrenceType=KalturaScheduleEventRecurrenceType.RECURRING,
        recurrence=build(KalturaScheduleEventRecurrence, frequency=WEEKLY, timeZone="Europe/Berlin", **rule),
    )


def test_it_adds_an_open_ended_series_made_to_the_horizon(admin_client, soon):
    added = add_event(admin_client, open_ended(soon))
    assert len(occurrences(admin_client, added.id)) == WEEKS_IN_THE_HORIZON
    assert ScheduleEvent.objects.get(pk=added.id).materialized_until is not None


def test_it_renders_the_rule_without_count_or_until(admin_client, soon):
    added = add_event(admin_client, open_ended(soon, interval=2))
    rule = admin_client.schedule.scheduleEvent.get(added.id).recurrence
    assert (rule.frequency.getValue(), rule.interval, rule.timeZone) == (WEEKLY, 2, "Europe/Berlin")
    assert rule.count is None and rule.until is None  # not sent: the client leaves them unset


def test_a_bounded_series_becomes_open_ended_when_its_rule_loses_its_end(admin_client, soon):
    added = add_event(admin_client, series(soon, count=3))
    admin_client.schedule.scheduleEvent.update(added.id, open_ended(soon))
    assert len(occurrences(admin_client, added.id)) == WEEKS_IN_THE_HORIZON


def test_new_times_move_every_occurrence_and_keep_it_open_ended(admin_client, soon):
    added = add_event(admin_client, open_ended(soon))
    admin_client.schedule.scheduleEvent.update(added.id, open_ended(soon + HOUR))
    starts = [o.startDate for o in occurrences(admin_client, added.id)]
    assert len(starts) == WEEKS_IN_THE_HORIZON and starts[0] == soon + HOUR


def test_an_open_ended_probe_finds_a_booking_two_years_ahead(admin_client, room, soon):
    far = add_event(admin_client, record(soon + 104 * 7 * DAY), room)
    found = admin_client.schedule.scheduleEvent.getConflicts(str(room.id), open_ended(soon))
    assert [c.id for c in found.objects] == [far.id]


def test_count_and_until_together_are_still_refused(admin_client, soon):
    both = open_ended(soon, count=3, until=soon + 30 * DAY)
    code = error_code(admin_client.schedule.scheduleEvent.add, both)
    assert code == "PROPERTY_VALIDATION_ALL_MUST_BE_NULL_BUT_ONE"


# ---------------------------------------------------------------- extra dates (imports only)


def test_a_series_of_extra_dates_reads_without_them(admin_client, make_event):
    """An import's DTSTART + RDATE series: Kaltura's recurrence has no such field, so the client
    reads a recurrence without a frequency, and every occurrence as usual."""
    rule = {"time_zone": "Europe/Berlin", "rdates": [1_789_034_400, 1_789_380_000]}
    series = make_event(recurrence_type=1, recurrence=rule)
    got = admin_client.schedule.scheduleEvent.get(series.pk)
    assert (got.recurrence.frequency, got.recurrence.timeZone) == (None, "Europe/Berlin")
    assert not hasattr(got.recurrence, "rdates")
    assert len(occurrences(admin_client, series.pk)) == 3


def test_an_api_edit_keeps_the_extra_dates(admin_client, make_series):
    series = make_series(count=2, rdates=[1_789_034_400])
    admin_client.schedule.scheduleEvent.update(series.pk, KalturaRecordScheduleEvent(summary="Renamed"))
    series.refresh_from_db()
    assert series.recurrence["rdates"] == [1_789_034_400]
    assert series.occurrences.count() == 3


def test_the_api_cannot_set_extra_dates(client, partner, now):
    event = record_event(recurrenceType="1")
    event["recurrence"] = {
        "objectType": "KalturaScheduleEventRecurrence",
        **{"frequency": "weeks", "count": "2", "rdates": ["1789034400"]},
    }
    body = {"ks": session_for(partner, now), "format": 1, "scheduleEvent": event}
    added = post(client, "schedule_scheduleevent", "add", body).json()
    assert "rdates" not in ScheduleEvent.objects.get(pk=added["id"]).recurrence
    assert ScheduleEvent.objects.get(pk=added["id"]).occurrences.count() == 2
