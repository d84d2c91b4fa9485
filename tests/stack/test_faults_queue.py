"""Faults on the worker side of the stack (issue #20, item 5): Redis stopped and started under
work (with its messages kept, and coming back empty), and a worker SIGKILLed mid-task. The
stack's partner syncs to an upstream (a second instance of this server, bench/_server.py), so
that "nothing lost" is checked where it matters: every booking made here is upstream, once.

Each test prints its figure (run with -s to see them). The stack runs with short recovery
timeouts (QUICK) so that a lost task or worker is noticed in seconds, not minutes.
"""

from __future__ import annotations

import os
import shutil
import signal
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from KalturaClient import KalturaClient as KalturaApi
from KalturaClient.Plugins.ScheduleBulkUpload import KalturaBulkUploadICalJobData

from bench._server import UpstreamServer
from calendar_app.sync.client import ADMIN_SECRET, Credentials, KalturaClient
from tests.kaltura_api.builders import hours_from_now, record
from tests.stack.running import RunningStack, eventually, serving

# Recovery in seconds rather than minutes: the beat's sync recovery every second (a push lost
# after 2 s, a running one taken back after 5), bulk jobs recovered every 2 s (lost when silent
# for 10 s: a live worker beats every 2 s; sent again when queued for 3 s).
QUICK = {
    "SYNC_RECOVER_EVERY": "1", "SYNC_LOST_AFTER_SECONDS": "2", "SYNC_RUNNING_TIMEOUT_SECONDS": "5",
    "SYNC_RETRY_BASE_SECONDS": "1", "SYNC_RETRY_MAX_SECONDS": "2", "SYNC_HTTP_TIMEOUT": "5",
    "BULK_UPLOAD_RECOVER_EVERY": "2", "BULK_UPLOAD_LOST_AFTER_SECONDS": "10",
    "BULK_UPLOAD_REDISPATCH_SECONDS": "3",
}  # fmt: skip
DRAIN = 120.0  # seconds for everything to reach the upstream once Redis is back
SETTLED = (2, 4)  # SyncOperation DONE, SUPERSEDED
FINISHED = 5  # BulkUpload.Status.FINISHED


@pytest.fixture(scope="module")
def upstream(tmp_path_factory) -> Iterator[UpstreamServer]:
    server = UpstreamServer(tmp_path_factory.mktemp("upstream"))
    try:
        server.prepare()
        server.start()
        yield server
    finally:
        server.resume()
        server.stop()


@pytest.fixture(scope="module")
def stack(upstream) -> Iterator[RunningStack]:
    """A stack of its own (it breaks Redis and kills workers), syncing to `upstream`."""
    with serving(RunningStack(web_servers=2, workers=2, extra_env=QUICK)) as running:
        running.manage(
            "kaltura_connect", "--partner-id", str(running.partner_id), "--url", upstream.url,
            "--upstream-partner-id", str(upstream.partner_id), "--admin-secret", upstream.admin_secret,
            "--enable",
        )  # fmt: skip
        yield running


@pytest.fixture(scope="module")
def theirs(upstream) -> Iterator[KalturaClient]:
    credentials = Credentials(auth=ADMIN_SECRET, admin_secret=upstream.admin_secret, user_id="sync")
    client = KalturaClient(upstream.url, upstream.partner_id, credentials)
    yield client
    client.close()


# ---------------------------------------------------------------- what each side holds


def summaries_upstream(theirs: KalturaClient, prefix: str) -> list[str]:
    """The summaries of the upstream's events that start with `prefix`, once per copy."""
    found, page = [], 1
    while True:
        objects = theirs.call(
            "schedule_scheduleevent", "list",
            filter={"objectType": "KalturaScheduleEventFilter", "statusEqual": 2},
            pager={"objectType": "KalturaFilterPager", "pageSize": 500, "pageIndex": page},
        )["objects"] or []  # fmt: skip
        found += [event["summary"] for event in objects if event["summary"].startswith(prefix)]
        if len(objects) < 500:
            return sorted(found)
        page += 1


def summaries_here(stack: RunningStack, prefix: str) -> list[str]:
    rows = stack.sql(
        "SELECT summary FROM calendar_app_scheduleevent WHERE summary LIKE %s AND parent_id IS NULL",
        (prefix + "%",),
    )
    return sorted(summary for (summary,) in rows)


def sync_drained(stack: RunningStack) -> bool:
    """Every operation pushed (or folded into a later one); none failed."""
    [(left,)] = stack.sql(
        "SELECT count(*) FROM calendar_app_syncoperation WHERE status <> ALL(%s)", (list(SETTLED),)
    )
    return left == 0


