"""The web access layer (access.py, accounts.py, Django's login and logout): who gets in,
with which role, for which partner. Alice administers the partner under test, Bob only looks,
Charlie administers the outsider partner and must find nothing of Alice's."""

from __future__ import annotations

import pytest
from django.urls import reverse

from calendar_app import scheduling
from calendar_app.models import AuditEntry, EventType, FeedToken, Membership
from calendar_app.scheduling import OnConflict
from calendar_app.web.access import Access
from tests.conftest import PASSWORD

FEEDS = "/feeds/"


def page(client, url: str = FEEDS) -> str:
    response = client.get(url)
    assert response.status_code == 200
    return response.content.decode()


def rotate(client, resource):
    return client.post(reverse("calendar:rotate_feed", args=[resource.pk]))


def switch(client, partner_id, **extra):
    return client.post(reverse("calendar:switch_partner"), {"partner": partner_id}, **extra)


@pytest.fixture
def room(make_resource):
    return make_resource("Lovelace 101")


@pytest.fixture
def feed(room) -> FeedToken:
    return FeedToken.objects.create(partner_id=room.partner_id, resource=room)


@pytest.fixture
def outsider_room(make_resource, outsider):
    return make_resource("Charlie Hall 5", who=outsider)


@pytest.fixture
def outsider_feed(outsider_room) -> FeedToken:
    return FeedToken.objects.create(partner_id=outsider_room.partner_id, resource=outsider_room)


@pytest.fixture
def dana(make_member, partner, outsider_partner):
    """A media team member serving both partners."""
    make_member(partner, Membership.Role.VIEWER, "dana")
    return make_member(outsider_partner, Membership.Role.ADMIN, "dana")


def test_it_sends_anonymous_users_to_the_login_page_and_back(client, db):
    response = client.get(FEEDS)
    assert response.status_code == 302
    assert response.url == f"{reverse('login')}?next={FEEDS}"


def test_it_does_not_let_anonymous_users_rotate(client, feed, room):
    response = rotate(client, room)
    assert response.status_code == 302 and response.url.startswith(reverse("login"))
    assert FeedToken.objects.get(pk=feed.pk).token == feed.token


def test_the_login_page_signs_in_and_goes_on_to_next(client, alice):
    assert f'value="{FEEDS}"' in page(client, f"{reverse('login')}?next={FEEDS}")
    response = client.post(reverse("login"), {"username": "alice", "password": PASSWORD, "next": FEEDS})
    assert (response.status_code, response.url) == (302, FEEDS)
    assert "Calendar feeds" in page(client)


def test_a_wrong_password_shows_an_error(client, alice):
    response = client.post(reverse("login"), {"username": "alice", "password": "not it", "next": FEEDS})
    assert response.status_code == 200
    assert "Please enter a correct username and password" in response.content.decode()
    assert client.get(FEEDS).status_code == 302


def test_a_user_without_a_membership_is_told_so(client, django_user_model):
    client.force_login(django_user_model.objects.create_user("dora", password=PASSWORD))
    response = client.get(FEEDS)
    assert response.status_code == 403
    assert "not a member of any partner" in response.content.decode()


def test_a_viewer_sees_the_feeds(client, bob, feed, room):
    client.force_login(bob)
    assert room.name in page(client)
    assert feed.token in page(client)


@pytest.mark.parametrize("role", [Membership.Role.VIEWER, Membership.Role.SCHEDULER])
def test_only_an_admin_may_rotate(client, make_member, partner, feed, room, role):
    client.force_login(make_member(partner, role))
    assert rotate(client, room).status_code == 403
    assert FeedToken.objects.get(pk=feed.pk).token == feed.token
    assert not AuditEntry.objects.filter(action="rotate_feed").exists()


def test_an_admin_rotates_and_the_old_address_stops_working(client, alice, feed, room):
    client.force_login(alice)
    assert rotate(client, room).status_code == 302
    new = FeedToken.objects.get(pk=feed.pk).token
    assert new != feed.token
    assert client.get(reverse("feed", args=[feed.token])).status_code == 404
    assert client.get(reverse("feed", args=[new])).status_code == 200


def test_a_member_of_one_partner_has_no_switcher(client, bob):
    client.force_login(bob)
    assert 'id="partner-switch"' not in page(client)


