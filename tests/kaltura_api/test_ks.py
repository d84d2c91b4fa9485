"""Kaltura sessions and app-token arithmetic. Pure functions: no database."""

from __future__ import annotations

import base64
import contextlib
import hashlib
import time

import pytest
from KalturaClient import KalturaClient

from calendar_app.kaltura_api import app_token_sessions, ks
from calendar_app.kaltura_api.ks import KsError

SECRET = "a" * 32
OTHER_SECRET = "b" * 32
NOW = 1_800_000_000
DEVICE_PRIVILEGES = "setrole:CAPTURE_DEVICE_ROLE,sview:*,*"


def issue(**overrides) -> str:
    fields = {"session_type": 2, "user_id": "alice", "expiry": NOW + 3600, "privileges": DEVICE_PRIVILEGES}
    return ks.issue(101, SECRET, **{**fields, **overrides})


def reason(text: str, secrets=(SECRET,), now: int = NOW) -> str:
    with pytest.raises(KsError) as caught:
        ks.validate(text, secrets, now)
    return caught.value.reason


def encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode()


# --- issue and validate -------------------------------------------------------------------


def test_it_round_trips_an_issued_session():
    data = ks.validate(issue(), [SECRET], NOW)
    assert (data.version, data.partner_id, data.session_type) == (2, 101, 2)
    assert (data.user_id, data.expiry) == ("alice", NOW + 3600)
    assert data.privileges == DEVICE_PRIVILEGES
    assert data.is_admin


def test_it_issues_url_safe_base64_with_the_v2_prefix():
    text = issue()
    assert set(text) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_=")
    assert len(text) % 4 == 0
    assert base64.urlsafe_b64decode(text).startswith(b"v2|101|")


def test_it_reads_privilege_values():
    data = ks.validate(issue(privileges="setrole:CAPTURE_DEVICE_ROLE,edit:1_a/1_b,list"), [SECRET], NOW)
    assert data.privilege("setrole") == ["CAPTURE_DEVICE_ROLE"]
    assert data.privilege("edit") == ["1_a", "1_b"]
    assert data.privilege("list") == []
    assert data.privilege("download") is None


def test_it_tries_every_admin_secret():
    assert ks.validate(issue(), [OTHER_SECRET, SECRET], NOW).partner_id == 101


def test_it_keeps_a_user_session_unprivileged():
    data = ks.validate(issue(session_type=0, user_id="", privileges=""), [SECRET], NOW)
    assert (data.session_type, data.user_id, data.privileges) == (0, "", "")
    assert not data.is_admin


def test_it_refuses_a_wrong_secret_as_invalid_str():
    assert reason(issue(), secrets=[OTHER_SECRET]) == "INVALID_STR"


def test_it_refuses_a_partner_without_secrets():
    assert reason(issue(), secrets=[]) == "INVALID_PARTNER"
    assert reason(issue(), secrets=[""]) == "INVALID_PARTNER"


def test_it_refuses_an_expired_session():
    assert reason(issue(expiry=NOW)) == "EXPIRED"
    assert ks.validate(issue(expiry=NOW + 1), [SECRET], NOW).expiry == NOW + 1


def test_it_refuses_a_tampered_ciphertext_byte():
    decoded = bytearray(base64.urlsafe_b64decode(issue()))
    decoded[len(b"v2|101|") + 5] ^= 0x01
    assert reason(encode(bytes(decoded))) == "INVALID_STR"


def test_it_refuses_a_partner_id_with_a_leading_zero():
    decoded = base64.urlsafe_b64decode(issue()).replace(b"v2|101|", b"v2|0101|", 1)
    assert reason(encode(decoded)) == "INVALID_STR"


def test_it_accepts_standard_alphabet_and_missing_padding():
    text = issue(user_id="x" * 7)  # some length that needs padding
    standard = text.replace("-", "+").replace("_", "/")
    for variant in (standard, text.rstrip("="), standard.rstrip("=")):
        assert ks.validate(variant, [SECRET], NOW).user_id == "x" * 7


def test_it_gives_every_spelling_of_a_session_one_fingerprint():
    text = issue()
    standard = text.replace("-", "+").replace("_", "/").rstrip("=")
    first, second = (ks.validate(t, [SECRET], NOW) for t in (text, standard))
    assert first.fingerprint == second.fingerprint
    assert first.fingerprint != ks.validate(issue(), [SECRET], NOW).fingerprint


def test_it_describes_the_error_like_kaltura():
    error = KsError("abc", "EXPIRED")
    assert error.code == "INVALID_KS"
    assert error.message == 'Invalid KS "abc", Error "-5,EXPIRED"'
    assert error.error_args == {"KSID": "abc", "ERR_CODE": -5, "ERR_DESC": "EXPIRED"}


# --- the official client's sessions -------------------------------------------------------


def test_it_validates_a_v2_session_built_by_the_official_client():
    text = KalturaClient.generateSessionV2(SECRET, "device-1", 2, 101, 3600, DEVICE_PRIVILEGES).decode()
    data = ks.validate(text, [SECRET], int(time.time()))
    assert (data.version, data.partner_id, data.session_type, data.user_id) == (2, 101, 2, "device-1")
    assert data.privileges == DEVICE_PRIVILEGES
    assert data.privilege("setrole") == ["CAPTURE_DEVICE_ROLE"]