def wait_drained(stack: RunningStack, job_ids: list[int]) -> None:
    """Waits for the jobs to finish and the sync queue to drain; on a timeout, says where each
    stands and what the workers last logged."""
    try:
        eventually(lambda: jobs_finished(stack, job_ids) and sync_drained(stack), "all drained", wait=DRAIN)
    except pytest.fail.Exception as late:
        operations = stack.sql(
            "SELECT status, attempts, error_code, count(*) FROM calendar_app_syncoperation"
            " WHERE status <> ALL(%s) GROUP BY 1, 2, 3", (list(SETTLED),),
        )  # fmt: skip
        jobs = stack.sql(
            "SELECT id, status, attempts FROM calendar_app_bulkupload WHERE id = ANY(%s)", (job_ids,)
        )
        parts = ("worker-1", "worker-2", "beat")
        logs = "\n".join(f"--- {name}\n{stack.log(name)[-12000:]}" for name in parts)
        raise AssertionError(f"{late}\nsync operations left: {operations}\njobs: {jobs}\n{logs}") from None


def jobs_finished(stack: RunningStack, job_ids: list[int]) -> bool:
    rows = stack.sql("SELECT status FROM calendar_app_bulkupload WHERE id = ANY(%s)", (job_ids,))
    return len(rows) == len(job_ids) and all(status == FINISHED for (status,) in rows)


# ---------------------------------------------------------------- doing work through the stack


def book(client: KalturaApi, summary: str) -> float:
    """A booking (no room: bookings at one time do not conflict); the seconds its request took."""
    began = time.monotonic()
    client.schedule.scheduleEvent.add(record(hours_from_now(24 * 30), summary=summary))
    return time.monotonic() - began


def ical(prefix: str, count: int) -> str:
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//test//faults//EN"]
    for n in range(count):
        start = f"2027{1 + n % 12:02d}{1 + n % 28:02d}T{8 + n % 9:02d}{n % 60:02d}00Z"
        lines += ["BEGIN:VEVENT", f"UID:{prefix}-{n}@faults", f"DTSTART:{start}", "DURATION:PT1H",
                  f"SUMMARY:{prefix} {n}", "END:VEVENT"]  # fmt: skip
    return "\r\n".join([*lines, "END:VCALENDAR", ""])


def upload(client: KalturaApi, prefix: str, count: int, folder: Path) -> tuple[int, float]:
    """An iCal bulk upload through the official client: (its job id, seconds the request took)."""
    path = folder / f"{prefix}.ics"
    path.write_text(ical(prefix, count), newline="")
    began = time.monotonic()
    with path.open("rb") as file:
        job = client.schedule.scheduleEvent.addFromBulkUpload(file, KalturaBulkUploadICalJobData())
    return job.id, time.monotonic() - began


def work(clients: list[KalturaApi], prefix: str, bookings: int, folder: Path) -> tuple[list[int], float]:
    """Bookings through each web server in turn and one bulk upload of 20 events: (the job's id,
    the slowest request)."""
    slowest = max(book(clients[n % len(clients)], f"{prefix} booking {n}") for n in range(bookings))
    job_id, took = upload(clients[0], f"{prefix} bulk", 20, folder)
    return [job_id], max(slowest, took)


def messages_in_redis(stack: RunningStack) -> int:
    """Tasks Redis holds: queued, or delivered to a worker and not acknowledged (acks_late)."""
    with redis.Redis.from_url(stack.settings["REDIS_URL"]) as client:
        return client.llen("celery") + client.hlen("unacked")


def worker_alive(stack: RunningStack, name: str) -> bool:
    try:
        os.kill(stack.pid(name), 0)
    except (ProcessLookupError, FileNotFoundError):  # FileNotFoundError: no pid file, stopped
        return False
    return "Z" not in Path(f"/proc/{stack.pid(name)}/stat").read_text().rsplit(")", 1)[1].split()[0]


# ---------------------------------------------------------------- Redis stopped and started


@pytest.mark.parametrize("emptied", [False, True], ids=["kept", "empty"])
def test_nothing_is_lost_when_redis_stops_and_starts_under_work(stack, upstream, theirs, tmp_path, emptied):
    prefix = f"Redis-{'empty' if emptied else 'kept'}-{uuid.uuid4().hex[:6]}"
    clients = [stack.kaltura(0), stack.kaltura(1)]
    if emptied:
        upstream.pause()  # pushes hang, so tasks pile up in Redis and are lost with it
    try:
        jobs, _ = work(clients, f"{prefix} before", 20, tmp_path)
        if emptied:
            eventually(lambda: messages_in_redis(stack) > 0, "tasks waiting in Redis")
        stack.stop_part("redis")
        if emptied:
            shutil.rmtree(stack.folder / "redis")  # its append-only files: it comes back empty
            (stack.folder / "redis").mkdir()
        during, slowest = work(clients, f"{prefix} during", 10, tmp_path)
    finally:
        upstream.resume()
        stack.start_part("redis")
    back = time.monotonic()
    jobs += during

    wait_drained(stack, jobs)
    drained = time.monotonic() - back
    ours = summaries_here(stack, prefix)
    eventually(lambda: summaries_upstream(theirs, prefix) == ours, "the upstream matching ours")
    assert len(ours) == 20 + 10 + 2 * 20
    assert slowest < 5, f"a write took {slowest:.1f} s while Redis was down"
    for name in ("worker-1", "worker-2"):
        assert worker_alive(stack, name), f"{name} died; its log ends:\n{stack.log(name)[-3000:]}"
    case = "empty" if emptied else "kept"
    print(f"\nRedis {case}: slowest write while down {slowest * 1000:.0f} ms; all drained "
          f"{drained:.1f} s after Redis was back ({len(ours)} events upstream, once each)")  # fmt: skip


