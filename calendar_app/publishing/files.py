"""The schedule published as files, for devices that sync by file rather than by API (Kaltura's
"over REST API or FTP"): per publish target, per resource, one file per format:

- `<name>.ics`: the resource's iCal feed (feeds.py: the resource and those below it, stored
  fragments, UTC occurrences, no stream credentials);
- `<name>.xml` and `<name>.json`: the same events as a `KalturaScheduleEventListResponse`, as
  `scheduleEvent.list` renders it in format 2 and 1 (kaltura_api/event_render.py).

`<name>` is the resource's system name when it is a safe file name, else `resource-<id>`. The
window is whole UTC days, from yesterday to `days_ahead` ahead, so the files only change when
the schedule does (or the day does). Each file's version is a hash of its bytes: an unchanged file
is not written again, and a publish with nothing changed does not even connect.

A file is written under a temporary name and renamed over the old one, so no reader ever sees a
partial file. S3 has no rename, but needs none: a PUT replaces the object whole, atomically.

Who asks for a publish, and when, is publish_requests.py (after writes) and publish_tasks.py
(debounced tasks, the beat). No network I/O runs inside a database transaction.
"""

from __future__ import annotations

import contextlib
import ftplib
import hashlib
import io
import logging
import os
import posixpath
import re
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import paramiko

from calendar_app import feeds, fragments, ical, remote_locations
from calendar_app.kaltura_api import event_render, render
from calendar_app.kaltura_api.listing import list_response
from calendar_app.models import PublishTarget, ResourceStatus, ScheduleResource
from calendar_app.remote_locations import describe, location

logger = logging.getLogger(__name__)

Format = PublishTarget.Format
SUFFIXES: dict[str, str] = {Format.ICAL: ".ics", Format.XML: ".xml", Format.JSON: ".json"}
CONTENT_TYPES: dict[str, str] = {
    Format.ICAL: "text/calendar; charset=utf-8",
    Format.XML: "application/xml",
    Format.JSON: "application/json",
}
PAST_DAYS = 1
# Published again this long after the last publish even without a change: the window moves.
REPUBLISH_AFTER = timedelta(days=1)
SAFE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,120}")


@dataclass(frozen=True)
class ScheduleFile:
    name: str
    data: bytes
    content_type: str

    @property
    def version(self) -> str:
        return hashlib.sha256(self.data).hexdigest()[:32]


@dataclass
class Outcome:
    written: list[str] = field(default_factory=list)
    unchanged: int = 0
    error: str = ""


# ---------------------------------------------------------------- the files


def file_stem(resource: ScheduleResource) -> str:
    name = resource.system_name or ""
    return name if SAFE_NAME.fullmatch(name) and name.strip(".") else f"resource-{resource.pk}"


def resources_of(target: PublishTarget):
    """The target's chosen resources, or all; active ones of its own partner only."""
    mine = ScheduleResource.objects.for_partner(target.partner_id).filter(status=ResourceStatus.ACTIVE)
    chosen = target.resources.values("pk")
    return (mine.filter(pk__in=chosen) if chosen.exists() else mine).order_by("pk")


def formats_of(target: PublishTarget) -> list[str]:
    return [f for f in Format.values if not target.formats or f in target.formats]


def schedule_files(target: PublishTarget, now: datetime) -> list[ScheduleFile]:
    span = feeds.window(now, PAST_DAYS, target.days_ahead)
    wanted = formats_of(target)
    return [file for resource in resources_of(target) for file in _resource_files(resource, span, wanted)]


def _resource_files(resource: ScheduleResource, span: feeds.Window, wanted: list[str]) -> list[ScheduleFile]:
    stem, events = file_stem(resource), feeds.resource_events(resource, span)
    documents: dict[str, bytes] = {}
    if Format.ICAL in wanted:
        documents[Format.ICAL] = ical_document(resource, events)
    if Format.XML in wanted or Format.JSON in wanted:
        listed = api_list(resource.partner_id, list(events))
        documents[Format.XML] = render.xml_document(listed, 0.0)  # no timing: the bytes stay stable
        documents[Format.JSON] = render.json_document(listed)
    return [ScheduleFile(stem + SUFFIXES[f], documents[f], CONTENT_TYPES[f]) for f in wanted]


def ical_document(resource: ScheduleResource, events) -> bytes:
    """What the resource's feed serves (feeds.assemble, without its cache)."""
    rows = events.annotate(fresh=fragments.FRESH).values_list("pk", "fresh", "ical_fragment")
    return ical.assemble(fragments.texts(list(rows)), name=resource.name, refresh=feeds.REFRESH)


