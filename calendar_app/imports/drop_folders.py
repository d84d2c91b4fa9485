"""Drop folders: files dropped into a local directory, an SFTP or FTP directory, or an S3 bucket
become bulk upload jobs (docs/kaltura-compatibility.md §7), as with Kaltura's drop folders.

A poll lists the folder and takes a file only once an earlier poll saw the same version (size and
mtime or ETag) long enough ago: a file still being uploaded changes between polls and is left
alone. Each version has one DropFolderFile row (a unique constraint), and taking it is one
conditional UPDATE of that row, so a version becomes at most one job however many polls race. The
bytes are stored in the job in the same transaction that links the job to the row, then the file
moves to processed/ (failed/ when it could not be read), so later polls no longer see it. A file's
final status follows its job, as kDropFolderICalEventsConsumer does: FINISHED and
FINISHED_PARTIALLY mean HANDLED; FAILED, FATAL and ABORTED mean ERROR.

No network I/O runs inside a database transaction.
"""

from __future__ import annotations

import contextlib
import ftplib
import logging
import os
import posixpath
import stat
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path, PurePosixPath

from celery import shared_task
from django.db import transaction

from calendar_app import clock, remote_locations, writes
from calendar_app.imports import jobs
from calendar_app.models import AuditEntry, BulkUpload, DropFolder, DropFolderFile
from calendar_app.remote_locations import describe, location

logger = logging.getLogger(__name__)

File = DropFolderFile.Status
JobStatus = BulkUpload.Status
PROCESSED, FAILED = "processed", "failed"
JOB_KINDS = {".ics": BulkUpload.Kind.EVENTS_ICAL, ".csv": BulkUpload.Kind.RESOURCES_CSV}
# What a finished job means for its file (kDropFolderICalEventsConsumer).
FILE_OUTCOMES = {
    File.HANDLED: (JobStatus.FINISHED, JobStatus.FINISHED_PARTIALLY),
    File.ERROR: (JobStatus.FAILED, JobStatus.FATAL, JobStatus.ABORTED),
}
# A file claimed this long ago without a job lost its poller before the job was written: nothing
# was imported, so the file is offered again.
LOST_AFTER = timedelta(hours=1)
UPLOADED_BY = "Drop Folder"  # Kaltura's uploadedBy for drop folder jobs


@dataclass(frozen=True)
class Listed:
    """A file as a source lists it. `fingerprint` changes whenever the content may have."""

    name: str
    size: int
    fingerprint: str


@dataclass
class Polled:
    taken: int = 0  # became a job
    failed: int = 0  # set aside in failed/
    waiting: int = 0  # seen, not yet stable
    error: str = ""  # the folder could not be polled


class Unusable(Exception):
    """This file cannot become a job; the reason is kept on its row."""


class ClaimLost(Exception):
    """The row was released while its file was read (LOST_AFTER passed): another poll owns it."""


def job_kind(name: str) -> str | None:
    # Hidden files are skipped: upload tools write their partial files as ".name.csv.part" or
    # ".name.csv.XXXXXX" and rename them once complete.
    if name.startswith("."):
        return None
    return JOB_KINDS.get(PurePosixPath(name).suffix.lower())


# ---------------------------------------------------------------- sources


class Source(remote_locations.Connection):
    """One kind of folder, read: listed, read, its files moved once imported."""

    def __init__(self, folder: DropFolder):
        super().__init__(folder)
        self.folder = folder

    def list(self) -> list[Listed]:
        """The regular files directly in the folder (not in processed/ or failed/)."""
        raise NotImplementedError

    def read(self, name: str, limit: int) -> bytes:
        """At most `limit` bytes of the file."""
        raise NotImplementedError

    def move(self, name: str, area: str, new_name: str) -> str:
        """Move the file to the sub-folder `area` as `new_name`; returns where it went."""
        raise NotImplementedError


class LocalSource(Source):
    def __init__(self, folder: DropFolder):
        super().__init__(folder)
        self.root = Path(folder.path)

    def list(self) -> list[Listed]:
        # Symbolic links are not followed: a link must not import a file from outside the folder.
        with os.scandir(self.root) as entries:
            files = [entry for entry in entries if entry.is_file(follow_symlinks=False)]
            stats = [(entry.name, entry.stat(follow_symlinks=False)) for entry in files]
        return [Listed(name, st.st_size, str(st.st_mtime_ns)) for name, st in stats]

    def read(self, name: str, limit: int) -> bytes:
        with open(self.root / name, "rb") as file:
            return file.read(limit)

    def move(self, name: str, area: str, new_name: str) -> str:
        (self.root / area).mkdir(exist_ok=True)
        target = self.root / area / new_name
        os.rename(self.root / name, target)  # within one file system: atomic
        return str(target)


