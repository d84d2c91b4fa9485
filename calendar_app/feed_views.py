"""The feeds page: each resource's iCal feed address (placeholder until the page lands)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from calendar_app.access import member_required


@member_required()
def feeds_page(request: HttpRequest) -> HttpResponse:
    return render(request, "calendar_app/base.html", {"section": "feeds"})
