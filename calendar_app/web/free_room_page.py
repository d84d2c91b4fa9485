"""Find a free room: placeholder until the page lands."""

from __future__ import annotations

from django.http import HttpResponse
from django.views.decorators.http import require_GET

from calendar_app.web.access import MemberRequest, member_required


@require_GET
@member_required()
def find(request: MemberRequest) -> HttpResponse:
    return HttpResponse("Not yet", status=501)
