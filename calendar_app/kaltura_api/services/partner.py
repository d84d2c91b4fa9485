"""partner: getInfo, the account a session belongs to (docs/kaltura-compatibility.md §4). A sync
client's "test connection" reads it; its secrets are never part of the answer here."""

from __future__ import annotations

from calendar_app.kaltura_api.auth import Access
from calendar_app.kaltura_api.dispatch import Call, action
from calendar_app.kaltura_api.objects import render

SERVICE = "partner"


@action(SERVICE, "getInfo", access=Access.ADMIN)
def get_info(call: Call):
    return render("KalturaPartner", call.partner)
