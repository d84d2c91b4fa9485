"""Push one local object's current state to the upstream Kaltura (docs/sync.md).

Local is the source of truth. Applying an operation reads the object as it is now and makes the
upstream match: add it (found again first, when an earlier attempt may have added it), update
it, cancel or delete it, and make its links match. So an operation may run twice (a worker
killed mid-call, a task delivered twice) and the upstream still ends with one object.

A series is pushed as a series with its recurrence; the upstream generates its occurrences,
which are matched to ours by start time. Real Kaltura regenerates a series' occurrences when
its times change and drops their edits (kaltura-compatibility.md), so after every push of a
series its exceptions (edited or cancelled occurrences) are applied again to the matching
upstream occurrences: only those that differ cost a call.

Entries are pushed by sync/entries.py. An event names entries by id, so an entry it names that
the upstream lacks is pushed first, as a room it links is (`ensure_entry`, `ensure_resource`).
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from django.conf import settings

from calendar_app import clock
from calendar_app.kaltura_api import catalog
from calendar_app.kaltura_api.objects import TYPES, Field
from calendar_app.kaltura_api.render import writable
from calendar_app.models import (
    Entry,
    EventStatus,
    EventType,
    KalturaConnection,
    ResourceStatus,
    ResourceType,
    ScheduleEvent,
    ScheduleEventResource,
    ScheduleResource,
    SyncOperation,
    UpstreamObject,
)
from calendar_app.scheduling import RESOURCES, TIMES
from calendar_app.sync.client import NOT_FOUND, Call, KalturaClient, KalturaError, UpstreamError
from calendar_app.sync.entries import EntryPusher
from calendar_app.sync.id_map import forget, mapped, remap, remember

ALREADY_LINKED = "SCHEDULE_EVENT_RESOURCE_ALREADY_EXISTS"
NAME_TAKEN = "SYSTEM_NAME_ALREADY_EXISTS"
# Never pushed: the upstream keeps its own sequence, and a link names local ids.
NOT_PUSHED = frozenset({"sequence", "linkedTo"})
SERIES_ONLY = frozenset({"recurrence", "duration"})
# Wire fields holding entry ids, which have upstream ids of their own.
ENTRY_FIELDS = frozenset(
    {"templateEntryId", "entryIds", "sourceEntryId", "preStartEntryId", "postEndEntryId"}
)
PAGE = 500
DEPENDENCY_POLL = 0.05  # seconds between looks at the operation an object waits for
REACHABLE = 10_000  # Kaltura's paging cap
CANCELLED = int(EventStatus.CANCELLED)
OPEN_PENDING, OPEN_RUNNING, OPEN_FAILED = (
    SyncOperation.Status.PENDING,
    SyncOperation.Status.RUNNING,
    SyncOperation.Status.FAILED,
)
Kind = UpstreamObject.Kind


class NotUpstream(UpstreamError):
    """A local object the upstream must already have (an entry, or a resource when resources are
    not pushed) and does not: a permanent error an admin resolves (kaltura_pull)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(code, message, transient=False)


class Waiting(UpstreamError):
    """What this object needs upstream is being pushed by its own operation: try again shortly,
    rather than push it here at the same time (two adds of one room)."""

    def __init__(self, what: str) -> None:
        super().__init__("SYNC_WAITING", f"waiting for {what} to be pushed first", transient=True)


def wait_for(partner_id: int, kind: str, pk: int | str, what: str) -> None:
    """Never push `what` on another object's behalf while its own operation is queued or
    running: wait a moment for it (a new room and its first booking are pushed side by side),
    then leave it to a retry. With no operation (it predates sync), pushing it here is safe."""
    open_ops = SyncOperation.objects.for_partner(partner_id).filter(
        kind=kind, object_id=pk, status__in=[OPEN_PENDING, OPEN_RUNNING, OPEN_FAILED]
    )
    deadline = time.monotonic() + settings.SYNC_DEPENDENCY_WAIT_SECONDS
    while True:
        states = set(open_ops.values_list("status", flat=True))
        if OPEN_FAILED in states:
            raise NotUpstream("SYNC_DEPENDENCY_FAILED", f"{what} could not be pushed: retry it first")
        if not states:
            return
        if time.monotonic() >= deadline:
            raise Waiting(what)
        time.sleep(DEPENDENCY_POLL)


