"""Entries as writes of the schedule: media and live entries made, changed and deleted through
one envelope (writes.py), so each gets the audit trail and the sync outbox like events do.

Two things happen here that Kaltura leaves to its capture software:

- **template metadata**: an entry made from a template entry (a booking's `templateEntryId`)
  takes the template's description, tags, categories, owner and co-editors/publishers for
  every field its caller did not send, and a name from the partner's recording_name_pattern;
- **the booking**: a recording made from a template is linked to the event it was made for,
  the active booking of that template under way or ended at most RECORDING_MATCH_GRACE ago:
  its id is appended to that event's `entry_ids`, in the same transaction.

Live entries get their ingest endpoints and stream credentials from the partner's settings
when they are added, as Kaltura's "manual live" entries have them (docs/devices.md).
"""

from __future__ import annotations

import re
import secrets
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import QuerySet

from calendar_app import input_rules, scheduling, writes
from calendar_app.devices import uploads
from calendar_app.errors import SchedulingError
from calendar_app.input_rules import Rule, comma_list, entry_id, text
from calendar_app.models import (
    Entry,
    EntryType,
    EventStatus,
    Partner,
    RecurrenceType,
    ScheduleEvent,
)
from calendar_app.scheduling import OnConflict
from calendar_app.writes import Actor

_CATEGORY_ID = re.compile(r"^\d+$")
# What a client may write; the live endpoints only apply to live entries (the API's object
# types keep them off media entries).
ENTRY_RULES: dict[str, Rule] = input_rules.fitted(Entry, {
    "name": Rule(text()),
    "description": Rule(text()),
    "tags": Rule(text()),
    "categories": Rule(text()),
    "category_ids": Rule(comma_list(_CATEGORY_ID, "category id")),
    "owner_id": Rule(text()),
    "entitled_users_edit": Rule(text()),
    "entitled_users_publish": Rule(text()),
    "reference_id": Rule(text()),
    "template_entry_id": Rule(entry_id, insert_only=True),
    "media_type": Rule(input_rules.integer(1), insert_only=True),
    "primary_rtmp_endpoint": Rule(text()),
    "secondary_rtmp_endpoint": Rule(text()),
    "primary_rtsp_endpoint": Rule(text()),
    "secondary_rtsp_endpoint": Rule(text()),
    "stream_name": Rule(text()),
    "stream_password": Rule(text()),
})  # fmt: skip
# What a recording takes from its template when its caller did not send it.
TEMPLATE_FIELDS = (
    "description", "tags", "categories", "category_ids", "owner_id",
    "entitled_users_edit", "entitled_users_publish",
)  # fmt: skip
MASK = "********"


class EntryNotFound(SchedulingError):
    code = "ENTRY_ID_NOT_FOUND"

    def __init__(self, entry_id: str):
        super().__init__(f'Entry id "{entry_id}" not found', args={"ENTRY_ID": entry_id})


class EntryAlreadyWithContent(SchedulingError):
    code = "ENTRY_ALREADY_WITH_CONTENT"

    def __init__(self) -> None:
        super().__init__("Entry already associated with content")


# ---------------------------------------------------------------- reads (partner-scoped)


def live_entries(partner: Partner | int) -> QuerySet[Entry]:
    """The partner's entries that are not deleted: a deleted entry is as unknown as a missing one."""
    return Entry.objects.for_partner(partner).exclude(status=Entry.Status.DELETED)


def get_entry(partner: Partner, entry_id: str, kind: str | None = None) -> Entry:
    """The partner's entry (of `kind`, when given), unless deleted; else ENTRY_ID_NOT_FOUND."""
    entries = live_entries(partner)
    if kind is not None:
        entries = entries.filter(type=kind)
    entry = entries.filter(pk=entry_id).first()
    if entry is None:
        raise EntryNotFound(entry_id)
    return entry


# ---------------------------------------------------------------- writes


