"""create_partner and create_app_token: the provisioning commands scripts depend on."""

from __future__ import annotations

import io
import re

import pytest
from django.core.management import CommandError, call_command

from calendar_app.models import AppToken, Partner


def run(command: str, **options) -> str:
    out = io.StringIO()
    call_command(command, stdout=out, **options)
    return out.getvalue()


def create_partner(**overrides) -> str:
    options = {"partner_id": 4242, "name": "Bob Academy", "admin_secret": "admin-secret-1"}
    return run("create_partner", **{**options, **overrides})


# --- create_partner -----------------------------------------------------------------------


def test_it_creates_a_partner_and_prints_its_id(db):
    assert create_partner() == "4242\n"
    partner = Partner.objects.get(pk=4242)
    assert (partner.name, partner.admin_secret) == ("Bob Academy", "admin-secret-1")
    assert len(partner.secret) == 32


def test_it_uses_the_given_user_secret(db):
    create_partner(secret="user-secret")
    assert Partner.objects.get(pk=4242).secret == "user-secret"


def test_it_updates_an_existing_partner_on_a_second_run(db):
    create_partner()
    first_user_secret = Partner.objects.get(pk=4242).secret
    assert create_partner(name="Bob Academy 2", admin_secret="admin-secret-2") == "4242\n"
    partner = Partner.objects.get(pk=4242)
    assert Partner.objects.count() == 1
    assert (partner.name, partner.admin_secret) == ("Bob Academy 2", "admin-secret-2")
    assert partner.secret == first_user_secret


def test_it_replaces_the_user_secret_only_when_given(db):
    create_partner()
    create_partner(secret="new-user-secret")
    assert Partner.objects.get(pk=4242).secret == "new-user-secret"


@pytest.mark.parametrize(
    "overrides",
    [{"partner_id": 0}, {"partner_id": -3}, {"admin_secret": ""}, {"admin_secret": "x" * 65},
     {"admin_secret": "   "}, {"name": ""}, {"secret": ""}],
)  # fmt: skip
def test_it_refuses_bad_arguments(db, overrides):
    with pytest.raises(CommandError):
        create_partner(**overrides)
    assert not Partner.objects.exists()


def test_it_refuses_a_partner_id_that_is_not_a_number(db):
    with pytest.raises(CommandError):
        create_partner(partner_id="abc")


# --- create_app_token ---------------------------------------------------------------------


def test_it_creates_an_app_token_and_prints_id_and_token(partner):
    line = run("create_app_token", partner_id=partner.pk, privileges="setrole:CAPTURE_DEVICE_ROLE")
    token_id, token = line.rstrip("\n").split(" ")
    row = AppToken.objects.for_partner(partner).get(pk=token_id)
    assert row.token == token and len(token) == 32
    assert row.session_privileges == "setrole:CAPTURE_DEVICE_ROLE"
    assert row.hash_type == "SHA256"
    assert line.count("\n") == 1


def test_it_mints_a_token_of_32_hex_characters(partner):
    _, token = run("create_app_token", partner_id=partner.pk).split()
    assert re.fullmatch("[0-9a-f]{32}", token)


def test_it_takes_the_hash_type_in_any_case(partner):
    token_id, _ = run("create_app_token", partner_id=partner.pk, hash_type="sha1").split()
    assert AppToken.objects.get(pk=token_id).hash_type == "SHA1"


def test_it_stores_the_description(partner):
    token_id, _ = run("create_app_token", partner_id=partner.pk, description="Room 101 camera").split()
    assert AppToken.objects.get(pk=token_id).description == "Room 101 camera"


def test_it_refuses_an_unknown_hash_type(partner):
    with pytest.raises(CommandError):
        run("create_app_token", partner_id=partner.pk, hash_type="CRC32")
    assert not AppToken.objects.exists()


def test_it_refuses_an_unknown_partner(db):
    with pytest.raises(CommandError, match="does not exist"):
        run("create_app_token", partner_id=999)


def test_it_refuses_a_role_the_server_does_not_know(partner):
    with pytest.raises(CommandError, match="Unknown role 'ADMIN_ROLE'"):
        run("create_app_token", partner_id=partner.pk, privileges="setrole:ADMIN_ROLE")
    assert not AppToken.objects.exists()
