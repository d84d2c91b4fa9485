"""apptoken: add, get, list, update, delete (admin) and startSession (docs/kaltura-compatibility.md §2)."""

from __future__ import annotations

from typing import Any

from calendar_app import clock, input_rules
from calendar_app.kaltura_api import app_token_sessions, ks, listing
from calendar_app.kaltura_api.auth import Access
from calendar_app.kaltura_api.catalog import INT, SESSION_TYPE, STR
from calendar_app.kaltura_api.dispatch import Call, Param, action
from calendar_app.kaltura_api.errors import ApiError
from calendar_app.kaltura_api.listing import Column, Table
from calendar_app.kaltura_api.objects import Obj, Parsed, check_readonly, render
from calendar_app.kaltura_api.services.schedule_resource import TIMESTAMP_COLUMNS, TIMESTAMP_ORDER
from calendar_app.kaltura_api.services.session import check_roles, check_user_id, session_info
from calendar_app.kaltura_api.services.session import issue as session_issue
from calendar_app.models import AppToken

SERVICE = "apptoken"
TOKEN = Obj(base="KalturaAppToken")
WRITABLE = ("expiry", "session_type", "session_user_id", "session_duration", "session_privileges",
            "hash_type", "description")  # fmt: skip


def render_token(token: AppToken) -> dict[str, Any]:
    return render("KalturaAppToken", token)


def invalid_token(token_id: Any) -> ApiError:
    return ApiError("INVALID_APP_TOKEN_ID", f"Invalid application token id [{token_id}]", ID=token_id)


def get_token(call: Call, token_id: str) -> AppToken:
    token = (
        AppToken.objects.for_partner(call.partner)
        .exclude(status=AppToken.Status.DELETED)
        .filter(pk=token_id)
        .first()
    )
    if token is None:
        raise invalid_token(token_id)
    return token


def _apply(call: Call, token: AppToken, parsed: Parsed) -> None:
    """Set what the client sent, checked against what the columns hold (input_rules); a null
    resets a field to its default, except `expiry`, where it means "never"."""
    sent = {name: _or_default(name, parsed.values[name]) for name in WRITABLE if name in parsed.values}
    for name, value in input_rules.clean(input_rules.APP_TOKEN_RULES, sent, creating=True).items():
        setattr(token, name, value)
    check_roles(token.session_privileges)
    _check_fits_a_session(call, token)


def _or_default(name: str, value: Any) -> Any:
    if value is None and name != "expiry":
        return AppToken._meta.get_field(name).get_default()
    return value


def _check_fits_a_session(call: Call, token: AppToken) -> None:
    """Refuse privileges that would make every session started from the token too long a KS
    to be read (session.issue says which): better now than on the device."""
    privileges = app_token_sessions.session_privileges(token.pk, token.session_privileges, "")
    longest = int(call.session.server_now.timestamp()) + token.session_duration
    session_issue(
        call.partner, "sessionPrivileges", session_type=token.session_type,
        user_id=token.session_user_id, expiry=longest, privileges=privileges,
    )  # fmt: skip


@action(SERVICE, "add", Param("appToken", TOKEN, required=True), access=Access.ADMIN)
def add(call: Call, appToken: Parsed):
    check_readonly(appToken, None)
    token = AppToken(
        id=AppToken.new_id(), partner=call.partner, token=AppToken.new_token(), created_at=call.now
    )
    _apply(call, token, appToken)
    token.updated_at = call.now
    token.save()
    return render_token(token)


@action(SERVICE, "get", Param("id", STR, required=True), access=Access.ADMIN)
def get(call: Call, id: str):
    return render_token(get_token(call, id))


@action(SERVICE, "update", Param("id", STR, required=True), Param("appToken", TOKEN, required=True),
        access=Access.ADMIN)  # fmt: skip
def update(call: Call, id: str, appToken: Parsed):
    token = get_token(call, id)
    check_readonly(appToken, lambda: render_token(token))
    _apply(call, token, appToken)
    token.updated_at = call.now
    token.save()
    return render_token(token)


@action(SERVICE, "delete", Param("id", STR, required=True), access=Access.ADMIN)
def delete(call: Call, id: str):
    token = get_token(call, id)
    token.status = AppToken.Status.DELETED
    token.updated_at = call.now
    token.save(update_fields=["status", "updated_at"])


TOKEN_TABLE = Table(
    response="KalturaAppTokenListResponse",
    default_statuses=(AppToken.Status.DISABLED, AppToken.Status.ACTIVE),
    columns={
        "id": Column("pk"),
        "status": Column("status", is_int=True),
        "sessionUserId": Column("session_user_id"),
        **TIMESTAMP_COLUMNS,
    },
    order_by=TIMESTAMP_ORDER,
)


@action(
    SERVICE,
    "list",
    Param("filter", Obj(base="KalturaAppTokenBaseFilter")),
    Param("pager", Obj(base="KalturaPager")),
    access=Access.ADMIN,
)
def list_(call: Call, filter: Parsed | None, pager: Parsed | None):
    queryset = AppToken.objects.for_partner(call.partner)
    return listing.respond(
        queryset, filter, pager, TOKEN_TABLE, call.partner.pk, lambda rows: [render_token(t) for t in rows]
    )


@action(
    SERVICE,
    "startSession",
    Param("id", STR, required=True),
    Param("tokenHash", STR, required=True),
    Param("userId", STR),
    Param("type", SESSION_TYPE),
    Param("expiry", INT),
    Param("sessionPrivileges", STR, default=""),
    access=Access.SESSION,
)
def start_session(call: Call, id, tokenHash, userId, type, expiry, sessionPrivileges):
    """Trade a (widget) KS and proof of the token for a session with the token's privileges."""
    token = AppToken.objects.for_partner(call.partner).filter(pk=id).first()
    if token is None or token.status == AppToken.Status.DELETED:
        raise invalid_token(id)
    if token.status != AppToken.Status.ACTIVE:
        raise ApiError("APP_TOKEN_NOT_ACTIVE", f"Application token id [{id}] is not active", ID=id)
    # The server's clock, not the caller's reftime: a KS must not revive an expired token, nor
    # start a session that outlives it.
    now = int(call.session.server_now.timestamp())
    token_expiry = clock.to_unix(token.expiry)
    if token_expiry is not None and token_expiry <= now:
        raise ApiError("APP_TOKEN_EXPIRED", f"Application token id [{id}] has expired", ID=id)
    if not app_token_sessions.hash_matches(token.hash_type, call.session.data.raw, token.token, tokenHash):
        raise ApiError("INVALID_APP_TOKEN_HASH", "Invalid application token hash")
    privileges = app_token_sessions.session_privileges(token.pk, token.session_privileges, sessionPrivileges)
    user_id = token.session_user_id or userId or ""
    check_user_id(user_id, "userId")
    new_ks = session_issue(
        call.partner,
        "sessionPrivileges",
        # The token decides who the session is; a caller cannot raise its own rights.
        session_type=token.session_type,
        user_id=user_id,
        expiry=app_token_sessions.session_expiry(now, expiry, token.session_duration, token_expiry),
        privileges=privileges,
    )
    return session_info(new_ks, ks.validate(new_ks, [call.partner.admin_secret], now))
