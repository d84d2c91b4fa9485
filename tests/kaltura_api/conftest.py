"""The official Kaltura client against a live test server: what capture devices and scripts
run against us. `live_server` makes these tests transactional: the server thread must see
the rows a test writes."""

from __future__ import annotations

import pytest
from KalturaClient import KalturaClient, KalturaConfiguration
from KalturaClient.Plugins.Core import KalturaSessionType

from tests.kaltura_api.builders import add_resource, hours_from_now, location


@pytest.fixture
def service_url(live_server) -> str:
    return live_server.url


@pytest.fixture
def client_for(service_url):
    """A fresh official client pointed at the test server, optionally with a KS."""

    def build(ks: str | None = None) -> KalturaClient:
        config = KalturaConfiguration()
        config.serviceUrl = service_url
        client = KalturaClient(config)
        if ks:
            client.setKs(ks)
        return client

    return build


def start_session(
    client: KalturaClient, partner, *, admin: bool = True, user_id: str = "alice", privileges=None
):
    secret = partner.admin_secret if admin else partner.secret
    kind = KalturaSessionType.ADMIN if admin else KalturaSessionType.USER
    if privileges is None:
        return client.session.start(secret, user_id, kind, partner.pk)
    return client.session.start(secret, user_id, kind, partner.pk, 86400, privileges)


@pytest.fixture
def admin_client(client_for, partner) -> KalturaClient:
    """Alice's admin session (partner 101)."""
    client = client_for()
    client.setKs(start_session(client, partner))
    return client


@pytest.fixture
def soon() -> int:
    """Two days ahead, on a whole minute: when most test bookings start."""
    return hours_from_now(48)


@pytest.fixture
def room(admin_client):
    """Alice's "Hall 1", added through the API."""
    return add_resource(admin_client, location("Hall 1"))


@pytest.fixture
def outsider_client(client_for, outsider_partner) -> KalturaClient:
    """Charlie's admin session (partner 202): must find nothing of Alice's."""
    client = client_for()
    client.setKs(start_session(client, outsider_partner, user_id="charlie"))
    return client
