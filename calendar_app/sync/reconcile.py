"""Reconcile: where the upstream account and this schedule differ, object by object and field by
field, occurrences included. Local is the source of truth: `repair` pushes the local state of
every missing or different object again; upstream events nobody here made are only reported,
and deleted with `prune`.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any

from calendar_app import clock, outbox
from calendar_app.models import (
    Entry,
    EventStatus,
    KalturaConnection,
    RecurrenceType,
    ResourceStatus,
    ScheduleEvent,
    ScheduleResource,
    SyncOperation,
    UpstreamObject,
)
from calendar_app.sync import queue
from calendar_app.sync.client import KalturaClient, KalturaError, UpstreamError
from calendar_app.sync.entries import entry_body
from calendar_app.sync.push import (
    CANCELLED,
    NOT_FOUND,
    NotUpstream,
    Pusher,
    exception_body,
    linked_resources,
    match_occurrences,
)

Kind = UpstreamObject.Kind
DETAILS_KEPT = 200  # in the connection's last report; the command prints them all
PLURALS = {"entry": "entries"}


def counted(checked: dict[str, int]) -> str:
    """What a reconcile checked, in words: "3 entries, 12 events"."""
    return ", ".join(f"{n} {PLURALS.get(kind, kind + 's')}" for kind, n in sorted(checked.items()))


@dataclass
class Drift:
    kind: str  # resource, event, occurrence, entry
    problem: str  # missing, extra, different
    local_id: int | str | None = None  # an entry's id is text
    upstream_id: str | None = None
    fields: dict[str, tuple[Any, Any]] = field(default_factory=dict)  # wire name -> (ours, theirs)

    def line(self) -> str:
        who = f"local {self.local_id}" if self.local_id is not None else f"upstream {self.upstream_id}"
        if self.local_id is not None and self.upstream_id:
            who += f" = upstream {self.upstream_id}"
        diff = "; ".join(
            f"{name}: ours {ours!r}, theirs {theirs!r}" for name, (ours, theirs) in self.fields.items()
        )
        return f"{self.problem} {self.kind} ({who})" + (f": {diff}" if diff else "")


@dataclass
class Report:
    drifts: list[Drift] = field(default_factory=list)
    checked: Counter = field(default_factory=Counter)

    def counts(self) -> dict[str, int]:
        return dict(sorted(Counter(f"{d.kind} {d.problem}" for d in self.drifts).items()))

    def as_json(self) -> dict[str, Any]:
        return {
            "checked": dict(self.checked),
            "counts": self.counts(),
            "details": [d.line() for d in self.drifts[:DETAILS_KEPT]],
        }


def reconcile(connection: KalturaConnection, client: KalturaClient) -> Report:
    report = Report()
    pusher = Pusher(connection, client, readonly=True)
    _entries(pusher, report)
    if connection.sync_resources:
        _resources(pusher, report)
    _events(pusher, report)
    return report


def save(connection: KalturaConnection, report: Report) -> None:
    KalturaConnection.objects.filter(pk=connection.pk).update(
        last_reconcile_at=clock.now(), last_reconcile=report.as_json()
    )


def save_failure(connection: KalturaConnection, error: UpstreamError) -> None:
    KalturaConnection.objects.filter(pk=connection.pk).update(
        last_reconcile_at=clock.now(), last_reconcile={"error": f"{error.code}: {error.message}"}
    )


# ---------------------------------------------------------------- entries


def _entries(pusher: Pusher, report: Report) -> None:
    """Every local entry against its upstream one, on the fields a push sends. Upstream entries
    no local one stands for are not reported: an account's own recordings are pull's business."""
    theirs = {
        str(o["id"]): o
        for o in pusher.pages("baseentry", {"objectType": "KalturaBaseEntryFilter", "typeIn": "1,7"})
    }
    pairs = _pairs(pusher.partner_id, Kind.ENTRY)
    ours = Entry.objects.for_partner(pusher.partner_id).exclude(status=Entry.Status.DELETED)
    for entry in ours.order_by("pk"):
        report.checked["entry"] += 1
        upstream = pairs.get(entry.pk)
        if upstream not in theirs:
            report.drifts.append(Drift("entry", "missing", entry.pk, upstream))
            continue
        differs = _differences(entry_body(entry), theirs[upstream])
        if differs:
            report.drifts.append(Drift("entry", "different", entry.pk, upstream, differs))


# ---------------------------------------------------------------- resources


def _resources(pusher: Pusher, report: Report) -> None:
    partner_id = pusher.partner_id
    theirs = {str(o["id"]): o for o in pusher.list_resources()}
    pairs = _pairs(partner_id, Kind.RESOURCE)
    ours = ScheduleResource.objects.for_partner(partner_id).exclude(status=ResourceStatus.DELETED)
    for resource in ours:
        report.checked["resource"] += 1
        upstream = pairs.get(str(resource.pk))
        if upstream not in theirs:
            report.drifts.append(Drift("resource", "missing", resource.pk, upstream))
            continue
        differs = _differences(_quietly(pusher.resource_body, resource), theirs[upstream])
        if differs:
            report.drifts.append(Drift("resource", "different", resource.pk, upstream, differs))
    known = set(pairs.values())
    report.drifts += [Drift("resource", "extra", upstream_id=u) for u in theirs if u not in known]


# ---------------------------------------------------------------- events


def _events(pusher: Pusher, report: Report) -> None:
    partner_id = pusher.partner_id
    theirs: dict[str, dict[str, Any]] = {}
    occurrences_of: dict[str, dict[str, dict[str, Any]]] = defaultdict(dict)
    for obj in pusher.list_events():
        if obj.get("recurrenceType") == RecurrenceType.RECURRENCE:
            occurrences_of[str(obj.get("parentId"))][str(obj["id"])] = obj
        else:
            theirs[str(obj["id"])] = obj
    links = _links(pusher)
    pairs = _pairs(partner_id, Kind.EVENT)
    for event in _local_events(pusher.connection):
        report.checked["event"] += 1
        upstream = pairs.get(str(event.pk))
        if upstream not in theirs:
            report.drifts.append(Drift("event", "missing", event.pk, upstream))
            continue
        _compare_event(pusher, event, theirs[upstream], links.get(upstream, set()), report)
        if event.is_series:
            _compare_occurrences(pusher, event, occurrences_of.get(upstream, {}), report)
    known = set(pairs.values())
    report.drifts += [Drift("event", "extra", upstream_id=u) for u in theirs if u not in known]


def _local_events(connection: KalturaConnection):
    events = ScheduleEvent.objects.for_partner(connection.partner_id).filter(
        status__in=[EventStatus.ACTIVE, EventStatus.CANCELLED]
    )
    if connection.event_types:
        events = events.filter(type__in=connection.event_types)
    return events.exclude(recurrence_type=RecurrenceType.RECURRENCE).order_by("pk")


def _compare_event(
    pusher: Pusher, event: ScheduleEvent, theirs: dict[str, Any], links: set[int], report: Report
):
    differs = _differences(_quietly(pusher.event_body, event), theirs)
    if theirs.get("status") != event.status:
        differs["status"] = (event.status, theirs.get("status"))
    if event.status != CANCELLED:
        wanted = {pusher.upstream_resource(pk) for pk in linked_resources(event)}
        if wanted != links:
            differs["resources"] = (sorted(r for r in wanted if r is not None), sorted(links))
    if differs:
        report.drifts.append(Drift("event", "different", event.pk, str(theirs["id"]), differs))


def _compare_occurrences(
    pusher: Pusher, series: ScheduleEvent, theirs: dict[str, dict[str, Any]], report: Report
) -> None:
    ours = list(series.occurrences.exclude(status=EventStatus.DELETED))
    pairs = match_occurrences(pusher.partner_id, ours, theirs)
    for occurrence in ours:
        report.checked["occurrence"] += 1
        upstream = pairs.get(occurrence.pk)
        if upstream is None:
            report.drifts.append(Drift("occurrence", "missing", occurrence.pk))
            continue
        if not occurrence.is_exception:
            continue
        obj = theirs[upstream]
        if occurrence.status == CANCELLED:
            if obj.get("status") != CANCELLED:
                differs = {"status": (occurrence.status, obj.get("status"))}
                report.drifts.append(Drift("occurrence", "different", occurrence.pk, upstream, differs))
            continue
        body = exception_body(occurrence, obj)
        body.pop("objectType")
        if body:
            differs = {name: (value, obj.get(name)) for name, value in body.items()}
            report.drifts.append(Drift("occurrence", "different", occurrence.pk, upstream, differs))
    matched = set(pairs.values())
    report.drifts += [Drift("occurrence", "extra", upstream_id=u) for u in theirs if u not in matched]


def _links(pusher: Pusher) -> dict[str, set[int]]:
    found: dict[str, set[int]] = defaultdict(set)
    for link in pusher.pages(
        "schedule_scheduleeventresource", {"objectType": "KalturaScheduleEventResourceFilter"}
    ):
        found[str(link["eventId"])].add(int(link["resourceId"]))
    return found


# ---------------------------------------------------------------- comparing


def _pairs(partner_id: int, kind: str) -> dict[str, str]:
    return dict(
        UpstreamObject.objects.for_partner(partner_id)
        .filter(kind=kind)
        .values_list("local_id", "upstream_id")
    )


def _quietly(build, obj):
    """A local object's wire form, or the reason it has none (an entry the upstream lacks)."""
    try:
        return build(obj)
    except NotUpstream as error:
        return error


