"""The feeds page (web/feed_page.py): every active resource's feed address in tree order, a search
for one's room, tokens made on first sight, and rotation for admins."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest
from django.urls import reverse

from calendar_app import scheduling
from calendar_app.models import AuditEntry, FeedToken, ResourceStatus, ResourceType, ScheduleResource
from tests.conftest import NOW

FEEDS = "/feeds/"
HTMX = {"HTTP_HX_REQUEST": "true"}


class Rows(HTMLParser):
    """The resource ids of the page's rows, in order, each with its depth in the tree."""

    def __init__(self, html: str):
        super().__init__()
        self.depth, self.rows = 0, []
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        found = dict(attrs)
        self.depth += tag == "ul"
        if tag == "div" and found.get("class") == "feed":
            self.rows.append((int(found["id"].removeprefix("feed-")), self.depth))

    def handle_endtag(self, tag):
        self.depth -= tag == "ul"


def rows(response) -> list[tuple[int, int]]:
    assert response.status_code == 200
    return Rows(response.content.decode()).rows


def token_of(resource) -> str:
    return FeedToken.objects.get(resource=resource).token


@pytest.fixture
def campus(make_resource):
    """Names sorted alphabetically are not in tree order: B's building comes second."""
    b = make_resource("B Building")
    a = make_resource("A Building")
    z = make_resource("Z 101", parent_id=a.pk)
    camera = make_resource("Z 101 camera", type=ResourceType.CAMERA, parent_id=z.pk)
    c = make_resource("C 201", parent_id=b.pk)
    return {"a": a, "z": z, "camera": camera, "b": b, "c": c}


@pytest.fixture
def signed_in(client, alice):
    client.force_login(alice)
    return client


def test_it_lists_resources_under_their_location(signed_in, campus):
    c = campus
    expected = [(c["a"].pk, 1), (c["z"].pk, 2), (c["camera"].pk, 3), (c["b"].pk, 1), (c["c"].pk, 2)]
    assert rows(signed_in.get(FEEDS)) == expected


def test_it_shows_each_resources_type(signed_in, campus):
    html = signed_in.get(FEEDS).content.decode()
    assert html.count('<span class="type">Location</span>') == 4
    assert html.count('<span class="type">Camera</span>') == 1


def test_it_lists_only_active_resources(signed_in, campus, actor):
    scheduling.delete_resource(actor, campus["c"].pk)
    ScheduleResource.objects.filter(pk=campus["camera"].pk).update(status=ResourceStatus.DISABLED)
    assert [pk for pk, _ in rows(signed_in.get(FEEDS))] == [campus[k].pk for k in ("a", "z", "b")]


def test_it_shows_the_https_address_and_the_webcal_link(signed_in, campus):
    html = signed_in.get(FEEDS, secure=True).content.decode()
    token = token_of(campus["z"])
    assert f'value="https://testserver/feeds/{token}.ics"' in html
    assert f'href="webcal://testserver/feeds/{token}.ics"' in html


def test_its_addresses_take_the_scheme_of_the_request(signed_in, campus):
    html = signed_in.get(FEEDS).content.decode()
    token = token_of(campus["z"])
    assert f'value="http://testserver/feeds/{token}.ics"' in html
    assert f'href="webcal://testserver/feeds/{token}.ics"' in html


def test_its_addresses_serve_the_feeds(signed_in, campus):
    signed_in.get(FEEDS)
    response = signed_in.get(reverse("feed", args=[token_of(campus["z"])]))
    assert response.status_code == 200
    assert b"X-WR-CALNAME:Z 101" in response.content


def test_it_says_that_a_locations_feed_includes_its_cameras(signed_in, db):
    assert "A location's feed includes everything below it, such as its cameras." in (
        signed_in.get(FEEDS).content.decode()
    )


def test_it_gives_resources_without_a_feed_one_and_keeps_the_others(signed_in, campus):
    kept = FeedToken.objects.create(partner_id=campus["a"].partner_id, resource=campus["a"])
    signed_in.get(FEEDS)
    assert FeedToken.objects.count() == 5
    assert token_of(campus["a"]) == kept.token
    assert FeedToken.objects.get(resource=campus["z"]).created_at == NOW


def test_it_finds_a_room_by_part_of_its_name_with_the_locations_above(signed_in, campus):
    found = rows(signed_in.get(FEEDS, {"q": "c 2"}))
    assert found == [(campus["b"].pk, 1), (campus["c"].pk, 2)]