def create_entry(actor: Actor, kind: str, data: dict[str, Any], *, app_token: str = "") -> Entry:
    """A new media entry (NO_CONTENT until its file arrives) or live entry (READY, with its
    endpoints). `app_token` is the creating device's token: a device may change only its own."""
    values = input_rules.clean(ENTRY_RULES, data, creating=True)
    with writes.envelope(actor):
        template_id = values.pop("template_entry_id", "")
        scheduling.check_entry(actor.partner, template_id)
        entry = Entry(
            partner=actor.partner, type=kind, created_at=actor.now, updated_at=actor.now,
            status=Entry.Status.READY if kind == EntryType.LIVE_STREAM else Entry.Status.NO_CONTENT,
            creator_id=actor.user_id, creator_app_token=app_token,
        )  # fmt: skip
        booking = None
        if template_id:
            template = live_entries(actor.partner).get(pk=template_id)
            entry.template_entry = template
            booking = recording_booking(actor, template)
            values = {**from_template(actor.partner, template, booking, actor.now, values), **values}
        _assign(entry, values)
        entry.owner_id = entry.owner_id or actor.user_id
        if kind == EntryType.LIVE_STREAM:
            give_endpoints(actor.partner, entry)
        entry.save(force_insert=True)
        if booking is not None:
            link_recording(actor, booking, entry)
        writes.audit(actor, "create", entry, None, after=snapshot(entry))
    return entry


def update_entry(actor: Actor, entry_id: str, changes: dict[str, Any], kind: str | None = None) -> Entry:
    """Partial update; the template and media type are fixed once the entry exists."""
    values = input_rules.clean(ENTRY_RULES, changes, creating=False)
    with writes.envelope(actor):
        entry = get_entry(actor.partner, entry_id, kind)
        if not values:
            return entry
        before = snapshot(entry)
        _assign(entry, values)
        entry.updated_at = actor.now
        entry.save()
        writes.audit(actor, "update", entry, before, after=snapshot(entry))
    return entry


def delete_entry(actor: Actor, entry_id: str, kind: str | None = None) -> Entry:
    """Soft delete (status DELETED, as Kaltura); its file leaves storage once that is committed."""
    with writes.envelope(actor):
        entry = get_entry(actor.partner, entry_id, kind)
        before = snapshot(entry)
        entry.status = Entry.Status.DELETED
        entry.updated_at = actor.now
        entry.save(update_fields=["status", "updated_at"])
        writes.audit(actor, "delete", entry, before, after=snapshot(entry))
        if entry.media_file.name:
            storage, name = entry.media_file.storage, entry.media_file.name
            # Removed only once the deletion is committed: a rolled-back delete keeps its file.
            transaction.on_commit(lambda: storage.delete(name))
    return entry


def add_content(actor: Actor, entry_id: str, token_id: str, *, app_token: str = "") -> Entry:
    """Give a media entry (still NO_CONTENT) the file of a finished upload token; it is READY."""
    # Joining the parts takes seconds for a large file: done first, so no transaction waits on it.
    uploads.assemble(actor.partner, token_id, app_token, actor.now)
    with writes.envelope(actor):
        entry = get_entry(actor.partner, entry_id, EntryType.MEDIA)
        if entry.status != Entry.Status.NO_CONTENT:
            raise EntryAlreadyWithContent()
        before = snapshot(entry)
        uploads.attach(actor.partner, token_id, app_token, entry, actor.now)
        entry.status = Entry.Status.READY
        entry.updated_at = actor.now
        entry.save()
        writes.audit(actor, "add_content", entry, before, after=snapshot(entry))
    return entry


def snapshot(entry: Entry) -> dict[str, Any]:
    """The row as the audit trail keeps it: the file by its name, the stream password masked."""
    row = writes.snapshot(entry)
    row["media_file"] = entry.media_file.name or ""
    if row.get("stream_password"):
        row["stream_password"] = MASK
    return row


def _assign(entry: Entry, values: dict[str, Any]) -> None:
    for name, value in values.items():
        setattr(entry, name, value)


# ---------------------------------------------------------------- live endpoints