def _differences(ours: Any, theirs: dict[str, Any]) -> dict[str, tuple[Any, Any]]:
    if isinstance(ours, NotUpstream):
        return {"(push)": (ours.message, None)}
    return {
        name: (value, theirs.get(name))
        for name, value in ours.items()
        if name != "objectType" and not _same(value, theirs.get(name))
    }


def _same(ours: Any, theirs: Any) -> bool:
    """Equal as Kaltura means it: null and "" are both "not set", and nested objects compare on
    the fields that are set."""
    if isinstance(ours, dict) and isinstance(theirs, dict):
        keys = (set(ours) | set(theirs)) - {"objectType"}
        return all(_same(ours.get(k), theirs.get(k)) for k in keys)
    if ours in (None, "") and theirs in (None, ""):
        return True
    return ours == theirs


# ---------------------------------------------------------------- acting on it


def repair(connection: KalturaConnection, report: Report) -> int:
    """Push again every local object that is missing or different upstream, now, in this
    process. Returns how many were pushed."""
    # An occurrence is an event to the outbox: pushing it puts it right (its series first if need be).
    kinds = {"resource": SyncOperation.Kind.RESOURCE, "entry": SyncOperation.Kind.ENTRY}
    keys = {
        (kinds.get(drift.kind, SyncOperation.Kind.EVENT), drift.local_id)
        for drift in report.drifts
        if drift.local_id is not None
    }
    # What events name first, as the outbox sends them (entries, then resources).
    return queue.push_now(connection, sorted(keys, key=lambda key: (outbox.ORDER.index(key[0]), str(key[1]))))


def prune(client: KalturaClient, report: Report) -> int:
    """Delete the upstream events no local event is mapped to. Returns how many went."""
    gone = 0
    for drift in report.drifts:
        if drift.kind == "event" and drift.problem == "extra" and drift.upstream_id:
            try:
                client.call("schedule_scheduleevent", "delete", scheduleEventId=int(drift.upstream_id))
            except KalturaError as error:
                if error.code not in NOT_FOUND:
                    raise
            gone += 1
    return gone
