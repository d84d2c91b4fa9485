"""What the calendar's requests carry, parsed: the booking panel's form (what staff type, local
dates and times in the partner's zone, in; a conflict_warnings.Proposal out), the page's address
and the drag gestures' parameters.

BookingForm serves a new booking, a whole series and one occurrence, and is the keyboard path for
every drag gesture (move = change day/times, resize = end time)."""

from __future__ import annotations

import json
import re
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django import forms
from django.core.validators import MaxValueValidator, MinValueValidator
from django.http import QueryDict
from django.utils.safestring import mark_safe

from calendar_app import scheduling
from calendar_app.errors import SchedulingError
from calendar_app.models import (
    EventType,
    Partner,
    RecurrenceType,
    ResourceType,
    ScheduleEvent,
)
from calendar_app.recurrence import WEEKDAYS
from calendar_app.web import booking_entries, conflict_warnings, grid, panel_resources

WEEKDAY_LABELS = dict(zip(WEEKDAYS, ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"], strict=True))
MAX_COUNT = 500  # occurrences a booking form may ask for; the series cap still applies
STAFF_TYPES = [
    (EventType.RECORD, "Recording"),
    (EventType.LIVE_STREAM, "Live stream"),
    (EventType.MEETING, "Meeting"),
]
BLACKOUT_TYPE = (EventType.BLACKOUT, "Blackout")
TYPE_LABELS = dict([*STAFF_TYPES, BLACKOUT_TYPE])
# The write path's names for fields this form names otherwise, so its refusals show on the field.
DOMAIN_FIELDS = {
    "template_entry_id": "template_entry",
    "start": "start_time",
    "end": "end_time",
    "duration": "end_time",
    "recurrence": "until",  # the series as a whole (its length, its dates): where its end is chosen
    "recurrence.until": "until",
    "recurrence.count": "count",
    "recurrence.by_day": "weekdays",
}
DATES = [MinValueValidator(conflict_warnings.FIRST_DATE), MaxValueValidator(conflict_warnings.LAST_DATE)]
ISO_DATE = ["%Y-%m-%d"]  # as date inputs and the grid's data-day write a date; no locale's order
DAY_MINUTES = grid.DAY_MINUTES
DEFAULT_START = 9 * 60  # minutes from midnight of a click's booking that no longer fits today
DEFAULT_LENGTH = 60  # minutes of a booking started from a click rather than a drag
LATE_NOTE = "Too late for an hour today: this starts tomorrow at 09:00."
# Times are typed and shown on a 24-hour clock, as the grid, the occurrences and the conflicts
# say them: <input type=time> would follow the browser's locale instead (AM/PM in an en-US
# Chromium, beside a grid saying 14:00). What people type is read too: "14:30", "14.30", "1430",
# "9", "2:30 pm", "2pm". (%p is read in the C locale: AM/PM, any case.)
CLOCK_FORMATS = ["%H:%M", "%H.%M", "%H%M", "%H", "%H:%M:%S", "%I:%M %p", "%I.%M %p", "%I %p"]
CLOCK_PATTERN = r"\s*\d{1,2}([:.]?\d{2})?\s*([aApP]\.?\s?[mM]\.?)?\s*"  # the browser's first check
MERIDIEM = re.compile(r"\s*([ap])\.?\s?m\.?$")


class IdField(forms.Field):
    """A row's id, or None for anything else: what is not a number from 1 to 2**63 - 1 names no
    row (and SQLite cannot even compare a number past 64 bits), so a stray parameter is ignored
    rather than refused."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(required=False, **kwargs)

    def to_python(self, value: Any) -> int | None:
        return _id(value)


class IdsField(forms.Field):
    """The ids a repeated parameter gives, leaving out what names no row (as IdField)."""

    widget = forms.MultipleHiddenInput

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(required=False, **kwargs)

    def to_python(self, value: Any) -> tuple[int, ...]:
        return tuple(number for number in map(_id, value or ()) if number is not None)


class ClockField(forms.TimeField):
    """A time of day on a 24-hour clock (CLOCK_FORMATS). `midnight_end`: "24:00" is read as the
    midnight that ends the day (00:00, which BookingForm takes as the next midnight for an end)."""

    default_error_messages = {"invalid": "Enter a time such as 14:30 (24-hour) or 2:30 pm."}

    def __init__(self, *, midnight_end: bool = False, **kwargs: Any) -> None:
        attrs = {
            "inputmode": "numeric",  # a tablet's number pad: "1430" is a time too
            "pattern": CLOCK_PATTERN,
            "placeholder": "HH:MM",
            "title": "24-hour time, such as 14:30",
            "autocomplete": "off",
            "class": "clock",
        }
        widget = forms.TimeInput(format="%H:%M", attrs=attrs)
        super().__init__(input_formats=CLOCK_FORMATS, widget=widget, **kwargs)
        self.midnight_end = midnight_end

    def to_python(self, value: Any) -> time | None:
        if isinstance(value, str):
            value = MERIDIEM.sub(r" \1m", value.strip().lower())
            if self.midnight_end and value in ("24:00", "2400", "24"):
                return time(0)
        return super().to_python(value)


class TemplateSelect(forms.Select):
    """The template entries, each option saying its entry type (data-entry-type), so that the
    panel lists only what the chosen booking type takes (calendar.js); forms.py refuses the rest."""

    entry_types: dict[str, str] = {}

    def create_option(self, name, value, *args, **kwargs):
        option = super().create_option(name, value, *args, **kwargs)
        if str(value) in self.entry_types:
            option["attrs"]["data-entry-type"] = self.entry_types[str(value)]
        return option


def _id(value: Any) -> int | None:
    try:
        number = int(value)
    except (TypeError, ValueError):
        return None
    return number if 0 < number < 2**63 else None


def weekly_only(rule: dict[str, Any]) -> bool:
    """Whether the panel's "repeat weekly on these days" says all of `rule` (as stored)."""
    shown = {"frequency", "interval", "week_start_day", "by_day", "time_zone", "name", "count", "until"}
    return rule.get("frequency") == "weeks" and rule.get("interval", 1) == 1 and rule.keys() <= shown


class BookingForm(forms.Form):
    summary = forms.CharField(max_length=256)
    type = forms.TypedChoiceField(coerce=int, choices=STAFF_TYPES, initial=EventType.RECORD)
    day = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}), validators=DATES)
    start_time = ClockField(label="Start")
    end_time = ClockField(label="End", midnight_end=True)
    resources = forms.TypedMultipleChoiceField(
        coerce=int, required=False, widget=forms.CheckboxSelectMultiple
    )
    template_entry = forms.ChoiceField(
        label="Template entry",
        required=False,
        widget=TemplateSelect,
        error_messages={
            "invalid_choice": "No entry %(value)s among this account's templates; pick one from the list."
        },
    )
    description = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))
    repeat = forms.BooleanField(label="Repeat weekly", required=False)
    weekdays = forms.MultipleChoiceField(
        label="On", required=False, choices=list(WEEKDAY_LABELS.items()), widget=forms.CheckboxSelectMultiple
    )
    until = forms.DateField(
        label="Until", required=False, widget=forms.DateInput(attrs={"type": "date"}), validators=DATES
    )
    count = forms.IntegerField(label="or times", required=False, min_value=1, max_value=MAX_COUNT)
    # A series without an end: made to the horizon, and further as time passes (the beat).
    # Labelled without "end", which would also name the End time for those who look by label.
    never_ends = forms.BooleanField(label="or forever", required=False)
    # UTC starts of occurrences to leave out, as the preview's checkboxes send them back: any
    # value is taken here (a choice field would refuse them all) and parsed by clean_skip.
    skip = forms.Field(required=False, widget=forms.MultipleHiddenInput)
    book_anyway = forms.BooleanField(required=False)
    # The event an edit panel's live checks leave out (its own slots are no conflicts).
    ignore = IdField()

    def __init__(
        self,
        *args,
        partner: Partner,
        allow_blackout: bool = False,
        series: bool = True,
        event: ScheduleEvent | None = None,
        **kwargs,
    ):
        """`event`: the booking being edited. Its type fixes the templates offered, and its own
        template is kept unless the panel chooses another (or None), even one it cannot offer."""
        super().__init__(*args, **kwargs)
        self.partner = partner
        self.zone = partner.zone
        self.event = event
        self.fields["type"].choices = STAFF_TYPES + ([BLACKOUT_TYPE] if allow_blackout else [])
        self.resource_options = panel_resources.resource_tree(partner)
        self.fields["resources"].choices = [(option.pk, option.name) for option in self.resource_options]
        self._set_templates()
        # A series whose rule the panel cannot show (monthly, extra dates, ... from an import or
        # the API) keeps it: the panel edits its times and fields, never the rule.
        self.keeps_rule = bool(event and event.is_series and not weekly_only(event.recurrence or {}))
        if not series or self.keeps_rule:  # one occurrence: its times and fields, never the rule
            for name in ("repeat", "weekdays", "until", "count", "never_ends", "skip"):
                del self.fields[name]

    def _set_templates(self) -> None:
        event = self.event
        templates = booking_entries.templates(
            self.partner, event.type if event else None, event.template_entry_id if event else ""
        )
        self.template_types = templates.types()
        field = self.fields["template_entry"]
        field.choices = booking_entries.grouped_choices(templates)
        field.widget.entry_types = self.template_types
        if event is None:  # a new booking's type may change in the panel: its list follows (calendar.js)
            field.widget.attrs["data-template-types"] = json.dumps(booking_entries.TEMPLATE_TYPES)

    def resource_list(self) -> str:
        """The resources' checkboxes as the panel lists them (panel_resources.resource_list):
        the chosen ones (a drag's room, an edited booking's resources) on top."""
        chosen = {str(value) for value in self["resources"].value() or ()}
        rows = [(option, str(option.pk) in chosen) for option in self.resource_options]
        return mark_safe(panel_resources.resource_list(self["resources"].html_name, rows))  # noqa: S308 (escaped there)

    def clean_skip(self) -> list[datetime]:
        try:
            return [
                datetime.fromisoformat(value).astimezone(UTC) for value in self.cleaned_data["skip"] or ()
            ]
        except (TypeError, ValueError):
            raise forms.ValidationError("The dates to skip are not valid; check the dates again.") from None

    def clean_ignore(self) -> tuple[int, ...]:
        event_id = self.cleaned_data["ignore"]
        return () if event_id is None else (event_id,)

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        start, end = data.get("start_time"), data.get("end_time")
        if start is not None and end is not None and end <= start and end != time(0):
            self.add_error("end_time", "must be after the start")
        if data.get("repeat"):
            if not data.get("weekdays"):
                self.add_error("weekdays", "Pick at least one day of the week.")
            ends = [bool(data.get(name)) for name in ("until", "count", "never_ends")]
            if sum(ends) != 1:
                self.add_error("until", "Give an end date, a number of times, or forever (one of them).")
        self._check_template_type(data)
        return data

    def _check_template_type(self, data: dict[str, Any]) -> None:
        chosen, booking_type = data.get("template_entry"), data.get("type")
        if chosen in self.template_types and booking_type is not None:
            entry_type = self.template_types[chosen]
            why = booking_entries.wrong_type(entry_type, booking_type, TYPE_LABELS[booking_type])
            if why:
                self.add_error("template_entry", why)

    def field_for(self, error: SchedulingError) -> str | None:
        """The field of this form a refusal of the write path is about, if it has one."""
        if error.code == "ENTRY_ID_NOT_FOUND":  # the one entry id this form sends
            return "template_entry"
        name: str = getattr(error, "field", "")
        name = DOMAIN_FIELDS.get(name, name)
        return name if name in self.fields else None

    def proposal(self, ignore_ids: tuple[int, ...] = ()) -> conflict_warnings.Proposal:
        """The cleaned form as scheduling.create_event's data. Call after is_valid()."""
        data = self.cleaned_data
        start = conflict_warnings.local_to_utc(data["day"], data["start_time"], self.zone)
        end_day = data["day"] + timedelta(days=1) if data["end_time"] == time(0) else data["day"]
        end = conflict_warnings.local_to_utc(end_day, data["end_time"], self.zone)
        event: dict[str, Any] = {
            "type": data["type"],
            "summary": data["summary"],
            "description": data["description"],
            "start": start,
            "end": end,
        }
        if data["type"] != EventType.BLACKOUT and self._template_chosen():
            event["template_entry_id"] = data["template_entry"] or ""
        if data.get("repeat"):
            event["recurrence_type"] = RecurrenceType.RECURRING
            event["recurrence"] = self._rule()
        return conflict_warnings.Proposal(event, tuple(data["resources"]), ignore_ids)

    def _template_chosen(self) -> bool:
        """Whether the panel set the template: an edit that sends the booking's own back (shown,
        or kept though not offered) or sends none leaves it as it is, never cleared."""
        if self.event is None:
            return True
        chosen = self.cleaned_data["template_entry"]
        return "template_entry" in self.data and chosen != self.event.template_entry_id

    def _rule(self) -> dict[str, Any]:
        data = self.cleaned_data
        rule: dict[str, Any] = {
            "frequency": "weeks",
            "by_day": ",".join(d for d in WEEKDAYS if d in data["weekdays"]),
            "time_zone": self.zone.key,
        }
        if data.get("never_ends"):
            return rule  # neither count nor until: open-ended
        if data.get("count"):
            rule["count"] = data["count"]
        else:  # through the end of that day, in the partner's zone
            last = conflict_warnings.local_to_utc(data["until"] + timedelta(days=1), time(0), self.zone)
            rule["until"] = int(last.timestamp()) - 1
        return rule


