"""session: start, startWidgetSession, get, end (docs/kaltura-compatibility.md §2)."""

from __future__ import annotations

import hmac

from calendar_app.kaltura_api import auth, ks
from calendar_app.kaltura_api.auth import CAPTURE_DEVICE_ROLE, Access
from calendar_app.kaltura_api.catalog import INT, SESSION_TYPE, STR
from calendar_app.kaltura_api.dispatch import Call, Param, action
from calendar_app.kaltura_api.errors import ApiError, missing_parameter
from calendar_app.kaltura_api.objects import render
from calendar_app.models import Partner

SERVICE = "session"
DEFAULT_EXPIRY = 86_400
# Kaltura caps a session at the partner's ksMaxExpiryInSeconds, one day when unset.
MAX_EXPIRY = 86_400
WIDGET_PRIVILEGES = "view:*,widget:1"


def capped_expiry(requested: int | None) -> int:
    if not requested or requested <= 0:
        return DEFAULT_EXPIRY
    return min(requested, MAX_EXPIRY)


def check_roles(privileges: str) -> None:
    """A role must exist before a session can take it (Kaltura: UNKNOWN_ROLE_ID)."""
    for role in auth.unknown_roles(privileges)[:1]:
        raise ApiError(
            "UNKNOWN_ROLE_ID", f"Unknown role [{role}], known: {CAPTURE_DEVICE_ROLE}", ROLE_ID=role
        )


def session_info(session_ks: str, data: ks.KsData) -> dict:
    return render(
        "KalturaSessionInfo",
        {
            "ks": session_ks,
            "session_type": data.session_type,
            "partner_id": data.partner_id,
            "user_id": data.user_id,
            "expiry": data.expiry,
            "privileges": data.privileges,
        },
    )


def _start_error(partner_id) -> ApiError:
    return ApiError(
        "START_SESSION_ERROR",
        f"Error while starting session for partner [{partner_id}]",
        PARTNER_ID=partner_id,
    )


@action(
    SERVICE,
    "start",
    Param("secret", STR, required=True),
    Param("userId", STR, default=""),
    Param("type", SESSION_TYPE, default=ks.SESSION_USER),
    Param("partnerId", INT),
    Param("expiry", INT),
    Param("privileges", STR, default=""),
    access=Access.PUBLIC,
)
def start(call: Call, secret, userId, type, partnerId, expiry, privileges):
    if partnerId is None:
        raise missing_parameter("partnerId")
    partner = Partner.objects.filter(pk=partnerId).first()
    if partner is None or not _secret_matches(partner, secret, type):
        raise _start_error(partnerId)
    check_roles(privileges)
    return ks.issue(
        partner.pk,
        partner.admin_secret,
        session_type=type,
        user_id=userId,
        expiry=int(call.now.timestamp()) + capped_expiry(expiry),
        privileges=privileges,
    )


def _secret_matches(partner: Partner, secret: str, session_type: int) -> bool:
    """The admin secret opens any session; the user secret only USER sessions."""
    if hmac.compare_digest(secret.encode(), partner.admin_secret.encode()):
        return True
    is_user_secret = bool(partner.secret) and hmac.compare_digest(secret.encode(), partner.secret.encode())
    return is_user_secret and session_type == ks.SESSION_USER


@action(
    SERVICE,
    "startWidgetSession",
    Param("widgetId", STR, required=True),
    Param("expiry", INT),
    access=Access.PUBLIC,
)
def start_widget_session(call: Call, widgetId, expiry):
    """An anonymous USER session for partner `_<id>`: what a device trades for an app-token session."""
    partner_id = widgetId[1:] if widgetId.startswith("_") else ""
    partner = Partner.objects.filter(pk=int(partner_id)).first() if partner_id.isdigit() else None
    if partner is None:
        raise ApiError("INVALID_WIDGET_ID", f"Invalid widget id [{widgetId[:64]}]", WIDGET_ID=widgetId[:64])
    widget_ks = ks.issue(
        partner.pk,
        partner.admin_secret,
        session_type=ks.SESSION_USER,
        user_id="",
        expiry=int(call.now.timestamp()) + capped_expiry(expiry),
        privileges=WIDGET_PRIVILEGES,
    )
    return render(
        "KalturaStartWidgetSessionResponse", {"partner_id": partner.pk, "ks": widget_ks, "user_id": ""}
    )


@action(SERVICE, "get", Param("session", STR), access=Access.SESSION)
def get(call: Call, session):
    if not session:
        return session_info(call.session.data.raw, call.session.data)
    other = auth.authenticate({"ks": session}, call.now)
    if other is None or other.partner.pk != call.partner.pk:
        raise ApiError("INVALID_KS", "The session belongs to another partner", KSID=session[:64])
    return session_info(session, other.data)


@action(SERVICE, "end", access=Access.SESSION)
def end(call: Call):
    auth.revoke(call.session, call.now)
