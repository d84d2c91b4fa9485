"""Drop folders against real servers on loopback: a local directory, OpenSSH's sshd (SFTP),
pyftpdlib (FTP) and moto's S3 server. Each poll gets its `now`; a file is taken by the second poll
that sees it unchanged (stable_seconds = 30, polls a minute apart)."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.db import connection

from calendar_app import clock
from calendar_app.imports import drop_folders
from calendar_app.models import (
    BulkUpload,
    DropFolder,
    DropFolderFile,
    EventType,
    ScheduleResource,
)
from scheduler_site.celery import app as celery_app
from tests.conftest import NOW
from tests.imports import drop_servers
from tests.remote_places import (  # noqa: F401 (fixtures)
    KINDS,
    fixture_ftp_port,
    fixture_remote_root,
    fixture_s3_endpoint,
    fixture_sshd,
    point_at,
)

ROOMS = b"*name,systemName\nHall A,hall-a\nHall B,hall-b\n"
STAMP = f"{NOW + timedelta(minutes=1):%Y%m%dT%H%M%SZ}"  # the second poll's, in moved names


# ---------------------------------------------------------------- a folder of each kind


@dataclass
class Drop:
    """A drop folder and the test's own hands on the place behind it."""

    folder: DropFolder
    directory: Path | None = None  # local, SFTP, FTP
    s3: Any = None
    bucket: str = ""

    def put(self, name: str, data: bytes) -> None:
        if self.s3 is not None:
            self.s3.put_object(Bucket=self.bucket, Key=f"drop/{name}", Body=data)
        else:
            (self.directory / name).write_bytes(data)

    def names(self, area: str = "") -> list[str]:
        """The files directly in the folder, or in its processed/ or failed/ area."""
        if self.s3 is not None:
            prefix = f"drop/{area}/" if area else "drop/"
            listing = self.s3.list_objects_v2(Bucket=self.bucket, Prefix=prefix, Delimiter="/")
            return sorted(obj["Key"][len(prefix) :] for obj in listing.get("Contents", []))
        where = self.directory / area
        return sorted(p.name for p in where.iterdir() if p.is_file()) if where.is_dir() else []


@pytest.fixture
def make_drop(request, partner):
    def build(kind: str, who=None, **settings: Any) -> Drop:
        folder = DropFolder(partner=who or partner, name=f"{kind} drop", kind=kind, **settings)
        drop = _connect(request, folder)
        folder.save()
        return drop

    return build


def _connect(request, folder: DropFolder) -> Drop:
    """Point `folder` at a fresh directory or bucket on the kind's server (unless a test set it)."""
    place = point_at(request, folder, prefix="drop")
    return Drop(folder, directory=place.directory, s3=place.s3, bucket=place.bucket)


@pytest.fixture(params=KINDS)
def drop(request, make_drop) -> Drop:
    return make_drop(request.param)


@pytest.fixture
def poll(django_capture_on_commit_callbacks):
    """Poll `minutes` after NOW, then run the jobs it submitted (their tasks start on commit)."""

    def run(folder: DropFolder, minutes: int = 0) -> drop_folders.Polled:
        with django_capture_on_commit_callbacks(execute=True):
            return drop_folders.poll(folder, NOW + timedelta(minutes=minutes))

    return run


def rooms_of(partner) -> set[str]:
    return set(ScheduleResource.objects.for_partner(partner).values_list("system_name", flat=True))


# ---------------------------------------------------------------- every kind


def test_it_imports_a_stable_csv_and_moves_it_to_processed(drop, poll, partner):
    drop.put("rooms.csv", ROOMS)
    assert (poll(drop.folder, 0).waiting, rooms_of(partner)) == (1, set())
    assert poll(drop.folder, 1).taken == 1
    assert rooms_of(partner) == {"hall-a", "hall-b"}
    assert (drop.names(), drop.names("processed")) == ([], [f"{STAMP}-rooms.csv"])
    job = BulkUpload.objects.get()
    assert (job.status, job.source, job.file_name, job.uploaded_by) == (
        BulkUpload.Status.FINISHED, "drop_folder", "rooms.csv", "Drop Folder",
    )  # fmt: skip


def test_it_takes_each_file_version_once(drop, poll):
    drop.put("rooms.csv", ROOMS)
    for minute in range(4):
        poll(drop.folder, minute)
    file = DropFolderFile.objects.get()
    assert (file.status, file.error) == (DropFolderFile.Status.HANDLED, "")
    assert file.bulk_upload == BulkUpload.objects.get()
    assert file.handled_at == NOW + timedelta(minutes=2)  # settled by the poll after the job ran