def api_list(partner_id: int, events: list) -> dict[str, Any]:
    objects = event_render.render_events(partner_id, events)
    return list_response("KalturaScheduleEventListResponse", objects, len(objects))


# ---------------------------------------------------------------- writers


class Writer(remote_locations.Connection):
    """One kind of place, written to."""

    def __init__(self, target: PublishTarget):
        super().__init__(target)
        self.target = target

    def write(self, file: ScheduleFile) -> None:
        raise NotImplementedError


def temporary_name(name: str) -> str:
    # Hidden and unmistakable, so that a device listing the folder skips it.
    return f".{name}.{secrets.token_hex(4)}.part"


class LocalWriter(Writer):
    def write(self, file: ScheduleFile) -> None:
        root = Path(self.target.path)
        root.mkdir(parents=True, exist_ok=True)
        temporary = root / temporary_name(file.name)
        try:
            with open(temporary, "wb") as out:
                out.write(file.data)
                out.flush()
                os.fsync(out.fileno())  # the bytes on disk before the name points at them
            os.replace(temporary, root / file.name)  # atomic within one file system
        finally:
            temporary.unlink(missing_ok=True)


class SftpWriter(Writer):
    failures = remote_locations.SFTP_FAILURES

    def __enter__(self) -> SftpWriter:
        self.client, self.sftp, self.learnt = remote_locations.open_sftp(self.target)
        try:
            self.root = self.target.path or "."
            self._make_dirs(self.root)
        except BaseException:
            self.client.close()
            raise
        return self

    def close(self) -> None:
        self.client.close()

    def _make_dirs(self, path: str) -> None:
        walked = "/" if path.startswith("/") else ""
        for part in [p for p in path.split("/") if p and p != "."]:
            walked = posixpath.join(walked, part)
            try:
                self.sftp.stat(walked)
            except FileNotFoundError:
                self.sftp.mkdir(walked)

    def write(self, file: ScheduleFile) -> None:
        temporary = posixpath.join(self.root, temporary_name(file.name))
        final = posixpath.join(self.root, file.name)
        try:
            with self.sftp.open(temporary, "wb") as out:
                out.write(file.data)
            self._replace(temporary, final)
        except BaseException:
            with contextlib.suppress(*self.failures):
                self.sftp.remove(temporary)
            raise

    def _replace(self, temporary: str, final: str) -> None:
        # SFTP's own rename refuses an existing target; OpenSSH's posix-rename replaces it
        # atomically. A server without that extension gets remove-then-rename: for an instant
        # a reader may find no file, never a partial one.
        try:
            self.sftp.posix_rename(temporary, final)
        except (OSError, paramiko.SSHException):
            with contextlib.suppress(FileNotFoundError):
                self.sftp.remove(final)
            self.sftp.rename(temporary, final)


class FtpWriter(Writer):
    failures = remote_locations.FTP_FAILURES

    def __enter__(self) -> FtpWriter:
        self.ftp = remote_locations.open_ftp(self.target)
        try:
            self._enter_dirs(self.target.path)
        except BaseException:
            self.ftp.close()
            raise
        return self

    def close(self) -> None:
        remote_locations.close_ftp(self.ftp)

    def _enter_dirs(self, path: str) -> None:
        if path.startswith("/"):
            self.ftp.cwd("/")
        for part in [p for p in path.split("/") if p and p != "."]:
            try:
                self.ftp.cwd(part)
            except ftplib.error_perm:  # missing (or forbidden: then mkd says so)
                self.ftp.mkd(part)
                self.ftp.cwd(part)

    def write(self, file: ScheduleFile) -> None:
        temporary = temporary_name(file.name)
        try:
            self.ftp.storbinary(f"STOR {temporary}", io.BytesIO(file.data))
            self._replace(temporary, file.name)
        except BaseException:
            with contextlib.suppress(*self.failures):
                self.ftp.delete(temporary)
            raise

    def _replace(self, temporary: str, final: str) -> None:
        # Most servers rename over an existing file (POSIX rename: atomic); some refuse, and get
        # delete-then-rename: for an instant no file, never a partial one.
        try:
            self.ftp.rename(temporary, final)
        except ftplib.error_perm:
            self.ftp.delete(final)
            self.ftp.rename(temporary, final)


class S3Writer(Writer):
    failures = remote_locations.S3_FAILURES

    def __enter__(self) -> S3Writer:
        self.s3 = remote_locations.s3_client(self.target)
        self.prefix = remote_locations.s3_prefix(self.target)
        return self

    def close(self) -> None:
        self.s3.close()

    def write(self, file: ScheduleFile) -> None:
        # No temporary object: S3 has no rename, and a PUT replaces the object whole, atomically
        # (a reader gets the old object or the new one, never a part).
        self.s3.put_object(
            Bucket=self.target.bucket,
            Key=self.prefix + file.name,
            Body=file.data,
            ContentType=file.content_type,
        )


