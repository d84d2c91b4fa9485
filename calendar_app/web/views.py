"""The staff web calendar (issue #5): the week and day pages and the HTMX partials they swap.

Views read the request and render; what a request carries is parsed by forms.py, what a booking
means lives in scheduling.py (the one write path), conflict_warnings.py (conflicts in words) and
grid.py (the page's layout), who may do what in access.py, and how a booking's push to an
upstream Kaltura stands in sync/status.py. Every page is scoped to the session's partner through
`request.access`.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.safestring import mark_safe
from django.views.decorators.gzip import gzip_page
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django.views.decorators.vary import vary_on_headers
from django_htmx.http import trigger_client_event

from calendar_app import scheduling
from calendar_app.devices import receipts
from calendar_app.errors import ConflictDetected, NotFound, SchedulingError
from calendar_app.models import EventType, ResourceType, ScheduleEvent, ScheduleResource
from calendar_app.sync import queue as sync_queue
from calendar_app.sync import status as sync_status
from calendar_app.web import booking_entries, conflict_warnings, grid, grid_html, timeline_html
from calendar_app.web.access import Access, MemberRequest, Role, member_required
from calendar_app.web.forms import (
    BLACKOUT_TYPE,
    STAFF_TYPES,
    BookingForm,
    CalendarQuery,
    DropForm,
    GestureForm,
    checks_data,
    initial_for,
)

CHANGED = "calendar-changed"  # the event the grid listens for to reload itself
TYPE_LABELS = [
    (ResourceType.LOCATION, "Rooms"),
    (ResourceType.CAMERA, "Cameras"),
    (ResourceType.LIVE_ENTRY, "Live entries"),
]
TYPE_NAMES = dict([*STAFF_TYPES, BLACKOUT_TYPE])  # as the booking form and the legend say them
BOOKING_PANEL = "calendar_app/partials/booking_panel.html"
EDIT_PANEL = "calendar_app/partials/edit_panel.html"
MOVE_PANEL = "calendar_app/partials/move_panel.html"
OCCURRENCES = "calendar_app/partials/occurrences.html"
SYNC_STATE = "calendar_app/partials/sync_state.html"


# ---------------------------------------------------------------- pages


# Compressed: a campus's week is ~300 KB of markup a screenful and gzip makes it ~18 KB in 2 ms
# (bench/timeline_view.py). BREACH needs a secret that stays the same across responses beside
# reflected input: the page's one secret, the CSRF token, is masked afresh in every response,
# and Django's gzip pads each response by a random length ("Heal the Breach").
@gzip_page
@require_GET
@member_required()
@vary_on_headers("HX-Request", "HX-Target")  # the same URL answers with the page or, for htmx, its grid
def calendar_page(request: MemberRequest, days: int, layout: str = "grid") -> HttpResponse:
    """The calendar in one of its layouts: "grid" (time runs down, a column per resource and day:
    the day view and the room week) or "timeline" (a row per resource, time runs across a day or
    a week). The room week shows one location, seven days as its columns.

    The timeline of a campus comes a screenful at a time: `?part=<building id>` (or "other")
    answers with that group's rows alone, which the page loads as they come into view."""
    access = request.access
    room_week = layout == "grid" and days == 7
    query = CalendarQuery(request.GET).grid_query(access.partner, days, access.actor(request).now, room_week)
    if layout == "timeline":
        part = _part(request.GET.get("part"))
        query = replace(query, eager_rows=timeline_html.EAGER_ROWS, part=part)
        if part is not None:
            return HttpResponse(timeline_html.part(grid.build(query)))
    view = grid.build(query)
    if layout == "timeline":
        markup = timeline_html.render(view, reverse("calendar:timeline"), _part_url(request))
    else:
        markup = grid_html.days(view, reverse("calendar:day"))
    context = {
        "section": "calendar",
        "grid": view,
        "layout": layout,
        "days_html": mark_safe(markup),  # noqa: S308 (escaped there)
        "total_columns": len(view.columns) * len(view.days),
        **_navigation(request, view, layout),
    }
    if request.htmx and request.htmx.target == "grid":
        return render(request, "calendar_app/partials/grid.html", context)
    # Above the grid, outside its scrolling: the page's, not each reload of the grid's.
    context["quiet_devices"] = receipts.quiet_devices(access.partner, query.now)
    return render(request, "calendar_app/calendar.html", context)