class CalendarQuery(forms.Form):
    """The calendar page's address: the date to show, a location, the resource types shown as
    columns of their own (rooms by default, their equipment folded in), whether cancelled
    bookings are shown. What does not parse is left out: the page shows today, every location,
    rooms, no cancelled bookings."""

    date = forms.DateField(required=False, input_formats=ISO_DATE, validators=DATES)
    location = IdField()
    types = IdsField()
    cancelled = forms.BooleanField(required=False)

    def clean_types(self) -> frozenset[int]:
        chosen = frozenset(self.cleaned_data["types"]) & frozenset(ResourceType.values)
        return chosen or grid.ROOMS

    def grid_query(
        self, partner: Partner, days: int, now: datetime, one_location: bool = False
    ) -> grid.Query:
        """`one_location`: the room week, one location's column a day."""
        self.is_valid()  # a field that does not parse is missing from cleaned_data: its default
        data = self.cleaned_data
        day = data.get("date") or now.astimezone(partner.zone).date()
        return grid.Query(
            partner=partner, first_day=grid.first_day(day, days), days=days, now=now,
            location_id=data["location"], resource_types=data.get("types", grid.ROOMS),
            show_cancelled=bool(data.get("cancelled")), one_location=one_location,
        )  # fmt: skip


def _minutes(name: str) -> forms.IntegerField:
    wrong = f"{name} must be between 0 and {DAY_MINUTES} minutes"
    messages = dict.fromkeys(("required", "invalid", "min_value", "max_value"), wrong)
    return forms.IntegerField(min_value=0, max_value=DAY_MINUTES, error_messages=messages)


