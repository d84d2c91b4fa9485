"""The booking panel's template entries (booking_entries.py, forms.py): a live stream takes a
live entry, a recording or a meeting a media entry, deleted ones are never offered, and an edit
never drops the template it was given. The details name the template and the recordings.

Edits are posted as Chromium would send the panel back (lxml's form_values: each select's
selected option, or its first), because the template the old panel lost was the one its select
could not show."""

from __future__ import annotations

import lxml.html
import pytest

from calendar_app.errors import ValidationFailed
from calendar_app.models import Entry, EntryType, EventType, ScheduleEvent
from calendar_app.web import booking_entries
from calendar_app.web.forms import BookingForm
from tests.web.test_views import booking, lecture, stored, text, url

DELETED = Entry.Status.DELETED


@pytest.fixture(autouse=True)
def _pinned_clock(now):
    """Every view reads the pinned clock."""


@pytest.fixture
def make_entry(partner):
    def build(name: str, type: str = EntryType.MEDIA, who=None, **extra) -> Entry:
        return Entry.objects.create(partner=who or partner, name=name, type=type, **extra)

    return build


@pytest.fixture
def room(make_resource):
    return make_resource("Lovelace 101")


@pytest.fixture
def capture(make_entry):
    return make_entry("Lecture capture template")


@pytest.fixture
def stream(make_entry):
    return make_entry("Lovelace 101 stream", EntryType.LIVE_STREAM)


@pytest.fixture
def live_lecture(make_event, room, stream):
    return lecture(
        make_event,
        summary="Streamed lecture",
        type=EventType.LIVE_STREAM,
        template_entry_id=stream.pk,
        resources=[room],
    )


def edit_panel(client, event) -> lxml.html.HtmlElement:
    response = client.get(url("edit", event.pk))
    assert response.status_code == 200
    return lxml.html.fromstring(response.content).forms[0]


def as_sent(form: lxml.html.HtmlElement, **changes) -> dict[str, list[str]]:
    """What the browser posts for the panel, with `changes` typed over it."""
    data: dict[str, list[str]] = {}
    for name, value in form.form_values():
        data.setdefault(name, []).append(value)
    return data | {name: [str(value)] for name, value in changes.items()}


def offered(form: lxml.html.HtmlElement) -> dict[str, list[str]]:
    """The template select's options by group ("" for those outside one), as their labels."""
    groups: dict[str, list[str]] = {}
    for option in form.xpath(".//select[@name='template_entry']//option"):
        group = option.getparent().get("label", "") if option.getparent().tag == "optgroup" else ""
        groups.setdefault(group, []).append(option.text_content())
    return groups


# ---------------------------------------------------------------- the choices


def test_a_new_booking_offers_every_template_by_type_and_no_deleted_one(
    scheduler, capture, stream, make_entry
):
    make_entry("Old template", status=DELETED)
    form = lxml.html.fromstring(scheduler.get(url("book")).content).forms[0]
    assert offered(form) == {
        "": ["None"],
        "Live entries": ["Lovelace 101 stream"],
        "Media entries": ["Lecture capture template"],
    }


def test_recordings_are_not_offered_as_templates(scheduler, capture, stream, make_entry):
    make_entry("Lecture 7 Sep", template_entry=capture)  # a recording made from the template
    form = lxml.html.fromstring(scheduler.get(url("book")).content).forms[0]
    assert offered(form)["Media entries"] == ["Lecture capture template"]


def test_a_live_booking_is_edited_with_the_live_entries(scheduler, live_lecture, capture):
    assert offered(edit_panel(scheduler, live_lecture)) == {
        "": ["None"],
        "Live entries": ["Lovelace 101 stream"],
    }


def test_a_recording_is_edited_with_the_media_entries(scheduler, make_event, capture, stream):
    recording = lecture(make_event, template_entry_id=capture.pk)
    assert offered(edit_panel(scheduler, recording)) == {
        "": ["None"],
        "Media entries": ["Lecture capture template"],
    }


def test_another_partners_entries_are_not_offered(scheduler, make_entry, outsider_partner):
    make_entry("Their stream", EntryType.LIVE_STREAM, who=outsider_partner)
    assert "Their stream" not in text(scheduler.get(url("book")))


# ---------------------------------------------------------------- editing keeps the template


def test_editing_a_live_booking_as_the_browser_sends_it_keeps_its_live_template(
    scheduler, live_lecture, stream
):
    response = scheduler.post(
        url("edit", live_lecture.pk), as_sent(edit_panel(scheduler, live_lecture), summary="Moved")
    )
    assert response.status_code == 200
    assert (stored(live_lecture).summary, stored(live_lecture).template_entry_id) == ("Moved", stream.pk)


def test_an_edit_keeps_a_deleted_template_it_cannot_offer(scheduler, live_lecture, stream):
    Entry.objects.filter(pk=stream.pk).update(status=DELETED)
    panel = edit_panel(scheduler, live_lecture)
    assert offered(panel)[""] == ["None", "Lovelace 101 stream (live, deleted), kept"]
    scheduler.post(url("edit", live_lecture.pk), as_sent(panel, summary="Moved"))
    assert (stored(live_lecture).summary, stored(live_lecture).template_entry_id) == ("Moved", stream.pk)


def test_an_edit_keeps_a_template_of_another_type(scheduler, make_event, stream, capture):
    recording = lecture(make_event, template_entry_id=stream.pk)  # as the API may have set it
    panel = edit_panel(scheduler, recording)
    assert "Lovelace 101 stream (live), kept" in offered(panel)[""]
    scheduler.post(url("edit", recording.pk), as_sent(panel, summary="Moved"))
    assert stored(recording).template_entry_id == stream.pk