def _part(value: str | None) -> str | None:
    """The group (grid.Group.key) `?part=` asks for: a building's id or "other"; anything else
    is ignored (the whole page). An id that is not one of the partner's buildings gets no rows."""
    if value == "other":
        return value
    return f"loc-{int(value)}" if value and value.isascii() and value.isdigit() and len(value) < 12 else None


def _part_url(request: MemberRequest) -> str:
    """This page's address, its filters kept, ending in "part=" for a group's placeholder."""
    kept = [(k, v) for k, values in request.GET.lists() if k != "part" for v in values]
    return f"{request.path}?{urlencode([*kept, ('part', '')])}"


def _navigation(request: MemberRequest, view: grid.Grid, layout: str = "grid") -> dict[str, Any]:
    """Links for prev / today / next and the view switches, keeping the filters as given. The
    day view and the room week keep the place shown: the room week's room, the day view's
    building (the room's, coming from the room week)."""
    query = view.query
    step = timedelta(days=query.days)
    kept = [(k, v) for k, v in request.GET.lists() if k in ("location", "types", "cancelled")]

    def link(name: str, day: date | None, location: int | None = None) -> str:
        params = [(k, value) for k, values in kept for value in values if location is None or k != "location"]
        if location is not None:
            params.append(("location", str(location)))
        if day is not None:
            params.append(("date", day.isoformat()))
        return reverse(f"calendar:{name}") + ("?" + urlencode(params) if params else "")

    if layout == "timeline":
        name = "timeline_week" if query.days == 7 else "timeline"
    else:
        name = "week" if query.days == 7 else "day"
    is_room_week = name == "week"
    week_location = view.location_id if name == "day" else None
    return {
        "view_name": name,
        "span": "week" if query.days == 7 else "day",
        "timeline_url": link("timeline", query.first_day),
        "timeline_week_url": link("timeline_week", query.first_day),
        "prev_url": link(name, query.first_day - step),
        "next_url": link(name, query.first_day + step),
        "today_url": link(name, None),
        "week_url": link("week", query.first_day, week_location),
        "day_url": link("day", _day_of(view), view.building_id if is_room_week else None),
        "refresh_url": request.get_full_path(),
        "resource_types": TYPE_LABELS,
        "location_choices": [(o.id, "\u2003" * o.depth + o.name) for o in view.locations],
        "location_shown": view.location_id,
        "shown_types": query.resource_types,
        "show_cancelled": query.show_cancelled,
        "last_day": query.first_day + step - timedelta(days=1),
    }


def _day_of(view: grid.Grid) -> date:
    """The day the day view opens on from a week: today if the week holds it, else its first day."""
    today = next((day.date for day in view.days if day.is_today), None)
    return today or view.query.first_day


# ---------------------------------------------------------------- conflicts while dragging


@require_GET
@member_required(Role.SCHEDULER)
def check(request: MemberRequest) -> HttpResponse:
    """The conflicts of a slot being dragged, as a warning partial; X-Conflicts counts them so
    the gesture can colour itself without parsing HTML. Nothing is saved."""
    access = request.access
    form = GestureForm(request.GET, zone=access.partner.zone)
    valid = form.is_valid()
    event_id = form.cleaned_data["event"]  # never refused: None when it names no row
    event = None if event_id is None else _event(access, event_id)
    if not valid:
        return _conflict_partial(request, [], form.error_text())
    try:
        found = conflict_warnings.clashes(access.actor(request), form.proposal(event))
    except SchedulingError as error:
        return _conflict_partial(request, [], error.message)
    return _conflict_partial(request, found, "")