# ---------------------------------------------------------------- a worker SIGKILLed mid-task


def kill(stack: RunningStack, name: str) -> None:
    """SIGKILL to the part's whole process group, as the OOM killer would: nothing acknowledged."""
    os.killpg(stack.pid(name), signal.SIGKILL)
    eventually(lambda: not worker_alive(stack, name), f"{name} gone")


@pytest.fixture
def one_worker(stack) -> Iterator[None]:
    """worker-1 alone (worker-2 stopped), so that the task it is given is the one killed; both
    run again afterwards."""
    stack.stop_part("worker-2")
    try:
        yield
    finally:
        for name in ("worker-1", "worker-2"):
            if not worker_alive(stack, name):
                stack.start_part(name)


def test_a_push_whose_worker_was_killed_is_pushed_again_once(stack, upstream, theirs, one_worker):
    summary = f"Killed-{uuid.uuid4().hex[:6]}"
    client = stack.kaltura(1)
    book(client, f"{summary} warm-up")  # the worker's session started: the next push is one add
    eventually(lambda: sync_drained(stack), "the warm-up pushed")
    upstream.pause()
    try:
        book(client, summary)
        [(op_id,)] = stack.sql(
            "SELECT o.id FROM calendar_app_syncoperation o JOIN calendar_app_scheduleevent e "
            "ON o.kind = 'event' AND o.object_id = e.id::text WHERE e.summary = %s", (summary,),
        )  # fmt: skip
        running = "SELECT 1 FROM calendar_app_syncoperation WHERE id = %s AND status = 1"
        eventually(lambda: stack.sql(running, (op_id,)) and upstream.request_waiting(), "the add sent")
        upstream.lose_answer(lambda: kill(stack, "worker-1"))
    finally:
        upstream.resume()
    eventually(
        lambda: summary in summaries_upstream(theirs, summary), "the add applied upstream, its answer lost"
    )

    killed = time.monotonic()
    stack.start_part("worker-2")
    done = "SELECT attempts FROM calendar_app_syncoperation WHERE id = %s AND status = 2"
    [(attempts,)] = eventually(lambda: stack.sql(done, (op_id,)), "the push run again")
    redone = time.monotonic() - killed
    assert attempts == 2
    assert summaries_upstream(theirs, summary) == [summary, f"{summary} warm-up"]  # found, not added again
    print(f"\nworker killed mid-push: pushed again {redone:.1f} s later, one copy upstream")


@pytest.fixture
def sync_off(stack) -> Iterator[None]:
    """The partner's sync turned off while the test runs: the worker's time goes to the import."""
    partner_id = str(stack.credentials()[0])
    stack.manage("kaltura_connect", "--partner-id", partner_id, "--disable", "--no-test")
    yield
    stack.manage("kaltura_connect", "--partner-id", partner_id, "--enable", "--no-test")


def test_a_bulk_upload_whose_worker_was_killed_is_redone_once(stack, tmp_path, sync_off, one_worker):
    prefix = f"Bulk-killed-{uuid.uuid4().hex[:6]}"
    rows = 10_000
    job_id, _ = upload(stack.kaltura(), prefix, rows, tmp_path)
    progress = "SELECT num_processed FROM calendar_app_bulkupload WHERE id = %s AND status = 2"
    eventually(lambda: 0 < (stack.sql(progress, (job_id,)) or [(0,)])[0][0] < rows, "a chunk applied")
    kill(stack, "worker-1")
    [(done_before,)] = stack.sql("SELECT num_processed FROM calendar_app_bulkupload WHERE id = %s", (job_id,))

    killed = time.monotonic()
    stack.start_part("worker-2")
    eventually(lambda: jobs_finished(stack, [job_id]), "the job redone", wait=DRAIN)
    redone = time.monotonic() - killed
    [(attempts, processed)] = stack.sql(
        "SELECT attempts, num_processed FROM calendar_app_bulkupload WHERE id = %s", (job_id,)
    )
    assert (attempts, processed) == (2, rows)
    assert len(summaries_here(stack, prefix)) == rows  # each VEVENT once: matched by its UID
    print(f"\nworker killed mid-import ({done_before} of {rows} rows done): redone once, finished "
          f"{redone:.1f} s later")  # fmt: skip
