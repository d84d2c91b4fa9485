"""Who a web request acts as: the signed-in user's membership in the partner chosen for this
session. Views never read the partner from anywhere else, so every page is scoped to it.

A user may belong to several partners (a media team serving two schools); the session remembers
the one they switched to, and falls back to their first membership by partner name.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django_htmx.middleware import HtmxDetails

from calendar_app import clock, scheduling, writes
from calendar_app.models import AuditEntry, EventStatus, EventType, Membership, Partner, ScheduleEvent

SESSION_KEY = "partner_id"
Role = Membership.Role
RANK = {Role.VIEWER: 0, Role.SCHEDULER: 1, Role.ADMIN: 2}


@dataclass(frozen=True)
class Access:
    membership: Membership
    memberships: list[Membership]  # all of the user's, for the partner switcher

    @property
    def partner(self) -> Partner:
        return self.membership.partner

    @property
    def role(self) -> str:
        return self.membership.role

    @property
    def role_label(self) -> str:
        return self.membership.get_role_display()

    def allows(self, role: str) -> bool:
        return RANK[self.role] >= RANK[role]

    @property
    def can_book(self) -> bool:
        return self.allows(Role.SCHEDULER)

    @property
    def can_admin(self) -> bool:
        return self.allows(Role.ADMIN)

    @property
    def may_book_anyway(self) -> bool:
        """Who may save a booking despite its conflicts. Where the partner prevents conflicts,
        that is a policy an admin set: only admins may override it."""
        return self.can_admin if self.partner.prevent_conflicts else self.can_book

    def on_conflict(self, anyway: bool) -> scheduling.OnConflict:
        """Conflicts are refused unless the user asked to book anyway and may do so."""
        if anyway and self.may_book_anyway:
            return scheduling.OnConflict.BOOK_ANYWAY
        return scheduling.OnConflict.REFUSE

    def can_edit(self, event: ScheduleEvent) -> bool:
        """Schedulers edit bookings; blackouts are the admins' (closing dates is their decision).
        Only active events: a cancelled one stays as it was."""
        if event.status != EventStatus.ACTIVE:
            return False
        return self.can_admin if event.type == EventType.BLACKOUT else self.can_book

    def actor(self, request: HttpRequest) -> writes.Actor:
        return writes.Actor(
            partner=self.partner, now=clock.now(), user_id=request.user.get_username(),
            source=AuditEntry.Source.WEB,
        )  # fmt: skip


class MemberRequest(HttpRequest):
    """A request member_required let through: whom it acts as, and django-htmx's details."""

    access: Access
    htmx: HtmxDetails


def access_of(request: HttpRequest) -> Access | None:
    """The request's access, or None for a user without any membership."""
    memberships = list(
        Membership.objects.filter(user_id=request.user.pk).select_related("partner").order_by("partner__name")
    )
    if not memberships:
        return None
    chosen = request.session.get(SESSION_KEY)
    current = next((m for m in memberships if m.partner_id == chosen), memberships[0])
    return Access(current, memberships)


def switch(request: HttpRequest, partner_id: int) -> bool:
    """Make `partner_id` the session's partner, if the user is a member of it."""
    if not Membership.objects.filter(user_id=request.user.pk, partner_id=partner_id).exists():
        return False
    request.session[SESSION_KEY] = partner_id
    return True


def context(request: HttpRequest) -> dict:
    """Template context processor: `access` on every page a member_required view renders."""
    return {"access": getattr(request, "access", None)}


def member_required(role: str = Role.VIEWER) -> Callable:
    """Views behind it get `request.access` (they take a MemberRequest); anonymous users go to
    the login page, members with too small a role get 403, users without a membership a page
    that says so. Templates show times in the partner's zone (Django converts aware datetimes
    to the current zone)."""

    def decorate(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @functools.wraps(view)
        def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            access = access_of(request)
            if access is None:
                return render(request, "calendar_app/no_membership.html", status=403)
            if not access.allows(role):
                raise PermissionDenied(f"needs the {role} role")
            request.access = access
            with timezone.override(access.partner.zone):
                return view(request, *args, **kwargs)

        return wrapped

    return decorate