def _conflict_partial(
    request: MemberRequest,
    found: list[conflict_warnings.Clash],
    error: str,
    checked: bool = True,
    needs_resource: bool = False,
) -> HttpResponse:
    context = {"clashes": found, "error": error, "checked": checked, "needs_resource": needs_resource}
    response = render(request, "calendar_app/partials/conflicts.html", context)
    response["X-Conflicts"] = str(len(found))
    return response


# ---------------------------------------------------------------- booking panel


@require_http_methods(["GET", "POST"])
@member_required(Role.SCHEDULER)
def book(request: MemberRequest) -> HttpResponse:
    """GET: the booking panel, filled from a drag (day, start, end in minutes, resource).
    POST: create the booking, refusing conflicts unless the user chose to book anyway."""
    access = request.access
    if request.method == "GET":
        local_now = access.actor(request).now.astimezone(access.partner.zone)
        initial, note = DropForm(request.GET).booking_initial(local_now)
        context = {"form": _booking_form(request, initial=initial), "slot_note": note}
        return render(request, BOOKING_PANEL, context)
    form = _booking_form(request, data=request.POST)
    if not form.is_valid():
        return render(request, BOOKING_PANEL, {"form": form}, status=422)
    proposal = form.proposal()
    try:
        event = scheduling.create_event(
            access.actor(request), proposal.data, resource_ids=proposal.resource_ids,
            on_conflict=_on_conflict(access, form), skip=form.cleaned_data.get("skip") or (),
        )  # fmt: skip
    except SchedulingError as error:
        return _refused(request, form, error, BOOKING_PANEL)
    return _saved(request, f"Booked “{event.summary}”.", event)


@require_POST
@member_required(Role.SCHEDULER)
def preview(request: MemberRequest) -> HttpResponse:
    """Each occurrence of the booking being edited, free or conflicting, with skip boxes."""
    form = _booking_form(request, data=checks_data(request.POST))
    if not form.is_valid():
        return render(request, OCCURRENCES, {"form": form, "checks": None})
    proposal = form.proposal(form.cleaned_data["ignore"])
    try:
        checks = conflict_warnings.occurrences(request.access.actor(request), proposal)
    except SchedulingError as error:
        return render(request, OCCURRENCES, {"form": form, "error": error.message})
    skipped = {s.isoformat() for s in form.cleaned_data.get("skip") or ()}
    context = {
        "form": form,
        "checks": checks,
        "skipped": skipped,
        "fresh": "previewed" not in request.POST,
        "needs_resource": _unchecked(proposal),
    }
    return render(request, OCCURRENCES, context)


@require_POST
@member_required(Role.SCHEDULER)
def form_check(request: MemberRequest) -> HttpResponse:
    """The booking panel's live warning: what the booking as typed collides with, leaving out
    the dates it skips. Nothing is saved."""
    data = checks_data(request.POST)
    data["summary"] = data.get("summary") or "untitled"  # the slot is worth checking before it has a title
    form = _booking_form(request, data=data)
    if not form.is_valid():
        return _conflict_partial(request, [], "", checked=False)
    proposal = form.proposal(form.cleaned_data["ignore"])
    skip = form.cleaned_data.get("skip") or ()
    try:
        found = conflict_warnings.clashes(request.access.actor(request), proposal, skip)
    except SchedulingError as error:
        return _conflict_partial(request, [], error.message)
    return _conflict_partial(request, found, "", needs_resource=_unchecked(proposal))


def _unchecked(proposal: conflict_warnings.Proposal) -> bool:
    """Whether a booking is checked against blackouts only, having no resource yet: then "free"
    would promise what was not checked. (A blackout is partner-wide: it needs none.)"""
    return not proposal.resource_ids and proposal.data["type"] != EventType.BLACKOUT


def _booking_form(request: MemberRequest, *, series: bool = True, **kwargs: Any) -> BookingForm:
    access = request.access
    return BookingForm(partner=access.partner, allow_blackout=access.can_admin, series=series, **kwargs)


