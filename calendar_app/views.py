"""The staff web calendar (issue #5): pages and the HTMX partials they swap."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from calendar_app.access import member_required


@member_required()
def calendar_page(request: HttpRequest, days: int) -> HttpResponse:
    return render(request, "calendar_app/base.html", {"section": "calendar"})