def test_an_edit_that_sends_no_template_keeps_it(scheduler, live_lecture, stream):
    sent = as_sent(edit_panel(scheduler, live_lecture), summary="Moved")
    del sent["template_entry"]
    scheduler.post(url("edit", live_lecture.pk), sent)
    assert stored(live_lecture).template_entry_id == stream.pk


def test_choosing_none_clears_the_template(scheduler, live_lecture):
    scheduler.post(
        url("edit", live_lecture.pk), as_sent(edit_panel(scheduler, live_lecture), template_entry="")
    )
    assert stored(live_lecture).template_entry_id == ""


def test_an_edit_chooses_another_live_template(scheduler, live_lecture, make_entry):
    spare = make_entry("Spare stream", EntryType.LIVE_STREAM)
    scheduler.post(
        url("edit", live_lecture.pk), as_sent(edit_panel(scheduler, live_lecture), template_entry=spare.pk)
    )
    assert stored(live_lecture).template_entry_id == spare.pk


def test_the_live_check_of_an_edit_runs_with_a_kept_template(scheduler, live_lecture, stream):
    Entry.objects.filter(pk=stream.pk).update(status=DELETED)
    response = scheduler.post(url("form_check"), as_sent(edit_panel(scheduler, live_lecture)))
    assert response.status_code == 200 and "X-Conflicts" in response
    assert response["X-Conflicts"] == "0" and "not checked" not in text(response).lower()


# ---------------------------------------------------------------- choosing on a new booking


def test_a_live_booking_takes_a_live_template(scheduler, room, stream):
    response = scheduler.post(
        url("book"), booking(type=EventType.LIVE_STREAM, template_entry=stream.pk, resources=[room.pk])
    )
    assert response.status_code == 200
    assert ScheduleEvent.objects.get(summary="Algebra").template_entry_id == stream.pk


@pytest.mark.parametrize(
    ("booking_type", "entry", "message"),
    [
        (EventType.RECORD, "stream", "A recording takes a media entry as its template, not a live one."),
        (EventType.MEETING, "stream", "A meeting takes a media entry as its template, not a live one."),
        (
            EventType.LIVE_STREAM,
            "capture",
            "A live stream takes a live entry as its template, not a media one.",
        ),
    ],
)
def test_a_template_of_the_wrong_type_is_refused_on_the_field(
    scheduler, request, booking_type, entry, message
):
    chosen = request.getfixturevalue(entry)
    response = scheduler.post(url("book"), booking(type=booking_type, template_entry=chosen.pk))
    assert response.status_code == 422 and message in text(response)


def test_another_partners_entry_is_refused_on_the_field(scheduler, make_entry, outsider_partner):
    theirs = make_entry("Their stream", EntryType.LIVE_STREAM, who=outsider_partner)
    response = scheduler.post(url("book"), booking(type=EventType.LIVE_STREAM, template_entry=theirs.pk))
    assert response.status_code == 422
    assert f"No entry {theirs.pk} among this account&#x27;s templates; pick one from the list." in text(
        response
    )


def test_a_deleted_entry_is_refused(scheduler, make_entry):
    gone = make_entry("Old template", status=DELETED)
    response = scheduler.post(url("book"), booking(template_entry=gone.pk))
    assert response.status_code == 422 and f"No entry {gone.pk}" in text(response)


def test_a_refusal_of_the_write_path_about_the_template_names_its_field(partner, now):
    form = BookingForm(partner=partner)
    missing = ValidationFailed("template_entry_id", "no such entry", code="ENTRY_ID_NOT_FOUND")
    assert form.field_for(missing) == "template_entry"
    assert form.field_for(ValidationFailed("summary", "may not be empty")) == "summary"
    assert form.field_for(ValidationFailed("start", "out of range")) == "start_time"
    assert form.field_for(ValidationFailed("reference_id", "too long")) is None  # no such field: at the top


# ---------------------------------------------------------------- the details


def test_the_details_name_the_template_and_the_recordings(scheduler, make_event, make_entry, stream):
    first = make_entry("Lecture 7 Sep", file_size=1_500_000)
    pending = make_entry("Lecture 8 Sep", status=Entry.Status.NO_CONTENT)
    event = lecture(
        make_event,
        type=EventType.LIVE_STREAM,
        template_entry_id=stream.pk,
        entry_ids=f"{first.pk},{pending.pk},0_gone",
    )
    html = text(scheduler.get(url("event", event.pk)))
    assert "Lovelace 101 stream (live)" in html and stream.pk not in html
    assert "Lecture 7 Sep (ready, 1.4\xa0MB)<br>Lecture 8 Sep (no content)<br>0_gone (not found)" in html


def test_the_details_read_their_entries_in_one_query(
    partner, make_event, make_entry, stream, django_assert_num_queries
):
    recordings = [make_entry(f"Lecture {n}") for n in range(5)]
    event = lecture(make_event, template_entry_id=stream.pk, entry_ids=",".join(r.pk for r in recordings))
    with django_assert_num_queries(1):
        entries = booking_entries.of_event(partner, event)
    assert [r.name for r in entries.recordings] == [f"Lecture {n}" for n in range(5)]


def test_the_details_never_name_another_partners_entry(scheduler, make_event, make_entry, outsider_partner):
    theirs = make_entry("Their secret", who=outsider_partner)
    event = lecture(make_event, entry_ids=theirs.pk)
    html = text(scheduler.get(url("event", event.pk)))
    assert "Their secret" not in html and f"{theirs.pk} (not found)" in html
