"""The booking panel's form: what staff type (local dates and times in the partner's zone) in,
a conflict_warnings.Proposal out. The same form serves a new booking, a whole series and one occurrence,
and is the keyboard path for every drag gesture (move = change day/times, resize = end time)."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from typing import Any

from django import forms
from django.core.validators import MaxValueValidator, MinValueValidator

from calendar_app.models import (
    Entry,
    EntryType,
    EventType,
    Partner,
    RecurrenceType,
    ResourceStatus,
    ScheduleEvent,
    ScheduleResource,
)
from calendar_app.recurrence import WEEKDAYS
from calendar_app.web import conflict_warnings

WEEKDAY_LABELS = dict(zip(WEEKDAYS, ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"], strict=True))
MAX_COUNT = 500  # occurrences a booking form may ask for; the series cap still applies
STAFF_TYPES = [
    (EventType.RECORD, "Recording"),
    (EventType.LIVE_STREAM, "Live stream"),
    (EventType.MEETING, "Meeting"),
]
BLACKOUT_TYPE = (EventType.BLACKOUT, "Blackout")
DATES = [MinValueValidator(conflict_warnings.FIRST_DATE), MaxValueValidator(conflict_warnings.LAST_DATE)]


class BookingForm(forms.Form):
    summary = forms.CharField(max_length=256)
    type = forms.TypedChoiceField(coerce=int, choices=STAFF_TYPES, initial=EventType.RECORD)
    day = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}), validators=DATES)
    start_time = forms.TimeField(label="Start", widget=forms.TimeInput(attrs={"type": "time", "step": 900}))
    end_time = forms.TimeField(label="End", widget=forms.TimeInput(attrs={"type": "time", "step": 900}))
    resources = forms.TypedMultipleChoiceField(
        coerce=int, required=False, widget=forms.CheckboxSelectMultiple
    )
    template_entry = forms.ChoiceField(label="Template entry", required=False)
    description = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))
    repeat = forms.BooleanField(label="Repeat weekly", required=False)
    weekdays = forms.MultipleChoiceField(
        label="On", required=False, choices=list(WEEKDAY_LABELS.items()), widget=forms.CheckboxSelectMultiple
    )
    until = forms.DateField(
        label="Until", required=False, widget=forms.DateInput(attrs={"type": "date"}), validators=DATES
    )
    count = forms.IntegerField(label="or times", required=False, min_value=1, max_value=MAX_COUNT)
    # UTC starts of occurrences to leave out, as the preview's checkboxes send them back: any
    # value is taken here (a choice field would refuse them all) and parsed by clean_skip.
    skip = forms.Field(required=False, widget=forms.MultipleHiddenInput)
    book_anyway = forms.BooleanField(required=False)

    def __init__(self, *args, partner: Partner, allow_blackout: bool = False, series: bool = True, **kwargs):
        super().__init__(*args, **kwargs)
        self.partner = partner
        self.zone = partner.zone
        self.fields["type"].choices = STAFF_TYPES + ([BLACKOUT_TYPE] if allow_blackout else [])
        self.fields["resources"].choices = resource_choices(partner)
        entries = Entry.objects.for_partner(partner).filter(type=EntryType.MEDIA).order_by("name")
        self.fields["template_entry"].choices = [("", "None")] + [(e.pk, e.name) for e in entries]
        if not series:  # one occurrence: its times and fields, never the rule
            for name in ("repeat", "weekdays", "until", "count", "skip"):
                del self.fields[name]

    def clean_skip(self) -> list[datetime]:
        try:
            return [
                datetime.fromisoformat(value).astimezone(UTC) for value in self.cleaned_data["skip"] or ()
            ]
        except (TypeError, ValueError):
            raise forms.ValidationError("The dates to skip are not valid; check the dates again.") from None

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        start, end = data.get("start_time"), data.get("end_time")
        if start is not None and end is not None and end <= start and end != time(0):
            self.add_error("end_time", "must be after the start")
        if data.get("repeat"):
            if not data.get("weekdays"):
                self.add_error("weekdays", "Pick at least one day of the week.")
            if bool(data.get("until")) == bool(data.get("count")):
                self.add_error("until", "Give an end date or a number of times (one of them).")
        return data

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
        if data["type"] != EventType.BLACKOUT:
            event["template_entry_id"] = data["template_entry"] or ""
        if data.get("repeat"):
            event["recurrence_type"] = RecurrenceType.RECURRING
            event["recurrence"] = self._rule()
        return conflict_warnings.Proposal(event, tuple(data["resources"]), ignore_ids)

    def _rule(self) -> dict[str, Any]:
        data = self.cleaned_data
        rule: dict[str, Any] = {
            "frequency": "weeks",
            "by_day": ",".join(d for d in WEEKDAYS if d in data["weekdays"]),
            "time_zone": self.zone.key,
        }
        if data.get("count"):
            rule["count"] = data["count"]
        else:  # through the end of that day, in the partner's zone
            last = conflict_warnings.local_to_utc(data["until"] + timedelta(days=1), time(0), self.zone)
            rule["until"] = int(last.timestamp()) - 1
        return rule


def resource_choices(partner: Partner) -> list[tuple[int, str]]:
    """Active resources, each location followed by what is below it, names indented by depth."""
    rows = list(
        ScheduleResource.objects.for_partner(partner)
        .filter(status=ResourceStatus.ACTIVE)
        .order_by("name")
        .values_list("pk", "name", "parent_id")
    )
    children: dict[int | None, list[tuple[int, str]]] = {}
    known = {pk for pk, _, _ in rows}
    for pk, name, parent in rows:
        children.setdefault(parent if parent in known else None, []).append((pk, name))
    ordered: list[tuple[int, str]] = []

    def visit(parent: int | None, depth: int) -> None:
        for pk, name in children.get(parent, []):
            ordered.append((pk, "\u2003" * depth + name))
            visit(pk, depth + 1)

    visit(None, 0)
    return ordered


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
    return initial
