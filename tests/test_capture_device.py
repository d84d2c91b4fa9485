"""The reference capture device (calendar_app/capture_device/, `manage.py capture_device`) end to
end: a scheduler books a camera in the web calendar, the device signs in with its app token over
HTTP, polls the camera's iCal, records at the start, uploads after the end with the official
client, and the recording comes back as an entry linked to the booking.

The device's clock and the server's (`calendar_app.clock`) move together and jump from one
wake-up to the next, so a morning of lectures runs in seconds. Alice's university is in
Europe/Berlin; the pinned "now" is Tuesday 1 September 2026, 08:00 UTC (10:00 in Berlin)."""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import sys
import threading
import wave
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from io import StringIO

import httpx
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse

from calendar_app import clock, scheduling, writes
from calendar_app.capture_device import loop, recorder, schedule, session, uploader
from calendar_app.models import Entry, EntryType, EventType, ResourceType, ScheduleEvent
from tests.conftest import at

TODAY = "2026-09-01"
DEVICE_LOG = "calendar_app.capture_device"
CHUNK = 700  # the synthetic recording is 2,044 bytes: three chunks


class FastForward:
    """A device clock whose sleep() returns at once, having moved the server's pinned clock too."""

    def __init__(self, start: datetime, pins: contextlib.ExitStack):
        self.moment = start
        self.wakeups: list[datetime] = []
        self._pins = pins
        pins.enter_context(clock.pinned(start))

    def now(self) -> datetime:
        return self.moment

    def sleep(self, seconds: float) -> None:
        self.moment += timedelta(seconds=max(0.0, seconds))
        self.wakeups.append(self.moment)
        self._pins.enter_context(clock.pinned(self.moment))


@pytest.fixture
def fast_clock(now):
    with contextlib.ExitStack() as pins:
        yield FastForward(now, pins)


