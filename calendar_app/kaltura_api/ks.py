"""Kaltura sessions (KS): issue v2, validate v1 and v2 (docs/kaltura-compatibility.md §2).

Pure functions: no ORM, no clock. Callers pass the partner's admin secrets and `now` (unix seconds),
and map `KsError` to Kaltura's INVALID_KS envelope. Anything a client sends, however malformed,
ends in a `KsError`, never in another exception.
"""

from __future__ import annotations

import base64
import binascii
import functools
import hashlib
import hmac
import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlencode

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

# Kaltura's kSessionBase validity codes.
ERR_CODES = {
    "INVALID_STR": -1,
    "INVALID_PARTNER": -2,
    "INVALID_USER": -3,
    "INVALID_TYPE": -4,
    "EXPIRED": -5,
    "LOGOUT": -6,
    "INVALID_LKS": -7,
    "EXCEEDED_ACTIONS_LIMIT": -8,
    "EXCEEDED_RESTRICTED_IP": -9,
    "EXCEEDED_RESTRICTED_URI": -11,
}
SESSION_USER = 0
SESSION_ADMIN = 2
# Real sessions are a few hundred characters; the cap bounds the work a stranger can cause.
MAX_KS_LENGTH = 4096

_RANDOM_SIZE = 16
_SHA1_SIZE = 20
_BLOCK = 16
_ZERO_IV = bytes(_BLOCK)
_EXPIRY, _TYPE, _USER = "_e", "_t", "_u"
# Field names the v2 format keeps for itself (master partner and additional data included).
_RESERVED_FIELDS = frozenset({_EXPIRY, _TYPE, _USER, "_m", "_d"})
# No leading zero: "v2|0101|…" would be another spelling of the same session.
_PARTNER_ID = re.compile(rb"[1-9][0-9]{0,9}")
_INTEGER = re.compile(r"-?[0-9]{1,18}")


class KsError(Exception):
    code = "INVALID_KS"

    def __init__(self, ks: str, reason: str):
        ks = str(ks)[:MAX_KS_LENGTH]  # the message echoes the KS: keep it bounded
        self.reason = reason
        self.err_code = ERR_CODES[reason]
        self.message = f'Invalid KS "{ks}", Error "{self.err_code},{reason}"'
        self.error_args = {"KSID": ks, "ERR_CODE": self.err_code, "ERR_DESC": reason}
        super().__init__(self.message)


class KsTooLong(ValueError):
    """A session longer than MAX_KS_LENGTH: validate() would refuse it as garbage, so issuing
    it would hand out a session that never works. Its user id and privileges are too long."""

    def __init__(self, length: int):
        super().__init__(f"the session would be {length} characters long; at most {MAX_KS_LENGTH} are read")
        self.length = length


@dataclass(frozen=True)
class KsData:
    version: int
    partner_id: int
    session_type: int
    user_id: str
    expiry: int
    privileges: str
    raw: str

    def privilege(self, name: str) -> list[str] | None:
        found = self._privileges.get(name)
        return None if found is None else list(found)

    @functools.cached_property
    def _privileges(self) -> dict[str, list[str]]:
        # Parsed once per session: a remembered session (session_memo.py) is asked for its
        # privileges several times a request, for hours.
        return parse_privileges(self.privileges)

    @property
    def is_admin(self) -> bool:
        return self.session_type >= 1

    @property
    def fingerprint(self) -> str:
        return self.fingerprint_of(self.raw)

    @staticmethod
    def fingerprint_of(raw: str) -> str:
        # Hash the decoded bytes, not the text: padding, alphabet and the unused bits of the last
        # base64 character can change without changing the session, and a revoked KS must stay
        # revoked however it is spelled.
        try:
            payload = _decode(raw)
        except KsError:
            payload = raw.encode("utf-8", "surrogatepass")
        return hashlib.sha256(payload).hexdigest()


