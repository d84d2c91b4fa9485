"""Faults on the web side of the stack (issue #20, item 5), each with its figure printed:
PostgreSQL restarted under load, a web worker killed, the disk full for an upload.

Clients are threads with a connection each, sending for real through the stack's web servers;
every request is timed and its answer classified, then the database is read directly
(`stack.sql`) to see what was written.
"""

from __future__ import annotations

import hashlib
import io
import itertools
import os
import secrets
import signal
import subprocess
import threading
import time
from collections import Counter
from collections.abc import Callable, Generator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from KalturaClient.exceptions import KalturaException
from KalturaClient.Plugins.Core import (
    KalturaEntryStatus,
    KalturaMediaEntry,
    KalturaMediaType,
    KalturaUploadedFileTokenResource,
    KalturaUploadToken,
)

from tests.stack.running import RunningStack, eventually, serving

# A request that fails while the database is down must say so within this many seconds (not a
# request left waiting, not a connect that hangs).
FAST = 3.0
OUTAGE = 4.0  # seconds PostgreSQL stays down
RECOVERY = 10.0  # seconds after it is back within which every request must succeed again
DATABASE_DOWN = "INTERNAL_DATABASE_ERROR"  # Kaltura's code for a database failure
SERIES_COUNT = 5
EVENTS = "/api_v3/service/schedule_scheduleevent/action/"
FAR = 2 * 365 * 86400  # bookings two years out: clear of the demo semester and its blackout


# ---------------------------------------------------------------- clients


@dataclass(frozen=True)
class Outcome:
    kind: str
    started: float
    ended: float
    ok: bool
    error: str = ""  # the Kaltura code, the HTTP status, or the transport error
    reference: str = ""  # an add's referenceId, to find what it wrote

    @property
    def seconds(self) -> float:
        return self.ended - self.started


# A client: the requests it sends, in turn; closing it closes its connections.
Client = Callable[[], Generator[Callable[[], Outcome], None, None]]


class Crowd:
    """Threads sending `operations` in turn until stopped, each outcome kept."""

    def __init__(self, clients: list[Client]) -> None:
        self.outcomes: list[Outcome] = []
        self.broken: list[BaseException] = []  # a client that could not go on
        self.stopping = threading.Event()
        self.threads = [threading.Thread(target=self._run, args=(client,)) for client in clients]

    def __enter__(self) -> Crowd:
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stopping.set()
        for thread in self.threads:
            thread.join(timeout=60)

    def _run(self, client: Client) -> None:
        requests = client()
        try:
            for operation in requests:
                if self.stopping.is_set():
                    return
                self.outcomes.append(operation())
        except BaseException as error:
            self.broken.append(error)
            raise
        finally:
            requests.close()  # the client's connections

    def sent(self) -> int:
        """How many requests were answered so far; a client that broke fails the test here."""
        if self.broken:
            raise AssertionError(f"a client broke: {self.broken[0]!r}")
        return len(self.outcomes)

    def between(self, start: float, end: float) -> list[Outcome]:
        return [o for o in list(self.outcomes) if o.started >= start and o.ended <= end]

    def after(self, moment: float) -> list[Outcome]:
        return [o for o in list(self.outcomes) if o.started >= moment]


def timed(kind: str, send: Callable[[], tuple[bool, str]], reference: str = "") -> Outcome:
    started = time.monotonic()
    try:
        ok, error = send()
    except httpx.HTTPError as failure:
        ok, error = False, f"{type(failure).__name__}: {failure}"
    return Outcome(kind, started, time.monotonic(), ok, error, reference)


class ApiClient:
    """The Kaltura API in JSON (format=1) with an admin session, through one web server."""

    def __init__(self, stack: RunningStack, server: int) -> None:
        self.http = stack.http(server)
        partner_id, secret = stack.credentials()
        self.ks = self.call("session", "start", secret=secret, type=2, partnerId=partner_id)

    def call(self, service: str, action: str, **values) -> object:
        answer = self.http.post(f"/api_v3/service/{service}/action/{action}", json={**values, "format": 1})
        return answer.json()

    def events(self, action: str, **values) -> tuple[bool, str]:
        found = self.call("schedule_scheduleevent", action, ks=self.ks, **values)
        if isinstance(found, dict) and found.get("objectType") == "KalturaAPIException":
            return False, found["code"]
        return True, ""


