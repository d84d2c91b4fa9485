"""Who is calling: the KS of a request, resolved to a partner, and what its role may do.

Roles (docs/kaltura-compatibility.md §2): an ADMIN session may do everything; a USER session reads the
schedule; a widget session may only trade itself for an app-token session; a session with
`setrole:CAPTURE_DEVICE_ROLE` gets the device whitelist, whatever its type. A role we do not
know grants nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import Enum

from calendar_app import clock
from calendar_app.kaltura_api import ks as ks_codec
from calendar_app.kaltura_api.errors import ApiError
from calendar_app.models import AppToken, Partner, RevokedSession

CAPTURE_DEVICE_ROLE = "CAPTURE_DEVICE_ROLE"
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
        partner = Partner.objects.filter(pk=ks_codec.partner_id_of(raw)).first()
        if partner is None:
            raise ks_codec.KsError(raw, "INVALID_PARTNER")
        data = ks_codec.validate(raw, [partner.admin_secret], int(now.timestamp()))
        if RevokedSession.objects.filter(fingerprint=data.fingerprint).exists():
            raise ks_codec.KsError(raw, "LOGOUT")
        _check_app_token(raw, data)
        _check_partner_param(raw, params, partner)
    except ks_codec.KsError as error:
        raise ApiError(error.code, error.message, **error.error_args) from None
    return Session(data, partner, _reference_time(data, now))


def _check_app_token(raw: str, data: ks_codec.KsData) -> None:
    """A session started from an app token dies with the token (deleted, disabled, expired)."""
    token_ids = data.privilege("apptoken")
    if not token_ids:
        return
    token = AppToken.objects.for_partner(data.partner_id).filter(pk=token_ids[0]).first()
    if token is None or token.status != AppToken.Status.ACTIVE:
        raise ks_codec.KsError(raw, "LOGOUT")


def _check_partner_param(raw: str, params: dict, partner: Partner) -> None:
    claimed = params.get("partnerId")
    if claimed not in (None, "") and str(claimed).strip() != str(partner.pk):
        raise ks_codec.KsError(raw, "INVALID_PARTNER")


def _reference_time(data: ks_codec.KsData, now: datetime) -> datetime:
    reftime = data.privilege("reftime")
    if reftime and reftime[0].lstrip("-").isdigit():
        return clock.from_unix(int(reftime[0]))
    return now


def revoke(session: Session, now: datetime) -> None:
    RevokedSession.objects.filter(partner=session.partner, expires_at__lt=now).delete()
    RevokedSession.objects.get_or_create(
        fingerprint=session.data.fingerprint,
        defaults={"partner": session.partner, "expires_at": clock.from_unix(session.data.expiry)},
    )
