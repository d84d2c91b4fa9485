"""partner.getInfo through the official client: the account of the session, no secret in it."""

from __future__ import annotations

import pytest
from django.test import Client
from KalturaClient.exceptions import KalturaException
from KalturaClient.Plugins.Core import KalturaPartner

from tests.kaltura_api.conftest import start_session


def test_an_admin_session_reads_its_own_account(admin_client, partner):
    info = admin_client.partner.getInfo()
    assert isinstance(info, KalturaPartner)
    assert (info.id, info.name, info.status.getValue()) == (partner.pk, "Alice University", 1)


def test_the_answer_carries_no_secret(admin_client, partner):
    body = Client().post(
        "/api_v3/service/partner/action/getInfo", {"ks": admin_client.getKs(), "format": "1"}
    )
    assert '"id":101' in body.content.decode().replace(" ", "")
    assert partner.admin_secret not in body.content.decode() and partner.secret not in body.content.decode()


def test_a_user_session_may_not_read_the_account(client_for, partner):
    client = client_for()
    client.setKs(start_session(client, partner, admin=False))
    with pytest.raises(KalturaException) as refused:
        client.partner.getInfo()
    assert refused.value.code == "SERVICE_FORBIDDEN"