def booking(reference: str, start: int, *, weekly: bool) -> dict:
    event = {
        "objectType": "KalturaRecordScheduleEvent", "summary": f"Fault test {reference}",
        "startDate": start, "endDate": start + 3600, "referenceId": reference, "recurrenceType": 0,
    }  # fmt: skip
    if weekly:
        event["recurrenceType"] = 1
        event["recurrence"] = {
            "objectType": "KalturaScheduleEventRecurrence", "frequency": "weeks",
            "count": SERIES_COUNT, "timeZone": "UTC",
        }  # fmt: skip
    return event


def mixed_client(stack: RunningStack, server: int, number: int) -> Client:
    """A staff member and a script on one web server: list, get, a booking, a weekly series, the
    day page, in turn. Each add has a referenceId of its own and a slot of its own."""

    def operations() -> Generator[Callable[[], Outcome], None, None]:
        api = ApiClient(stack, server)
        staff = stack.sign_in(stack.http(server))
        slots = itertools.count()
        base = int(time.time()) + FAR + number * 10_000_000

        def add(weekly: bool) -> Callable[[], Outcome]:
            reference = f"fault-pg-{secrets.token_hex(6)}"
            start = base + next(slots) * 7200
            kind = "series" if weekly else "add"
            event = booking(reference, start, weekly=weekly)
            return lambda: timed(kind, lambda: api.events("add", scheduleEvent=event), reference)

        def page() -> tuple[bool, str]:
            answer = staff.get("/calendar/day/")
            return answer.status_code == 200, str(answer.status_code)

        try:
            while True:
                yield lambda: timed("list", lambda: api.events("list", pager={"pageSize": 10}))
                yield lambda: timed("get", lambda: api.events("get", scheduleEventId=1))
                yield add(weekly=False)
                yield add(weekly=True)
                yield lambda: timed("page", page)
        finally:
            api.http.close()
            staff.close()

    return operations


# ---------------------------------------------------------------- PostgreSQL restarted


def test_postgresql_restarted_under_load_fails_fast_clearly_and_recovers_whole(stack):
    clients = [mixed_client(stack, n % 2, n) for n in range(6)]
    with Crowd(clients) as crowd, stack.http(0) as probe:
        eventually(lambda: crowd.sent() > 50, "the clients' first requests")
        assert not _failures(crowd.outcomes), f"failures before any fault: {_failures(crowd.outcomes)}"
        stopping = time.monotonic()
        stack.stop_part("postgres")
        down = time.monotonic()
        time.sleep(OUTAGE / 2)  # the outage itself, not a wait for an effect
        health = probe.get("/healthz")
        time.sleep(max(0.0, down + OUTAGE - time.monotonic()))  # the rest of the outage
        starting = time.monotonic()
        stack.start_part("postgres")
        up = time.monotonic()
        quiet = _wait_quiet(crowd, up, 3.0, RECOVERY + 20)
    assert quiet, f"still failing after PostgreSQL came back: {_failures(crowd.after(up))}"
    assert health.status_code == 503 and "database" in health.json()["failed"]
    _assert_outage_answered_fast_and_clearly(crowd.between(down, starting))
    slow = [o for o in crowd.outcomes if not o.ok and o.seconds > FAST]  # while stopping, too
    assert not slow, slow[:5]
    first_ok, all_ok = _recovery(crowd, up)
    print(
        f"\nPostgreSQL restart under load: {len(crowd.outcomes)} requests; stop took "
        f"{down - stopping:.1f} s, start {up - starting:.1f} s; during the outage "
        f"{len(crowd.between(down, starting))} requests, all failed, slowest "
        f"{max(o.seconds for o in crowd.between(down, starting)):.3f} s; after start: first success "
        f"{first_ok:.2f} s, all succeeding from {all_ok:.2f} s"
    )
    assert all_ok <= RECOVERY
    _assert_no_booking_half_written(stack, crowd.outcomes)


