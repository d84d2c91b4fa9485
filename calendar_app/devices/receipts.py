"""Delivery receipts: what each device last fetched of its schedule, and the questions staff ask
of them (docs/devices.md "Delivery receipts").

Every way a device fetches its schedule records a receipt: the API's `scheduleEvent.list` (XML,
JSON, iCal, a 304 included) and the token feeds. A receipt is one row per (device, resource), or
one per device for the whole unfiltered schedule; the row is the truth. A device polls every
minute or so and mostly gets the same version again, so a poll that brings nothing new within
RECEIPT_MIN_INTERVAL seconds is not written: the "receipts" cache (Redis when configured, shared
by every process) remembers the last write. A lost cache entry only costs one more write.

What a fetch covers follows what the feeds include: a resource's fetch brings the bookings of the
resources below it (a room's feed holds its cameras' bookings), so a room's device has fetched a
booking on one of its cameras; a camera's fetch does not cover a booking of its room alone.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, NamedTuple

from django.conf import settings
from django.core.cache import caches
from django.db import DatabaseError, IntegrityError, transaction
from django.db.models import Max, Q

from calendar_app.models import (
    DeviceReceipt,
    EventStatus,
    Partner,
    RecurrenceType,
    ScheduleEvent,
    ScheduleEventResource,
    ScheduleResource,
)

log = logging.getLogger(__name__)
Channel = DeviceReceipt.Channel
LATEST, BEHIND, NEVER = "latest", "behind", "never"
DEVICE_LENGTH = DeviceReceipt._meta.get_field("device").max_length or 64
LABEL_LENGTH = DeviceReceipt._meta.get_field("label").max_length or 256


# ---------------------------------------------------------------- who is fetching


def app_token_device(token_id: str) -> str:
    return _bounded(f"app-token:{token_id}")


def user_device(user_id: str) -> str:
    return _bounded(f"user:{user_id}")


def feed_device(resource_id: int) -> str:
    return f"feed:{resource_id}"


def _bounded(device: str) -> str:
    """A key longer than its column (a long user id) becomes its prefix and a hash of it."""
    if len(device) <= DEVICE_LENGTH:
        return device
    digest = hashlib.sha256(device.encode()).hexdigest()[:32]
    return f"{device[: DEVICE_LENGTH - 33]}~{digest}"


# ---------------------------------------------------------------- recording


# `record`'s default: the caller has not read the receipts cache itself.
UNREAD: Any = object()


def record(
    partner_id: int,
    device: str,
    label: str | Callable[[], str],
    resource_ids: Iterable[int] | None,
    channel: str,
    version: str,
    now: datetime,
    *,
    last_written: Any = UNREAD,
) -> bool:
    """The device fetched these resources' schedule (None: the whole schedule) at `now`, in this
    version. True when written; False when the same device wrote the same fetch and version less
    than RECEIPT_MIN_INTERVAL seconds ago. `label` may be a function: it is only called to write
    (an app token's description costs a query a skipped poll should not pay). `last_written`:
    the "receipts" cache's entry at `recent_key`, when the caller read it with its own reads.

    A skipped poll costs one cache read and no query (bench/feed.py "device 304")."""
    wanted = None if resource_ids is None else sorted(set(resource_ids))
    key = recent_key(partner_id, device, wanted)
    cache, interval = caches["receipts"], settings.RECEIPT_MIN_INTERVAL
    # (version, fetched_at) of the last write
    written = cache.get(key) if last_written is UNREAD else last_written
    if written is not None and written[0] == version and now - written[1] < timedelta(seconds=interval):
        return False
    text = (label() if callable(label) else label)[:LABEL_LENGTH]
    fields = {"label": text, "channel": channel, "fetched_at": now, "version": version[:128]}
    try:
        with transaction.atomic():
            if wanted is None:
                _upsert_whole(partner_id, device, fields)
            else:
                _upsert_each(partner_id, device, wanted, fields)
    except DatabaseError:
        # The receipt is a record of the fetch, not part of it: the device still gets its
        # schedule (a busy SQLite may refuse the write), and its next poll writes again.
        log.warning("delivery receipt of %s not written", device, exc_info=True)
        return False
    # Remembered at once, not on commit: a poll runs in no enclosing transaction, and were one
    # to roll back, the next write would only come an interval later.
    cache.set(key, (version, now), interval)
    return True


def recent_key(partner_id: int, device: str, resource_ids: Iterable[int] | None) -> str:
    """Where the "receipts" cache remembers the device's last write of this fetch."""
    # Hashed: a device key may hold anything a user id holds, and the list may be long.
    what = "all" if resource_ids is None else ",".join(map(str, sorted(set(resource_ids))))
    return "receipt:" + hashlib.sha256(f"{partner_id}|{device}|{what}".encode()).hexdigest()[:40]


def _upsert_each(partner_id: int, device: str, resource_ids: list[int], fields: dict) -> None:
    # Only the partner's own resources: a filter may name any id, another partner's included.
    own = (
        ScheduleResource.objects.for_partner(partner_id)
        .filter(pk__in=resource_ids)
        .values_list("pk", flat=True)
    )
    rows = [DeviceReceipt(partner_id=partner_id, device=device, resource_id=pk, **fields) for pk in own]
    DeviceReceipt.objects.bulk_create(
        rows,
        update_conflicts=True,
        unique_fields=["partner", "device", "resource"],
        update_fields=list(fields),
    )


def _upsert_whole(partner_id: int, device: str, fields: dict) -> None:
    """The whole-schedule row is unique by a partial index, which ON CONFLICT cannot name through
    the ORM: update, else insert, and a racing insert's loser updates."""
    rows = DeviceReceipt.objects.for_partner(partner_id).filter(device=device, resource=None)
    if rows.update(**fields):
        return
    try:
        with transaction.atomic():
            DeviceReceipt.objects.create(partner_id=partner_id, device=device, resource=None, **fields)
    except IntegrityError:
        rows.update(**fields)


# ---------------------------------------------------------------- what staff ask


@dataclass(frozen=True)
class DeliveryState:
    """One device's state for one booking; for a resource no device ever fetched, `device` is ""
    and `label` names the resource."""

    device: str
    label: str
    state: str  # LATEST, BEHIND or NEVER
    fetched_at: datetime | None = None  # its last fetch that covered the booking
    last_seen: datetime | None = None  # its last fetch of anything
    via: str = ""  # what it fetched: a resource's name, or "" for the whole schedule
    channel: str = ""

    @property
    def channel_label(self) -> str:
        return str(Channel(self.channel).label) if self.channel else ""


def latest_change(event: ScheduleEvent) -> datetime:
    """When the booking as a device sees it last changed: an occurrence also changes with its series."""
    if event.recurrence_type == RecurrenceType.RECURRENCE and event.parent_id is not None:
        parent = ScheduleEvent.objects.for_partner(event.partner_id).filter(pk=event.parent_id)
        series_at = parent.values_list("updated_at", flat=True).first()
        if series_at is not None:
            return max(event.updated_at, series_at)
    return event.updated_at


def for_event(event: ScheduleEvent) -> list[DeliveryState]:
    """Each device that fetched the booking's resources (or a resource above them, or the whole
    schedule): has it fetched the booking's latest version? Then each resource nobody fetched.
    Four queries whatever the fleet, five for an occurrence (its series' `updated_at`)."""
    partner_id = event.partner_id
    linked = set(ScheduleEventResource.objects.filter(event=event).values_list("resource_id", flat=True))
    tree = _tree(partner_id)
    covering = {pk: _with_ancestors(pk, tree) for pk in linked}
    receipts = list(
        DeviceReceipt.objects.for_partner(partner_id)
        .filter(Q(resource_id__in=set().union(*covering.values())) | Q(resource=None))
        .order_by("device", "-fetched_at")
    )
    seen = _last_seen(partner_id, {r.device for r in receipts})
    changed = latest_change(event)
    states = [_state(r, changed, seen, tree) for r in _newest_per_device(receipts)]
    fetched = {r.resource_id for r in receipts}  # None: someone fetched the whole schedule
    unseen = [] if None in fetched else [pk for pk in sorted(linked) if not fetched & set(covering[pk])]
    return states + [DeliveryState("", tree[pk][1], NEVER) for pk in unseen]


def _tree(partner_id: int) -> dict[int, tuple[int | None, str]]:
    rows = ScheduleResource.objects.for_partner(partner_id).values_list("pk", "parent_id", "name")
    return {pk: (parent, name) for pk, parent, name in rows}


def _with_ancestors(pk: int, tree: dict[int, tuple[int | None, str]]) -> list[int]:
    found = [pk]
    parent = tree.get(pk, (None, ""))[0]
    while parent is not None and parent not in found:  # a cycle cannot be saved; never loop anyway
        found.append(parent)
        parent = tree.get(parent, (None, ""))[0]
    return found


def _last_seen(partner_id: int, devices: set[str]) -> dict[str, datetime]:
    rows = (
        DeviceReceipt.objects.for_partner(partner_id)
        .filter(device__in=devices)
        .values("device")
        .annotate(last=Max("fetched_at"))
        .values_list("device", "last")
    )
    return dict(rows)


def _newest_per_device(receipts: list[DeviceReceipt]) -> list[DeviceReceipt]:
    newest: dict[str, DeviceReceipt] = {}
    for receipt in receipts:  # ordered by device, newest first
        newest.setdefault(receipt.device, receipt)
    return list(newest.values())


def _state(
    receipt: DeviceReceipt,
    changed: datetime,
    seen: dict[str, datetime],
    tree: dict[int, tuple[int | None, str]],
) -> DeliveryState:
    via = tree[receipt.resource_id][1] if receipt.resource_id in tree else ""
    return DeliveryState(
        device=receipt.device,
        label=receipt.label or receipt.device,
        state=LATEST if receipt.fetched_at >= changed else BEHIND,
        fetched_at=receipt.fetched_at,
        last_seen=seen.get(receipt.device, receipt.fetched_at),
        via=via,
        channel=receipt.channel,
    )


@dataclass(frozen=True)
class QuietDevice:
    """A device not seen for DEVICE_QUIET_MINUTES with a booking on its resources coming up."""

    device: str
    label: str
    last_seen: datetime
    resource_ids: frozenset[int]  # the resources with a booking coming up that it covers
    resource_names: tuple[str, ...]  # theirs, sorted
    next_start: datetime
    next_summary: str


def quiet_devices(partner: Partner | int, now: datetime) -> list[QuietDevice]:
    """Capture devices silent for DEVICE_QUIET_MINUTES that have an ACTIVE booking on one of the
    resources they fetch (or below them) starting within DEVICE_LOOKAHEAD_HOURS, soonest first.
    One query when no device is quiet, three otherwise."""
    partner_id = partner if isinstance(partner, int) else partner.pk
    receipts = _quiet_receipts(partner_id, now - timedelta(minutes=settings.DEVICE_QUIET_MINUTES))
    if not receipts:
        return []
    coming = _coming(partner_id, now, now + timedelta(hours=settings.DEVICE_LOOKAHEAD_HOURS))
    roots = {r.resource_id for rows in receipts.values() for r in rows if r.resource_id is not None}
    below = ScheduleResource.objects.for_partner(partner_id).below(roots)
    found = []
    for device, rows in receipts.items():
        covered = _covered(rows, below, coming)
        hits = [link for link in coming if link.resource_id in covered]
        if hits:
            first = min(hits, key=lambda link: (link.start, link.summary))
            found.append(
                QuietDevice(
                    device=device,
                    label=rows[0].label or device,
                    last_seen=max(r.fetched_at for r in rows),
                    resource_ids=frozenset(link.resource_id for link in hits),
                    resource_names=tuple(sorted({link.resource_name for link in hits})),
                    next_start=first.start,
                    next_summary=first.summary,
                )
            )
    return sorted(found, key=lambda q: (q.next_start, q.label))


def _quiet_receipts(partner_id: int, quiet_since: datetime) -> dict[str, list[DeviceReceipt]]:
    """The receipts of every capture device (an app-token session) whose newest fetch is older
    than `quiet_since`, by device. Feed subscribers are people's calendar apps, which poll when
    they like (hourly, daily): their silence is no warning."""
    mine = DeviceReceipt.objects.for_partner(partner_id).filter(device__startswith=app_token_device(""))
    recent = mine.filter(fetched_at__gte=quiet_since).values("device")
    by_device: dict[str, list[DeviceReceipt]] = {}
    for receipt in mine.exclude(device__in=recent).order_by("device", "-fetched_at"):
        by_device.setdefault(receipt.device, []).append(receipt)
    return by_device


class _Link(NamedTuple):
    resource_id: int
    resource_name: str
    start: datetime
    summary: str


def _coming(partner_id: int, start: datetime, end: datetime) -> list[_Link]:
    """Each link of an ACTIVE booking starting in [start, end) to a resource."""
    links = ScheduleEventResource.objects.filter(
        event__partner_id=partner_id,
        event__status=EventStatus.ACTIVE,
        event__start__gte=start,
        event__start__lt=end,
    ).exclude(event__recurrence_type=RecurrenceType.RECURRING)
    rows = links.values_list("resource_id", "resource__name", "event__start", "event__summary")
    return [_Link(*row) for row in rows]


def _covered(rows: list[DeviceReceipt], below: dict[int, set[int]], coming: list[_Link]) -> set[int]:
    """The resources a device's fetches cover: each fetched one and those below it."""
    if any(r.resource_id is None for r in rows):  # the whole schedule
        return {link.resource_id for link in coming}
    fetched = {r.resource_id for r in rows if r.resource_id is not None}
    return fetched.union(*(below.get(pk, set()) for pk in fetched))
