"""Feed tokens: the secret in each resource's feed address (`/feeds/<token>.ics`, feeds.py).

Every door that gives a resource its token or rotates it comes here: the Feeds page, the admin
and seed_demo. A resource gets its token when its feed is first shown (resources made through
the API or the admin have none until then); rotating retires the old address at once, and is
audited.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from django.db import transaction

from calendar_app import writes
from calendar_app.errors import NotFound
from calendar_app.models import FeedToken, Partner, ResourceStatus, ScheduleResource
from calendar_app.writes import Actor


def ensure(partner: Partner, resources: Iterable[ScheduleResource], now: datetime) -> None:
    """Give the resources that have no feed token one, in one INSERT; each then has its `feed`.
    Load them with select_related("feed"), or the check for a token costs a query each."""
    missing = {r.pk: r for r in resources if not hasattr(r, "feed")}
    if missing:
        FeedToken.objects.bulk_create(
            [
                FeedToken(partner=partner, resource=r, created_at=now, rotated_at=now)
                for r in missing.values()
            ],
            ignore_conflicts=True,  # another request gave some of them a token first: read it back
        )
        for token in FeedToken.objects.for_partner(partner).filter(resource_id__in=missing):
            missing[token.resource_id].feed = token


def active_resources(partner: Partner, now: datetime) -> list[ScheduleResource]:
    """The partner's active resources, each with its feed token (made now if it had none)."""
    active = ScheduleResource.objects.for_partner(partner).filter(status=ResourceStatus.ACTIVE)
    resources = list(active.select_related("feed"))
    ensure(partner, resources, now)
    return resources


def rotate(actor: Actor, resource_id: int) -> FeedToken:
    """Give the partner's resource a new feed token (its first, if it had none), with the
    resource loaded. NotFound for a resource the partner does not have, or deleted."""
    with transaction.atomic():
        resource = _locked_resource(actor.partner, resource_id)
        made = {"partner": actor.partner, "created_at": actor.now, "rotated_at": actor.now}
        tokens = FeedToken.objects.select_related("resource")
        feed, created = tokens.get_or_create(resource=resource, defaults=made)
        before = None if created else {"feed_rotated_at": feed.rotated_at}
        if not created:
            feed.rotate(actor.now)
        # The tokens stay out of the audit trail: the new one is a secret.
        writes.audit_entry(actor, "rotate_feed", resource, before, {"feed_rotated_at": actor.now}).save()
    return feed


def _locked_resource(partner: Partner, resource_id: int) -> ScheduleResource:
    # Locked: two rotations of one resource take turns, and two first ones make one token.
    living = ScheduleResource.objects.for_partner(partner).exclude(status=ResourceStatus.DELETED)
    resource = living.select_for_update().filter(pk=resource_id).first()
    if resource is None:
        raise NotFound("resource", resource_id)
    return resource