def apply(connection: KalturaConnection, client: KalturaClient, op: SyncOperation) -> None:
    pusher = Pusher(connection, client, retrying=op.attempts > 1)
    if op.kind == SyncOperation.Kind.RESOURCE:
        pusher.resource(int(op.object_id))
    elif op.kind == SyncOperation.Kind.ENTRY:
        pusher.entries.entry(op.object_id)
    else:
        pusher.event(int(op.object_id))


def upstream_reference(event: ScheduleEvent) -> str:
    """The referenceId an event carries upstream: its own, or for one without, a key of ours;
    how an add whose answer was lost is found again."""
    return writable(event.reference_id) or f"lecture-scheduler:{event.partner_id}:{event.pk}"


@dataclass
class Pusher:
    connection: KalturaConnection
    client: KalturaClient
    # An earlier attempt of this operation may have reached the upstream: look before adding.
    retrying: bool = False
    # Reconcile: read, never write (a resource an event needs is not pushed, only looked up).
    readonly: bool = False

    @property
    def partner_id(self) -> int:
        return self.connection.partner_id

    @property
    def entries(self) -> EntryPusher:
        return EntryPusher(self.connection, self.client, retrying=self.retrying)

    # ------------------------------------------------------------ resources

    def resource(self, pk: int) -> str | None:
        """Push a resource; its upstream id, or None when it is gone."""
        resource = ScheduleResource.objects.for_partner(self.partner_id).filter(pk=pk).first()
        upstream = mapped(self.partner_id, Kind.RESOURCE, pk)
        if resource is None or resource.status == ResourceStatus.DELETED:
            if upstream:
                self._call_ignoring_missing(
                    "schedule_scheduleresource", "delete", scheduleResourceId=int(upstream)
                )
                forget(self.partner_id, Kind.RESOURCE, [pk])
            return None
        body = self.resource_body(resource)
        if upstream:
            try:
                self.client.call("schedule_scheduleresource", "update", scheduleResourceId=int(upstream),
                                 scheduleResource=body)  # fmt: skip
                return upstream
            except KalturaError as error:
                if error.code not in NOT_FOUND:
                    raise
                forget(self.partner_id, Kind.RESOURCE, [pk])  # deleted upstream: add it again
        found = self.find_resource(resource)
        if found:
            remember(self.partner_id, Kind.RESOURCE, pk, found)
            self.client.call("schedule_scheduleresource", "update", scheduleResourceId=int(found),
                             scheduleResource=body)  # fmt: skip
            return found
        try:
            added = str(
                self.client.call("schedule_scheduleresource", "add", scheduleResource=without_nulls(body))[
                    "id"
                ]
            )
        except KalturaError as error:
            # Added by someone else since we looked: it is ours to map, not an error.
            found = self.find_resource(resource) if error.code == NAME_TAKEN else None
            if found is None:
                raise
            added = found
        remember(self.partner_id, Kind.RESOURCE, pk, added)
        return added

    def ensure_resource(self, pk: int) -> int:
        """The upstream id of a resource an event or a child needs, pushing it if need be."""
        upstream = mapped(self.partner_id, Kind.RESOURCE, pk)
        if upstream is None and self.readonly:
            raise NotUpstream("SYNC_RESOURCE_NOT_UPSTREAM", f"resource {pk} has not been pushed")
        if upstream is None and self.connection.sync_resources:
            wait_for(self.partner_id, SyncOperation.Kind.RESOURCE, pk, f"resource {pk}")
            upstream = mapped(self.partner_id, Kind.RESOURCE, pk) or self.resource(pk)
        if upstream is None:
            resource = ScheduleResource.objects.get(pk=pk)
            upstream = self.find_resource(resource, by_name=False)
            if upstream is None:
                raise NotUpstream(
                    "SYNC_RESOURCE_NOT_UPSTREAM",
                    f"resource {resource.name!r} ({pk}) is not in the upstream account, and resources "
                    "are not pushed: give it the systemName it has there, or run kaltura_pull",
                )
            remember(self.partner_id, Kind.RESOURCE, pk, upstream)
        return int(upstream)

    def upstream_resource(self, pk: int) -> int | None:
        upstream = mapped(self.partner_id, Kind.RESOURCE, pk)
        return int(upstream) if upstream else None

    def find_resource(self, resource: ScheduleResource, *, by_name: bool = True) -> str | None:
        """Kaltura's way to know a resource: its systemName; else (only when we push resources)
        the same name and type, among those no local resource is mapped to."""
        if resource.system_name:
            wanted = {"systemNameEqual": resource.system_name}
        elif by_name:
            wanted = {"nameEqual": resource.name}
        else:
            return None
        type_name = catalog.RESOURCE_TYPE_NAMES[ResourceType(resource.type)]
        found = self.client.call(
            "schedule_scheduleresource", "list",
            filter={"objectType": type_name.replace("ScheduleResource", "ScheduleResourceFilter"), **wanted},
            pager={"objectType": "KalturaFilterPager", "pageSize": 50},
        )["objects"] or []  # fmt: skip
        taken = set(
            UpstreamObject.objects.for_partner(self.partner_id)
            .filter(kind=Kind.RESOURCE, upstream_id__in=[str(o["id"]) for o in found])
            .exclude(local_id=str(resource.pk))
            .values_list("upstream_id", flat=True)
        )
        free = [str(o["id"]) for o in found if str(o["id"]) not in taken]
        return free[0] if free else None

    def resource_body(self, resource: ScheduleResource) -> dict[str, Any]:
        body = wire_object(catalog.RESOURCE_TYPE_NAMES[ResourceType(resource.type)], resource)
        body["parentId"] = self.ensure_resource(resource.parent_id) if resource.parent_id else None
        if "entryId" in body:
            body["entryId"] = self.entry_ids(resource.entry_id)
        if not resource.system_name:
            body.pop("systemName")
        return body

    # ------------------------------------------------------------ events

    def event(self, pk: int) -> None:
        event = ScheduleEvent.objects.for_partner(self.partner_id).filter(pk=pk).first()
        if event is not None and event.is_occurrence:
            self.occurrence(event)
            return
        upstream = mapped(self.partner_id, Kind.EVENT, pk)
        if event is None or event.status == EventStatus.DELETED:
            if upstream:
                self._call_ignoring_missing("schedule_scheduleevent", "delete", scheduleEventId=int(upstream))
            occurrences = ScheduleEvent.objects.filter(parent_id=pk).values_list("pk", flat=True)
            forget(self.partner_id, Kind.EVENT, [pk, *occurrences])
            return
        upstream = self.upsert(event, upstream)
        if event.is_series:
            self.occurrences(event, upstream)

    def upsert(self, event: ScheduleEvent, upstream: str | None) -> str:
        """Add or update a single event or a series with its links; cancel it if it is."""
        body = self.event_body(event)
        links = {self.ensure_resource(pk) for pk in linked_resources(event)}
        if upstream is None and self.retrying:
            upstream = self.find_event(event)
            if upstream:
                remember(self.partner_id, Kind.EVENT, event.pk, upstream)
        if upstream:
            try:
                self.client.call("schedule_scheduleevent", "update", scheduleEventId=int(upstream),
                                 scheduleEvent=body)  # fmt: skip
            except KalturaError as error:
                if error.code not in NOT_FOUND:
                    raise
                forget(self.partner_id, Kind.EVENT, [event.pk])  # deleted upstream: add it again
                upstream = None
            else:
                self.match_links(upstream, links, cancelled=event.status == CANCELLED)
        if upstream is None:
            upstream = self.add(event, body, links)
        if event.status == CANCELLED:
            self.client.call("schedule_scheduleevent", "cancel", scheduleEventId=int(upstream))
        return upstream

    def add(self, event: ScheduleEvent, body: dict[str, Any], links: set[int]) -> str:
        """The event and its links in one round trip."""
        calls = [Call("schedule_scheduleevent", "add", {"scheduleEvent": without_nulls(body)})]
        calls += [link_call("{1:result:id}", resource) for resource in sorted(links)]
        results = self.client.multirequest(calls)
        if isinstance(results[0], KalturaError):
            raise results[0]
        upstream = str(results[0]["id"])
        remember(self.partner_id, Kind.EVENT, event.pk, upstream)
        raise_first(results[1:], ignore={ALREADY_LINKED})
        return upstream

    def find_event(self, event: ScheduleEvent) -> str | None:
        """An upstream event an earlier attempt added: same referenceId, same start, a single
        event or a series, and no local event mapped to it."""
        found = self.list_events(
            referenceIdEqual=upstream_reference(event),
            startDateGreaterThanOrEqual=clock.to_unix(event.start),
            startDateLessThanOrEqual=clock.to_unix(event.start),
            recurrenceTypeIn="0,1",
        )
        ids = [str(o["id"]) for o in found]
        taken = set(
            UpstreamObject.objects.for_partner(self.partner_id)
            .filter(kind=Kind.EVENT, upstream_id__in=ids)
            .values_list("upstream_id", flat=True)
        )
        free = [i for i in ids if i not in taken]
        return free[0] if free else None

    def event_body(self, event: ScheduleEvent) -> dict[str, Any]:
        body = wire_object(catalog.EVENT_TYPE_NAMES[EventType(event.type)], event, skip=NOT_PUSHED)
        for name in ENTRY_FIELDS & body.keys():
            body[name] = self.entry_ids(body[name])
        body["referenceId"] = upstream_reference(event)
        if not event.is_series:
            for name in SERIES_ONLY:
                body.pop(name, None)
        elif event.materialized_until is not None and body.get("recurrence"):
            # Kaltura refuses a rule with neither count nor until: an open-ended series goes up
            # ending where ours is made to. Extending it changes the series, which pushes it again.
            until = int(event.materialized_until.timestamp())
            body["recurrence"] = {**body["recurrence"], "until": until}
        return body

    def entry_ids(self, value: str | None) -> str:
        """Local entry ids (a comma list) as the upstream's, pushing an entry it lacks."""
        local = [i.strip() for i in (value or "").split(",") if i.strip()]
        return ",".join(self.ensure_entry(i) for i in local)

    def ensure_entry(self, entry_id: str) -> str:
        """The upstream id of an entry an event or a live entry resource names: an entry made
        here is pushed first (by its own operation if it has one, else here); one deleted here
        before it ever reached the upstream cannot be."""
        upstream = mapped(self.partner_id, Kind.ENTRY, entry_id)
        if upstream is not None:
            return upstream
        live = Entry.objects.for_partner(self.partner_id).exclude(status=Entry.Status.DELETED)
        if self.readonly or not live.filter(pk=entry_id).exists():
            raise NotUpstream(
                "SYNC_ENTRY_NOT_UPSTREAM",
                f"entry {entry_id} is not in the upstream account"
                + ("" if self.readonly else " and cannot be pushed (it is not here, or deleted)")
                + ": choose an entry that exists, or create it there and run kaltura_pull",
            )
        wait_for(self.partner_id, SyncOperation.Kind.ENTRY, entry_id, f"entry {entry_id}")
        upstream = mapped(self.partner_id, Kind.ENTRY, entry_id) or self.entries.entry(entry_id)
        if upstream is None:  # deleted while we looked
            raise NotUpstream("SYNC_ENTRY_NOT_UPSTREAM", f"entry {entry_id} was deleted before it was pushed")
        return upstream

    # ------------------------------------------------------------ occurrences

    def occurrences(self, series: ScheduleEvent, upstream: str) -> None:
        """Map the series' occurrences to the upstream's, then apply our exceptions to them."""
        theirs = {
            str(o["id"]): o for o in self.list_events(parentIdEqual=int(upstream), recurrenceTypeEqual=2)
        }
        ours = list(series.occurrences.exclude(status=EventStatus.DELETED))
        pairs = match_occurrences(self.partner_id, ours, theirs)
        remap(self.partner_id, [o.pk for o in ours], pairs)
        for occurrence in ours:
            if occurrence.is_exception and occurrence.pk in pairs:
                self.apply_exception(occurrence, theirs[pairs[occurrence.pk]])

    def occurrence(self, occurrence: ScheduleEvent) -> None:
        """One occurrence written on its own: its series first if the upstream lacks it."""
        assert occurrence.parent_id is not None  # an occurrence always has its series
        series_upstream = mapped(self.partner_id, Kind.EVENT, occurrence.parent_id)
        if series_upstream is None:
            wait_for(
                self.partner_id,
                SyncOperation.Kind.EVENT,
                occurrence.parent_id,
                f"series {occurrence.parent_id}",
            )
            self.event(occurrence.parent_id)
            return
        upstream = mapped(self.partner_id, Kind.EVENT, occurrence.pk)
        found = self.list_events(idEqual=int(upstream)) if upstream else []
        if not found or occurrence.status == EventStatus.DELETED:
            # Unknown there, or regenerated since: match the whole series again.
            series = ScheduleEvent.objects.get(pk=occurrence.parent_id)
            if series.status != EventStatus.DELETED:
                self.occurrences(series, series_upstream)
            return
        if occurrence.is_exception:
            self.apply_exception(occurrence, found[0])

    def apply_exception(self, occurrence: ScheduleEvent, theirs: dict[str, Any]) -> None:
        upstream = int(theirs["id"])
        if occurrence.status == CANCELLED:
            if theirs.get("status") != CANCELLED:
                self.client.call("schedule_scheduleevent", "cancel", scheduleEventId=upstream)
            return
        body = exception_body(occurrence, theirs)
        if len(body) > 1:
            self.client.call("schedule_scheduleevent", "update", scheduleEventId=upstream, scheduleEvent=body)
        if RESOURCES in occurrence.overridden_fields:
            links = {self.ensure_resource(pk) for pk in linked_resources(occurrence)}
            self.match_links(str(upstream), links, cancelled=False)

    # ------------------------------------------------------------ links and lists

    def match_links(self, upstream: str, wanted: set[int], *, cancelled: bool) -> None:
        """Make the upstream event's own links `wanted` (Kaltura drops a cancelled event's)."""
        if cancelled:
            return
        have = {int(link["resourceId"]) for link in self.list_links(int(upstream))}
        calls = [link_call(int(upstream), r) for r in sorted(wanted - have)]
        calls += [
            Call("schedule_scheduleeventresource", "delete",
                 {"scheduleEventId": int(upstream), "scheduleResourceId": r})
            for r in sorted(have - wanted)
        ]  # fmt: skip
        if calls:
            raise_first(self.client.multirequest(calls), ignore={ALREADY_LINKED, *NOT_FOUND})

    def list_links(self, upstream_event: int) -> list[dict[str, Any]]:
        return list(
            self.pages(
                "schedule_scheduleeventresource",
                {"objectType": "KalturaScheduleEventResourceFilter", "eventIdEqual": upstream_event},
            )
        )

    def list_resources(self) -> list[dict[str, Any]]:
        return list(self.pages("schedule_scheduleresource", {"objectType": "KalturaScheduleResourceFilter"}))

    def list_events(self, **conditions: Any) -> list[dict[str, Any]]:
        return list(
            self.pages("schedule_scheduleevent", {"objectType": "KalturaScheduleEventFilter", **conditions})
        )

    def pages(self, service: str, filter_: dict[str, Any]) -> Iterator[dict[str, Any]]:
        """Every object the filter matches. Kaltura pages only through the first 10,000, so past
        that the walk starts again from the last creation time seen (skipping what it saw)."""
        seen: set[Any] = set()
        since: int | None = None
        index = 1
        while True:
            window = {"createdAtGreaterThanOrEqual": since} if since is not None else {}
            page = self.client.call(
                service, "list", filter={**filter_, **window, "orderBy": "+createdAt"},
                pager={"objectType": "KalturaFilterPager", "pageSize": PAGE, "pageIndex": index},
            )["objects"] or []  # fmt: skip
            for obj in page:
                key = obj.get("id") or (obj.get("eventId"), obj.get("resourceId"))
                if key not in seen:
                    seen.add(key)
                    yield obj
            if len(page) < PAGE:
                return
            index += 1
            if index * PAGE > REACHABLE:
                if page[-1]["createdAt"] == since:
                    return  # over 10,000 made in one second: Kaltura cannot page past them
                since, index = page[-1]["createdAt"], 1

    def _call_ignoring_missing(self, service: str, action: str, **params: Any) -> None:
        try:
            self.client.call(service, action, **params)
        except KalturaError as error:
            if error.code not in NOT_FOUND:
                raise