class SlotForm(forms.Form):
    """A slot as a drag on the grid sends it: a day, and wall-clock minutes from its midnight
    (grid.py's axis, where 1440 is the next midnight)."""

    day = forms.DateField(
        input_formats=ISO_DATE,
        validators=DATES,
        error_messages=dict.fromkeys(
            ("required", "invalid", "min_value", "max_value"),
            f"day must be a date from {conflict_warnings.FIRST_DATE} to {conflict_warnings.LAST_DATE}",
        ),
    )
    start = _minutes("start")
    end = _minutes("end")


class DropForm(SlotForm):
    """A slot dropped on a resource's column to book it, or a click on "New booking"."""

    resource = IdField()

    def booking_initial(self, local_now: datetime) -> tuple[dict[str, Any], str]:
        """The booking panel's first values, and a note about them ("" for none). A drag gives
        its day, slot and resource; without one (a click on "New booking", or a slot that does
        not parse) the next slot today is offered. A slot is at least one row of the grid and
        ends by midnight."""
        self.is_valid()
        data = self.cleaned_data
        note = ""
        if "day" in data and "start" in data:
            day, start = data["day"], data["start"]
            end = data.get("end", start + DEFAULT_LENGTH)
        else:
            day, start, note = next_slot(local_now)
            end = start + DEFAULT_LENGTH
        end = min(max(end, start + grid.SNAP_MINUTES), DAY_MINUTES)
        initial = {
            "day": day,
            "start_time": _time_of_day(start),
            "end_time": _time_of_day(end),
            "resources": [data["resource"]] if data.get("resource") else [],
            "weekdays": [WEEKDAYS[day.weekday()]],
        }
        return initial, note