class SftpSource(Source):
    failures = remote_locations.SFTP_FAILURES

    def __enter__(self) -> SftpSource:
        self.client, self.sftp, self.learnt = remote_locations.open_sftp(self.folder)
        return self

    def close(self) -> None:
        self.client.close()

    def _path(self, *parts: str) -> str:
        return posixpath.join(self.folder.path or ".", *parts)

    def list(self) -> list[Listed]:
        attrs = self.sftp.listdir_attr(self._path())
        return [
            Listed(a.filename, a.st_size or 0, str(a.st_mtime)) for a in attrs if stat.S_ISREG(a.st_mode or 0)
        ]

    def read(self, name: str, limit: int) -> bytes:
        with self.sftp.open(self._path(name), "rb") as file:
            return file.read(limit)

    def move(self, name: str, area: str, new_name: str) -> str:
        with contextlib.suppress(OSError):  # it exists; a real failure shows in the rename
            self.sftp.mkdir(self._path(area))
        target = self._path(area, new_name)
        self.sftp.rename(self._path(name), target)
        return target


class FtpSource(Source):
    failures = remote_locations.FTP_FAILURES

    def __enter__(self) -> FtpSource:
        self.ftp = remote_locations.open_ftp(self.folder)
        try:
            if self.folder.path:
                self.ftp.cwd(self.folder.path)
        except BaseException:
            self.ftp.close()
            raise
        return self

    def close(self) -> None:
        remote_locations.close_ftp(self.ftp)

    def list(self) -> list[Listed]:
        # MLSD (RFC 3659) gives type, size and modification time in one machine-readable listing.
        facts = self.ftp.mlsd(facts=["type", "size", "modify"])
        return [
            Listed(name, int(fact.get("size", 0)), fact.get("modify", ""))
            for name, fact in facts
            if fact.get("type") == "file"
        ]

    def read(self, name: str, limit: int) -> bytes:
        data = bytearray()

        def keep(chunk: bytes) -> None:
            data.extend(chunk)
            if len(data) >= limit:
                raise _Enough

        try:
            self.ftp.retrbinary(f"RETR {name}", keep)
        except _Enough:
            # The transfer was cut short: read the server's reply to it (226 or 426), or the
            # next command would receive it instead of its own.
            with contextlib.suppress(ftplib.error_temp):
                self.ftp.voidresp()
        return bytes(data[:limit])

    def move(self, name: str, area: str, new_name: str) -> str:
        with contextlib.suppress(ftplib.error_perm):  # it exists; a real failure shows in the rename
            self.ftp.mkd(area)
        target = f"{area}/{new_name}"
        self.ftp.rename(name, target)
        return posixpath.join(self.folder.path, target)


class _Enough(Exception):
    pass


class S3Source(Source):
    failures = remote_locations.S3_FAILURES

    def __enter__(self) -> S3Source:
        self.s3 = remote_locations.s3_client(self.folder)
        self.bucket = self.folder.bucket
        self.prefix = remote_locations.s3_prefix(self.folder)
        return self

    def close(self) -> None:
        self.s3.close()

    def list(self) -> list[Listed]:
        # The delimiter keeps processed/ and failed/ (and any other "sub-folder") out.
        pages = self.s3.get_paginator("list_objects_v2").paginate(
            Bucket=self.bucket, Prefix=self.prefix, Delimiter="/"
        )
        objects = [obj for page in pages for obj in page.get("Contents", [])]
        return [
            Listed(obj["Key"][len(self.prefix) :], obj["Size"], obj["ETag"].strip('"'))
            for obj in objects
            if obj["Key"] != self.prefix
        ]

    def read(self, name: str, limit: int) -> bytes:
        body = self.s3.get_object(Bucket=self.bucket, Key=self.prefix + name)["Body"]
        try:
            return body.read(limit)
        finally:
            body.close()

    def move(self, name: str, area: str, new_name: str) -> str:
        # S3 has no rename: copy, then delete. A crash between the two leaves the file in both
        # places; its version is already recorded, so it is not imported again.
        target = f"{self.prefix}{area}/{new_name}"
        source = {"Bucket": self.bucket, "Key": self.prefix + name}
        self.s3.copy_object(Bucket=self.bucket, Key=target, CopySource=source)
        self.s3.delete_object(Bucket=self.bucket, Key=self.prefix + name)
        return f"s3://{self.bucket}/{target}"