def parse_privileges(privileges: str) -> dict[str, list[str]]:
    """`"a,b:c,d:x/y,*"` -> `{"a": [], "b": ["c"], "d": ["x", "y"], "*": []}`; repeats merge."""
    parsed: dict[str, list[str]] = {}
    for item in privileges.split(","):
        name, _, value = item.strip().partition(":")
        if name:
            parsed.setdefault(name, []).extend(v for v in value.split("/") if v)
    return parsed


def format_privileges(parsed: dict[str, list[str]]) -> str:
    """The inverse of `parse_privileges`."""
    return ",".join(f"{name}:{'/'.join(values)}" if values else name for name, values in parsed.items())


def partner_id_of(ks: str) -> int:
    return _envelope(ks, _decode(ks))[1]


def issue(
    partner_id: int, admin_secret: str, *, session_type: int, user_id: str, expiry: int, privileges: str = ""
) -> str:
    """A KS v2 signed with `admin_secret`; `expiry` is absolute unix seconds. KsTooLong when
    the user id and privileges make it longer than any KS validate() reads."""
    if not admin_secret:
        raise ValueError("an empty admin secret would let anyone forge sessions")
    fields = _privilege_fields(privileges)
    fields.update({_EXPIRY: str(expiry), _TYPE: str(session_type), _USER: user_id})
    body = secrets.token_bytes(_RANDOM_SIZE) + urlencode(fields).encode("ascii")
    plaintext = hashlib.sha1(body).digest() + body
    plaintext += bytes(-len(plaintext) % _BLOCK)  # Kaltura pads with zero bytes, not PKCS#7
    encryptor = _cipher(admin_secret).encryptor()
    ciphertext = encryptor.update(plaintext) + encryptor.finalize()
    issued = base64.urlsafe_b64encode(b"v2|%d|" % partner_id + ciphertext).decode("ascii")
    if len(issued) > MAX_KS_LENGTH:
        raise KsTooLong(len(issued))
    return issued


def validate(ks: str, admin_secrets: Sequence[str], now: int) -> KsData:
    """Check the signature with each secret, then the expiry. Bad signatures are INVALID_STR, as
    in Kaltura (a KS that does not verify did not parse); no usable secret is INVALID_PARTNER."""
    decoded = _decode(ks)
    version, partner_id, body = _envelope(ks, decoded)
    usable = [secret for secret in admin_secrets if secret]
    if not usable:
        raise KsError(ks, "INVALID_PARTNER")
    opener = _open_v2 if version == 2 else _open_v1
    data = opener(ks, partner_id, body, usable)
    if data.session_type not in (0, 1, 2):
        raise KsError(ks, "INVALID_TYPE")
    if data.expiry <= now:
        raise KsError(ks, "EXPIRED")
    return data


def _decode(ks: str) -> bytes:
    # Kaltura issues url-safe base64; clients also send the standard alphabet, and some drop '='.
    if not isinstance(ks, str) or not 0 < len(ks) <= MAX_KS_LENGTH or not ks.isascii():
        raise KsError(ks, "INVALID_STR")
    text = ks.replace("-", "+").replace("_", "/").rstrip("=")
    try:
        decoded = base64.b64decode(text + "=" * (-len(text) % 4), validate=True)
    except (binascii.Error, ValueError):
        raise KsError(ks, "INVALID_STR") from None
    if not decoded:
        raise KsError(ks, "INVALID_STR")
    return decoded


def _envelope(ks: str, decoded: bytes) -> tuple[int, int, bytes]:
    """(version, partner id, what the signature covers: v2 ciphertext or the whole v1 text)."""
    if decoded.startswith(b"v2|"):
        parts = decoded.split(b"|", 2)
        if len(parts) != 3:
            raise KsError(ks, "INVALID_STR")
        return 2, _partner_id(ks, parts[1]), parts[2]
    _, bar, info = decoded.partition(b"|")
    fields = info.split(b";")
    if not bar or len(fields) < 3:
        raise KsError(ks, "INVALID_STR")
    return 1, _partner_id(ks, fields[0]), decoded


