"""The feeds page (issue #5): each resource's iCal feed address, to copy or subscribe to, so an
instructor can find the feed of their room; admins rotate a token that was shared too widely.
The feeds themselves are served by feeds.py."""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import urlencode

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST
from django.views.decorators.vary import vary_on_headers

from calendar_app import clock, feed_tokens
from calendar_app.errors import NotFound
from calendar_app.models import Membership, ScheduleResource
from calendar_app.web.access import MemberRequest, member_required


@dataclass
class Row:
    """A resource on the page, with the shown resources below it."""

    resource: ScheduleResource
    url: str
    children: list[Row] = field(default_factory=list)

    @property
    def webcal(self) -> str:
        return "webcal://" + self.url.partition("://")[2]


def feed_url(request: HttpRequest, token: str) -> str:
    """Absolute, in the scheme and host the page was asked for."""
    return request.build_absolute_uri(reverse("feed", args=[token]))


@member_required()
@vary_on_headers("HX-Request")  # the same URL answers with the page or, for htmx, its list
def feeds_page(request: MemberRequest) -> HttpResponse:
    partner, q = request.access.partner, request.GET.get("q", "").strip()
    resources = feed_tokens.active_resources(partner, clock.now())
    rows, count = tree(request, resources, q)
    context = {"section": "feeds", "rows": rows, "count": count, "q": q}
    if request.htmx and not request.htmx.history_restore_request:
        return render(request, "calendar_app/partials/feed_list.html", context)
    return render(request, "calendar_app/feeds.html", context)


def tree(request: HttpRequest, resources: list[ScheduleResource], q: str) -> tuple[list[Row], int]:
    """The resources as a tree: each under its parent, siblings by type, then name. With a search,
    the resources whose name holds it and the ones above them, which say where they are. Returns
    the top rows and how many rows there are in all."""
    by_pk = {r.pk: r for r in resources}
    shown = set(by_pk)
    if q:
        shown = set()
        for match in (r for r in resources if q.casefold() in r.name.casefold()):
            up: ScheduleResource | None = match
            while up is not None and up.pk not in shown:
                shown.add(up.pk)
                up = by_pk.get(up.parent_id)
    rows = {pk: Row(by_pk[pk], feed_url(request, by_pk[pk].feed.token)) for pk in shown}
    top: list[Row] = []
    for resource in sorted(resources, key=lambda r: (r.type, r.name.casefold(), r.pk)):
        if resource.pk in shown:
            parent = rows.get(resource.parent_id)  # a disabled parent is not shown: a top row then
            (parent.children if parent else top).append(rows[resource.pk])
    return top, len(rows)


@member_required(Membership.Role.ADMIN)
@require_POST
def rotate_feed(request: MemberRequest, resource_id: int) -> HttpResponse:
    try:
        feed = feed_tokens.rotate(request.access.actor(request), resource_id)
    except NotFound:
        raise Http404("No such resource") from None
    resource = feed.resource
    done = f"{resource.name} has a new feed address: the old one no longer works."
    q = request.POST.get("q", "")
    if request.htmx:
        row = Row(resource, feed_url(request, feed.token))
        return render(request, "calendar_app/partials/feed_row.html", {"row": row, "rotated": done, "q": q})
    messages.success(request, done)
    query = f"?{urlencode({'q': q})}" if q else ""
    return redirect(f"{reverse('calendar:feeds')}{query}#feed-{resource.pk}")
