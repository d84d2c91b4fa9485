"""The entries a booking names, as the booking panel shows them: the templates it may choose
(live entries for a live stream, media entries for a recording or a meeting, never a deleted
one) and, in its details, its template and its recordings by name rather than by id.

A device reads a live booking's stream endpoints from its live template (ical.py), so a panel
that could not show that template must still keep it: forms.BookingForm keeps the template it
was given unless another is chosen."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Q
from django.template.defaultfilters import filesizeformat

from calendar_app.models import Entry, EntryType, EventType, Partner, ScheduleEvent

# What each booking type takes as its template; a blackout takes none.
TEMPLATE_TYPES: dict[int, str] = {
    EventType.RECORD: EntryType.MEDIA,
    EventType.LIVE_STREAM: EntryType.LIVE_STREAM,
    EventType.MEETING: EntryType.MEDIA,
}
GROUPS: dict[str, str] = {EntryType.LIVE_STREAM: "Live entries", EntryType.MEDIA: "Media entries"}
TYPE_WORDS: dict[str, str] = {EntryType.LIVE_STREAM: "live", EntryType.MEDIA: "media"}


@dataclass(frozen=True)
class Named:
    """An entry as a person reads it: its name, type and state, or its id where no row is found."""

    id: str
    name: str = ""
    type: str = ""
    status: int | None = None
    size: int | None = None

    @property
    def found(self) -> bool:
        return self.status is not None

    @property
    def deleted(self) -> bool:
        return self.status == Entry.Status.DELETED

    @property
    def status_label(self) -> str:
        if self.status is None:
            return "not found"
        return Entry.Status(self.status).label if self.status in Entry.Status.values else str(self.status)

    @property
    def label(self) -> str:
        """As a template: "Lecture template (live)", "Old one (media, deleted)", "0_gone (not found)"."""
        if not self.found:
            return f"{self.id} (not found)"
        notes = [TYPE_WORDS.get(self.type, self.type)]
        if self.deleted:
            notes.append("deleted")
        return f"{self.name} ({', '.join(notes)})"

    @property
    def as_recording(self) -> str:
        """As a recording: "Lecture 7 Sep (ready, 1.2 GB)", "Lecture 8 Sep (no content)"."""
        if not self.found:
            return self.label
        notes = [self.status_label.lower()]
        if self.size is not None:
            notes.append(filesizeformat(self.size))
        return f"{self.name} ({', '.join(notes)})"


@dataclass(frozen=True)
class Templates:
    """The templates a booking panel offers, and the one it keeps though it does not offer it."""

    offered: list[Named]
    kept: Named | None  # the booking's own template, when it is not among `offered`

    def types(self) -> dict[str, str]:
        """Entry id -> entry type, for what the panel may send back."""
        return {entry.id: entry.type for entry in self.offered}


def templates(partner: Partner, booking_type: int | None = None, current: str = "") -> Templates:
    """The partner's templates for `booking_type` (every type's when it is not yet known), none
    deleted and no recording, and `current`, the edited booking's template, named even where it is not offered
    (deleted, of another type, or not found): one query."""
    wanted = Q(type=TEMPLATE_TYPES[booking_type]) if booking_type in TEMPLATE_TYPES else Q()
    # A recording made from a template is no template itself: a partner's hundreds of recordings
    # would bury its few templates in the list.
    offerable = wanted & ~Q(status=Entry.Status.DELETED) & Q(template_entry__isnull=True)
    rows = (
        Entry.objects.for_partner(partner)
        .filter(offerable | Q(pk=current))
        .order_by("type", "name")
        .only("pk", "name", "type", "status", "file_size")
    )
    found = {row.pk: _named(row) for row in rows}
    kept = None
    if current and not _offerable(found.get(current), booking_type):
        kept = found.pop(current, None) or Named(current)
    return Templates(list(found.values()), kept)


def _offerable(entry: Named | None, booking_type: int | None) -> bool:
    if entry is None or entry.deleted:
        return False
    return booking_type not in TEMPLATE_TYPES or TEMPLATE_TYPES[booking_type] == entry.type


def grouped_choices(templates: Templates) -> list:
    """The template select's choices: "None", the kept template, then one group per entry type."""
    choices: list = [("", "None")]
    if templates.kept is not None:
        choices.append((templates.kept.id, f"{templates.kept.label}, kept"))
    for entry_type, group in GROUPS.items():
        members = [(e.id, e.name) for e in templates.offered if e.type == entry_type]
        if members:
            choices.append((group, members))
    return choices


def wrong_type(entry_type: str, booking_type: int, booking_label: str) -> str | None:
    """Why an entry of `entry_type` cannot be this booking's template, or None when it can."""
    wanted = TEMPLATE_TYPES.get(booking_type)
    if wanted is None or wanted == entry_type:
        return None
    given = TYPE_WORDS.get(entry_type, entry_type)
    return f"A {booking_label.lower()} takes a {TYPE_WORDS[wanted]} entry as its template, not a {given} one."


@dataclass(frozen=True)
class EventEntries:
    template: Named | None
    recordings: list[Named]


def of_event(partner: Partner, event: ScheduleEvent) -> EventEntries:
    """The booking's template and recordings (its entry ids, in their order), in one query."""
    recording_ids = _ids(event.entry_ids)
    wanted = {*recording_ids, event.template_entry_id} - {""}
    rows = Entry.objects.for_partner(partner).filter(pk__in=wanted) if wanted else Entry.objects.none()
    found = {row.pk: _named(row) for row in rows.only("pk", "name", "type", "status", "file_size")}
    template = event.template_entry_id
    return EventEntries(
        template=found.get(template, Named(template)) if template else None,
        recordings=[found.get(pk, Named(pk)) for pk in recording_ids],
    )


def _ids(text: str) -> list[str]:
    return list(dict.fromkeys(part.strip() for part in text.split(",") if part.strip()))


def _named(entry: Entry) -> Named:
    return Named(entry.pk, entry.name, entry.type, entry.status, entry.file_size)