# ---------------------------------------------------------------- wire forms


def wire_object(type_name: str, obj: Any, *, skip: Iterable[str] = ()) -> dict[str, Any]:
    """The fields a client may write, as the API renders them (catalog.py is the one list)."""
    skipped = set(skip)
    out: dict[str, Any] = {"objectType": type_name}
    for spec in TYPES[type_name].fields:
        if spec.readonly or spec.read or spec.wire in skipped:
            continue
        out[spec.wire] = _wire(spec, getattr(obj, spec.name, None))
    return out


def _wire(spec: Field, value: Any) -> Any:
    """A value as the API would send it. Text loses the characters Kaltura refuses on input
    (INVALID_PARAMETER_CHAR) and our API drops on output: a booking typed with one is still pushed."""
    if value is None:
        return None
    value = spec.kind.wire(value)
    return writable(value) if isinstance(value, str) else value


def without_nulls(body: dict[str, Any]) -> dict[str, Any]:
    """An add leaves unset what we have not got (an update clears it)."""
    return {k: v for k, v in body.items() if v is not None}


def exception_body(occurrence: ScheduleEvent, theirs: dict[str, Any]) -> dict[str, Any]:
    """The fields an occurrence set itself that the upstream occurrence does not have yet."""
    type_name = catalog.EVENT_TYPE_NAMES[EventType(occurrence.type)]
    own = set(occurrence.overridden_fields)
    if TIMES in own:
        own |= {"start", "end"}
    body: dict[str, Any] = {"objectType": type_name}
    for spec in TYPES[type_name].fields:
        if (
            spec.name not in own
            or spec.readonly
            or spec.read
            or spec.wire in NOT_PUSHED | ENTRY_FIELDS | SERIES_ONLY
        ):
            continue
        value = _wire(spec, getattr(occurrence, spec.name))
        if theirs.get(spec.wire) != value:
            body[spec.wire] = value
    return body


