"""A web process remembers the sessions it has checked (kaltura_api/session_memo.py), and forgets
them the moment the partner's credentials change (calendar_app/auth_epochs.py): ended sessions,
disabled or shortened app tokens and rotated secrets are refused at the next request, whatever
wrote them, and a remembered session still expires on time."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.cache import caches
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from calendar_app import auth_epochs, clock
from calendar_app.kaltura_api import ks as ks_codec
from calendar_app.kaltura_api.session_memo import Checked, SessionMemo
from calendar_app.models import AppToken, Partner, RevokedSession
from tests.conftest import NOW
from tests.kaltura_api.http import ADMIN, error_args, error_code, post, session_for

CREDENTIAL_TABLES = (Partner._meta.db_table, AppToken._meta.db_table, RevokedSession._meta.db_table)


def call(client, ks: str) -> tuple[str | None, list[str]]:
    """session.get with this KS: its error code (None when it worked), and the SQL it ran on the
    tables that decide who the caller is."""
    with CaptureQueriesContext(connection) as queries:
        response = post(client, "session", "get", {"ks": ks})
    credential_sql = [q["sql"] for q in queries if any(table in q["sql"] for table in CREDENTIAL_TABLES)]
    return error_code(response), credential_sql


def refusal(client, ks: str) -> str:
    """Why the KS was refused (the ERR_DESC of INVALID_KS)."""
    response = post(client, "session", "get", {"ks": ks})
    assert error_code(response) == "INVALID_KS"
    return error_args(response)["ERR_DESC"]


@pytest.fixture
def remembered(client, partner, now):
    """An admin KS this process has checked twice: the second time from its memo."""
    ks = session_for(partner, now)
    call(client, ks)
    assert call(client, ks) == (None, [])
    return ks


@pytest.fixture
def device_ks(client, partner, now):
    """A KS started from an app token that expires in a day, remembered."""
    token = AppToken.objects.create(
        id=AppToken.new_id(), partner=partner, token=AppToken.new_token(), expiry=now + timedelta(days=1)
    )
    ks = ks_codec.issue(
        partner.pk, partner.admin_secret, session_type=ADMIN, user_id="cam",
        expiry=int(now.timestamp()) + 7 * 86400, privileges=f"apptoken:{token.pk}",
    )  # fmt: skip
    call(client, ks)
    assert call(client, ks) == (None, [])
    return ks


def test_a_remembered_session_asks_the_database_nothing(client, partner, now):
    ks = session_for(partner, now)
    code, first = call(client, ks)
    assert code is None and first  # checked in full: partner, secret, revocations
    assert call(client, ks) == (None, [])


def test_an_unknown_epoch_is_never_trusted(client, partner, now, settings):
    """With no shared cache to read the epoch from (Redis away), every call checks in full."""
    settings.CACHES = {**settings.CACHES, "auth": {"BACKEND": "django.core.cache.backends.dummy.DummyCache"}}
    ks = session_for(partner, now)
    for _ in range(3):
        code, sql = call(client, ks)
        assert code is None and sql


def test_the_first_call_after_an_epoch_is_lost_checks_in_full(client, partner, remembered):
    caches["auth"].clear()  # Redis restarted empty
    assert call(client, remembered)[1]  # no epoch: checked in full, and one is started
    assert call(client, remembered)[1]  # read before the check: remembered from now on
    assert call(client, remembered) == (None, [])


def test_an_ended_session_is_refused_at_once(client, partner, remembered):
    assert error_code(post(client, "session", "end", {"ks": remembered})) is None
    assert refusal(client, remembered) == "LOGOUT"


def test_a_token_disabled_in_bulk_ends_its_remembered_sessions(client, device_ks):
    AppToken.objects.update(status=AppToken.Status.DISABLED)
    assert refusal(client, device_ks) == "LOGOUT"


def test_a_deleted_token_ends_its_remembered_sessions(client, device_ks):
    AppToken.objects.get().delete()
    assert refusal(client, device_ks) == "LOGOUT"


def test_a_token_expiry_brought_forward_ends_its_remembered_sessions(client, device_ks, now):
    token = AppToken.objects.get()
    token.expiry = now - timedelta(minutes=1)
    token.save()
    assert refusal(client, device_ks) == "EXPIRED"


def test_a_rotated_secret_ends_the_remembered_sessions(client, partner, remembered):
    partner.admin_secret = Partner.new_secret()
    partner.save()
    assert refusal(client, remembered) == "INVALID_STR"  # Kaltura's word for a bad signature


def test_a_remembered_session_expires_on_time(client, partner, now):
    ks = ks_codec.issue(partner.pk, partner.admin_secret, session_type=ADMIN, user_id="a",
                        expiry=int(now.timestamp()) + 30)  # fmt: skip
    call(client, ks)
    assert call(client, ks) == (None, [])
    with clock.pinned(now + timedelta(seconds=30)):
        assert refusal(client, ks) == "EXPIRED"


def test_a_remembered_device_session_ends_with_its_tokens_expiry(client, device_ks, now):
    with clock.pinned(now + timedelta(days=1)):
        assert refusal(client, device_ks) == "EXPIRED"


def test_a_memo_is_checked_again_after_its_time(client, partner, remembered, now, settings):
    with clock.pinned(now + timedelta(seconds=settings.SESSION_MEMO_SECONDS - 1)):
        assert call(client, remembered) == (None, [])
    with clock.pinned(now + timedelta(seconds=settings.SESSION_MEMO_SECONDS)):
        assert call(client, remembered)[1]


def test_no_memo_where_the_epochs_are_not_shared(client, partner, now, settings):
    """SESSION_MEMO_SECONDS is 0 unless Redis or make run's files hold the epochs: one process's
    memory cannot hear of a session ended through another."""
    settings.SESSION_MEMO_SECONDS = 0
    ks = session_for(partner, now)
    for _ in range(3):
        code, sql = call(client, ks)
        assert code is None and sql


def test_another_partners_changes_leave_a_memo_alone(client, remembered, outsider_partner):
    outsider_partner.admin_secret = Partner.new_secret()
    outsider_partner.save()
    assert call(client, remembered) == (None, [])


def test_the_memo_keeps_the_most_recently_used_sessions(partner):
    memo = SessionMemo(size=2)
    checked = Checked(partner, ks_codec.KsData(2, partner.pk, 2, "a", 0, "", "ks"), None)
    for raw in ("a", "b"):
        memo.remember(raw, 1, NOW, checked)
    assert memo.recall("a", 1, NOW) is not None  # "b" is now the least recently used
    memo.remember("c", 1, NOW, checked)
    assert [memo.recall(raw, 1, NOW) is not None for raw in ("a", "b", "c")] == [True, False, True]


def test_each_request_gets_its_own_partner(partner):
    """A request may cache relations on its partner; another request must not see them."""
    memo = SessionMemo()
    memo.remember("ks", 1, NOW, Checked(partner, ks_codec.KsData(2, partner.pk, 2, "a", 0, "", "ks"), None))
    first, second = memo.recall("ks", 1, NOW), memo.recall("ks", 1, NOW)
    assert first is not None and second is not None
    assert first.partner == second.partner and first.partner is not second.partner
    first.partner.name = "changed"
    assert second.partner.name == partner.name


@pytest.mark.django_db(transaction=True)
def test_a_credential_write_moves_the_epoch_when_written_and_again_when_committed(partner):
    """A process that checks a session between the write and its commit reads the old rows under
    the epoch of the write: the commit's move retires what it remembered."""
    auth_epochs.start(partner.pk)
    before = auth_epochs.current(partner.pk)
    with transaction.atomic():
        RevokedSession.objects.create(partner=partner, fingerprint="f" * 64, expires_at=NOW)
        during = auth_epochs.current(partner.pk)
    after = auth_epochs.current(partner.pk)
    assert None not in (before, during, after)
    assert len({before, during, after}) == 3