def test_a_search_for_a_room_shows_its_cameras_named_after_it(signed_in, campus):
    found = [pk for pk, _ in rows(signed_in.get(FEEDS, {"q": "Z 101"}))]
    assert found == [campus["a"].pk, campus["z"].pk, campus["camera"].pk]


def test_it_says_when_nothing_matches(signed_in, campus):
    response = signed_in.get(FEEDS, {"q": "Aula"})
    assert rows(response) == []
    assert "No resource name contains “Aula”" in response.content.decode()


def test_it_answers_an_htmx_search_with_the_list_alone(signed_in, campus):
    response = signed_in.get(FEEDS, {"q": "c 2"}, **HTMX)
    assert "<html" not in response.content.decode()
    assert rows(response) == [(campus["b"].pk, 1), (campus["c"].pk, 2)]


def test_it_answers_an_htmx_history_restore_with_the_whole_page(signed_in, campus):
    response = signed_in.get(FEEDS, {"q": "c 2"}, HTTP_HX_HISTORY_RESTORE_REQUEST="true", **HTMX)
    assert "<html" in response.content.decode()


def test_its_queries_do_not_grow_with_the_resources(signed_in, make_resource, django_assert_max_num_queries):
    for number in range(10):
        building = make_resource(f"Building {number}")
        room = make_resource(f"Room {number}", parent_id=building.pk)
        make_resource(f"Room {number} camera", type=ResourceType.CAMERA, parent_id=room.pk)
    with django_assert_max_num_queries(6):  # session, user, memberships, resources, insert, read back
        assert len(rows(signed_in.get(FEEDS))) == 30
    with django_assert_max_num_queries(4):
        assert len(rows(signed_in.get(FEEDS))) == 30


def test_a_viewer_has_no_rotate_button(client, bob, campus):
    client.force_login(bob)
    html = client.get(FEEDS).content.decode()
    assert "Rotate" not in html and "hx-confirm" not in html


def test_an_admin_has_a_rotate_button_that_asks_first(signed_in, campus):
    html = signed_in.get(FEEDS).content.decode()
    assert f'hx-post="{reverse("calendar:rotate_feed", args=[campus["z"].pk])}"' in html
    assert 'hx-confirm="Give Z 101 a new feed address? The current address stops working' in html


def test_rotating_answers_htmx_with_the_new_row(signed_in, campus):
    signed_in.get(FEEDS)
    response = signed_in.post(reverse("calendar:rotate_feed", args=[campus["z"].pk]), **HTMX)
    html = response.content.decode()
    assert "<html" not in html and f"/feeds/{token_of(campus['z'])}.ics" in html
    assert 'hx-swap-oob="innerHTML"' in html
    assert "Z 101 has a new feed address: the old one no longer works." in html


def test_rotating_without_htmx_goes_back_to_the_row_and_says_so(signed_in, campus):
    rotate = reverse("calendar:rotate_feed", args=[campus["z"].pk])
    response = signed_in.post(rotate, {"q": "Z 1"})
    assert response.url == f"{FEEDS}?q=Z+1#feed-{campus['z'].pk}"
    html = signed_in.get(response.url).content.decode()
    assert "Z 101 has a new feed address: the old one no longer works." in html


def test_rotating_is_audited(signed_in, campus):
    signed_in.get(FEEDS)
    signed_in.post(reverse("calendar:rotate_feed", args=[campus["z"].pk]))
    entry = AuditEntry.objects.get(action="rotate_feed")
    assert (entry.actor, entry.source, entry.at) == ("alice", AuditEntry.Source.WEB, NOW)
    assert (entry.object_type, entry.object_id) == ("ScheduleResource", str(campus["z"].pk))
    assert FeedToken.objects.get(resource=campus["z"]).rotated_at == NOW


def test_rotating_a_resource_without_a_feed_yet_gives_it_one(signed_in, campus):
    signed_in.post(reverse("calendar:rotate_feed", args=[campus["z"].pk]))
    assert FeedToken.objects.filter(resource=campus["z"]).count() == 1


def test_a_deleted_resources_feed_cannot_be_rotated(signed_in, campus, actor):
    scheduling.delete_resource(actor, campus["c"].pk)
    assert signed_in.post(reverse("calendar:rotate_feed", args=[campus["c"].pk])).status_code == 404


def test_rotating_needs_a_post(signed_in, campus):
    assert signed_in.get(reverse("calendar:rotate_feed", args=[campus["z"].pk])).status_code == 405


def test_it_tells_caches_that_htmx_gets_another_answer(signed_in, db):
    assert "HX-Request" in signed_in.get(FEEDS)["Vary"]