SOURCES: dict[str, type[Source]] = {
    DropFolder.Kind.LOCAL: LocalSource,
    DropFolder.Kind.SFTP: SftpSource,
    DropFolder.Kind.FTP: FtpSource,
    DropFolder.Kind.S3: S3Source,
}


# ---------------------------------------------------------------- polling


def poll_due(now: datetime) -> dict[int, Polled]:
    """Poll each enabled folder whose interval has passed. A folder's turn is claimed with a
    conditional UPDATE of last_polled_at, so overlapping runs (a slow poll outlasting the beat)
    poll it once. A folder that fails never stops the others."""
    polled = {}
    # Secrets load inside _poll_isolated: one no key opens (secret_box.py) fails only its folder.
    folders = DropFolder.objects.filter(enabled=True).select_related("partner")
    for folder in folders.defer("password", "private_key").order_by("pk"):
        if is_due(folder, now) and _claim_turn(folder, now):
            polled[folder.pk] = _poll_isolated(folder, now)
    return polled


def is_due(folder: DropFolder, now: datetime) -> bool:
    last = folder.last_polled_at
    return last is None or now >= last + timedelta(seconds=folder.poll_interval)


def _claim_turn(folder: DropFolder, now: datetime) -> bool:
    turn = DropFolder.objects.filter(pk=folder.pk, last_polled_at=folder.last_polled_at)
    return turn.update(last_polled_at=now) == 1


def _poll_isolated(folder: DropFolder, now: datetime) -> Polled:
    try:
        return poll(folder, now)
    except Exception as error:  # noqa: BLE001 - one broken folder must not stop the others
        logger.exception("polling drop folder %s failed", folder.pk)
        message = f"internal error while polling: {describe(error)}"
        DropFolder.objects.filter(pk=folder.pk).update(last_polled_at=now, last_error=message)
        return Polled(error=message)


def poll(folder: DropFolder, now: datetime) -> Polled:
    """List the folder once, record what is new, and take the files that are stable. A folder
    that cannot be reached gets `last_error`; nothing is raised for it."""
    settle(folder, now)
    source = SOURCES[folder.kind](folder)
    polled = Polled()
    try:
        with source:
            _poll_files(folder, source, now, polled)
    except source.failures as error:
        polled.error = f"{location(folder)}: {describe(error)}"
    _record(folder, now, polled.error, source.learnt)
    return polled


def _record(folder: DropFolder, now: datetime, error: str, learnt: dict[str, str]) -> None:
    changes = {"last_polled_at": now, "last_error": error, **learnt}
    DropFolder.objects.filter(pk=folder.pk).update(**changes)
    for name, value in changes.items():
        setattr(folder, name, value)


def _poll_files(folder: DropFolder, source: Source, now: datetime, polled: Polled) -> None:
    listed = [found for found in source.list() if job_kind(found.name)]
    for row in _stable(folder, listed, now, polled):
        _take(folder, source, row, now, polled)


def _stable(folder: DropFolder, listed: list[Listed], now: datetime, polled: Polled) -> list[DropFolderFile]:
    """Record the versions listed now; return the rows of those an earlier poll saw unchanged at
    least `stable_seconds` ago. Versions gone from the folder before they were taken (a file that
    changed while uploading, or was removed) are forgotten."""
    seen = {(f.name, f.size, f.fingerprint) for f in listed}
    same_names = folder.files.filter(name__in={f.name for f in listed})
    rows = {(r.name, r.size, r.fingerprint): r for r in same_names}
    still_there = [row.pk for version, row in rows.items() if version in seen]
    folder.files.filter(status=File.DETECTED).exclude(pk__in=still_there).delete()
    new = [
        DropFolderFile(
            partner_id=folder.partner_id, folder=folder, name=name, size=size, fingerprint=fingerprint,
            detected_at=now,
        )
        for name, size, fingerprint in seen - rows.keys()
    ]  # fmt: skip
    # A racing poll may record the same version first: the unique constraint keeps one row.
    DropFolderFile.objects.bulk_create(new, ignore_conflicts=True)
    waiting = [rows[k] for k in seen & rows.keys() if rows[k].status == File.DETECTED]
    ready = [row for row in waiting if _is_stable(row, folder, now)]
    polled.waiting += len(new) + len(waiting) - len(ready)
    return sorted(ready, key=lambda row: (row.detected_at, row.name))


def _is_stable(row: DropFolderFile, folder: DropFolder, now: datetime) -> bool:
    # Seen by an earlier poll (never the same one), and long enough ago.
    return row.detected_at < now and now - row.detected_at >= timedelta(seconds=folder.stable_seconds)


