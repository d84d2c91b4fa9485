"""The iCal corpus (tests/data/ical_corpus) against a reference: what an import stores, compared
with what `recurring_ical_events` computes from the same file. Shared by bench/ical_corpus.py
(the figure) and tests/imports/test_corpus.py (what must keep holding), so both compare alike.

How a file is compared (issue #18, item 6):
- The file goes in as the API sends it: an EVENTS_ICAL bulk upload job (jobs.submit, then
  jobs.process) for a partner of its own, in ZONE.
- The window is one year (366 days) from the day before the file's earliest DTSTART (in UTC;
  the day before so a floating or all-day start in any zone is inside it), or the year 2026 for a
  file without one. Both sides keep what overlaps the window, as `between` does.
- Expected: the VEVENTs `recurring_ical_events.of(calendar).between(...)` gives, minus those
  with STATUS:CANCELLED (a calendar client shows them struck through; our store keeps them
  cancelled, not active). A file holding a bare VEVENT is read as if a VCALENDAR held it, and
  each VCALENDAR of a file holding several is expanded on its own.
- Stored: the partner's active events that are not series rows (single events and occurrences).
- Times compare in UTC. Floating times and all-day dates are read in the partner's zone, as the
  importer reads them: an all-day event on 2026-03-02 is (2026-03-01 23:00Z, 2026-03-02 23:00Z)
  in Europe/Berlin on both sides.
- A file matches when the two multisets of (start, end) are equal.
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import recurring_ical_events
from icalendar import Calendar

from calendar_app import writes
from calendar_app.imports import jobs
from calendar_app.models import AuditEntry, BulkUpload, EventStatus, Partner, RecurrenceType, ScheduleEvent

CORPUS_DIR = Path(__file__).resolve().parent.parent / "data" / "ical_corpus"
ZONE = "Europe/Berlin"
WINDOW = timedelta(days=366)
DEFAULT_WINDOW_START = datetime(2026, 1, 1, tzinfo=UTC)
Span = tuple[datetime, datetime]


def files() -> list[Path]:
    return sorted(CORPUS_DIR.glob("*.ics"))


@dataclass
class Outcome:
    """One file compared. `reference_error`: the reference itself could not read the file."""

    name: str
    job_status: str
    job_code: str = ""
    job_error: str = ""
    window: Span | None = None
    expected: Counter[Span] = field(default_factory=Counter)
    stored: Counter[Span] = field(default_factory=Counter)
    missing_uids: set[str] = field(default_factory=set)
    refused: list[tuple[int, str, str, str]] = field(default_factory=list)  # line, uid, code, reason
    warned: set[str] = field(default_factory=set)  # UIDs (as the file writes them) of rows with warnings
    reference_error: str = ""
    seconds: float = 0.0

    @property
    def matches(self) -> bool:
        return not self.reference_error and self.expected == self.stored

    @property
    def missing(self) -> int:
        return sum((self.expected - self.stored).values())

    @property
    def extra(self) -> int:
        return sum((self.stored - self.expected).values())

    def unexplained(self) -> set[str]:
        """UIDs of expected events missing from the store with no error row (nor a refusal of
        the whole file) to say why."""
        if self.job_code:
            return set()
        explained = {uid for _, uid, _, reason in self.refused if reason} | self.warned
        return self.missing_uids - explained

    def as_dict(self) -> dict[str, Any]:
        return {
            "file": self.name, "matches": self.matches, "job_status": self.job_status,
            "job_code": self.job_code, "job_error": self.job_error,
            "expected": sum(self.expected.values()), "stored": sum(self.stored.values()),
            "missing": self.missing, "extra": self.extra, "reference_error": self.reference_error,
            "refused": [{"line": n, "uid": u, "code": c, "reason": r} for n, u, c, r in self.refused],
            "seconds": round(self.seconds, 3),
        }  # fmt: skip


def compare(path: Path, partner: Partner, now: datetime) -> Outcome:
    """Import `path` into `partner` (which should hold nothing yet) as a job, and compare."""
    data = path.read_bytes()
    began = time.monotonic()
    job = _run_job(partner, data, path.name, now)
    outcome = Outcome(
        name=path.name, job_status=BulkUpload.Status(job.status).name,
        job_code=job.error_code, job_error=job.error, seconds=time.monotonic() - began,
    )  # fmt: skip
    outcome.warned = {r.row.get("UID", "") for r in jobs.results(job) if r.warnings}
    outcome.refused = [
        (r.line, r.row.get("UID", ""), r.code, r.reason) for r in jobs.results(job) if r.status == "error"
    ]
    try:
        calendars = reference_calendars(data)
        outcome.window = window(calendars)
        expected = list(expected_spans(calendars, outcome.window))
    except Exception as error:  # the reference's failure is a finding about the file, not a crash
        outcome.reference_error = f"{type(error).__name__}: {error}"
        return outcome
    outcome.expected = Counter(span for span, _ in expected)
    outcome.stored = Counter(stored_spans(partner, outcome.window))
    short = outcome.expected - outcome.stored
    outcome.missing_uids = {uid for span, uid in expected if span in short}
    return outcome


def _run_job(partner: Partner, data: bytes, name: str, now: datetime) -> BulkUpload:
    actor = writes.Actor(partner=partner, now=now, user_id="corpus", source=AuditEntry.Source.API)
    job = jobs.submit(actor, BulkUpload.Kind.EVENTS_ICAL, data, file_name=name)
    # Outside a test's transaction the eager task already ran it on commit; then this is a no-op.
    jobs.process(job.pk, now)
    return BulkUpload.objects.get(pk=job.pk)


def reference_calendars(data: bytes) -> list[Calendar]:
    """The file's calendars as a calendar client reads them; a bare component goes in one."""
    found = Calendar.from_ical(data, multiple=True)
    calendars = []
    for component in found:
        if isinstance(component, Calendar):
            calendars.append(component)
        else:
            wrapper = Calendar()
            wrapper.add_component(component)
            calendars.append(wrapper)
    return calendars