def _wait_quiet(crowd: Crowd, up: float, seconds: float, wait: float) -> bool:
    """Whether the requests of `seconds` in a row after `up` all succeeded, within `wait`."""
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        now = time.monotonic()
        recent = [o for o in crowd.after(up) if o.started >= now - seconds]
        if now - up > seconds and recent and all(o.ok for o in recent):
            return True
        time.sleep(0.2)
    return False


def _failures(outcomes: list[Outcome]) -> Counter[tuple[str, str]]:
    return Counter((o.kind, o.error[:120]) for o in outcomes if not o.ok)


def _assert_outage_answered_fast_and_clearly(during: list[Outcome]) -> None:
    assert {o.kind for o in during} == {"list", "get", "add", "series", "page"}, during
    assert not [o for o in during if o.ok], "a request succeeded with the database down"
    unclear = [o for o in during if o.error != (DATABASE_DOWN if o.kind != "page" else "503")]
    assert not unclear, unclear[:5]


def _recovery(crowd: Crowd, up: float) -> tuple[float, float]:
    """Seconds from PostgreSQL answering again to the first success, and to the moment after
    which every request succeeded."""
    after = crowd.after(up)
    first = min(o.ended for o in after if o.ok)
    last_failure = max((o.ended for o in after if not o.ok), default=up)
    return first - up, last_failure - up


def _assert_no_booking_half_written(stack: RunningStack, outcomes: list[Outcome]) -> None:
    """Every add the client was told succeeded exists whole (a series with all its occurrences,
    with its audit entry, written in the same transaction); one it was told failed does not
    exist, or, when the commit succeeded and only its answer was lost, exists whole."""
    rows = stack.sql(
        "SELECT e.reference_id, e.recurrence_type,"
        " (SELECT count(*) FROM calendar_app_scheduleevent o WHERE o.parent_id = e.id),"
        " (SELECT count(*) FROM calendar_app_auditentry a WHERE a.object_type = 'ScheduleEvent'"
        "   AND a.object_id = e.id::text AND a.action = 'create')"
        " FROM calendar_app_scheduleevent e WHERE e.reference_id LIKE 'fault-pg-%%' AND e.parent_id IS NULL"
    )
    written: dict[str, list[tuple]] = {}
    for reference, *shape in rows:
        written.setdefault(reference, []).append(tuple(shape))
    adds = {o.reference: o for o in outcomes if o.reference}
    assert set(written) <= set(adds), "an event no client sent"
    for reference, outcome in adds.items():
        whole = [(1, SERIES_COUNT, 1)] if outcome.kind == "series" else [(0, 0, 1)]
        if outcome.ok or reference in written:
            assert written.get(reference) == whole, (outcome, written.get(reference))
    lost = [r for r, o in adds.items() if not o.ok and r in written]
    told_ok = sum(o.ok for o in adds.values())
    print(f"   adds: {told_ok} told created, all whole; {len(adds) - told_ok} told failed, of which "
          f"{len(lost)} committed (answer lost) and whole")  # fmt: skip


# ---------------------------------------------------------------- a web worker killed