def _take(folder: DropFolder, source: Source, row: DropFolderFile, now: datetime, polled: Polled) -> None:
    if not _claim(row, now):
        return  # another poll took it
    try:
        data = _read(source, row)
    except Unusable as unusable:
        _set_aside(source, row, now, str(unusable))
        polled.failed += 1
        return
    if data is None:  # changed since it was listed: the next poll sees the new version
        _release(row)
        polled.waiting += 1
        return
    try:
        _submit(folder, row, data, now)
    except ClaimLost:
        return
    polled.taken += 1
    _move(source, row, PROCESSED, now)


def _claim(row: DropFolderFile, now: datetime) -> bool:
    claimed = DropFolderFile.objects.filter(pk=row.pk, status=File.DETECTED)
    return claimed.update(status=File.PROCESSING, claimed_at=now) == 1


def _release(row: DropFolderFile) -> None:
    unfinished = DropFolderFile.objects.filter(pk=row.pk, status=File.PROCESSING, bulk_upload=None)
    unfinished.update(status=File.DETECTED, claimed_at=None)


def _read(source: Source, row: DropFolderFile) -> bytes | None:
    """The file's bytes; None when it no longer has the size it was listed with."""
    cap = jobs.max_bytes()
    if row.size > cap:
        raise Unusable(_too_large(row.size, cap))
    try:
        data = source.read(row.name, cap + 1)
    except source.failures as error:
        raise Unusable(f"could not be read: {describe(error)}") from error
    if len(data) > cap:
        raise Unusable(_too_large(len(data), cap))
    return data if len(data) == row.size else None


def _too_large(size: int, cap: int) -> str:
    return f"too large: {size} bytes or more; at most {cap} are accepted"


def _submit(folder: DropFolder, row: DropFolderFile, data: bytes, now: datetime) -> None:
    """Store the bytes as a job and link it to the row, in one transaction: if the row's claim was
    lost meanwhile, no job is left behind."""
    kind = job_kind(row.name)
    actor = writes.Actor(
        partner=folder.partner, now=now, user_id=UPLOADED_BY, source=AuditEntry.Source.IMPORT
    )
    with transaction.atomic():
        job = jobs.submit(
            actor, kind, data, file_name=row.name, description=f"drop folder {folder.name}",
            events_type=folder.events_type if kind == BulkUpload.Kind.EVENTS_ICAL else None,
            source=BulkUpload.Source.DROP_FOLDER,
        )  # fmt: skip
        mine = DropFolderFile.objects.filter(pk=row.pk, status=File.PROCESSING, bulk_upload=None)
        if not mine.update(bulk_upload=job):
            transaction.set_rollback(True)
            raise ClaimLost(row.pk)


def _set_aside(source: Source, row: DropFolderFile, now: datetime, reason: str) -> None:
    """Move an unusable file to failed/ and mark it ERROR. If even the move fails, the folder
    itself is failing (the connection dropped): the file is left for a later poll."""
    try:
        moved = source.move(row.name, FAILED, _archived_name(row, now))
    except source.failures:
        _release(row)
        raise
    DropFolderFile.objects.filter(pk=row.pk).update(
        status=File.ERROR, error=reason, moved_to=moved, handled_at=now
    )


def _move(source: Source, row: DropFolderFile, area: str, now: datetime) -> None:
    try:
        moved = source.move(row.name, area, _archived_name(row, now))
    except source.failures as error:
        # Imported all the same; the file stays, and its version is never taken again.
        note = f"imported, but not moved to {area}/: {describe(error)}"
        DropFolderFile.objects.filter(pk=row.pk).update(error=note)
        raise
    DropFolderFile.objects.filter(pk=row.pk).update(moved_to=moved)


def _archived_name(row: DropFolderFile, now: datetime) -> str:
    # Stamped, so a file dropped again under the same name never overwrites an earlier one.
    return f"{now:%Y%m%dT%H%M%SZ}-{row.name}"


def settle(folder: DropFolder, now: datetime) -> None:
    """Carry finished jobs' outcomes onto their files, and offer again the files a crashed poll
    claimed without writing a job."""
    taken = folder.files.filter(status=File.PROCESSING)
    for outcome, job_statuses in FILE_OUTCOMES.items():
        taken.filter(bulk_upload__status__in=job_statuses).update(status=outcome, handled_at=now)
    lost = taken.filter(bulk_upload=None, claimed_at__lt=now - LOST_AFTER)
    lost.update(status=File.DETECTED, claimed_at=None)


# The name is pinned: the beat schedule names it.
@shared_task(name="calendar_app.tasks.poll_drop_folders")
def poll_drop_folders() -> int:
    """Every minute (CELERY_BEAT_SCHEDULE): poll the folders that are due. Returns how many."""
    return len(poll_due(clock.now()))