def _partner_id(ks: str, text: bytes) -> int:
    if not _PARTNER_ID.fullmatch(text):
        raise KsError(ks, "INVALID_STR")
    return int(text)


def _integer(ks: str, text: str | None) -> int:
    if text is None or not _INTEGER.fullmatch(text):
        raise KsError(ks, "INVALID_STR")
    return int(text)


def _cipher(secret: str) -> Cipher:
    key = hashlib.sha1(secret.encode("utf-8")).digest()[:16]
    return Cipher(algorithms.AES(key), modes.CBC(_ZERO_IV))


def _privilege_fields(privileges: str) -> dict[str, str]:
    fields: dict[str, str] = {}
    for item in privileges.split(","):
        item = item.strip()
        name, _, value = ("all:*" if item == "*" else item).partition(":")
        # A privilege named like a format field would be read back as that field.
        if name and name not in _RESERVED_FIELDS:
            fields[name] = value
    return fields


def _open_v2(ks: str, partner_id: int, ciphertext: bytes, admin_secrets: list[str]) -> KsData:
    if not ciphertext or len(ciphertext) % _BLOCK:
        raise KsError(ks, "INVALID_STR")
    for secret in admin_secrets:
        query = _decrypt(ciphertext, secret)
        if query is not None:
            return _v2_data(ks, partner_id, query)
    raise KsError(ks, "INVALID_STR")


def _decrypt(ciphertext: bytes, secret: str) -> bytes | None:
    """The url-encoded fields, or None when `secret` did not sign this KS."""
    decryptor = _cipher(secret).decryptor()
    plaintext = (decryptor.update(ciphertext) + decryptor.finalize()).rstrip(b"\0")
    digest, body = plaintext[:_SHA1_SIZE], plaintext[_SHA1_SIZE:]
    if len(digest) == _SHA1_SIZE and hmac.compare_digest(digest, hashlib.sha1(body).digest()):
        return body[_RANDOM_SIZE:]
    return None


def _v2_data(ks: str, partner_id: int, query: bytes) -> KsData:
    try:
        fields = dict(parse_qsl(query.decode("ascii"), keep_blank_values=True, errors="strict"))
    except ValueError:  # includes UnicodeDecodeError
        raise KsError(ks, "INVALID_STR") from None
    privileges = [_privilege_text(k, v) for k, v in fields.items() if k not in _RESERVED_FIELDS]
    return KsData(
        version=2,
        partner_id=partner_id,
        session_type=_integer(ks, fields.get(_TYPE)),
        user_id=fields.get(_USER, ""),
        expiry=_integer(ks, fields.get(_EXPIRY)),
        privileges=",".join(privileges),
        raw=ks,
    )


def _privilege_text(name: str, value: str) -> str:
    if (name, value) == ("all", "*"):
        return "*"
    return f"{name}:{value}" if value else name


def _open_v1(ks: str, partner_id: int, decoded: bytes, admin_secrets: list[str]) -> KsData:
    signature, _, info = decoded.partition(b"|")
    if not any(hmac.compare_digest(signature, _v1_signature(s, info)) for s in admin_secrets):
        raise KsError(ks, "INVALID_STR")
    try:
        text = info.decode("utf-8")
    except UnicodeDecodeError:
        raise KsError(ks, "INVALID_STR") from None
    # pid;pid;expiry;type;rand;userId;privileges[;master;additional] — the tail is optional.
    parts = text.split(";") + [""] * 4
    return KsData(
        version=1,
        partner_id=partner_id,
        session_type=_integer(ks, parts[3] or "0"),
        user_id=parts[5],
        expiry=_integer(ks, parts[2]),
        privileges=parts[6],
        raw=ks,
    )


def _v1_signature(secret: str, info: bytes) -> bytes:
    return hashlib.sha1(secret.encode("utf-8") + info).hexdigest().encode("ascii")
