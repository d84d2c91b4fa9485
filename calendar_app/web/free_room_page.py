"""Find a free room (issue #19): a search form (a time, or a weekly pattern over a term; what the
booking needs; a building), the rooms free for every date, the busy ones with their dates, and a
Book button that books a room in one click through the booking panel's own endpoint
(views.book), so the booking meets the same checks as one made by dragging.

What "free" means is calendar_app/free_rooms.py's; this module reads the request and renders.
"""

from __future__ import annotations

from datetime import date, time, timedelta
from html import escape
from typing import Any

from django import forms
from django.http import HttpResponse, QueryDict
from django.shortcuts import render
from django.utils.safestring import SafeString, mark_safe
from django.views.decorators.http import require_GET
from django.views.decorators.vary import vary_on_headers

from calendar_app import free_rooms
from calendar_app.errors import ValidationFailed
from calendar_app.models import EventType, Partner, ResourceStatus, ResourceType, ScheduleResource
from calendar_app.recurrence import WEEKDAYS
from calendar_app.web.access import MemberRequest, member_required
from calendar_app.web.forms import STAFF_TYPES, WEEKDAY_LABELS, ClockField

PAGE = "calendar_app/free_rooms.html"
HIDDEN = '<input type="hidden" name="{}" value="{}">'
RESULTS = "calendar_app/partials/free_room_results.html"
BUSY_SHOWN = 25  # busy rooms listed; the rest are counted
TERM_WEEKS = 15  # a new weekly search's default term
DATE_FORMATS = ["%Y-%m-%d", "%d.%m.%Y", "%d/%m/%Y"]  # ISO as date inputs send it; typed by hand
DEFAULT_START, DEFAULT_END = time(9, 0), time(10, 30)


def _date(label: str, required: bool = True) -> forms.DateField:
    widget = forms.DateInput(attrs={"type": "date"})
    return forms.DateField(label=label, required=required, input_formats=DATE_FORMATS, widget=widget)


