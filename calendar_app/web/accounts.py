"""Account pages beside Django's login and logout: switching the session's partner."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_POST

from calendar_app.web import access


@login_required
@require_POST
def switch_partner(request: HttpRequest) -> HttpResponse:
    # A plain HttpRequest, not access.MemberRequest: not behind member_required, since a user
    # with no membership at all may ask too (and is told no), so there is no `request.access`.
    value = request.POST.get("partner", "")
    # A partner id has at most 10 digits; SQLite cannot even compare a number past 64 bits.
    partner_id = int(value) if value.isascii() and value.isdigit() and len(value) <= 10 else 0
    if not access.switch(request, partner_id):
        messages.error(request, "You are not a member of that partner.")
    return redirect("calendar:home")
