"""The device's Kaltura session, from its app token (Kaltura's appToken flow): a widget session
for the partner, then the token's id and hash(widget KS + token) traded for the device's KS,
limited by the token's privileges. Renewed before it expires."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from KalturaClient import KalturaClient, KalturaConfiguration

HASH_TYPES = ("MD5", "SHA1", "SHA256", "SHA512")  # KalturaAppTokenHashType
# A session is renewed this long before it expires, so no request is sent with a dying KS.
RENEW_BEFORE = timedelta(minutes=5)


@dataclass(frozen=True)
class AppToken:
    partner_id: int
    id: str
    token: str
    hash_type: str = "SHA256"


@dataclass
class Session:
    client: KalturaClient
    ks: str
    expires_at: datetime

    def is_due_for_renewal(self, now: datetime) -> bool:
        return now >= self.expires_at - RENEW_BEFORE


def token_hash(widget_ks: str, app_token: AppToken) -> str:
    return hashlib.new(app_token.hash_type.lower(), (widget_ks + app_token.token).encode()).hexdigest()


def start(service_url: str, app_token: AppToken) -> Session:
    config = KalturaConfiguration()
    config.serviceUrl = service_url
    client = KalturaClient(config)
    widget = client.session.startWidgetSession(f"_{app_token.partner_id}")
    client.setKs(widget.ks)
    info = client.appToken.startSession(app_token.id, token_hash(widget.ks, app_token))
    client.setKs(info.ks)
    return Session(client=client, ks=info.ks, expires_at=datetime.fromtimestamp(info.expiry, UTC))
