"""feed_tokens.py: each resource's feed token, made on first sight, rotated with an audit entry."""

from __future__ import annotations

import pytest

from calendar_app import feed_tokens, scheduling
from calendar_app.errors import NotFound
from calendar_app.models import AuditEntry, FeedToken, ResourceStatus, ScheduleResource


def loaded(*resources) -> list[ScheduleResource]:
    """The resources as the doors load them: each with its token, if it has one."""
    rows = ScheduleResource.objects.select_related("feed").filter(pk__in=[r.pk for r in resources])
    return list(rows.order_by("pk"))


def test_it_gives_the_resources_without_a_token_one_in_one_insert(
    partner, make_resource, now, django_assert_num_queries
):
    resources = loaded(make_resource(), make_resource())
    with django_assert_num_queries(2):  # the INSERT, and reading the tokens back
        feed_tokens.ensure(partner, resources, now)
    assert [r.feed.created_at for r in resources] == [now, now]
    assert FeedToken.objects.count() == 2


def test_it_keeps_a_token_a_resource_has(partner, make_resource, now, django_assert_num_queries):
    resource = make_resource()
    kept = FeedToken.objects.create(partner=partner, resource=resource)
    resources = loaded(resource)
    with django_assert_num_queries(0):
        feed_tokens.ensure(partner, resources, now)
    assert resources[0].feed.token == kept.token


def test_it_reads_back_a_token_another_request_made_first(partner, make_resource, now):
    resource = make_resource()
    stale = loaded(resource)
    feed_tokens.ensure(partner, loaded(resource), now)
    feed_tokens.ensure(partner, stale, now)
    assert stale[0].feed == FeedToken.objects.get(resource=resource)


def test_it_lists_the_active_resources_each_with_a_token(partner, make_resource, now):
    active, disabled = make_resource(), make_resource()
    ScheduleResource.objects.filter(pk=disabled.pk).update(status=ResourceStatus.DISABLED)
    (listed,) = feed_tokens.active_resources(partner, now)
    assert listed == active and listed.feed == FeedToken.objects.get(resource=active)


def test_it_rotates_a_token_and_audits_it_without_the_tokens(actor, make_resource, now):
    resource = make_resource()
    feed_tokens.ensure(actor.partner, [resource], now)
    old = resource.feed.token
    feed = feed_tokens.rotate(actor, resource.pk)
    assert feed.token != old and feed.resource == resource
    entry = AuditEntry.objects.get(action="rotate_feed")
    assert (entry.actor, entry.source, entry.object_id) == ("alice", "api", str(resource.pk))
    assert entry.before.keys() == entry.after.keys() == {"feed_rotated_at"}


def test_rotating_a_resource_without_a_token_gives_it_its_first(actor, make_resource, now):
    resource = make_resource()
    feed = feed_tokens.rotate(actor, resource.pk)
    assert FeedToken.objects.get(resource=resource) == feed
    assert AuditEntry.objects.get(action="rotate_feed").before is None


def test_it_rotates_nothing_of_another_partner_or_deleted(actor, outsider, make_resource):
    foreign = make_resource(who=outsider)
    deleted = scheduling.delete_resource(actor, make_resource().pk)
    for resource in (foreign, deleted):
        with pytest.raises(NotFound):
            feed_tokens.rotate(actor, resource.pk)
    assert not FeedToken.objects.exists()
    assert not AuditEntry.objects.filter(action="rotate_feed").exists()