def test_it_waits_while_a_file_is_still_being_uploaded(drop, poll):
    drop.put("rooms.csv", ROOMS[:20])
    poll(drop.folder, 0)
    drop.put("rooms.csv", ROOMS)
    assert (poll(drop.folder, 1).taken, drop.names()) == (0, ["rooms.csv"])
    assert poll(drop.folder, 2).taken == 1
    assert bytes(BulkUpload.objects.get().file_data) == ROOMS
    assert DropFolderFile.objects.get().size == len(ROOMS)  # the half-written version is forgotten


def test_it_sets_an_oversized_file_aside_with_the_reason(drop, poll, settings):
    settings.BULK_UPLOAD_MAX_BYTES = 20
    drop.put("rooms.csv", ROOMS)
    poll(drop.folder, 0)
    assert poll(drop.folder, 1).failed == 1
    assert (drop.names(), drop.names("failed")) == ([], [f"{STAMP}-rooms.csv"])
    file = DropFolderFile.objects.get()
    assert file.status == DropFolderFile.Status.ERROR
    assert file.error == f"too large: {len(ROOMS)} bytes or more; at most 20 are accepted"
    assert not BulkUpload.objects.exists()


def test_it_leaves_other_files_and_its_own_areas_alone(drop, poll):
    for name in ("notes.txt", ".rooms.csv.part", "rooms.csv.bak"):
        drop.put(name, ROOMS)
    for minute in range(3):
        assert poll(drop.folder, minute) == drop_folders.Polled()
    assert drop.names() == [".rooms.csv.part", "notes.txt", "rooms.csv.bak"]
    assert not DropFolderFile.objects.exists()


@pytest.mark.parametrize("kind", KINDS)
def test_an_unreachable_source_is_recorded_not_raised(kind, make_drop, poll, tmp_path):
    closed = drop_servers.free_port()
    unreachable = {
        "local": {"path": str(tmp_path / "missing")},
        "sftp": {"port": closed},
        "ftp": {"port": closed},
        "s3": {"endpoint_url": f"http://127.0.0.1:{closed}"},
    }[kind]
    folder = make_drop(kind, **unreachable).folder
    polled = poll(folder)
    folder.refresh_from_db()
    assert polled.error == folder.last_error
    assert folder.last_error.startswith(drop_folders.location(folder) + ": ")
    assert folder.last_polled_at == NOW


# ---------------------------------------------------------------- files and their jobs


def test_an_ics_file_becomes_an_events_job_of_the_folders_type(make_drop, django_capture_on_commit_callbacks):
    # The iCal importer is not run here (its jobs' tasks are captured, not executed).
    drop = make_drop("local", events_type=EventType.LIVE_STREAM)
    calendar = b"BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n"
    drop.put("Timetable.ICS", calendar)
    with django_capture_on_commit_callbacks(execute=False) as dispatched:
        drop_folders.poll(drop.folder, NOW)
        drop_folders.poll(drop.folder, NOW + timedelta(minutes=1))
    job = BulkUpload.objects.get()
    assert (job.kind, job.events_type) == (BulkUpload.Kind.EVENTS_ICAL, EventType.LIVE_STREAM)
    assert bytes(job.file_data) == calendar
    assert (job.status, len(dispatched)) == (BulkUpload.Status.QUEUED, 1)
    assert drop.names("processed") == [f"{STAMP}-Timetable.ICS"]


def test_a_file_the_importer_refuses_ends_in_error(make_drop, poll):
    drop = make_drop("local")
    drop.put("rooms.csv", b"name,systemName\nHall A,hall-a\n")  # no "*" header line
    for minute in range(3):
        poll(drop.folder, minute)
    file = DropFolderFile.objects.select_related("bulk_upload").get()
    assert (file.status, file.bulk_upload.status) == (DropFolderFile.Status.ERROR, BulkUpload.Status.FAILED)


def test_a_partly_imported_file_is_handled(make_drop, poll):
    drop = make_drop("local")
    drop.put("rooms.csv", b"*name,systemName,type\nHall A,hall-a,location\nBad,bad,spaceship\n")
    for minute in range(3):
        poll(drop.folder, minute)
    file = DropFolderFile.objects.select_related("bulk_upload").get()
    assert file.bulk_upload.status == BulkUpload.Status.FINISHED_PARTIALLY
    assert file.status == DropFolderFile.Status.HANDLED


def test_a_file_claimed_by_a_poll_that_died_is_offered_again(make_drop, poll):
    drop = make_drop("local")
    drop.put("rooms.csv", ROOMS)
    poll(drop.folder, 0)
    DropFolderFile.objects.update(status=DropFolderFile.Status.PROCESSING, claimed_at=NOW)
    assert poll(drop.folder, 30).taken == 0  # maybe still being read
    assert poll(drop.folder, 61).taken == 1
    assert BulkUpload.objects.count() == 1


