"""Personas and builders. Alice's university is the partner under test; Charlie's college is
the outsider who must find nothing of Alice's."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.core.cache import caches
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings

from calendar_app import clock, scheduling, writes
from calendar_app.models import AuditEntry, EventType, Membership, Partner, RecurrenceType, ResourceType
from calendar_app.scheduling import OnConflict

# Property and fuzz tests: a bounded number of examples so the suite stays fast; a long run is
# `pytest --hypothesis-profile=fuzz`. Examples share a function-scoped database fixture on
# purpose (each test cleans what it made), and a database round trip may be slow on a busy machine.
_SHARED = {
    "deadline": None,
    "suppress_health_check": [HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
}
hypothesis_settings.register_profile("default", max_examples=60, **_SHARED)
# Hypothesis loads its own "ci" profile when CI is set (as .ci/run does): the same examples,
# derandomized as Hypothesis does there, so a CI failure replays.
hypothesis_settings.register_profile("ci", max_examples=60, derandomize=True, database=None, **_SHARED)
hypothesis_settings.register_profile("fuzz", max_examples=5000, **_SHARED)

NOW = datetime(2026, 9, 1, 8, 0, tzinfo=UTC)
PASSWORD = "correct horse battery staple"


def at(text: str, zone: str = "UTC") -> datetime:
    """'2026-09-07 09:00' as an aware datetime in `zone`, converted to UTC."""
    local = datetime.fromisoformat(text).replace(tzinfo=ZoneInfo(zone))
    return local.astimezone(UTC)


@pytest.fixture(autouse=True)
def _quick_password_hashing(settings):
    """PBKDF2 costs ~0.3 s per hash: each persona and each sign-in. What the tests check is the
    pages and the API, not the hasher (Django's advice for test suites; healthchecks does this)."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _session_memo(settings):
    """The tests run in one process, whose memory holds the auth epochs every request sees (the
    live server's threads too): the session memo is on, as it is on a stack with Redis."""
    settings.SESSION_MEMO_SECONDS = 60


@pytest.fixture(autouse=True)
def _empty_feed_cache():
    """The "feeds" cache lives in the test process: no test sees another's copies (nor another's
    recent delivery receipts, in the "receipts" cache)."""
    caches["feeds"].clear()
    caches["receipts"].clear()


@pytest.fixture
def now():
    with clock.pinned(NOW) as moment:
        yield moment


def _partner(pk: int, name: str, **extra: Any) -> Partner:
    return Partner.objects.create(
        id=pk, name=name, admin_secret=Partner.new_secret(), secret=Partner.new_secret(), **extra
    )


@pytest.fixture
def partner(db) -> Partner:
    return _partner(101, "Alice University", time_zone="Europe/Berlin")


@pytest.fixture
def outsider_partner(db) -> Partner:
    return _partner(202, "Charlie College", time_zone="America/New_York")


@pytest.fixture
def actor(partner, now) -> writes.Actor:
    return writes.Actor(partner=partner, now=now, user_id="alice", source=AuditEntry.Source.API)


@pytest.fixture
def strict(actor) -> writes.Actor:
    """The actor of a partner that refuses conflicting bookings."""
    actor.partner.prevent_conflicts = True
    actor.partner.save()
    return actor


@pytest.fixture
def outsider(outsider_partner, now) -> writes.Actor:
    return writes.Actor(partner=outsider_partner, now=now, user_id="charlie")


@pytest.fixture
def make_resource(actor):
    counter = iter(range(1, 10_000))

    def build(name: str | None = None, type: int = ResourceType.LOCATION, who=None, **extra):
        number = next(counter)
        data = {"type": type, "name": name or f"Room {number}", **extra}
        if type == ResourceType.LIVE_ENTRY:
            data.setdefault("entry_id", f"0_live{number:04d}")
        return scheduling.create_resource(who or actor, data)

    return build


@pytest.fixture
def make_event(actor):
    def build(
        start: str = "2026-09-07 09:00",
        minutes: int = 90,
        *,
        zone: str = "UTC",
        type: int = EventType.RECORD,
        resources=(),
        who=None,
        allow_conflicts: bool = False,
        **extra,
    ):
        begin = at(start, zone)
        data = {
            "type": type,
            "summary": extra.pop("summary", "Lecture"),
            "start": begin,
            "end": begin + timedelta(minutes=minutes),
            **extra,
        }
        return scheduling.create_event(
            who or actor,
            data,
            resource_ids=[r.pk for r in resources],
            on_conflict=OnConflict.BOOK_ANYWAY if allow_conflicts else OnConflict.PARTNER,
        )

    return build


@pytest.fixture
def make_series(make_event):
    def build(start: str = "2026-09-07 09:00", minutes: int = 90, *, zone="Europe/Berlin", **rule):
        extra = {k: rule.pop(k) for k in ("resources", "type", "summary", "who") if k in rule}
        rule.setdefault("frequency", "weeks")
        rule.setdefault("time_zone", zone)
        return make_event(
            start, minutes, zone=zone, recurrence_type=RecurrenceType.RECURRING, recurrence=rule, **extra
        )

    return build


@pytest.fixture
def scheduler(client, make_member, partner):
    """A web client signed in as sam, a scheduler of the partner."""
    client.force_login(make_member(partner, Membership.Role.SCHEDULER, "sam"))
    return client


@pytest.fixture
def make_member(django_user_model):
    """A web user with `role` in `partner`; the same username again adds a membership."""

    def build(partner: Partner, role: str = Membership.Role.VIEWER, username: str = "member"):
        user, created = django_user_model.objects.get_or_create(username=username)
        if created:
            user.set_password(PASSWORD)
            user.save()
        Membership.objects.create(user=user, partner=partner, role=role)
        return user

    return build


@pytest.fixture
def alice(make_member, partner):
    """The partner's admin."""
    return make_member(partner, Membership.Role.ADMIN, "alice")


@pytest.fixture
def bob(make_member, partner):
    """Alice's teammate, who may only look."""
    return make_member(partner, Membership.Role.VIEWER, "bob")


@pytest.fixture
def charlie(make_member, outsider_partner):
    """The outsider partner's admin."""
    return make_member(outsider_partner, Membership.Role.ADMIN, "charlie")