WRITERS: dict[str, type[Writer]] = {
    PublishTarget.Kind.LOCAL: LocalWriter,
    PublishTarget.Kind.SFTP: SftpWriter,
    PublishTarget.Kind.FTP: FtpWriter,
    PublishTarget.Kind.S3: S3Writer,
}


# ---------------------------------------------------------------- publishing


def publish(target: PublishTarget, now: datetime) -> Outcome:
    """Write the target's files that changed since they were last written, and record the
    outcome on the target. A place that cannot be reached gets `last_error`; nothing is raised."""
    files = schedule_files(target, now)
    versions = {file.name: target.versions.get(file.name) for file in files}
    changed = [file for file in files if versions[file.name] != file.version]
    outcome = Outcome(unchanged=len(files) - len(changed))
    writer = WRITERS[target.kind](target)
    try:
        if changed:  # nothing changed: not even a connection
            with writer:
                for file in changed:
                    writer.write(file)
                    versions[file.name] = file.version
                    outcome.written.append(file.name)
    except writer.failures as error:
        outcome.error = f"{location(target)}: {describe(error)}"
    _record(target, now, {n: v for n, v in versions.items() if v}, outcome.error, writer.learnt)
    return outcome


def _record(target: PublishTarget, now: datetime, versions: dict, error: str, learnt: dict[str, str]) -> None:
    changes: dict[str, Any] = {"versions": versions, "last_error": error, **learnt}
    if not error:
        changes["published_at"] = now
    PublishTarget.objects.filter(pk=target.pk).update(**changes)
    if error:
        _ask_again(target, now)


def _ask_again(target: PublishTarget, now: datetime) -> None:
    # A failed publish stays asked for: the beat tries it again (publish_due), unless a newer
    # request already did the asking.
    again = target.requested_at or now
    PublishTarget.objects.filter(pk=target.pk, requested_at=None).update(requested_at=again)


def claim(target: PublishTarget, now: datetime) -> bool:
    """Take the target's turn with a conditional UPDATE, so that racing tasks, the beat and the
    admin publish it once. The request is consumed: a write committed after this asks again."""
    turn = PublishTarget.objects.filter(
        pk=target.pk, requested_at=target.requested_at, last_attempt_at=target.last_attempt_at
    )
    return turn.update(requested_at=None, last_attempt_at=now) == 1


def is_quiet(target: PublishTarget, now: datetime) -> bool:
    """Asked for, and no newer request within the debounce."""
    wait = timedelta(seconds=target.debounce_seconds)
    return target.requested_at is not None and now >= target.requested_at + wait


def is_due(target: PublishTarget, now: datetime) -> bool:
    """Asked for and quiet; or, not asked for, never published or not for a day."""
    if target.requested_at is not None:
        return is_quiet(target, now)  # a burst under way: its debounce holds the daily run too
    last = target.published_at
    return last is None or now >= last + REPUBLISH_AFTER


def publish_if_quiet(target_id: int, now: datetime) -> Outcome | None:
    """A debounced request's task: publish unless a newer request came (its own task follows)."""
    target = _targets().filter(pk=target_id).first()
    if target is None or not is_quiet(target, now) or not claim(target, now):
        return None
    return publish_isolated(target, now)


def publish_due(now: datetime) -> dict[int, Outcome]:
    """The beat: publish each enabled target that is due (a request past its debounce whose task
    was lost or could not wait, or the daily republish). One failing target never stops others."""
    published = {}
    for target in _targets().order_by("pk"):
        if is_due(target, now) and claim(target, now):
            published[target.pk] = publish_isolated(target, now)
    return published


def publish_now(targets, now: datetime) -> dict[int, Outcome | None]:
    """Publish these targets at once, asked or not (admin, the command); None where another
    publish holds the turn."""
    return {t.pk: publish_isolated(t, now) if claim(t, now) else None for t in targets.order_by("pk")}


def _targets():
    # Secrets load inside publish_isolated: one that no key opens (secret_box.py) fails only
    # its own target.
    return PublishTarget.objects.filter(enabled=True).defer("password", "private_key")


def publish_isolated(target: PublishTarget, now: datetime) -> Outcome:
    try:
        return publish(target, now)
    except Exception as error:  # noqa: BLE001 - one broken target must not stop the others
        logger.exception("publishing to target %s failed", target.pk)
        message = f"internal error while publishing: {describe(error)}"
        PublishTarget.objects.filter(pk=target.pk).update(last_error=message)
        _ask_again(target, now)
        return Outcome(error=message)