def test_a_file_that_cannot_be_read_goes_to_failed_with_the_reason(make_drop, poll):
    drop = make_drop("ftp", username="blind")  # may list and rename, not download
    drop.put("rooms.csv", ROOMS)
    poll(drop.folder, 0)
    assert poll(drop.folder, 1).failed == 1
    file = DropFolderFile.objects.get()
    assert file.error.startswith("could not be read: error_perm: 550 ")
    assert drop.names("failed") == [f"{STAMP}-rooms.csv"]


@pytest.fixture
def queued_jobs():
    """Jobs wait in the in-memory broker instead of running in the submitting thread: Celery's
    eager mode keeps its "inside a task" flag in a process global, which threads would garble."""
    eager, celery_app.conf.task_always_eager = celery_app.conf.task_always_eager, False
    yield
    celery_app.conf.task_always_eager = eager


@pytest.mark.django_db(transaction=True)
def test_racing_polls_take_each_file_once(make_drop, queued_jobs):
    drop = make_drop("local")
    for number in range(6):
        drop.put(f"rooms-{number}.csv", f"*name,systemName\nRoom {number},room-{number}\n".encode())
    drop_folders.poll(drop.folder, NOW)
    later = NOW + timedelta(minutes=1)
    outcomes = race(lambda: drop_folders.poll(DropFolder.objects.get(), later), 4)
    assert sum(o.taken for o in outcomes) == 6, outcomes
    assert BulkUpload.objects.count() == 6
    assert len(drop.names("processed")) == 6


def race(target, contenders: int) -> list:
    barrier, outcomes = threading.Barrier(contenders), []

    def run() -> None:
        try:
            barrier.wait()
            outcomes.append(target())
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(contenders)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return outcomes


# ---------------------------------------------------------------- SFTP host keys


def test_sftp_records_the_host_key_at_first_contact(make_drop, poll, sshd):
    folder = make_drop("sftp").folder
    poll(folder)
    folder.refresh_from_db()
    assert (folder.host_key, folder.last_error) == (sshd.host_key, "")


def test_sftp_refuses_a_server_with_another_host_key(make_drop, poll, sshd):
    other = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl"
    folder = make_drop("sftp", host_key=other).folder
    assert "BadHostKeyException" in poll(folder).error


# ---------------------------------------------------------------- partners and scheduling


def test_each_folder_imports_into_its_own_partner(make_drop, poll, partner, outsider_partner):
    ours, theirs = make_drop("local"), make_drop("local", who=outsider_partner)
    ours.put("rooms.csv", ROOMS)
    theirs.put("rooms.csv", b"*name,systemName\nGym,gym\n")
    for minute in range(2):
        poll(ours.folder, minute)
        poll(theirs.folder, minute)
    assert (rooms_of(partner), rooms_of(outsider_partner)) == ({"hall-a", "hall-b"}, {"gym"})
    assert BulkUpload.objects.for_partner(outsider_partner).get().file_name == "rooms.csv"
    assert DropFolderFile.objects.for_partner(outsider_partner).get().folder == theirs.folder


def test_poll_due_polls_enabled_folders_whose_interval_has_passed(make_drop):
    due = make_drop("local", last_polled_at=NOW - timedelta(seconds=60)).folder
    never = make_drop("local").folder
    make_drop("local", last_polled_at=NOW - timedelta(seconds=59))
    make_drop("local", enabled=False)
    assert set(drop_folders.poll_due(NOW)) == {due.pk, never.pk}
    assert drop_folders.poll_due(NOW) == {}  # their turn is taken


def test_a_failing_folder_does_not_stop_the_others(make_drop, tmp_path, partner):
    broken = make_drop("local", path=str(tmp_path / "missing")).folder
    working = make_drop("local")
    working.put("rooms.csv", ROOMS)
    drop_folders.poll_due(NOW)
    drop_folders.poll_due(NOW + timedelta(minutes=1))
    broken.refresh_from_db()
    assert "FileNotFoundError" in broken.last_error
    assert DropFolderFile.objects.get(folder=working.folder).bulk_upload is not None


def test_the_periodic_task_polls_the_due_folders(make_drop):
    make_drop("local")
    with clock.pinned(NOW):
        assert drop_folders.poll_drop_folders.delay().get() == 1


def test_the_beat_schedule_runs_registered_tasks(settings):
    schedule = {entry["task"]: entry["schedule"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert schedule["calendar_app.tasks.poll_drop_folders"] == 60.0
    assert schedule["calendar_app.tasks.recover_bulk_uploads"] == 300.0
    celery_app.loader.import_default_modules()
    assert set(schedule) <= set(celery_app.tasks)
