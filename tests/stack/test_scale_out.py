"""Two web servers and two workers on one PostgreSQL and one Redis behave as one system: what is
written through server 0 is read through server 1, whatever holds it (the database, Redis, the
media folder, a worker). Each test would fail if that state lived in the process that wrote it:
a per-process session store, revocation list, feed version or upload manifest."""

from __future__ import annotations

import hashlib
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
from KalturaClient import KalturaClient, KalturaConfiguration
from KalturaClient.Plugins.Core import (
    KalturaBatchJobStatus,
    KalturaMediaEntry,
    KalturaMediaType,
    KalturaSessionType,
    KalturaUploadedFileTokenResource,
    KalturaUploadToken,
    KalturaUploadTokenStatus,
)
from KalturaClient.Plugins.Schedule import KalturaScheduleEventFilter, KalturaScheduleEventResource
from KalturaClient.Plugins.ScheduleBulkUpload import KalturaBulkUploadICalJobData

from tests.kaltura_api.builders import (
    add_event,
    add_resource,
    build,
    error_code,
    hours_from_now,
    ids,
    location,
    record,
    value,
)
from tests.stack.running import RunningStack, eventually

LIST = "/api_v3/service/schedule_scheduleevent/action/list"
ZONE = ZoneInfo("Europe/London")  # the demo partner's (seed_demo.PARTNER_ZONE)


def client_through(stack: RunningStack, server: int, ks: str | None = None) -> KalturaClient:
    config = KalturaConfiguration()
    config.serviceUrl = stack.url(server)
    client = KalturaClient(config)
    if ks:
        client.setKs(ks)
    return client


def new_room(client: KalturaClient) -> Any:
    """A room of this test's own: no other test's booking is in its feed or on its week."""
    return add_resource(client, location(f"Scale-out {uuid.uuid4().hex[:8]}"))


def unique(name: str) -> str:
    return f"{name} {uuid.uuid4().hex[:8]}"


# ---------------------------------------------------------------- the API


def test_an_event_added_through_one_server_is_got_and_listed_through_the_other(stack):
    first, second = stack.kaltura(0), stack.kaltura(1)
    summary = unique("Added on 0")
    added = add_event(first, record(hours_from_now(30 * 24), summary=summary), new_room(first))
    assert second.schedule.scheduleEvent.get(added.id).summary == summary
    listed = second.schedule.scheduleEvent.list(build(KalturaScheduleEventFilter, idEqual=added.id))
    assert ids(listed) == [added.id]


def test_a_session_started_on_one_server_works_on_the_other_until_ended_there(stack):
    partner_id, secret = stack.credentials()
    ks = client_through(stack, 0).session.start(secret, "scale", KalturaSessionType.ADMIN, partner_id)
    # Each of server 1's processes remembers the session (kaltura_api/session_memo.py)...
    for _ in range(8):
        assert client_through(stack, 1, ks).schedule.scheduleEvent.list().totalCount >= 0
    client_through(stack, 0, ks).session.end()
    # ...and forgets it at once: a revocation known only to the ending process would let one answer.
    for _ in range(8):
        assert error_code(client_through(stack, 1, ks).schedule.scheduleEvent.list) == "INVALID_KS"


# ---------------------------------------------------------------- feeds


def test_a_change_through_one_server_moves_the_feed_the_other_answered_304_for(stack):
    writer = stack.kaltura(0)
    room = new_room(writer)
    add_event(writer, record(hours_from_now(24), summary=unique("Before")), room)
    token = feed_token(stack, room.id)
    with stack.http(1) as reader:
        etag = unchanged_after_first_poll(reader, f"/feeds/{token}.ics")
        moved = writer.schedule.scheduleEvent.add(record(hours_from_now(48), summary=unique("After")))
        writer.schedule.scheduleEventResource.add(link_of(moved.id, room.id))
        after = reader.get(f"/feeds/{token}.ics", headers={"If-None-Match": etag})
    assert after.status_code == 200 and after.headers["ETag"] != etag
    assert moved.summary in after.text


def test_a_change_through_one_server_moves_the_device_list_the_other_answered_304_for(stack):
    writer = stack.kaltura(0)
    room = new_room(writer)
    add_event(writer, record(hours_from_now(24), summary=unique("Before")), room)
    params = {
        "ks": writer.getKs(), "format": "ical", "filter[objectType]": "KalturaScheduleEventFilter",
        "filter[resourceIdsLike]": str(room.id),
    }  # fmt: skip
    with stack.http(1, params=params) as reader:
        etag = unchanged_after_first_poll(reader, LIST)
        moved = writer.schedule.scheduleEvent.add(record(hours_from_now(48), summary=unique("After")))
        writer.schedule.scheduleEventResource.add(link_of(moved.id, room.id))
        after = reader.get(LIST, headers={"If-None-Match": etag})
    assert after.status_code == 200 and after.headers["ETag"] != etag
    assert moved.summary in after.text


def unchanged_after_first_poll(reader: httpx.Client, path: str) -> str:
    """The ETag of the first poll, once the server has answered 304 for it on fresh connections
    (a kept-alive one stays with one of its processes): a version kept per process would differ
    between them, and a device would get 200 from one process and 304 from the next."""
    first = reader.get(path)
    assert first.status_code == 200, first.text[:300]
    etag = first.headers["ETag"]
    for _ in range(8):
        again = reader.get(path, headers={"If-None-Match": etag, "Connection": "close"})
        assert again.status_code == 304
    return etag


def feed_token(stack: RunningStack, resource_id: int) -> str:
    """The room's feed token, given on the Feeds page (a resource made through the API has none
    until its feed is first shown)."""
    with stack.http(1) as staff:
        assert stack.sign_in(staff).get("/feeds/").status_code == 200
    return stack.sql("SELECT token FROM calendar_app_feedtoken WHERE resource_id = %s", (resource_id,))[0][0]