def next_slot(local_now: datetime) -> tuple[date, int, str]:
    """The slot a booking without a drag starts in: the next quarter hour from `local_now` (wall
    clock), for DEFAULT_LENGTH today; when that would run past midnight, 09:00 tomorrow, with a
    note that says so. (No resource is chosen yet, so no other booking can make it busy.)"""
    minute = local_now.hour * 60 + local_now.minute + (local_now.second > 0 or local_now.microsecond > 0)
    start = -(-minute // grid.SNAP_MINUTES) * grid.SNAP_MINUTES
    if start + DEFAULT_LENGTH <= DAY_MINUTES:
        return local_now.date(), start, ""
    return local_now.date() + timedelta(days=1), DEFAULT_START, LATE_NOTE


class GestureForm(SlotForm):
    """A drag while it goes and where it ends: a new slot in some columns (`resources`), or
    `event` moved or resized, into column `to` from `from` when it changes column."""

    resources = IdsField()
    event = IdField()
    to = IdField()

    def __init__(self, *args: Any, zone: ZoneInfo, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.zone = zone
        self.fields["from"] = IdField()  # a Python keyword: no class attribute may be named so

    def error_text(self) -> str:
        return "; ".join(str(message) for messages in self.errors.values() for message in messages)

    def proposal(self, event: ScheduleEvent | None) -> conflict_warnings.Proposal:
        """The slot as a new recording, or as `event`'s new place (its old one is no conflict).
        Call after is_valid()."""
        data = self.cleaned_data
        start, end = (_utc(data["day"], data[name], self.zone) for name in ("start", "end"))
        if event is None:
            slot = {"type": EventType.RECORD, "start": start, "end": end}
            return conflict_warnings.Proposal(slot, data["resources"])
        slot = {"type": event.type, "start": start, "end": end}
        return conflict_warnings.Proposal(slot, self._moved_resources(event), (event.pk,))

    def _moved_resources(self, event: ScheduleEvent) -> tuple[int, ...]:
        """The event's resources, with `to` instead of `from` when the drag changed column."""
        linked = set(scheduling.resource_ids_of(event))
        source, target = self.cleaned_data["from"], self.cleaned_data["to"]
        if source is not None and target is not None and source != target:
            linked = (linked - {source}) | {target}
        return tuple(sorted(linked))


def _time_of_day(minute: int) -> time:
    """Minutes from midnight as the time of day (1440, the next midnight, is 00:00)."""
    minute %= DAY_MINUTES
    return time(minute // 60, minute % 60)


def _utc(day: date, minute: int, zone: ZoneInfo) -> datetime:
    """Minutes from local midnight on the grid (wall-clock, as grid.py places events) as UTC."""
    day += timedelta(days=minute // DAY_MINUTES)  # 1440: the next midnight
    return conflict_warnings.local_to_utc(day, _time_of_day(minute), zone)


def checks_data(posted: QueryDict) -> QueryDict:
    """A panel's fields as its checks (conflicts, each date of a series) read them: without the
    template, which has no bearing on conflicts, and which an edit may keep though a new
    booking's choices do not hold it (a deleted entry, say)."""
    data = posted.copy()
    data["template_entry"] = ""
    return data


def initial_for(event: ScheduleEvent, resource_ids: list[int], zone) -> dict[str, Any]:
    """The form's values for a stored event (or series: its rule's days and end)."""
    start, end = event.start.astimezone(zone), event.end.astimezone(zone)
    initial: dict[str, Any] = {
        "summary": event.summary,
        "type": event.type,
        "day": start.date(),
        "start_time": start.time(),
        "end_time": end.time(),
        "resources": resource_ids,
        "template_entry": event.template_entry_id or "",
        "description": event.description,
    }
    rule = event.recurrence or {}
    if event.is_series:
        initial["repeat"] = True
        initial["weekdays"] = [d for d in (rule.get("by_day") or "").split(",") if d in WEEKDAYS] or [
            WEEKDAYS[start.weekday()]
        ]
        if rule.get("count"):
            initial["count"] = rule["count"]
        elif rule.get("until"):
            initial["until"] = datetime.fromtimestamp(rule["until"], UTC).astimezone(zone).date()
        else:
            initial["never_ends"] = True
    return initial