def test_a_killed_web_worker_is_replaced_and_only_its_requests_fail(stack):
    master = stack.pid(f"web-{stack.web_ports[0]}")
    workers = int(stack.environ["STACK_WEB_WORKERS"])
    before = eventually(
        lambda: _children(master) if len(_children(master)) == workers else None, "the workers"
    )
    victim = sorted(before)[0]
    clients = [_listing_client(stack) for _ in range(8)]
    with Crowd(clients) as crowd:
        eventually(lambda: crowd.sent() > 50, "the clients' first requests")
        killed = time.monotonic()
        os.kill(victim, signal.SIGKILL)
        after = eventually(lambda: _replaced(master, before, victim, workers), "a new worker", wait=30)
        replaced = time.monotonic()
        eventually(lambda: len(crowd.after(replaced + 1.0)) > 50, "requests after the replacement")
    failed = [o for o in crowd.outcomes if not o.ok]
    print(
        f"\nWeb worker {victim} killed: replaced by {sorted(after - before)} in {replaced - killed:.2f} s; "
        f"{len(crowd.outcomes)} requests, {len(failed)} failed: {[o.error[:60] for o in failed]}"
    )
    assert victim not in after and len(after) == workers
    # At most the requests the killed worker held when it died: a client's keep-alive connection
    # lives in one worker, which serves one request of it at a time, so at most one per client,
    # each sent before the kill (its exit takes milliseconds).
    assert len(failed) <= len(clients)
    assert all(o.started < killed + 0.1 for o in failed), failed
    assert all(o.ok for o in crowd.after(replaced))


def _listing_client(stack: RunningStack) -> Client:
    def operations() -> Generator[Callable[[], Outcome], None, None]:
        api = ApiClient(stack, 0)
        try:
            while True:
                yield lambda: timed("list", lambda: api.events("list", pager={"pageSize": 10}))
        finally:
            api.http.close()

    return operations


def _children(parent: int) -> set[int]:
    found = set()
    for entry in Path("/proc").iterdir():
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(fields[1]) == parent and fields[0] != "Z":
            found.add(int(entry.name))
    return found


def _replaced(master: int, before: set[int], victim: int, workers: int) -> set[int] | None:
    now = _children(master)
    return now if victim not in now and len(now) == workers and now - before else None


# ---------------------------------------------------------------- the disk full for uploads

CHUNK = 1024 * 1024
RECORDING = os.urandom(12 * CHUNK)
SMALL = 8 * CHUNK  # free space smaller than the recording
AMPLE = 64 * CHUNK
STORAGE_FULL = "UPLOAD_STORAGE_FULL"


@pytest.fixture(scope="module")
def small_disk_stack():
    """A stack of its own whose MEDIA_ROOT is a tmpfs, resized by the tests (unmounted at the
    end, always)."""
    running = RunningStack(web_servers=1, workers=1)
    media = running.folder / "media"
    media.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={SMALL}", "tmpfs", str(media)], capture_output=True, text=True
    )
    if mounted.returncode != 0:
        running.remove()
        pytest.fail(f"cannot mount a tmpfs over {media} (this test needs root): {mounted.stderr.strip()}")
    with serving(running, after_stop=lambda: subprocess.run(["umount", str(media)], check=False)):
        yield running


def _leave_free(stack: RunningStack, free: int) -> None:
    """The media filesystem resized to what it holds plus `free` bytes."""
    media = stack.folder / "media"
    found = os.statvfs(media)
    used = (found.f_blocks - found.f_bfree) * found.f_frsize
    subprocess.run(["mount", "-o", f"remount,size={used + free}", str(media)], check=True)


def _media_files(stack: RunningStack, under: str) -> dict[str, int]:
    root = stack.folder / "media"
    return {str(p.relative_to(root)): p.stat().st_size for p in (root / under).rglob("*") if p.is_file()}


def _send(client, token_id: str, offset: int) -> None:
    part = io.BytesIO(RECORDING[offset : offset + CHUNK])
    part.name = "lecture.mp4"
    final = offset + CHUNK >= len(RECORDING)
    client.uploadToken.upload(token_id, part, resume=offset > 0, finalChunk=final, resumeAt=offset)


def _send_until_refused(client, token_id: str) -> tuple[int, KalturaException]:
    for offset in range(0, len(RECORDING), CHUNK):
        try:
            _send(client, token_id, offset)
        except KalturaException as refused:
            return offset, refused
    raise AssertionError(f"{len(RECORDING)} bytes fitted in {SMALL} bytes")


