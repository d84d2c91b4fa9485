"""appToken.startSession arithmetic (docs/kaltura-compatibility.md §2): the hash that proves a device holds
its token, and the privileges and expiry of the session it gets. Pure: callers pass `now`."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable
from typing import Any

from calendar_app.kaltura_api.ks import format_privileges, parse_privileges

HASHES: dict[str, Callable[..., Any]] = {
    "MD5": hashlib.md5,
    "SHA1": hashlib.sha1,
    "SHA256": hashlib.sha256,
    "SHA512": hashlib.sha512,
}

# Privileges the server interprets (kSessionBase::PRIVILEGE_*): a caller may never add them.
SERVER_PRIVILEGES = frozenset(
    {
        "edit", "sview", "list", "download", "downloadasset", "editplaylist", "sviewplaylist",
        "actionslimit", "setrole", "restrictingrole", "limitentry", "iprestrict", "urirestrict",
        "enableentitlement", "disableentitlement", "disableentitlementforentry",
        "disableentitlementforplaylist", "privacycontext", "enablecategorymoderation", "reftime",
        "sessionkey", "preview", "sessionid", "jobtype", "apptoken", "enablechangeaccount",
        "edituser", "enablecaptionmoderation", "editadmintags", "restrictexplicitliveview",
        "virtualeventid", "searchcontext", "disablesessiontypecheck", "view", "widget",
    }
)  # fmt: skip
# Not on Kaltura's list, but "*" (sent as all=*) is a wildcard a device must not grant itself.
_WILDCARDS = frozenset({"*", "all"})


def expected_hash(hash_type: str, ks: str, token: str) -> str:
    """Lower-case hex of hash(ks + token); `ks` is the ks parameter exactly as sent."""
    algorithm = HASHES.get(hash_type.upper())
    if algorithm is None:
        raise ValueError(f"unknown app token hash type {hash_type!r}")
    return algorithm((ks + token).encode("utf-8")).hexdigest()


def hash_matches(hash_type: str, ks: str, token: str, given: str) -> bool:
    # Bytes, because compare_digest refuses non-ASCII str and `given` comes from a stranger.
    expected = expected_hash(hash_type, ks, token).encode("ascii")
    return hmac.compare_digest(expected, given.lower().encode("utf-8", "replace"))


def session_privileges(token_id: str, token_privileges: str, requested: str) -> str:
    """The token's privileges always apply; the caller may only add names the server does not
    interpret and the token does not set (unless the token sets that name to "*")."""
    granted = {"sessionid": [token_id], "apptoken": [token_id]}
    for name, values in parse_privileges(token_privileges).items():
        granted.setdefault(name, []).extend(values)
    on_token = {name: list(values) for name, values in granted.items()}
    for name, values in parse_privileges(requested).items():
        if _may_request(name, on_token):
            granted.setdefault(name, []).extend(values)
    return format_privileges(granted)


def _may_request(name: str, on_token: dict[str, list[str]]) -> bool:
    if name in SERVER_PRIVILEGES or name in _WILDCARDS or name.startswith("_"):
        return False
    return name not in on_token or on_token[name] == ["*"]


def session_expiry(now: int, requested: int | None, session_duration: int, token_expiry: int | None) -> int:
    """Absolute expiry: the requested length (the token's default when none, or not a length),
    capped by the token's session duration and by the token's own expiry. `now` is the
    server's clock, never a caller's reftime (which would move both ends)."""
    wanted = requested if requested is not None and requested > 0 else session_duration
    lengths = [wanted, session_duration]
    if token_expiry is not None:
        lengths.append(token_expiry - now)
    return now + min(lengths)
