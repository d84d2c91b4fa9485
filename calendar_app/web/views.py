"""The staff web calendar (issue #5): the week and day pages and the HTMX partials they swap.

Views read the request and render; what a booking means lives in scheduling.py (the one write
path), conflict_warnings.py (conflicts in words) and grid.py (the page's layout). Every page is scoped to
the session's partner through `request.access` (access.py).
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import render
from django.urls import reverse
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from calendar_app import scheduling
from calendar_app.errors import ConflictDetected, NotFound, SchedulingError, ValidationFailed
from calendar_app.models import EventStatus, EventType, ResourceType, ScheduleEvent
from calendar_app.recurrence import WEEKDAYS
from calendar_app.scheduling import OnConflict
from calendar_app.web import conflict_warnings, grid, grid_html
from calendar_app.web.access import Role, member_required
from calendar_app.web.forms import BLACKOUT_TYPE, STAFF_TYPES, BookingForm, initial_for

CHANGED = "calendar-changed"  # the event the grid listens for to reload itself
DAY_MINUTES = 24 * 60
TYPE_LABELS = [
    (ResourceType.LOCATION, "Rooms"),
    (ResourceType.CAMERA, "Cameras"),
    (ResourceType.LIVE_ENTRY, "Live entries"),
]
TYPE_NAMES = dict([*STAFF_TYPES, BLACKOUT_TYPE])  # as the booking form and the legend say them
DEFAULT_LENGTH = 60  # minutes of a booking started from a click rather than a drag


# ---------------------------------------------------------------- pages


@require_GET
@member_required()
def calendar_page(request: HttpRequest, days: int) -> HttpResponse:
    access = request.access
    query = grid.Query(
        partner=access.partner,
        first_day=_first_day(_day_param(request, access), days),
        days=days,
        now=_now(access, request),
        location_id=_int(request.GET.get("location")),
        resource_types=_types(request.GET),
    )
    view = grid.build(query)
    context = {
        "section": "calendar",
        "grid": view,
        "days_html": mark_safe(grid_html.days(view, reverse("calendar:day"))),  # noqa: S308 (escaped there)
        "total_columns": len(view.columns) * len(view.days),
        **_navigation(request, view),
    }
    if request.htmx and request.htmx.target == "grid":
        return render(request, "calendar_app/partials/grid.html", context)
    return render(request, "calendar_app/calendar.html", context)


def _now(access, request: HttpRequest) -> datetime:
    return access.actor(request).now


def _day_param(request: HttpRequest, access) -> date:
    try:
        return _date(request.GET.get("date"))
    except ValueError:
        return _now(access, request).astimezone(access.partner.zone).date()


def _date(value: str | None) -> date:
    """An ISO date the calendar takes (conflict_warnings.FIRST_DATE to LAST_DATE); ValueError otherwise."""
    day = date.fromisoformat(value or "")
    if not conflict_warnings.FIRST_DATE <= day <= conflict_warnings.LAST_DATE:
        raise ValueError(
            f"the date must be between {conflict_warnings.FIRST_DATE} and {conflict_warnings.LAST_DATE}"
        )
    return day


def _first_day(day: date, days: int) -> date:
    """The week view starts on Monday; the day view on the day itself."""
    return day - timedelta(days=day.weekday()) if days == 7 else day


def _types(params: QueryDict) -> frozenset[int]:
    chosen = {value for value in (_int(v) for v in params.getlist("types")) if value in ResourceType.values}
    return frozenset(chosen) or frozenset(ResourceType)


def _navigation(request: HttpRequest, view: grid.Grid) -> dict[str, Any]:
    """Links for prev / today / next and the day-week switch, keeping the filters."""
    query = view.query
    step = timedelta(days=query.days)
    kept = [(k, v) for k, v in request.GET.lists() if k in ("location", "types")]

    def link(name: str, day: date | None) -> str:
        params = [(k, value) for k, values in kept for value in values]
        if day is not None:
            params.append(("date", day.isoformat()))
        return reverse(f"calendar:{name}") + ("?" + urlencode(params) if params else "")

    name = "week" if query.days == 7 else "day"
    return {
        "view_name": name,
        "prev_url": link(name, query.first_day - step),
        "next_url": link(name, query.first_day + step),
        "today_url": link(name, None),
        "week_url": link("week", query.first_day),
        "day_url": link("day", query.first_day),
        "refresh_url": request.get_full_path(),
        "resource_types": TYPE_LABELS,
        "location_choices": [(o.id, "\u2003" * o.depth + o.name) for o in view.locations],
        "shown_types": query.resource_types,
        "last_day": query.first_day + step - timedelta(days=1),
    }


# ---------------------------------------------------------------- conflicts while dragging


@require_GET
@member_required(Role.SCHEDULER)
def check(request: HttpRequest) -> HttpResponse:
    """The conflicts of a slot being dragged, as a warning partial; X-Conflicts counts them so
    the gesture can colour itself without parsing HTML. Nothing is saved."""
    access = request.access
    actor = access.actor(request)
    event_id = _int(request.GET.get("event"))
    event = None if event_id is None else _event(access, event_id)
    try:
        proposal = _gesture_proposal(request, actor, event)
        found = conflict_warnings.clashes(actor, proposal)
    except (SchedulingError, ValueError) as error:
        return _conflict_partial(request, [], str(getattr(error, "message", error)))
    return _conflict_partial(request, found, "")


def _conflict_partial(
    request: HttpRequest, found: list[conflict_warnings.Clash], error: str, checked: bool = True
) -> HttpResponse:
    context = {"clashes": found, "error": error, "checked": checked}
    response = render(request, "calendar_app/partials/conflicts.html", context)
    response["X-Conflicts"] = str(len(found))
    return response


def _gesture_proposal(
    request: HttpRequest, actor: scheduling.Actor, event: ScheduleEvent | None
) -> conflict_warnings.Proposal:
    """A drag as a proposal: a new slot in some columns (`resources`), or `event` moved or
    resized (`from`/`to` when it changes column)."""
    params = request.GET if request.method == "GET" else request.POST
    zone = actor.partner.zone
    day = _date(params.get("day"))
    start, end = _wall(day, _minute(params, "start"), zone), _wall(day, _minute(params, "end"), zone)
    if event is None:
        resources = tuple(r for r in (_int(v) for v in params.getlist("resources")) if r is not None)
        return conflict_warnings.Proposal({"type": EventType.RECORD, "start": start, "end": end}, resources)
    resources = _moved_resources(event, _int(params.get("from")), _int(params.get("to")))
    return conflict_warnings.Proposal(
        {"type": event.type, "start": start, "end": end}, resources, (event.pk,)
    )


def _moved_resources(event: ScheduleEvent, source: int | None, target: int | None) -> tuple[int, ...]:
    linked = set(scheduling.resource_ids_of(event))
    if source is not None and target is not None and source != target:
        linked = (linked - {source}) | {target}
    return tuple(sorted(linked))


def _minute(params: QueryDict, name: str) -> int:
    minute = int(params.get(name, ""))
    if not 0 <= minute <= DAY_MINUTES:
        raise ValueError(f"{name} must be between 0 and {DAY_MINUTES} minutes")
    return minute


def _wall(day: date, minute: int, zone) -> datetime:
    """Minutes from local midnight on the grid (wall-clock, as grid.py places events) as UTC."""
    return conflict_warnings.local_to_utc(day + timedelta(days=minute // DAY_MINUTES), _clock(minute), zone)


def _clock(minute: int) -> time:
    minute %= DAY_MINUTES
    return time(minute // 60, minute % 60)


# ---------------------------------------------------------------- booking panel


@require_http_methods(["GET", "POST"])
@member_required(Role.SCHEDULER)
def book(request: HttpRequest) -> HttpResponse:
    """GET: the booking panel, filled from a drag (day, start, end in minutes, resource).
    POST: create the booking, refusing conflicts unless the user chose to book anyway."""
    access = request.access
    if request.method == "GET":
        form = _booking_form(request, initial=_drag_initial(request, access))
        return render(request, "calendar_app/partials/booking_panel.html", {"form": form})
    form = _booking_form(request, data=request.POST)
    if not form.is_valid():
        return render(request, "calendar_app/partials/booking_panel.html", {"form": form}, status=422)
    proposal = form.proposal()
    try:
        event = scheduling.create_event(
            access.actor(request), proposal.data, resource_ids=proposal.resource_ids,
            on_conflict=_policy(request, form), skip=form.cleaned_data.get("skip") or (),
        )  # fmt: skip
    except SchedulingError as error:
        return _refused(request, form, error, "calendar_app/partials/booking_panel.html")
    return _saved(request, f"Booked “{event.summary}”.", event)


@require_POST
@member_required(Role.SCHEDULER)
def preview(request: HttpRequest) -> HttpResponse:
    """Each occurrence of the booking being edited, free or conflicting, with skip boxes."""
    access = request.access
    form = _booking_form(request, data=request.POST)
    if not form.is_valid():
        return render(request, "calendar_app/partials/occurrences.html", {"form": form, "checks": None})
    proposal = form.proposal(_ignored(request))
    try:
        checks = conflict_warnings.occurrences(access.actor(request), proposal)
    except SchedulingError as error:
        return render(
            request, "calendar_app/partials/occurrences.html", {"form": form, "error": error.message}
        )
    skipped = {s.isoformat() for s in form.cleaned_data.get("skip") or ()}
    context = {"form": form, "checks": checks, "skipped": skipped, "fresh": "previewed" not in request.POST}
    return render(request, "calendar_app/partials/occurrences.html", context)


@require_POST
@member_required(Role.SCHEDULER)
def form_check(request: HttpRequest) -> HttpResponse:
    """The booking panel's live warning: what the booking as typed collides with, leaving out
    the dates it skips. Nothing is saved."""
    access = request.access
    data = request.POST.copy()
    data["summary"] = data.get("summary") or "untitled"  # the slot is worth checking before it has a title
    form = _booking_form(request, data=data)
    if not form.is_valid():
        return _conflict_partial(request, [], "", checked=False)
    proposal = form.proposal(_ignored(request))
    try:
        found = conflict_warnings.clashes(
            access.actor(request), proposal, form.cleaned_data.get("skip") or ()
        )
    except SchedulingError as error:
        return _conflict_partial(request, [], error.message)
    return _conflict_partial(request, found, "")


def _ignored(request: HttpRequest) -> tuple[int, ...]:
    """The event an edit panel checks for (its own slots are not conflicts)."""
    event_id = _int(request.POST.get("ignore"))
    return () if event_id is None else (event_id,)


def _booking_form(request: HttpRequest, *, series: bool = True, **kwargs) -> BookingForm:
    access = request.access
    return BookingForm(partner=access.partner, allow_blackout=access.can_admin, series=series, **kwargs)


def _drag_initial(request: HttpRequest, access) -> dict[str, Any]:
    zone = access.partner.zone
    try:
        day = _date(request.GET.get("day"))
    except ValueError:
        day = _now(access, request).astimezone(zone).date()
    try:
        start = _minute(request.GET, "start")
    except ValueError:
        start = 9 * 60
    try:
        end = _minute(request.GET, "end")
    except ValueError:
        end = start + DEFAULT_LENGTH
    end = min(max(end, start + 15), DAY_MINUTES)
    resource = _int(request.GET.get("resource"))
    return {
        "day": day,
        "start_time": _clock(start),
        "end_time": _clock(end),
        "resources": [resource] if resource else [],
        "weekdays": [WEEKDAYS[day.weekday()]],
    }


def _policy(request: HttpRequest, form: BookingForm) -> OnConflict:
    """Conflicts are refused unless the user ticked "book anyway" and may do so."""
    if form.cleaned_data.get("book_anyway") and request.access.may_book_anyway:
        return OnConflict.BOOK_ANYWAY
    return OnConflict.REFUSE


def _refused(request: HttpRequest, form: BookingForm, error: SchedulingError, template: str, **context):
    """The panel again, with the error: conflicts as warning lines, bad fields on the field."""
    if isinstance(error, ConflictDetected):
        resources = form.cleaned_data.get("resources", [])
        context["clashes"] = conflict_warnings.describe(request.access.partner, error.conflicts, resources)
    elif isinstance(error, ValidationFailed) and error.field in form.fields:
        form.add_error(error.field, error.message)
    else:
        form.add_error(None, error.message)
    return render(request, template, {"form": form, **context}, status=409 if "clashes" in context else 422)


def _saved(request: HttpRequest, message: str, event: ScheduleEvent | None = None) -> HttpResponse:
    """After a write: the grid reloads (HX-Trigger) and the panel says what happened."""
    messages.success(request, message)
    response = render(request, "calendar_app/partials/saved.html", {"event": event})
    response["HX-Trigger"] = CHANGED
    return response


# ---------------------------------------------------------------- one event


@require_GET
@member_required()
def event_detail(request: HttpRequest, pk: int) -> HttpResponse:
    access = request.access
    event = _event(access, pk)
    zone = access.partner.zone
    context = {
        "event": event,
        "start": event.start.astimezone(zone),
        "end": event.end.astimezone(zone),
        "series": event.parent if event.is_occurrence else None,
        "type_label": TYPE_NAMES.get(event.type, ""),
        "resources": conflict_warnings.resource_names(access.partner, scheduling.resource_ids_of(event)),
        "clashes": _current_clashes(access, event),
        "can_edit": _can_edit(access, event),
    }
    return render(request, "calendar_app/partials/event_detail.html", context)


def _current_clashes(access, event: ScheduleEvent) -> list[conflict_warnings.Clash]:
    if event.status != EventStatus.ACTIVE or event.type == EventType.BLACKOUT:
        return []
    return conflict_warnings.describe(
        access.partner, scheduling.conflicts_of(event), scheduling.resource_ids_of(event)
    )


@require_http_methods(["GET", "POST"])
@member_required(Role.SCHEDULER)
def event_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """Edit this occurrence (scope=occurrence) or its whole series (scope=series). An occurrence
    edit makes it an exception that later series edits keep (scheduling.py)."""
    access = request.access
    event = _editable(access, pk)
    scope = "series" if request.GET.get("scope", request.POST.get("scope")) == "series" else "occurrence"
    target = event.parent if scope == "series" and event.is_occurrence else event
    series = target.is_series
    zone = access.partner.zone
    template = "calendar_app/partials/edit_panel.html"
    context = {"event": target, "scope": scope, "series": series}
    if request.method == "GET":
        initial = initial_for(target, scheduling.resource_ids_of(target), zone)
        return render(
            request, template, {**context, "form": _booking_form(request, series=series, initial=initial)}
        )
    form = _booking_form(request, series=series, data=request.POST)
    if not form.is_valid():
        return render(request, template, {**context, "form": form}, status=422)
    proposal = form.proposal((target.pk,))
    try:
        edited = scheduling.edit_booking(
            access.actor(request),
            target.pk,
            proposal.data,
            proposal.resource_ids,
            on_conflict=_policy(request, form),
        )
    except SchedulingError as error:
        return _refused(request, form, error, template, **context)
    what = "the whole series" if series else "this occurrence" if target.is_occurrence else "the booking"
    return _saved(request, f"Saved {what}: “{edited.summary}”.", edited)


@require_http_methods(["GET", "POST"])
@member_required(Role.SCHEDULER)
def event_move(request: HttpRequest, pk: int) -> HttpResponse:
    """A drag's move or resize (day, start, end; from/to when it changes column). POST saves it,
    or answers 409 with the conflicts and, for those allowed, a "move anyway" button. GET shows
    that confirmation for a drop the drag already saw conflicts for."""
    access = request.access
    event = _editable(access, pk)
    actor = access.actor(request)
    params = request.POST if request.method == "POST" else request.GET
    try:
        proposal = _gesture_proposal(request, actor, event)  # the event in the address, not a parameter
    except (SchedulingError, ValueError) as error:
        return HttpResponse(str(getattr(error, "message", error)), status=400)
    context = {"event": event, "params": params.dict()}
    if request.method == "GET":
        context["clashes"] = conflict_warnings.clashes(actor, proposal)
        return render(request, "calendar_app/partials/move_panel.html", context)
    anyway = params.get("book_anyway") == "1" and access.may_book_anyway
    changes = {"start": proposal.data["start"], "end": proposal.data["end"]}
    try:
        scheduling.edit_booking(
            actor, event.pk, changes, proposal.resource_ids,
            on_conflict=OnConflict.BOOK_ANYWAY if anyway else OnConflict.REFUSE,
        )  # fmt: skip
    except ConflictDetected as error:
        context["clashes"] = conflict_warnings.describe(
            access.partner, error.conflicts, proposal.resource_ids
        )
        return render(request, "calendar_app/partials/move_panel.html", context, status=409)
    except SchedulingError as error:
        return render(
            request, "calendar_app/partials/move_panel.html", {**context, "error": error.message}, status=422
        )
    return _saved(request, f"Moved “{event.summary}”.", event)


@require_POST
@member_required(Role.SCHEDULER)
def event_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    """Cancel this occurrence (it becomes an EXDATE) or, with scope=series, every occurrence."""
    access = request.access
    event = _editable(access, pk)
    target = event.parent if request.POST.get("scope") == "series" and event.is_occurrence else event
    try:
        scheduling.cancel_event(access.actor(request), target.pk)
    except SchedulingError as error:
        return HttpResponse(error.message, status=422)
    what = (
        "the whole series"
        if target.is_series
        else "this occurrence"
        if target.is_occurrence
        else "the booking"
    )
    return _saved(request, f"Cancelled {what}: “{target.summary}”.", target)


def _event(access, pk: int) -> ScheduleEvent:
    try:
        return scheduling.get_event(access.partner, pk)  # deleted events are not found either
    except NotFound:
        raise Http404("no such event") from None


def _can_edit(access, event: ScheduleEvent) -> bool:
    """Schedulers edit bookings; blackouts are the admins' (closing dates is their decision)."""
    if event.status != EventStatus.ACTIVE:
        return False
    return access.can_admin if event.type == EventType.BLACKOUT else access.can_book


def _editable(access, pk: int) -> ScheduleEvent:
    event = _event(access, pk)
    if not _can_edit(access, event):
        raise PermissionDenied("cancelled events, and blackouts for non-admins, cannot be edited")
    return event


def _int(value: Any) -> int | None:
    try:
        number = int(value)
    except (TypeError, ValueError):
        return None
    return number if 0 < number < 2**63 else None
