"""Who is calling: the KS of a request, resolved to a partner, and what its role may do.

Roles (docs/kaltura-compatibility.md §2): an ADMIN session may do everything; a USER session reads the
schedule; a widget session may only trade itself for an app-token session; a session with
`setrole:CAPTURE_DEVICE_ROLE` gets the device whitelist, whatever its type. A role we do not
know grants nothing.
"""

from __future__ import annotations

import contextlib
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import Enum

from calendar_app import auth_epochs, clock
from calendar_app.kaltura_api import ks as ks_codec
from calendar_app.kaltura_api import session_memo
from calendar_app.kaltura_api.errors import ApiError
from calendar_app.kaltura_api.session_memo import Checked
from calendar_app.models import AppToken, AuditEntry, BulkUpload, Partner, RevokedSession, ScheduleEvent

CAPTURE_DEVICE_ROLE = "CAPTURE_DEVICE_ROLE"
# A session's user id is written to these columns (the audit trail's actor, a new event's
# owner, a bulk upload's uploader): a longer one could be signed but never stored.
USER_ID_LENGTH = min(
    field.max_length or 0
    for field in (
        AuditEntry._meta.get_field("actor"),
        ScheduleEvent._meta.get_field("owner_id"),
        BulkUpload._meta.get_field("uploaded_by"),
    )
)
KNOWN_ROLES = frozenset({CAPTURE_DEVICE_ROLE})
# What a capture device needs: read its schedule and live entries, upload recordings.
DEVICE_WHITELIST = frozenset(
    {
        ("schedule_scheduleevent", "get"),
        ("schedule_scheduleevent", "list"),
        ("schedule_scheduleresource", "get"),
        ("schedule_scheduleresource", "list"),
        ("schedule_scheduleeventresource", "get"),
        ("schedule_scheduleeventresource", "list"),
        ("baseentry", "get"),
        ("baseentry", "list"),
        ("livestream", "get"),
        ("livestream", "list"),
        ("uploadtoken", "*"),
        ("media", "add"),
        ("media", "addcontent"),
        ("media", "update"),
        ("media", "get"),
        ("session", "get"),
        ("session", "end"),
    }
)


def unknown_roles(privileges: str) -> list[str]:
    """Roles named by `setrole:` that this server does not know (they would grant nothing)."""
    return [r for r in ks_codec.parse_privileges(privileges).get("setrole", []) if r not in KNOWN_ROLES]


class Access(Enum):
    PUBLIC = "public"  # no KS needed (session.start)
    SESSION = "session"  # any valid KS (session.get, appToken.startSession with a widget KS)
    READ = "read"  # USER and ADMIN sessions
    WRITE = "write"  # ADMIN sessions
    ADMIN = "admin"  # ADMIN sessions, never a restricted role


@dataclass(frozen=True)
class Session:
    data: ks_codec.KsData
    partner: Partner
    now: datetime  # the request's "now": the KS's reftime privilege, if it has one
    # The server's clock when the request came in. Every expiry (of a KS, an app token, a
    # revocation) is judged by it: a caller's reftime moves its "now", never its deadlines.
    server_now: datetime

    @property
    def role(self) -> str | None:
        roles = self.data.privilege("setrole")
        return roles[0] if roles else None

    @property
    def is_widget(self) -> bool:
        return self.data.privilege("widget") is not None

    @property
    def may_see_stream_credentials(self) -> bool:
        """Live endpoints and stream passwords: for those who broadcast (admins, capture devices)."""
        if self.role is not None:
            return self.role == CAPTURE_DEVICE_ROLE
        return self.data.is_admin and not self.is_widget

    def may(self, service: str, action: str, access: Access) -> bool:
        if access in (Access.PUBLIC, Access.SESSION):
            return True
        if self.role is not None:
            whitelist = DEVICE_WHITELIST if self.role == CAPTURE_DEVICE_ROLE else frozenset()
            return (service, action) in whitelist or (service, "*") in whitelist
        if self.is_widget:
            return False
        return self.data.is_admin or access is Access.READ


def authenticate(params: dict, now: datetime) -> Session | None:
    """The session of a request, or None when it sent no KS. Raises INVALID_KS."""
    raw = params.get("ks")
    if raw in (None, "") or "ks__null" in params:
        return None
    raw = str(raw)
    try:
        checked = _checked(raw, now)
        _check_expiries(raw, checked, now)
        _check_partner_param(raw, params, checked.partner)
    except ks_codec.KsError as error:
        raise ApiError(error.code, error.message, **error.error_args) from None
    return Session(checked.data, checked.partner, _reference_time(checked.data, now), now)