@pytest.fixture(autouse=True)
def _media_in_tmp(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def camera(make_resource):
    room = make_resource("Lovelace 101")
    return make_resource("Lovelace 101 camera", ResourceType.CAMERA, parent_id=room.pk)


@pytest.fixture
def template(partner):
    return Entry.objects.create(
        partner=partner,
        name="Algebra template",
        description="Linear maps and their matrices",
        tags="algebra,maths",
        categories="Lectures>Mathematics",
        owner_id="prof.noether",
        entitled_users_edit="ta.artin",
        entitled_users_publish="dean.hilbert",
    )


@pytest.fixture
def stream(partner):
    return Entry.objects.create(
        partner=partner,
        type=EntryType.LIVE_STREAM,
        name="Lovelace 101 stream",
        primary_rtmp_endpoint="rtmp://ingest.example/live",
        stream_name="lovelace101",
    )


@pytest.fixture
def algebra(scheduler, camera, template) -> ScheduleEvent:
    """Booked in the web calendar: today 11:00-12:00 Berlin (09:00-10:00 UTC), recorded."""
    fields = {
        "summary": "Algebra",
        "type": EventType.RECORD,
        "day": TODAY,
        "start_time": "11:00",
        "end_time": "12:00",
        "template_entry": template.pk,
        "description": "",
        "resources": [camera.pk],
    }
    assert scheduler.post(reverse("calendar:book"), fields).status_code == 200
    return ScheduleEvent.objects.get(summary="Algebra")


@pytest.fixture
def live_lecture(make_event, camera, stream) -> ScheduleEvent:
    """Streamed right after it: 10:00-10:30 UTC."""
    return make_event(
        f"{TODAY} 10:00", 30, type=EventType.LIVE_STREAM, summary="Algebra live",
        resources=[camera], template_entry_id=stream.pk,
    )  # fmt: skip


@pytest.fixture
def device_token(partner) -> session.AppToken:
    out = _run_command(
        "create_app_token", "--partner-id", partner.pk, "--privileges", "setrole:CAPTURE_DEVICE_ROLE"
    )
    token_id, token = out.split()
    return session.AppToken(partner_id=partner.pk, id=token_id, token=token, hash_type="SHA256")


@pytest.fixture
def device_settings(live_server, device_token, camera, tmp_path) -> loop.Settings:
    return loop.Settings(
        url=live_server.url,
        app_token=device_token,
        resource_id=camera.pk,
        work_dir=tmp_path / "device",
        poll_seconds=15 * 60,
        chunk_bytes=CHUNK,
    )


@pytest.fixture
def morning(device_settings, fast_clock, algebra, live_lecture, caplog):
    """The device run from 08:00 to 10:45 UTC: the recording, then the live stream."""
    caplog.set_level(logging.INFO, logger=DEVICE_LOG)
    return loop.run(device_settings, fast_clock, until=at(f"{TODAY} 10:45"))


def _run_command(*args) -> str:
    out = StringIO()
    call_command(*map(str, args), stdout=out)
    return out.getvalue()


def lines(caplog, containing: str) -> list[str]:
    """The device's log lines holding `containing`, from its run in the fixtures and in the test."""
    records = caplog.get_records("setup") + caplog.records
    return [m for m in (r.getMessage() for r in records if r.name.startswith(DEVICE_LOG)) if containing in m]


def recording_of(device: loop.Device, booking: ScheduleEvent) -> Entry:
    return Entry.objects.get(pk=device.uploaded[booking.pk])


# ---------------------------------------------------------------- the morning, end to end


def test_it_wakes_at_the_start_and_at_the_end(morning, fast_clock, algebra):
    assert algebra.start in fast_clock.wakeups
    assert algebra.end in fast_clock.wakeups


def test_it_records_a_small_valid_file_at_the_start(morning, algebra, caplog, device_settings):
    assert len(lines(caplog, f"record {algebra.pk} 'Algebra': recording to")) == 1
    [path] = device_settings.work_dir.glob(f"event-{algebra.pk}-*.wav")
    with wave.open(str(path)) as recorded:
        assert (recorded.getframerate(), recorded.getnframes()) == (recorder.RATE, 2000)


def test_it_uploads_in_chunks_after_the_end(morning, algebra, caplog):
    chunks = lines(caplog, "chunk at")
    assert [c.split(" of ")[0] for c in chunks] == ["chunk at 0", "chunk at 700", "chunk at 1400"]
    assert chunks[-1].endswith("(final)")


def test_the_recording_is_an_entry_with_the_templates_metadata(morning, algebra, template):
    entry = recording_of(morning, algebra)
    assert entry.name == f"Algebra ({TODAY})"
    assert (entry.description, entry.tags, entry.categories) == (
        template.description, template.tags, template.categories,
    )  # fmt: skip
    assert (entry.owner_id, entry.entitled_users_edit, entry.entitled_users_publish) == (
        "prof.noether", "ta.artin", "dean.hilbert",
    )  # fmt: skip
    assert (entry.template_entry_id, entry.media_type, entry.file_size) == (template.pk, recorder.AUDIO, 2044)


def test_the_recording_is_linked_to_the_booking(morning, algebra):
    algebra.refresh_from_db()
    assert morning.uploaded[algebra.pk] in algebra.entry_ids.split(",")


def test_the_bookings_details_list_the_recording(morning, algebra, scheduler):
    response = scheduler.get(reverse("calendar:event", args=[algebra.pk]))
    assert recording_of(morning, algebra).name in response.content.decode()


def test_a_live_booking_logs_the_endpoint_and_stream_name(morning, live_lecture, caplog):
    [started] = lines(caplog, f"live {live_lecture.pk} 'Algebra live': streaming to")
    assert started.endswith("rtmp://ingest.example/live as lovelace101")
    assert lines(caplog, f"live {live_lecture.pk} 'Algebra live': ended")


def test_a_live_booking_is_not_recorded(morning, live_lecture):
    assert live_lecture.pk not in morning.uploaded


def test_an_unchanged_schedule_is_answered_not_modified(morning, caplog):
    assert lines(caplog, "schedule unchanged (304 Not Modified)")


# ---------------------------------------------------------------- a chunk lost on the way


class LosesOneAnswer(BaseHTTPRequestHandler):
    """A loopback proxy to the live server that passes every request on but loses the answer
    to the second chunk: the server has stored it, the device sees a failure."""

    target = ""
    chunks = 0

    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        answer = httpx.post(
            self.target + self.path, content=body, headers={"Content-Type": self.headers["Content-Type"]}
        )
        if "uploadtoken/action/upload" in self.path:
            type(self).chunks += 1
            if self.chunks == 2:
                self.send_error(502)
                return
        self.send_response(answer.status_code)
        self.send_header("Content-Type", answer.headers["Content-Type"])
        self.send_header("Content-Length", str(len(answer.content)))
        self.end_headers()
        self.wfile.write(answer.content)

    def log_message(self, *args):
        pass  # the test's output is the device's log


@pytest.fixture
def lossy_url(live_server):
    handler = type("Handler", (LosesOneAnswer,), {"target": live_server.url})
    with ThreadingHTTPServer(("127.0.0.1", 0), handler) as proxy:
        threading.Thread(target=proxy.serve_forever, daemon=True).start()
        yield f"http://127.0.0.1:{proxy.server_address[1]}"
        proxy.shutdown()


def test_a_chunk_whose_answer_is_lost_is_sent_again_at_its_offset(
    lossy_url, device_token, template, now, tmp_path, caplog
):
    booking = schedule.Booking(
        id=1, type=schedule.RECORD, summary="Algebra", start=now, end=now, template_entry_id=template.pk
    )
    recording = recorder.record(booking, tmp_path)
    entry_id = uploader.upload(session.start(lossy_url, device_token).client, recording, CHUNK)
    assert lines(caplog, "chunk at 700 of") and lines(caplog, "failed")
    with Entry.objects.get(pk=entry_id).media_file.open("rb") as stored:
        assert stored.read() == recording.path.read_bytes()


# ---------------------------------------------------------------- what it must not do


def test_another_partners_camera_shows_it_nothing(
    device_settings, fast_clock, algebra, make_resource, outsider
):
    theirs = make_resource("Charlie Hall camera", ResourceType.CAMERA, who=outsider)
    their_booking = scheduling.create_event(
        outsider, {"type": EventType.RECORD, "summary": "Secret", "start": algebra.start, "end": algebra.end},
        resource_ids=[theirs.pk],
    )  # fmt: skip
    settings = dataclasses.replace(device_settings, resource_id=theirs.pk)
    device = loop.run(settings, fast_clock, until=at(f"{TODAY} 10:15"))
    assert (device.bookings, device.started, device.uploaded) == ([], set(), {})
    assert their_booking.start < at(f"{TODAY} 10:15")


def test_a_cancelled_booking_is_not_recorded(device_settings, fast_clock, algebra, actor):
    scheduling.cancel_event(actor, algebra.pk)
    device = loop.run(device_settings, fast_clock, until=at(f"{TODAY} 10:15"))
    assert device.uploaded == {} and not device.started


def test_a_bad_session_is_a_schedule_error_with_kalturas_code(live_server, camera, now):
    with httpx.Client(base_url=live_server.url) as http, pytest.raises(schedule.ScheduleError) as err:
        schedule.poll(http, "not-a-ks", camera.pk, now)
    assert err.value.code == "INVALID_KS"


# ---------------------------------------------------------------- the command


def test_the_command_records_what_is_under_way(live_server, device_token, partner, tmp_path):
    real = writes.Actor(partner=partner, now=clock.now(), user_id="alice")
    camera = scheduling.create_resource(real, {"type": ResourceType.CAMERA, "name": "Cam"})
    booking = scheduling.create_event(
        real, {"type": EventType.RECORD, "summary": "Now", "start": real.now - timedelta(minutes=5),
               "end": real.now + timedelta(hours=1)}, resource_ids=[camera.pk],
    )  # fmt: skip
    out = _run_command(
        "capture_device", "--url", live_server.url, "--partner-id", partner.pk,
        "--app-token-id", device_token.id, "--app-token", device_token.token,
        "--resource-id", camera.pk, "--work-dir", tmp_path, "--once",
    )  # fmt: skip
    assert f"record {booking.pk} 'Now': recording to" in out
    assert len(list(tmp_path.glob(f"event-{booking.pk}-*.wav"))) == 1


def test_the_command_says_what_to_install_without_the_client(monkeypatch):
    for name in [m for m in sys.modules if m.startswith(("KalturaClient", "calendar_app.capture_device"))]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "KalturaClient", None)  # what an absent package raises on import
    with pytest.raises(CommandError, match=r"pip install -e '\.\[device\]'"):
        call_command("capture_device", "--url", "http://x", "--partner-id", "1", "--app-token-id", "a",
                     "--app-token", "b", "--resource-id", "1", "--once")  # fmt: skip


@pytest.mark.parametrize(
    ("option", "value"), [("--hash-type", "SHA3"), ("--poll-seconds", "0"), ("--until", "soon")]
)
def test_the_command_refuses_bad_options(option, value):
    with pytest.raises(CommandError, match=option):
        call_command("capture_device", "--url", "http://x", "--partner-id", "1", "--app-token-id", "a",
                     "--app-token", "b", "--resource-id", "1", "--once", option, value)  # fmt: skip
