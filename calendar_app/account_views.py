"""Account pages beside Django's login and logout: switching the session's partner."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_POST

from calendar_app import access


@login_required
@require_POST
def switch_partner(request: HttpRequest) -> HttpResponse:
    try:
        partner_id = int(request.POST.get("partner", ""))
    except ValueError:
        partner_id = 0
    if not access.switch(request, partner_id):
        messages.error(request, "You are not a member of that partner.")
    return redirect("calendar:home")
