"""session: start, startWidgetSession, get, end (docs/kaltura-compatibility.md §2)."""

from __future__ import annotations

import hmac
import re

from calendar_app.kaltura_api import auth, ks
from calendar_app.kaltura_api.auth import CAPTURE_DEVICE_ROLE, Access
from calendar_app.kaltura_api.catalog import INT, SESSION_TYPE, STR
from calendar_app.kaltura_api.dispatch import Call, Param, action
from calendar_app.kaltura_api.errors import TEMPLATES, ApiError, missing_parameter
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


def check_user_id(user_id: str, name: str) -> None:
    """A user id must fit the columns it is written to (auth.USER_ID_LENGTH)."""
    if len(user_id) > auth.USER_ID_LENGTH:
        raise _too_long(name, auth.USER_ID_LENGTH)


def issue(partner: Partner, privileges_name: str, **fields) -> str:
    """A KS of `partner`; one too long for validate() to read is the caller's error (its
    privileges, named `privileges_name` in the call, are what makes a session long)."""
    try:
        return ks.issue(partner.pk, partner.admin_secret, **fields)
    except ks.KsTooLong as error:
        raise ApiError(
            "PROPERTY_VALIDATION_MAX_LENGTH",
            f"The session would be {error.length} characters long, a KS at most {ks.MAX_KS_LENGTH}: "
            f'shorten "{privileges_name}"',
            PROP_NAME=privileges_name,
            MAX_LEN=ks.MAX_KS_LENGTH,
        ) from None


def _too_long(name: str, length: int) -> ApiError:
    template = TEMPLATES["PROPERTY_VALIDATION_MAX_LENGTH"]
    return ApiError(
        "PROPERTY_VALIDATION_MAX_LENGTH", template.format(PROP_NAME=name, MAX_LEN=length),
        PROP_NAME=name, MAX_LEN=length,
    )  # fmt: skip


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
    check_user_id(userId, "userId")
    return issue(
        partner,
        "privileges",
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
    partner = _widget_partner(widgetId)
    if partner is None:
        raise ApiError("INVALID_WIDGET_ID", f"Invalid widget id [{widgetId[:64]}]", WIDGET_ID=widgetId[:64])
    widget_ks = issue(
        partner,
        "widgetId",
        session_type=ks.SESSION_USER,
        user_id="",
        expiry=int(call.now.timestamp()) + capped_expiry(expiry),
        privileges=WIDGET_PRIVILEGES,
    )
    return render(
        "KalturaStartWidgetSessionResponse", {"partner_id": partner.pk, "ks": widget_ks, "user_id": ""}
    )


def _widget_partner(widget_id: str) -> Partner | None:
    """The partner of widget id "_<partner id>"; None for anything else ("_²", "_" + 5,000 digits)."""
    digits = widget_id[1:] if widget_id.startswith("_") else ""
    if not _PARTNER_ID.fullmatch(digits):
        return None
    return Partner.objects.filter(pk=int(digits)).first()


_PARTNER_ID = re.compile(r"[0-9]{1,18}")


@action(SERVICE, "get", Param("session", STR), access=Access.SESSION)
def get(call: Call, session):
    if not session:
        return session_info(call.session.data.raw, call.session.data)
    # The server's clock: the caller's reftime must not bring an expired session back.
    other = auth.authenticate({"ks": session}, call.session.server_now)
    if other is None or other.partner.pk != call.partner.pk:
        raise ApiError("INVALID_KS", "The session belongs to another partner", KSID=session[:64])
    return session_info(session, other.data)


@action(SERVICE, "end", access=Access.SESSION)
def end(call: Call):
    # The server's clock: a reftime in the future would clear revocations still in force.
    auth.revoke(call.session, call.session.server_now)