def link_call(event: int | str, resource: int) -> Call:
    return Call(
        "schedule_scheduleeventresource", "add",
        {"scheduleEventResource": {"objectType": "KalturaScheduleEventResource", "eventId": event,
                                   "resourceId": resource}},
    )  # fmt: skip


def raise_first(results: list[Any], *, ignore: Iterable[str] = ()) -> None:
    ignored = set(ignore)
    for result in results:
        if isinstance(result, KalturaError) and result.code not in ignored:
            raise result


def linked_resources(event: ScheduleEvent) -> list[int]:
    return list(
        ScheduleEventResource.objects.filter(event=event)
        .exclude(resource__status=ResourceStatus.DELETED)
        .values_list("resource_id", flat=True)
    )


def match_occurrences(
    partner_id: int, ours: list[ScheduleEvent], theirs: dict[str, dict[str, Any]]
) -> dict[int, str]:
    """Local occurrence id -> upstream id: the pair we knew while the upstream still has it, else
    the upstream occurrence starting at our occurrence's slot (its RECURRENCE-ID)."""
    known = dict(
        UpstreamObject.objects.for_partner(partner_id)
        .filter(kind=Kind.EVENT, local_id__in=[str(o.pk) for o in ours])
        .values_list("local_id", "upstream_id")
    )
    pairs = {o.pk: known[str(o.pk)] for o in ours if known.get(str(o.pk)) in theirs}
    free = {o["startDate"]: upstream for upstream, o in theirs.items() if upstream not in pairs.values()}
    for occurrence in ours:
        if occurrence.pk not in pairs:
            slot = clock.to_unix(occurrence.original_start or occurrence.start)
            if slot in free:
                pairs[occurrence.pk] = free.pop(slot)
    return pairs