def _checked(raw: str, now: datetime) -> Checked:
    """What the KS is: as this process remembers it under the partner's current auth epoch
    (session_memo.py), else checked against the database."""
    partner_id = ks_codec.partner_id_of(raw)
    epoch = auth_epochs.current(partner_id)  # before the database: a change meanwhile moves it
    remembered = session_memo.memo.recall(raw, epoch, now)
    if remembered is not None:
        return remembered
    checked = _check(raw, partner_id, now)
    if epoch is None:
        auth_epochs.start(partner_id)  # for the next request; this one's reads may predate it
    else:
        session_memo.memo.remember(raw, epoch, now, checked)
    return checked


def _check(raw: str, partner_id: int, now: datetime) -> Checked:
    partner = _partner_of(raw, partner_id)
    if partner is None:
        raise ks_codec.KsError(raw, "INVALID_PARTNER")
    data = ks_codec.validate(raw, [partner.admin_secret], int(now.timestamp()))
    if partner.revoked:
        raise ks_codec.KsError(raw, "LOGOUT")
    if len(data.user_id) > USER_ID_LENGTH:  # a client-built KS may carry any user id
        raise ks_codec.KsError(raw, "INVALID_USER")
    return Checked(partner, data, _app_token_expiry(raw, data))


def _check_expiries(raw: str, checked: Checked, now: datetime) -> None:
    """Judged by each request's clock, remembered or not: the KS's expiry, then its app token's
    (its own expiry was capped by the token's, but the token's may since have been brought
    forward)."""
    if checked.data.expiry <= int(now.timestamp()):
        raise ks_codec.KsError(raw, "EXPIRED")
    if checked.token_expiry is not None and checked.token_expiry <= now:
        raise ks_codec.KsError(raw, "EXPIRED")


# Every API call authenticates, and a device's poll answered 304 does little else: these two
# lookups are written as SQL, since building them with the ORM cost more than running them
# (bench/feed.py "device 304": 4.7 -> 3.x ms on PostgreSQL).
_PARTNER_SQL = (
    f"SELECT p.*, EXISTS (SELECT 1 FROM {RevokedSession._meta.db_table} r WHERE r.fingerprint = %s)"
    f" AS revoked FROM {Partner._meta.db_table} p WHERE p.id = %s"
)
_TOKEN_SQL = f"SELECT id, status, expiry FROM {AppToken._meta.db_table} WHERE partner_id = %s AND id = %s"


def _partner_of(raw: str, partner_id: int) -> Partner | None:
    """The partner a KS names, with whether that KS was ended (`revoked`), in one query."""
    found = Partner.objects.raw(_PARTNER_SQL, [ks_codec.KsData.fingerprint_of(raw), partner_id])
    return next(iter(found), None)


def _app_token_expiry(raw: str, data: ks_codec.KsData) -> datetime | None:
    """A session started from an app token dies with the token (deleted, disabled): LOGOUT when
    it is gone; else the token's expiry, for _check_expiries."""
    token_ids = data.privilege("apptoken")
    if not token_ids:
        return None
    token = next(iter(AppToken.objects.raw(_TOKEN_SQL, [data.partner_id, token_ids[0]])), None)
    if token is None or token.status != AppToken.Status.ACTIVE:
        raise ks_codec.KsError(raw, "LOGOUT")
    return token.expiry


def _check_partner_param(raw: str, params: dict, partner: Partner) -> None:
    claimed = params.get("partnerId")
    if claimed not in (None, "") and str(claimed).strip() != str(partner.pk):
        raise ks_codec.KsError(raw, "INVALID_PARTNER")


def _reference_time(data: ks_codec.KsData, now: datetime) -> datetime:
    """The KS's reftime, when it is a Unix time a datetime can hold; else the server's now."""
    reftime = data.privilege("reftime")
    if reftime and _UNIX_TIME.fullmatch(reftime[0]):
        with contextlib.suppress(ValueError, OverflowError, OSError):
            return clock.from_unix(int(reftime[0]))
    return now


_UNIX_TIME = re.compile(r"-?[0-9]{1,12}")  # ASCII digits, short enough for int() and datetimes


def revoke(session: Session, now: datetime) -> None:
    RevokedSession.objects.filter(partner=session.partner, expires_at__lt=now).delete()
    # A client signing its own KS may set any expiry; past what a date holds, the revocation
    # simply lasts as long as dates go.
    expires_at = clock.from_unix(min(session.data.expiry, _LAST_UNIX_TIME))
    RevokedSession.objects.get_or_create(
        fingerprint=session.data.fingerprint, defaults={"partner": session.partner, "expires_at": expires_at}
    )


_LAST_UNIX_TIME = int(datetime.max.replace(microsecond=0, tzinfo=UTC).timestamp())