class SearchForm(forms.Form):
    """What the search asks, and the title and type of the booking its Book buttons make."""

    day = _date("Date")
    start_time = ClockField(label="From")  # typed as the booking panel's times are
    end_time = ClockField(label="To", midnight_end=True)
    repeat = forms.BooleanField(label="Repeat weekly", required=False)
    weekdays = forms.MultipleChoiceField(
        label="On", required=False, choices=list(WEEKDAY_LABELS.items()), widget=forms.CheckboxSelectMultiple
    )
    last = _date("Until", required=False)
    camera = forms.BooleanField(label="Camera", required=False)
    live_entry = forms.BooleanField(label="Live entry", required=False)
    capacity = forms.IntegerField(label="Seats", required=False, min_value=0, max_value=100_000)
    tags = forms.CharField(label="Tags", required=False, max_length=500)
    building = forms.TypedChoiceField(label="Building", required=False, coerce=int, empty_value=None)
    summary = forms.CharField(label="Title", max_length=256)
    type = forms.TypedChoiceField(label="Type", coerce=int, choices=STAFF_TYPES)

    def __init__(self, *args: Any, partner: Partner, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.partner = partner
        building = self.fields["building"]
        assert isinstance(building, forms.TypedChoiceField)
        building.choices = [("", "Anywhere"), *building_choices(partner)]

    def clean_capacity(self) -> int | None:
        return self.cleaned_data["capacity"] or None  # 0 seats asks for nothing

    def clean_tags(self) -> tuple[str, ...]:
        # "lab, accessible" or "lab accessible": a tag itself has no spaces in practice.
        text = self.cleaned_data["tags"].replace(",", " ")
        return tuple(dict.fromkeys(tag for tag in text.split() if tag))

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("repeat") and data.get("day"):
            if not data.get("last"):
                self.add_error("last", "Give the term's last date.")
            if not data.get("weekdays"):  # "repeat weekly" alone: on the date's own weekday
                data["weekdays"] = [WEEKDAYS[data["day"].weekday()]]
        return data

    def search(self) -> free_rooms.Search:
        """The cleaned form as a search. Call after is_valid()."""
        data = self.cleaned_data
        needs = free_rooms.Needs(data["camera"], data["live_entry"], data["capacity"], data["tags"])
        when: free_rooms.Once | free_rooms.Weekly
        if data["repeat"]:
            days = tuple(d for d in WEEKDAYS if d in data["weekdays"])
            when = free_rooms.Weekly(days, data["start_time"], data["end_time"], data["day"], data["last"])
        else:
            when = free_rooms.Once(data["day"], data["start_time"], data["end_time"])
        return free_rooms.Search(self.partner, when, needs, data["building"])

    def show_error(self, error: ValidationFailed) -> None:
        names = {"end": "end_time", "weekdays": "weekdays", "last": "last"}
        self.add_error(names.get(error.field), error.message)


def building_choices(partner: Partner) -> list[tuple[int, str]]:
    """The locations that hold other locations (buildings, floors), indented by depth."""
    rows = list(
        ScheduleResource.objects.for_partner(partner)
        .filter(status=ResourceStatus.ACTIVE, type=ResourceType.LOCATION)
        .values_list("pk", "name", "parent_id")
    )
    parents = {parent for _, _, parent in rows}
    children: dict[int | None, list[tuple[int, str]]] = {}
    known = {pk for pk, _, _ in rows}
    for pk, name, parent in sorted(rows, key=lambda row: (row[1].casefold(), row[0])):
        if pk in parents:
            children.setdefault(parent if parent in known else None, []).append((pk, name))
    ordered: list[tuple[int, str]] = []

    def visit(parent: int | None, depth: int) -> None:
        for pk, name in children.get(parent, []):
            ordered.append((pk, "\u2003" * depth + name))
            visit(pk, depth + 1)

    visit(None, 0)
    return ordered


def defaults(today: date) -> QueryDict:
    """A first visit's search: today 09:00-10:30, a recording; a weekly one over 15 weeks."""
    data = QueryDict(mutable=True)
    data.update(
        {
            "day": today.isoformat(),
            "start_time": DEFAULT_START.strftime("%H:%M"),
            "end_time": DEFAULT_END.strftime("%H:%M"),
            "last": (today + timedelta(weeks=TERM_WEEKS, days=-1)).isoformat(),
            "summary": "Lecture",
            "type": str(EventType.RECORD),
        }
    )
    data.setlist("weekdays", [WEEKDAYS[today.weekday()]])
    return data


def with_defaults(query: QueryDict, today: date) -> QueryDict:
    """The search asked for, what it leaves out taken from a first visit's: a link that gives
    only a date (or a time) searches that, rather than asking for every other field. Boxes
    (repeat, needs, weekdays) are not filled in: a box left out is a box unticked."""
    if not query:
        return defaults(today)
    data = query.copy()
    for key, values in defaults(today).lists():
        if key not in data and key != "weekdays":
            data.setlist(key, values)
    return data


@require_GET
@member_required()
@vary_on_headers("HX-Request")  # the page, or for htmx its results alone
def find(request: MemberRequest) -> HttpResponse:
    access = request.access
    now = access.actor(request).now
    today = now.astimezone(access.partner.zone).date()
    form = SearchForm(with_defaults(request.GET, today), partner=access.partner)
    context = {"section": "free_rooms", "form": form, **_results(form)}
    if request.htmx:
        return render(request, RESULTS, context)
    return render(request, PAGE, context)


def _results(form: SearchForm) -> dict[str, Any]:
    if not form.is_valid():
        return {"result": None}
    try:
        result = free_rooms.find(form.search())
    except ValidationFailed as error:
        form.show_error(error)
        return {"result": None}
    zone = form.partner.zone
    first_day = result.slots[0].start.astimezone(zone).date()

    def row(match: free_rooms.Match) -> dict[str, Any]:
        """A result line, and the fields its Book button posts to views.book."""
        days = match.busy_days(zone)
        return {
            "match": match,
            "busy_count": len(days),
            # Written here, not looped over in the template: a term's rows hold ~2,000 fields
            # and dates, which the template engine took ~50 ms to write (bench/free_rooms.py).
            "busy_days": _html(", ", '<time datetime="{}">{}</time>', _days(days)),
            "equipment": ", ".join(piece.name for piece in match.equipment),
            "booking": _html("", HIDDEN, booking_fields(form, match, first_day)),
            "bookable": len(match.busy) < len(result.slots),  # skipping every date books nothing
        }

    return {
        "result": result,
        "free": [row(match) for match in result.free],
        "busy": [row(match) for match in result.busy[:BUSY_SHOWN]],
        "busy_more": max(len(result.busy) - BUSY_SHOWN, 0),
        "dates": len(result.slots),
        "weekdays": ", ".join(WEEKDAY_LABELS[d] for d in WEEKDAYS if d in form.cleaned_data["weekdays"]),
        "first": result.slots[0].start.astimezone(zone),
        "last_slot": result.slots[-1].start.astimezone(zone),
    }


def _html(joiner: str, template: str, rows: list[tuple[str, str]]) -> SafeString:
    """format_html_join with html.escape: a third of the time on 2,000 short strings."""
    return mark_safe(joiner.join(template.format(escape(a), escape(b)) for a, b in rows))  # noqa: S308


def _days(days: list[date]) -> list[tuple[str, str]]:
    return [(day.isoformat(), f"{day:%a} {day.day} {day:%b}") for day in days]


def booking_fields(form: SearchForm, match: free_rooms.Match, first_day: date) -> list[tuple[str, str]]:
    """BookingForm's fields (views.book) for booking this room and the equipment it takes: on
    `first_day`, the first date of the search, and for a pattern weekly until its last date."""
    data = form.cleaned_data
    fields = [
        ("summary", data["summary"]),
        ("type", str(data["type"])),
        ("start_time", data["start_time"].strftime("%H:%M")),
        ("end_time", data["end_time"].strftime("%H:%M")),
        ("template_entry", ""),
        ("description", ""),
        ("resources", str(match.room.id)),
        *(("resources", str(piece.id)) for piece in match.equipment),
    ]
    if not data["repeat"]:
        return [("day", first_day.isoformat()), *fields]
    weekly = [("repeat", "on"), ("until", data["last"].isoformat())]
    weekly += [("weekdays", day) for day in WEEKDAYS if day in data["weekdays"]]
    # The busy dates left out: BookingForm's skip takes each occurrence's UTC start.
    weekly += [("skip", window.start.isoformat()) for window in match.busy]
    return [("day", first_day.isoformat()), *fields, *weekly]