def _send_from(client, token_id: str, offset: int) -> None:
    for at in range(offset, len(RECORDING), CHUNK):
        _send(client, token_id, at)


def _new_token(client) -> str:
    return client.uploadToken.add(KalturaUploadToken(fileName="lecture.mp4", fileSize=len(RECORDING))).id


def _new_media(client) -> str:
    return client.media.add(KalturaMediaEntry(name="Fault test", mediaType=KalturaMediaType.VIDEO)).id


def _add_content(client, entry_id: str, token_id: str):
    return client.media.addContent(entry_id, KalturaUploadedFileTokenResource(token=token_id))


def _status(client, entry_id: str) -> int:
    return client.media.get(entry_id).status.getValue()


def _stored_digest(stack: RunningStack, entry_id: str) -> str:
    [(name,)] = stack.sql("SELECT media_file FROM calendar_app_entry WHERE id = %s", (entry_id,))
    return hashlib.sha256((stack.folder / "media" / name).read_bytes()).hexdigest()


def test_a_chunk_that_does_not_fit_is_refused_whole_and_the_upload_resumes(small_disk_stack):
    stack, client = small_disk_stack, small_disk_stack.kaltura()
    _leave_free(stack, SMALL)
    token_id = _new_token(client)
    offset, refused = _send_until_refused(client, token_id)
    kept = client.uploadToken.get(token_id)
    files = _media_files(stack, f"uploads/{kept.partnerId}/{token_id}")
    print(
        f"\nDisk full ({SMALL} bytes free): the chunk at {offset} refused, {refused.code}: {refused}; "
        f"the token keeps {kept.uploadedFileSize:.0f} bytes in {len(files)} files"
    )
    assert refused.code == STORAGE_FULL and offset > 0
    assert kept.uploadedFileSize == offset  # nothing of the refused chunk counted...
    assert sum(size for name, size in files.items() if name.endswith(".part")) == offset  # ...or kept
    assert len(files) == offset // CHUNK + 1  # its parts and one manifest: no leftover
    entry_id = _new_media(client)
    with pytest.raises(KalturaException) as early:
        _add_content(client, entry_id, token_id)
    assert early.value.code == "UPLOAD_TOKEN_INVALID_STATUS_FOR_ADD_ENTRY"
    assert _status(client, entry_id) == KalturaEntryStatus.NO_CONTENT
    _leave_free(stack, AMPLE)  # space freed: the device resumes where the token says
    _send_from(client, token_id, int(client.uploadToken.get(token_id).uploadedFileSize))
    assert _add_content(client, entry_id, token_id).status.getValue() == KalturaEntryStatus.READY
    assert _stored_digest(stack, entry_id) == hashlib.sha256(RECORDING).hexdigest()


def test_joining_the_parts_without_space_leaves_the_entry_empty_until_space_is_freed(small_disk_stack):
    stack, client = small_disk_stack, small_disk_stack.kaltura()
    _leave_free(stack, AMPLE)
    token_id, entry_id = _new_token(client), _new_media(client)
    _send_from(client, token_id, 0)
    _leave_free(stack, len(RECORDING) // 2)  # the parts are stored; their join does not fit
    with pytest.raises(KalturaException) as refused:
        _add_content(client, entry_id, token_id)
    partner_id = client.uploadToken.get(token_id).partnerId
    print(
        f"\nJoining {len(RECORDING)} bytes in {len(RECORDING) // 2} free: "
        f"{refused.value.code}: {refused.value}"
    )
    assert refused.value.code == STORAGE_FULL
    assert _status(client, entry_id) == KalturaEntryStatus.NO_CONTENT
    assert _media_files(stack, f"recordings/{partner_id}/{token_id}") == {}  # no partial join left
    _leave_free(stack, AMPLE)
    assert _add_content(client, entry_id, token_id).status.getValue() == KalturaEntryStatus.READY
    assert _stored_digest(stack, entry_id) == hashlib.sha256(RECORDING).hexdigest()