def give_endpoints(partner: Partner, entry: Entry) -> None:
    """Kaltura's broadcast URLs for an entry, on the partner's ingest bases: RTMP `<base>?t=<password>`,
    RTSP `<base>/<entry id>_%i?t=<password>` (kBroadcastUrlManager), stream name `<entry id>_%i`.
    What the caller sent is kept; an empty base (no secondary ingest) gives no URL."""
    entry.stream_password = entry.stream_password or secrets.token_hex(4)  # 8 characters, as Kaltura's
    entry.stream_username = entry.stream_username or entry.pk
    entry.stream_name = entry.stream_name or f"{entry.pk}_%i"
    token = f"?t={entry.stream_password}"
    rtsp_path = f"/{entry.pk}_%i{token}"
    for attr, base, tail in (
        ("primary_rtmp_endpoint", partner.live_rtmp_primary, token),
        ("secondary_rtmp_endpoint", partner.live_rtmp_secondary, token),
        ("primary_rtsp_endpoint", partner.live_rtsp_primary, rtsp_path),
        ("secondary_rtsp_endpoint", partner.live_rtsp_secondary, rtsp_path),
    ):
        if not getattr(entry, attr) and base:
            setattr(entry, attr, base.rstrip("/") + tail)


# ---------------------------------------------------------------- templates and bookings


def recording_booking(actor: Actor, template: Entry) -> ScheduleEvent | None:
    """The booking a recording from `template` was made for: an active single event or
    occurrence (never a series row) of that template under way at `actor.now`, or ended at most
    RECORDING_MATCH_GRACE before it; of several, the one that started last."""
    grace = timedelta(seconds=settings.RECORDING_MATCH_GRACE)
    return (
        ScheduleEvent.objects.for_partner(actor.partner)
        .filter(template_entry_id=template.pk, status=EventStatus.ACTIVE)
        .exclude(recurrence_type=RecurrenceType.RECURRING)
        .filter(start__lte=actor.now, end__gte=actor.now - grace)
        .order_by("-start", "-pk")
        .first()
    )


def from_template(
    partner: Partner, template: Entry, booking: ScheduleEvent | None, now: datetime, sent: dict[str, Any]
) -> dict[str, Any]:
    """What a new entry takes from its template: the fields it did not send, and a name."""
    taken = {name: getattr(template, name) for name in TEMPLATE_FIELDS if name not in sent}
    if not sent.get("name"):
        taken["name"] = recording_name(partner, template, booking, now)
    return taken


class _Placeholders(dict):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"  # an unknown placeholder stays as it was written


def recording_name(partner: Partner, template: Entry, booking: ScheduleEvent | None, now: datetime) -> str:
    """The partner's recording_name_pattern filled in: {summary} (the booking's, else the
    template's name), {date} and {start} (the booking's start, else now, in the partner's zone),
    {template} (the template's name). A pattern that cannot be filled in is used as written."""
    local = (booking.start if booking is not None else now).astimezone(partner.zone)
    values = _Placeholders(
        summary=booking.summary if booking is not None else template.name,
        date=local.strftime("%Y-%m-%d"),
        start=local.strftime("%H:%M"),
        template=template.name,
    )
    try:
        name = partner.recording_name_pattern.format_map(values)
    except (ValueError, IndexError, AttributeError, KeyError):
        name = partner.recording_name_pattern
    return name[: Entry._meta.get_field("name").max_length]


def link_recording(actor: Actor, booking: ScheduleEvent, entry: Entry) -> None:
    """Append the recording's id to its booking's entry_ids, through the write path. On an
    occurrence this overrides entry_ids alone (a later series edit keeps it); the booking's
    conflicts are not the recording's business, so none are checked."""
    ids = [i for i in booking.entry_ids.split(",") if i]
    if entry.pk in ids:
        return
    changes = {"entry_ids": ",".join([*ids, entry.pk])}
    scheduling.update_event(actor, booking.pk, changes, on_conflict=OnConflict.IGNORE)