def _on_conflict(access: Access, form: BookingForm) -> scheduling.OnConflict:
    return access.on_conflict(bool(form.cleaned_data.get("book_anyway")))


def _refused(
    request: MemberRequest, form: BookingForm, error: SchedulingError, template: str, **context: Any
) -> HttpResponse:
    """The panel again, with the error: conflicts as warning lines, bad fields on the field."""
    if isinstance(error, ConflictDetected):
        resources = form.cleaned_data.get("resources", [])
        context["clashes"] = conflict_warnings.describe(request.access.partner, error.conflicts, resources)
    elif (field := form.field_for(error)) is not None:
        form.add_error(field, error.message)
    else:
        form.add_error(None, error.message)
    return render(request, template, {"form": form, **context}, status=409 if "clashes" in context else 422)


def _saved(request: MemberRequest, message: str, event: ScheduleEvent | None = None) -> HttpResponse:
    """After a write: the grid reloads (HX-Trigger) and the panel says what happened."""
    messages.success(request, message)
    response = render(request, "calendar_app/partials/saved.html", {"event": event})
    return trigger_client_event(response, CHANGED)


# ---------------------------------------------------------------- one event


@require_GET
@member_required()
def event_detail(request: MemberRequest, pk: int) -> HttpResponse:
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
        "clashes": conflict_warnings.of_event(access.partner, event),
        "can_edit": access.can_edit(event),
        "sync": sync_status.state_of(event),
        "deliveries": receipts.for_event(event),
        "entries": booking_entries.of_event(access.partner, event),
    }
    return render(request, "calendar_app/partials/event_detail.html", context)


@require_POST
@member_required(Role.ADMIN)
def sync_retry(request: MemberRequest, pk: int, op_id: int) -> HttpResponse:
    """Push a booking again whose push failed for good (its operation, or its series'), and
    answer with its sync line as it now is."""
    event = _event(request.access, pk)
    operation = sync_status.operation_of(event, op_id)
    if operation is None:
        raise Http404("no such sync operation for this event")
    sync_queue.retry(operation)  # only a failed one: a retry clicked twice changes nothing
    return render(request, SYNC_STATE, {"event": event, "sync": sync_status.state_of(event)})


@require_http_methods(["GET", "POST"])
@member_required(Role.SCHEDULER)
def event_edit(request: MemberRequest, pk: int) -> HttpResponse:
    """Edit this occurrence (scope=occurrence) or its whole series (scope=series). An occurrence
    edit makes it an exception that later series edits keep (scheduling.py)."""
    access = request.access
    scope = "series" if request.GET.get("scope", request.POST.get("scope")) == "series" else "occurrence"
    target = _in_scope(_editable(access, pk), scope)
    context = {"event": target, "scope": scope, "series": target.is_series}
    if request.method == "GET":
        initial = initial_for(target, scheduling.resource_ids_of(target), access.partner.zone)
        form = _booking_form(request, series=target.is_series, event=target, initial=initial)
        return render(request, EDIT_PANEL, {**context, "form": form})
    form = _booking_form(request, series=target.is_series, event=target, data=request.POST)
    if not form.is_valid():
        return render(request, EDIT_PANEL, {**context, "form": form}, status=422)
    proposal = form.proposal((target.pk,))
    try:
        edited = scheduling.edit_booking(
            access.actor(request), target.pk, proposal.data, proposal.resource_ids,
            on_conflict=_on_conflict(access, form),
        )  # fmt: skip
    except SchedulingError as error:
        return _refused(request, form, error, EDIT_PANEL, **context)
    return _saved(request, f"Saved {_what(target)}: “{edited.summary}”.", edited)