def test_it_validates_a_v1_session_built_by_the_official_client():
    text = KalturaClient.generateSession(SECRET, "admin", 2, 101, 3600, "disableentitlement").decode()
    data = ks.validate(text, [SECRET], int(time.time()))
    assert (data.version, data.partner_id, data.session_type, data.user_id) == (1, 101, 2, "admin")
    assert data.privileges == "disableentitlement"


def test_it_refuses_a_v1_session_signed_with_another_secret():
    text = KalturaClient.generateSession(OTHER_SECRET, "admin", 2, 101, 3600).decode()
    assert reason(text, now=int(time.time())) == "INVALID_STR"


def test_it_refuses_an_expired_v1_session():
    text = KalturaClient.generateSession(SECRET, "admin", 2, 101, 3600).decode()
    assert reason(text, now=int(time.time()) + 3600) == "EXPIRED"


def test_it_reads_the_partner_of_either_version():
    v1 = KalturaClient.generateSession(SECRET, "admin", 2, 303, 3600).decode()
    assert ks.partner_id_of(v1) == 303
    assert ks.partner_id_of(issue()) == 101


def test_it_refuses_to_read_the_partner_of_garbage():
    with pytest.raises(KsError) as caught:
        ks.partner_id_of("not a ks")
    assert caught.value.reason == "INVALID_STR"


# --- garbage ------------------------------------------------------------------------------


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


GARBAGE = [
    "",
    "   ",
    "not a ks",
    "djJ8",  # "v2|"
    b64(b"v2|abc|" + bytes(16)),
    b64(b"v2|101|abc"),  # ciphertext not a multiple of 16
    b64(b"v2|101|"),
    b64(b"v2|101|" + bytes(32)),  # decrypts to junk
    b64(b"0" * 40 + b"|101;101"),  # v1 with too few fields
    b64(b"0" * 40 + b"|101;101;9999999999;2;1;u;"),  # v1 with a bad signature
    b64(b"\xff\xfe" * 20),
    "é" * 10,
    "A" * 5,  # not a valid base64 length
    "AB==CD==",
    "x" * 100_000,
    "\x00\x01",
]


@pytest.mark.parametrize("text", GARBAGE, ids=range(len(GARBAGE)))
def test_it_refuses_garbage_with_ks_error_only(text):
    assert reason(text) == "INVALID_STR"
    with contextlib.suppress(KsError):  # a well-formed envelope may name a partner
        assert isinstance(ks.partner_id_of(text), int)


def test_it_refuses_a_signed_session_whose_fields_are_not_utf8():
    body = b"\x00" * 16 + b"_e=%FF%FE&_t=2&_u=x"
    plaintext = hashlib.sha1(body).digest() + body
    plaintext += bytes(-len(plaintext) % 16)
    encryptor = ks._cipher(SECRET).encryptor()
    text = b64(b"v2|101|" + encryptor.update(plaintext) + encryptor.finalize())
    assert reason(text) == "INVALID_STR"


def test_it_keeps_the_error_message_bounded():
    with pytest.raises(KsError) as caught:
        ks.validate("x" * 100_000, [SECRET], NOW)
    assert len(caught.value.error_args["KSID"]) == ks.MAX_KS_LENGTH


# --- privileges ---------------------------------------------------------------------------


def test_it_parses_privileges():
    parsed = ks.parse_privileges("a,b:c,d:x/y,*")
    assert parsed == {"a": [], "b": ["c"], "d": ["x", "y"], "*": []}


def test_it_refuses_to_let_a_privilege_rewrite_session_fields():
    data = ks.validate(issue(privileges="_u:mallory,_t:2,_m:1", session_type=0), [SECRET], NOW)
    assert (data.user_id, data.session_type, data.privileges) == ("alice", 0, "")


# --- app tokens ---------------------------------------------------------------------------


@pytest.mark.parametrize("hash_type", ["MD5", "SHA1", "SHA256", "SHA512"])
def test_it_hashes_an_app_token_like_kaltura(hash_type):
    expected = hashlib.new(hash_type.lower(), b"widgetkstoken").hexdigest()
    assert app_token_sessions.expected_hash(hash_type, "widgetks", "token") == expected
    assert app_token_sessions.hash_matches(hash_type, "widgetks", "token", expected.upper())
    assert not app_token_sessions.hash_matches(hash_type, "widgetks", "other", expected)


def test_it_refuses_a_non_ascii_hash_without_raising():
    assert not app_token_sessions.hash_matches("SHA256", "widgetks", "token", "é" * 64)


def test_it_keeps_token_privileges_and_drops_a_setrole_override():
    privileges = app_token_sessions.session_privileges(
        "0_tok", "setrole:CAPTURE_DEVICE_ROLE", "setrole:ADMIN_ROLE,*,sview:*,note:hi"
    )
    assert privileges == "sessionid:0_tok,apptoken:0_tok,setrole:CAPTURE_DEVICE_ROLE,note:hi"


def test_it_lets_a_caller_add_to_a_wildcard_token_privilege():
    privileges = app_token_sessions.session_privileges("0_tok", "room:*,floor:1", "room:101,floor:2")
    assert privileges == "sessionid:0_tok,apptoken:0_tok,room:*/101,floor:1"


def test_it_caps_the_session_expiry():
    assert app_token_sessions.session_expiry(NOW, None, 86400, None) == NOW + 86400
    assert app_token_sessions.session_expiry(NOW, 600, 86400, None) == NOW + 600
    assert app_token_sessions.session_expiry(NOW, 10**9, 86400, None) == NOW + 86400
    assert app_token_sessions.session_expiry(NOW, 600, 86400, NOW + 60) == NOW + 60