def test_a_member_of_two_partners_has_a_switcher(client, dana, partner, outsider_partner):
    client.force_login(dana)
    html = page(client)
    assert 'id="partner-switch"' in html
    assert f'<option value="{outsider_partner.pk}">{outsider_partner.name}</option>' in html


def test_switching_changes_whose_feeds_are_listed(client, dana, room, outsider_room, outsider_partner):
    client.force_login(dana)
    assert room.name in page(client)  # Alice University: the first partner by name
    assert switch(client, outsider_partner.pk).status_code == 302
    html = page(client)
    assert outsider_room.name in html and room.name not in html


def test_switching_brings_the_role_in_that_partner(client, dana, outsider_partner):
    client.force_login(dana)
    assert "dana · Viewer" in page(client)
    switch(client, outsider_partner.pk)
    assert "dana · Admin" in page(client)


@pytest.mark.parametrize("partner_id", ["202", "999", "99999999999999999999", "nonsense", ""])
def test_switching_to_a_strangers_partner_is_refused(client, bob, room, outsider_room, partner_id):
    client.force_login(bob)
    response = switch(client, partner_id, follow=True)
    assert "You are not a member of that partner." in response.content.decode()
    html = page(client)
    assert room.name in html and outsider_room.name not in html


def test_a_lost_membership_falls_back_to_another(client, dana, room, outsider_room, outsider_partner):
    client.force_login(dana)
    switch(client, outsider_partner.pk)
    Membership.objects.filter(user=dana, partner=outsider_partner).delete()
    html = page(client)
    assert room.name in html and outsider_room.name not in html


def test_an_admin_cannot_rotate_another_partners_feed(client, alice, outsider_feed, outsider_room):
    client.force_login(alice)
    assert rotate(client, outsider_room).status_code == 404
    assert FeedToken.objects.get(pk=outsider_feed.pk).token == outsider_feed.token
    assert not AuditEntry.objects.filter(action="rotate_feed").exists()


def test_an_outsider_cannot_rotate_alices_feed(client, charlie, feed, room):
    client.force_login(charlie)
    assert rotate(client, room).status_code == 404
    assert FeedToken.objects.get(pk=feed.pk).token == feed.token


def test_an_admin_never_sees_another_partners_resources(client, alice, room, outsider_feed, outsider_room):
    client.force_login(alice)
    for url in (FEEDS, f"{FEEDS}?q=Charlie"):
        html = page(client, url)
        assert outsider_room.name not in html and outsider_feed.token not in html


def test_logout_is_a_post_and_ends_the_session(client, alice):
    client.force_login(alice)
    assert client.get(reverse("logout")).status_code == 405
    assert client.get(FEEDS).status_code == 200
    response = client.post(reverse("logout"))
    assert (response.status_code, response.url) == (302, reverse("login"))
    assert client.get(FEEDS).status_code == 302


# ---------------------------------------------------------------- what a role may do


def access_of(user) -> Access:
    [membership] = Membership.objects.filter(user=user).select_related("partner")
    return Access(membership, [membership])


@pytest.mark.parametrize(
    ("role", "booking", "blackout"),
    [
        (Membership.Role.VIEWER, False, False),
        (Membership.Role.SCHEDULER, True, False),
        (Membership.Role.ADMIN, True, True),
    ],
)
def test_schedulers_edit_bookings_and_admins_blackouts(
    make_member, partner, make_event, role, booking, blackout
):
    access = access_of(make_member(partner, role))
    lecture = make_event("2026-09-07 09:00", 60)
    closed = make_event("2026-09-08 00:00", 60, type=EventType.BLACKOUT)
    assert (access.can_edit(lecture), access.can_edit(closed)) == (booking, blackout)


def test_nobody_edits_a_cancelled_event(alice, actor, make_event):
    event = scheduling.cancel_event(actor, make_event().pk)
    assert not access_of(alice).can_edit(event)


@pytest.mark.parametrize(
    ("prevent", "role", "anyway"),
    [
        (False, Membership.Role.SCHEDULER, True),
        (True, Membership.Role.SCHEDULER, False),
        (True, Membership.Role.ADMIN, True),
    ],
)
def test_book_anyway_is_honoured_for_those_who_may(make_member, partner, prevent, role, anyway):
    partner.prevent_conflicts = prevent
    partner.save()
    access = access_of(make_member(partner, role))
    assert access.on_conflict(True) == (OnConflict.BOOK_ANYWAY if anyway else OnConflict.REFUSE)
    assert access.on_conflict(False) == OnConflict.REFUSE