@require_http_methods(["GET", "POST"])
@member_required(Role.SCHEDULER)
def event_move(request: MemberRequest, pk: int) -> HttpResponse:
    """A drag's move or resize (day, start, end; from/to when it changes column). POST saves it,
    or answers 409 with the conflicts and, for those allowed, a "move anyway" button. GET shows
    that confirmation for a drop the drag already saw conflicts for."""
    access = request.access
    event = _editable(access, pk)
    params = request.POST if request.method == "POST" else request.GET
    form = GestureForm(params, zone=access.partner.zone)
    if not form.is_valid():
        return HttpResponse(form.error_text(), status=400)
    proposal = form.proposal(event)  # the event in the address, not the `event` parameter
    actor = access.actor(request)
    context = {"event": event, "params": params.dict(), **_new_place(access, form, proposal)}
    try:
        if request.method == "GET":  # the confirmation: nothing is saved
            clashes = conflict_warnings.clashes(actor, proposal)
            return render(request, MOVE_PANEL, {**context, "clashes": clashes})
        changes = {"start": proposal.data["start"], "end": proposal.data["end"]}
        on_conflict = access.on_conflict(params.get("book_anyway") == "1")
        scheduling.edit_booking(actor, event.pk, changes, proposal.resource_ids, on_conflict=on_conflict)
    except ConflictDetected as error:
        clashes = conflict_warnings.describe(access.partner, error.conflicts, proposal.resource_ids)
        return render(request, MOVE_PANEL, {**context, "clashes": clashes}, status=409)
    except SchedulingError as error:
        return render(request, MOVE_PANEL, {**context, "error": error.message}, status=422)
    return _saved(request, f"Moved “{event.summary}”.", event)


def _new_place(access: Access, form: GestureForm, proposal: conflict_warnings.Proposal) -> dict[str, Any]:
    """Where a move puts the event, for its confirmation to state ("Move to Wed 9 Sep,
    10:00–11:30, Room 101?"): the new times in the partner's zone, the resources it will have,
    and which one it leaves for which when the drag changed column. One query for the names."""
    source, target = form.cleaned_data["from"], form.cleaned_data["to"]
    changed = source is not None and target is not None and source != target
    ids = {*proposal.resource_ids, *((source, target) if changed else ())}
    names = dict(
        ScheduleResource.objects.for_partner(access.partner).filter(pk__in=ids).values_list("pk", "name")
    )
    zone = access.partner.zone
    return {
        "new_start": proposal.data["start"].astimezone(zone),
        "new_end": proposal.data["end"].astimezone(zone),
        "new_resources": sorted(names[pk] for pk in proposal.resource_ids if pk in names),
        "moved_from": names.get(source) if changed else None,
        "moved_to": names.get(target) if changed else None,
    }


@require_POST
@member_required(Role.SCHEDULER)
def event_cancel(request: MemberRequest, pk: int) -> HttpResponse:
    """Cancel this occurrence (it becomes an EXDATE) or, with scope=series, every occurrence."""
    access = request.access
    target = _in_scope(_editable(access, pk), request.POST.get("scope"))
    try:
        scheduling.cancel_event(access.actor(request), target.pk)
    except SchedulingError as error:
        return HttpResponse(error.message, status=422)
    return _saved(request, f"Cancelled {_what(target)}: “{target.summary}”.", target)


def _event(access: Access, pk: int) -> ScheduleEvent:
    try:
        return scheduling.get_event(access.partner, pk)  # deleted events are not found either
    except NotFound:
        raise Http404("no such event") from None


def _editable(access: Access, pk: int) -> ScheduleEvent:
    event = _event(access, pk)
    if not access.can_edit(event):
        raise PermissionDenied("cancelled events, and blackouts for non-admins, cannot be edited")
    return event


def _in_scope(event: ScheduleEvent, scope: str | None) -> ScheduleEvent:
    """The event itself, or with scope=series the series an occurrence belongs to."""
    return event.parent if scope == "series" and event.is_occurrence else event


def _what(event: ScheduleEvent) -> str:
    """The event as a saved message names it."""
    if event.is_series:
        return "the whole series"
    return "this occurrence" if event.is_occurrence else "the booking"