def link_of(event_id: int, resource_id: int) -> KalturaScheduleEventResource:
    return build(KalturaScheduleEventResource, eventId=event_id, resourceId=resource_id)


# ---------------------------------------------------------------- the web calendar


def test_a_staff_session_signed_in_on_one_server_works_on_the_other(stack):
    with stack.http(0) as first:
        stack.sign_in(first)
        with stack.http(1, cookies=first.cookies) as second:
            page = second.get("/calendar/week/")
    assert page.status_code == 200 and "Sign in" not in page.text


def test_the_week_page_on_one_server_shows_a_booking_made_on_the_other(stack):
    room = new_room(stack.kaltura(0))
    start = datetime.fromtimestamp(hours_from_now(3 * 24), ZONE).replace(hour=10, minute=0)
    summary = unique("Booked on 0")
    with stack.http(0) as first:
        stack.sign_in(first)
        booked = first.post("/calendar/book/", data=web_booking(summary, start, room.id), headers=csrf(first))
        assert booked.status_code == 200, booked.text[:500]
        with stack.http(1, cookies=first.cookies) as second:
            week = second.get("/calendar/week/", params={"location": room.id, "date": f"{start:%Y-%m-%d}"})
    assert week.status_code == 200 and summary in week.text


def web_booking(summary: str, start: datetime, room_id: int) -> dict:
    """The booking panel's fields as a browser posts them: an hour's recording in one room."""
    return {
        "summary": summary, "type": "1", "day": f"{start:%Y-%m-%d}", "start_time": f"{start:%H:%M}",
        "end_time": f"{start.hour + 1:02d}:{start:%M}", "resources": [str(room_id)],
        "template_entry": "", "description": "",
    }  # fmt: skip


def csrf(client: httpx.Client) -> dict[str, str]:
    """What htmx sends with a POST: the CSRF cookie's token, and (HTTPS) a same-origin Referer."""
    return {"X-CSRFToken": client.cookies["csrftoken"], "Referer": f"{client.base_url}/calendar/week/"}


# ---------------------------------------------------------------- workers and files


ICAL = """BEGIN:VCALENDAR\r
VERSION:2.0\r
PRODID:-//scale-out//EN\r
BEGIN:VEVENT\r
UID:{uid}\r
DTSTART:{start:%Y%m%dT%H%M%SZ}\r
DTEND:{end:%Y%m%dT%H%M%SZ}\r
SUMMARY:{summary}\r
END:VEVENT\r
END:VCALENDAR\r
"""


def test_a_bulk_upload_sent_to_one_server_is_processed_by_a_worker_and_seen_through_the_other(
    stack, tmp_path: Path
):
    summary, start = unique("Imported"), datetime.fromtimestamp(hours_from_now(40 * 24), UTC)
    path = tmp_path / "term.ics"
    vevent = {"uid": f"{uuid.uuid4()}@scale", "start": start, "end": start + timedelta(hours=1)}
    path.write_text(ICAL.format(summary=summary, **vevent), newline="")
    with path.open("rb") as file:
        job = stack.kaltura(1).schedule.scheduleEvent.addFromBulkUpload(
            file, build(KalturaBulkUploadICalJobData, eventsType=1)
        )
    reader = stack.kaltura(0)

    def finished():
        done = reader.bulkUpload.bulk.get(job.id)
        return done if value(done.status) == KalturaBatchJobStatus.FINISHED else None

    done = eventually(finished, f"bulk upload {job.id} finishing on a worker")
    assert reader.schedule.scheduleEvent.get(int(done.results[0].objectId)).summary == summary


def test_an_upload_started_on_one_server_is_finished_on_the_other(stack, tmp_path: Path):
    first, second = stack.kaltura(0), stack.kaltura(1)
    head, tail = b"head of the recording " * 500, b"and its tail" * 300
    whole = head + tail
    token = first.uploadToken.add(build(KalturaUploadToken, fileName="lecture.mp4", fileSize=len(whole)))
    upload_chunk(first, tmp_path / "head.mp4", token.id, head, resume=False, final=False, at=0)
    done = upload_chunk(second, tmp_path / "tail.mp4", token.id, tail, resume=True, final=True, at=len(head))
    assert value(done.status) == KalturaUploadTokenStatus.FULL_UPLOAD
    got = first.uploadToken.get(token.id)
    assert (value(got.status), got.uploadedFileSize) == (KalturaUploadTokenStatus.FULL_UPLOAD, len(whole))
    # Attached through server 0: the file is assembled from parts each server wrote.
    entry = first.media.add(build(KalturaMediaEntry, name="Lecture", mediaType=KalturaMediaType.VIDEO))
    first.media.addContent(entry.id, build(KalturaUploadedFileTokenResource, token=token.id))
    assert checksum(stack, first.getKs(), token.id) == "sha256:" + hashlib.sha256(whole).hexdigest()


def upload_chunk(
    client: KalturaClient, path: Path, token_id: str, data: bytes, *, resume: bool, final: bool, at: int
):
    """uploadToken.upload of one chunk, sent as a file the way a device sends one."""
    path.write_bytes(data)
    with path.open("rb") as file:
        return client.uploadToken.upload(token_id, file, resume, final, at)


def checksum(stack: RunningStack, ks: str, token_id: str) -> str | None:
    """`checksum` (of the whole file, once attached), which the official client does not read."""
    with stack.http(1) as http:
        answer = http.post(
            "/api_v3/service/uploadtoken/action/get", json={"ks": ks, "uploadTokenId": token_id, "format": 1}
        )
    return answer.json().get("checksum")