def window(calendars: list[Calendar]) -> Span:
    values = [event.get("DTSTART") for calendar in calendars for event in calendar.walk("VEVENT")]
    # A DTSTART the library could not type (repeated, unreadable) sets no window.
    starts = [_utc(v.dt, ZoneInfo(ZONE)) for v in values if isinstance(getattr(v, "dt", None), date)]
    begin = min(starts) - timedelta(days=1) if starts else DEFAULT_WINDOW_START
    begin = begin.replace(hour=0, minute=0, second=0, microsecond=0)
    return begin, begin + WINDOW


def expected_spans(calendars: list[Calendar], span: Span) -> list[tuple[Span, str]]:
    """What the reference shows in `span`: asked for a day more on each side (it compares an
    all-day event's dates, not its instants in the partner's zone), then kept by `overlaps`, the
    test stored_spans applies, so an event at the window's edge counts alike on both sides."""
    zone = ZoneInfo(ZONE)
    found = []
    wider = (span[0] - timedelta(days=1), span[1] + timedelta(days=1))
    for calendar in calendars:
        for event in recurring_ical_events.of(calendar).between(*wider):
            if str(event.get("STATUS", "")).upper() == "CANCELLED":
                continue
            moments = (_utc(event.start, zone), _utc(event.end, zone))
            if overlaps(moments, span):
                found.append((moments, str(event.get("UID", ""))))
    return found


def overlaps(moments: Span, span: Span) -> bool:
    # An event of no length at the window's start overlaps it, as `between` counts it.
    start, end = moments
    return start < span[1] and (end > span[0] or start == span[0])


def stored_spans(partner: Partner, span: Span) -> list[Span]:
    """The partner's events that `overlaps` `span`."""
    rows = (
        ScheduleEvent.objects.for_partner(partner)
        .filter(start__lt=span[1], end__gte=span[0], status=EventStatus.ACTIVE)
        .exclude(recurrence_type=RecurrenceType.RECURRING)
        .values_list("start", "end")
    )
    found = [(start.astimezone(UTC), end.astimezone(UTC)) for start, end in rows]
    return [moments for moments in found if overlaps(moments, span)]


def _utc(value: date | datetime, zone: ZoneInfo) -> datetime:
    """A DTSTART/DTEND value in UTC: floating times and dates in `zone`, as the importer reads them."""
    if not isinstance(value, datetime):
        value = datetime(value.year, value.month, value.day)
    if value.tzinfo is None:
        value = value.replace(tzinfo=zone)
    return value.astimezone(UTC)
