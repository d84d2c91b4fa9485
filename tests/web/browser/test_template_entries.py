"""The booking panel's template entries in Chromium at 1440 px: a live booking edited in the
panel keeps its live template (the panel once offered media entries only, and sent "None"), and
a new booking's template list follows the type chosen (calendar.js). Screenshots go to /tmp
for a person to look at, beside the suite's own in test-artifacts/."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from calendar_app.models import Entry, EntryType, EventType
from tests.web.browser import calendar_page as cal
from tests.web.browser.accounts import signed_in
from tests.web.browser.conftest import TIMEOUT_MS

pytestmark = pytest.mark.usefixtures("now")

WIDE = {"width": 1440, "height": 900}
WEDNESDAY = "2026-09-02"
SHOTS = Path("/tmp")


@pytest.fixture
def wide_page(browser, live_server) -> Iterator[Page]:
    context = browser.new_context(viewport=WIDE, base_url=live_server.url)
    context.set_default_timeout(TIMEOUT_MS)
    yield context.new_page()
    context.close()


@pytest.fixture
def room(make_resource):
    return make_resource("Lovelace 101")


@pytest.fixture
def stream(partner):
    return Entry.objects.create(partner=partner, name="Lovelace 101 stream", type=EntryType.LIVE_STREAM)


@pytest.fixture
def capture(partner):
    return Entry.objects.create(partner=partner, name="Lecture capture template")


@pytest.fixture
def live_lecture(make_event, room, stream, capture):
    return make_event(
        f"{WEDNESDAY} 10:00", 90, zone="Europe/Berlin", type=EventType.LIVE_STREAM,
        summary="Streamed lecture", template_entry_id=stream.pk, resources=[room],
    )  # fmt: skip


def test_it_edits_a_live_booking_and_keeps_its_live_template(
    wide_page, live_server, alice, live_lecture, stream
):
    page = signed_in(wide_page, live_server, alice)
    page.goto(f"{live_server.url}/calendar/day/?date={WEDNESDAY}")
    cal.booking(page, "Streamed lecture").click()
    panel = page.locator("#panel")
    expect(panel).to_contain_text("Lovelace 101 stream (live)")
    page.screenshot(path=SHOTS / "helperD-live-details.png", full_page=True)
    panel.get_by_role("button", name="Edit").click()
    template = panel.get_by_label("Template entry")
    expect(template).to_have_value(stream.pk)
    panel.get_by_label("Title").fill("Streamed lecture, room change")
    page.screenshot(path=SHOTS / "helperD-edit-live-template.png", full_page=True)
    panel.get_by_role("button", name="Save").click()
    expect(panel.get_by_role("status")).to_contain_text("Saved the booking")
    live_lecture.refresh_from_db()
    assert (live_lecture.summary, live_lecture.template_entry_id) == (
        "Streamed lecture, room change",
        stream.pk,
    )


def test_a_new_bookings_template_list_follows_its_type(wide_page, live_server, alice, room, stream, capture):
    page = signed_in(wide_page, live_server, alice)
    page.get_by_role("button", name="New booking").click()
    panel = page.locator("#panel")
    template = panel.get_by_label("Template entry")
    template.select_option(capture.pk)
    visible = "select => [...select.options].filter((o) => !o.hidden).map((o) => o.text)"
    assert template.evaluate(visible) == ["None", "Lecture capture template"]
    panel.get_by_label("Type").select_option(str(EventType.LIVE_STREAM))
    assert template.evaluate(visible) == ["None", "Lovelace 101 stream"]
    expect(template).to_have_value("")  # the media entry a live stream cannot take is let go
    page.screenshot(path=SHOTS / "helperD-new-live-template.png", full_page=True)
