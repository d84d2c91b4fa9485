"""The device's loop: poll the schedule, start what is due, upload what has ended, then sleep
until the next of those moments (or the next poll). Every step is one line in the log.

A failed poll keeps the last schedule; a failed upload stays pending and is tried again after
the next poll. Bookings are keyed by (id, start), so a booking moved after it was recorded is
recorded again at its new time."""

from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import httpx

from calendar_app.capture_device import recorder, schedule, session, uploader
from calendar_app.capture_device.clock import Clock
from calendar_app.capture_device.recorder import Recording
from calendar_app.capture_device.schedule import Booking

log = logging.getLogger(__name__)
# Answers that mean the session is gone (Kaltura's codes): start a new one on the next poll.
SESSION_ERRORS = {"EXPIRED_KS", "INVALID_KS", "KS_EXPIRED"}
HTTP_TIMEOUT = 30.0


@dataclass(frozen=True)
class Settings:
    url: str
    app_token: session.AppToken
    resource_id: int
    work_dir: Path
    poll_seconds: float = 60.0
    chunk_bytes: int = uploader.CHUNK_BYTES


class Device:
    def __init__(self, settings: Settings, clock: Clock):
        self.settings = settings
        self.clock = clock
        self.http = httpx.Client(base_url=settings.url, timeout=HTTP_TIMEOUT)
        self.session: session.Session | None = None
        self.etag = ""
        self.next_poll: datetime | None = None
        self.bookings: list[Booking] = []
        self.started: set[tuple[int, datetime]] = set()
        self.recording: dict[int, Recording] = {}  # booking id -> recorded, not yet uploaded
        self.streaming: dict[int, Booking] = {}
        self.uploaded: dict[int, str] = {}  # booking id -> media entry id

    def step(self) -> datetime:
        """One pass at the clock's now; returns when the next one is due."""
        now = self.clock.now()
        if self.next_poll is None or now >= self.next_poll:
            self.next_poll = now + timedelta(seconds=self.settings.poll_seconds)
            self._poll(now)
        for booking in self.bookings:
            if booking.start <= now < booking.end and self._key(booking) not in self.started:
                self._start(booking)
        self._finish_ended(now)
        return self._next_wake(now)

    def close(self) -> None:
        self.http.close()

    @staticmethod
    def _key(booking: Booking) -> tuple[int, datetime]:
        return booking.id, booking.start

    # ------------------------------------------------------------ the schedule

    def _poll(self, now: datetime) -> None:
        try:
            current = self._session(now)
            answer = schedule.poll(self.http, current.ks, self.settings.resource_id, now, self.etag)
        except schedule.ScheduleError as error:
            self._forget_session_on(error.code)
            log.warning("poll failed: %s", error)
            return
        except (httpx.HTTPError, *uploader.FAILURES) as error:
            log.warning("poll failed: %s", error)
            return
        if answer.bookings is None:
            log.info("poll: schedule unchanged (304 Not Modified)")
            return
        self.etag = answer.etag
        self.bookings = [b for b in answer.bookings if not b.cancelled]
        self._follow_changes()
        log.info("poll: %d booking(s) on resource %s", len(self.bookings), self.settings.resource_id)

    def _follow_changes(self) -> None:
        # A recording in progress ends when its booking now ends (a lecture extended or cut short).
        current = {b.id: b for b in self.bookings}
        for booking_id, recording in self.recording.items():
            if booking_id in current and current[booking_id].start == recording.booking.start:
                self.recording[booking_id] = dataclasses.replace(recording, booking=current[booking_id])

    def _session(self, now: datetime) -> session.Session:
        if self.session is None or self.session.is_due_for_renewal(now):
            self.session = session.start(self.settings.url, self.settings.app_token)
            log.info("session: app token %s, until %s", self.settings.app_token.id, self.session.expires_at)
        return self.session

    def _forget_session_on(self, code: str) -> None:
        if code in SESSION_ERRORS:
            self.session = None

    # ------------------------------------------------------------ recording and streaming

    def _start(self, booking: Booking) -> None:
        self.started.add(self._key(booking))
        if booking.is_live:
            self.streaming[booking.id] = booking
            log.info(
                "live %s %r: streaming to %s as %s",
                booking.id,
                booking.summary,
                booking.rtmp_endpoint or "(no endpoint)",
                booking.stream_name or "(no stream name)",
            )
            return
        if recorder.receipt_for(booking, self.settings.work_dir).exists():
            log.info("record %s %r: already uploaded before a restart", booking.id, booking.summary)
            return
        recording = recorder.record(booking, self.settings.work_dir)
        self.recording[booking.id] = recording
        log.info("record %s %r: recording to %s", booking.id, booking.summary, recording.path)

    def _finish_ended(self, now: datetime) -> None:
        for booking_id, booking in list(self.streaming.items()):
            if now >= booking.end:
                del self.streaming[booking_id]
                log.info("live %s %r: ended, stream stopped", booking_id, booking.summary)
        for recording in list(self.recording.values()):
            if now >= recording.booking.end:
                self._upload(now, recording)

    def _upload(self, now: datetime, recording: Recording) -> None:
        booking = recording.booking
        log.info("upload %s %r: %s", booking.id, booking.summary, recording.path.name)
        try:
            client = self._session(now).client
            entry_id = uploader.upload(client, recording, self.settings.chunk_bytes)
        except uploader.FAILURES as error:
            self._forget_session_on(getattr(error, "code", ""))
            log.warning("upload %s failed, trying again after the next poll: %s", booking.id, error)
            return
        recording.receipt.write_text(entry_id + "\n")
        del self.recording[booking.id]
        self.uploaded[booking.id] = entry_id
        log.info("upload %s %r: done, entry %s", booking.id, booking.summary, entry_id)

    def _next_wake(self, now: datetime) -> datetime:
        assert self.next_poll is not None
        moments = [self.next_poll]
        moments += [b.start for b in self.bookings if b.start > now and self._key(b) not in self.started]
        moments += [r.booking.end for r in self.recording.values() if r.booking.end > now]
        moments += [b.end for b in self.streaming.values() if b.end > now]
        return min(moments)


def run(settings: Settings, clock: Clock, *, until: datetime | None = None, once: bool = False) -> Device:
    """Run the device: one pass with `once`, else until `until` (or for ever)."""
    device = Device(settings, clock)
    log.info(
        "device for resource %s at %s, files in %s", settings.resource_id, settings.url, settings.work_dir
    )
    try:
        while True:
            wake = device.step()
            if once or (until is not None and clock.now() >= until):
                return device
            if until is not None:
                wake = min(wake, until)
            clock.sleep((wake - clock.now()).total_seconds())
    finally:
        device.close()
