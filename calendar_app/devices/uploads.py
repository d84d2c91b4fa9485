"""Uploads: a recording arrives through an upload token (uploadToken.add, then one or several
uploadToken.upload chunks), and media.addContent hands the finished file to an entry (`attach`).

Chunk semantics (Kaltura's, kUploadTokenMgr.php, made strict where it guesses):

- `resume=False` starts the file over: whatever was stored is dropped, the chunk is byte 0.
- `resume=True, resumeAt=-1` (any negative) appends at the end of what is stored.
- `resume=True, resumeAt=N` writes from byte N. N past what is stored is refused
  (UPLOAD_TOKEN_CANNOT_MATCH_EXPECTED_SIZE, what Kaltura answers a final chunk that leaves a
  gap; we do not park out-of-order chunks). N before it re-sends from there: what followed N is
  dropped, so a device that lost an answer simply sends its last chunk again.
- An empty chunk never drops a byte. A device that calls again after a timeout (the official
  client raises it as KalturaClientException -4) passes the same parameters and the file object
  the first call read to its end, so its retry is empty: before what is stored, a non-final one
  is dismissed (the token is answered as it is, as Kaltura dismisses an empty chunk), a final
  one is UPLOAD_TOKEN_CANNOT_MATCH_EXPECTED_SIZE.
- Resuming a token that has nothing stored yet is UPLOAD_TOKEN_CANNOT_RESUME, as in Kaltura.
- `finalChunk=True` completes the file: it must match the size declared on add, if one was
  (UPLOAD_TOKEN_CANNOT_MATCH_EXPECTED_SIZE), the token is FULL_UPLOAD.
- `autoFinalize` with a declared `fileSize` completes the file when that size is reached.
- The last chunk sent again to a FULL_UPLOAD token (its answer was lost) is answered with the
  token when it is empty (the client's retry) or holds the bytes stored at its offset; other
  bytes are UPLOAD_TOKEN_INVALID_STATUS_FOR_UPLOAD.
- A refused or failed chunk changes nothing: no byte of it is counted or kept.

Storage: Django's default storage (local MEDIA_ROOT, or S3 with django-storages). S3 objects
cannot be appended to and several web processes may serve one upload, so no state lives on one
node's disk: every chunk is its own object (`uploads/<partner>/<token>/<offset>-<random>.part`),
and a small immutable manifest object lists the parts that make the file so far. The token's
`storage_name` names the current manifest: a chunk is committed by one conditional UPDATE that
moves it from the manifest the chunk was built on to the new one, so of two concurrent chunks
on one token exactly one wins (the other is refused as Kaltura refuses a chunk that finds the
token locked, UPLOAD_TOKEN_INVALID_STATUS_FOR_UPLOAD) and neither corrupts the file.

The final chunk is stored like any other and only completes the manifest: the official client
gives a request with a file 10 s to answer, and joining a 4 GiB file takes 5 to 15 s here
(280 to 900 MiB/s), so the join waits for `assemble`, which media.addContent runs before its
transaction (the client gives it 120 s). It streams the parts into
`recordings/<partner>/<token>/<random>-<name>`, hashing on the way, and the parts are deleted;
until then the token's `checksum` is empty. A file sent in one request is hashed where Django
streamed it and stored straight under its final name, checksum included (256 MiB: 1.2 s).
Measured with bench/upload.py (docs/devices.md has the figures).
"""

from __future__ import annotations

import errno
import hashlib
import io
import json
import logging
import os
import secrets
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import SuspiciousFileOperation
from django.core.files.base import ContentFile, File
from django.core.files.storage import Storage, storages
from django.db import transaction
from django.db.models import CharField, Q, QuerySet
from django.utils.text import get_valid_filename

from calendar_app import clock, input_rules
from calendar_app.errors import SchedulingError
from calendar_app.models import Entry, Partner, UploadToken

log = logging.getLogger(__name__)
Status = UploadToken.Status
OPEN = (Status.PENDING, Status.PARTIAL_UPLOAD)
COPY_BLOCK = 8 * 1024 * 1024
ATTACHED_TYPE = "KalturaMediaEntry"
STORAGE_FULL = "UPLOAD_STORAGE_FULL"


class UploadRefused(SchedulingError):
    """An upload request refused with Kaltura's code (KalturaErrors.php) or, for our caps, ours."""

    def __init__(self, code: str, message: str, **args: Any):
        super().__init__(message, args=args)
        self.code = code


def not_found(token_id: str) -> UploadRefused:
    return UploadRefused("UPLOAD_TOKEN_NOT_FOUND", "Upload token not found", ID=token_id)


def max_bytes() -> int:
    return settings.UPLOAD_MAX_BYTES


def chunk_max_bytes() -> int:
    return settings.UPLOAD_CHUNK_MAX_BYTES


def storage() -> Storage:
    return storages["default"]


@dataclass(frozen=True)
class Uploader:
    """Who uploads: the session's partner and user, and the app token of a device's session.
    A device sees only the tokens its own app token made; a user session only its user's; an
    admin session (not a device's) every token of its partner."""

    partner: Partner
    user_id: str = ""
    app_token: str = ""
    sees_all: bool = False


def tokens(who: Uploader) -> QuerySet[UploadToken]:
    rows = UploadToken.objects.for_partner(who.partner)
    if who.app_token:
        return rows.filter(app_token=who.app_token)
    return rows if who.sees_all else rows.filter(user_id=who.user_id, app_token="")


def get(who: Uploader, token_id: str) -> UploadToken:
    token = tokens(who).filter(pk=token_id).first()
    if token is None:
        raise not_found(token_id)
    return token


# ---------------------------------------------------------------- add, delete


def add(
    who: Uploader,
    now: datetime,
    *,
    file_name: str = "",
    file_size: int | None = None,
    auto_finalize: bool | None = None,
) -> UploadToken:
    file_name = input_rules.text(_max_length("file_name"))("file_name", file_name)
    file_size = input_rules.integer(0, nullable=True)("file_size", file_size)
    if file_size is not None:
        _check_total(file_size)
    if auto_finalize and file_size is None:
        raise UploadRefused(
            "UPLOAD_TOKEN_MISSING_FILE_SIZE", "FileSize is mandatory when enabling autoFinalize"
        )
    return UploadToken.objects.create(
        partner=who.partner,
        user_id=who.user_id,
        app_token=who.app_token,
        file_name=file_name,
        file_size=file_size,
        auto_finalize=auto_finalize,
        created_at=now,
        updated_at=now,
    )


def delete(who: Uploader, token_id: str, now: datetime) -> None:
    """DELETED, as Kaltura marks it; the files go once the change is committed. A token handed to
    an entry keeps nothing of the file (`attach` gave it away), so the entry's file stays."""
    token = get(who, token_id)
    if token.status == Status.DELETED:
        return
    if not _move(token, now, status=Status.DELETED):
        raise _raced(token)
    transaction.on_commit(lambda: _discard(token))


# ---------------------------------------------------------------- upload


def upload(
    who: Uploader,
    token_id: str,
    chunk: File,
    now: datetime,
    *,
    resume: bool = False,
    final: bool = True,
    resume_at: float = -1,
) -> UploadToken:
    token = get(who, token_id)
    if token.status == Status.FULL_UPLOAD and _resends_last(token, chunk, resume, resume_at, final):
        return token  # the answer to the last chunk was lost: this is the same request again
    if token.status not in OPEN:
        raise _invalid_status(token)
    offset = _offset(token, resume, resume_at)
    if chunk.size == 0 and offset < token.uploaded_file_size:
        return _dismissed(token, final)
    end = offset + _chunk_size(chunk)
    _check_end(token, end, final)
    final = final or bool(token.auto_finalize and end == token.file_size)
    # As Kaltura does: a token added without a file name takes the uploaded file's.
    token.file_name = token.file_name or os.path.basename(chunk.name or "")[: _max_length("file_name")]
    written: list[str] = []
    try:
        fields = _write(token, chunk, offset, final, written)
        if not _move(token, now, uploaded_file_size=end, file_name=token.file_name, **fields):
            raise _raced(token)
    except FileNotFoundError:
        _delete_names(written)
        # Another request stored a chunk first and removed the manifest this one was reading.
        if not _as_read(token):
            raise _raced(token) from None
        raise
    except OSError as error:
        _delete_names(written)  # the chunk's bytes that fitted, too
        if _no_space(error):
            raise _storage_full(token) from error
        raise
    except BaseException:
        _delete_names(written)
        raise
    old_manifest = token.storage_name
    transaction.on_commit(lambda: _drop_superseded(old_manifest, fields["storage_name"]))
    token.refresh_from_db()
    return token


def _offset(token: UploadToken, resume: bool, resume_at: float) -> int:
    if not resume:
        return 0
    stored = token.uploaded_file_size
    if token.status == Status.PENDING:
        raise UploadRefused(
            "UPLOAD_TOKEN_CANNOT_RESUME", "Cannot resume the upload, original file was not found"
        )
    if resume_at < 0:
        return stored
    if resume_at != int(resume_at) or resume_at > stored:
        raise UploadRefused(
            "UPLOAD_TOKEN_CANNOT_MATCH_EXPECTED_SIZE",
            f"Cannot write at byte {resume_at}: {stored} bytes are stored, resume at most there",
            RESUME_AT=resume_at,
            STORED=stored,
        )
    return int(resume_at)


def _dismissed(token: UploadToken, final: bool) -> UploadToken:
    """An empty chunk before the end of what is stored: most likely the client's retry of a chunk
    that landed, never a reason to drop what followed. Kaltura dismisses a non-final one; a
    final one would end the file short of what is stored."""
    if final:
        raise UploadRefused(
            "UPLOAD_TOKEN_CANNOT_MATCH_EXPECTED_SIZE",
            f"An empty final chunk cannot end the file before the {token.uploaded_file_size} bytes stored",
            SIZE=token.uploaded_file_size,
        )
    return token


def _resends_last(token: UploadToken, chunk: File, resume: bool, resume_at: float, final: bool) -> bool:
    """Is this the chunk that completed the token, sent again? Empty (a retry with the file
    object the first call read to its end) at that chunk's offset or at the end, or the same
    bytes at its offset (compared only here, on a retry, so no other chunk pays for it)."""
    if not (final or token.auto_finalize):
        return False
    last = _last_part(token)
    at = last.offset if resume and resume_at < 0 else (resume_at if resume else 0)
    if chunk.size == 0:
        return at in (last.offset, token.uploaded_file_size)
    return at == last.offset and chunk.size == last.size and _same_bytes(last.name, chunk)


def _last_part(token: UploadToken) -> _Part:
    parts = _manifest_at(token.storage_name)
    return parts[-1] if parts else _Part(0, token.storage_name, token.uploaded_file_size)


def _same_bytes(name: str, chunk: File) -> bool:
    with storage().open(name, "rb") as stored:
        for block in _rewound(chunk).chunks(COPY_BLOCK):
            if stored.read(len(block)) != block:
                return False
        return stored.read(1) == b""


def _chunk_size(chunk: File) -> int:
    size = chunk.size
    if size > chunk_max_bytes():
        raise UploadRefused(
            "UPLOAD_TOKEN_MAX_CHUNK_SIZE_EXCEEDED",
            f"The chunk is {size} bytes; at most {chunk_max_bytes()} are accepted in one request",
            SIZE=size,
            MAX=chunk_max_bytes(),
        )
    return size


def _max_length(field: str) -> int:
    column = UploadToken._meta.get_field(field)
    assert isinstance(column, CharField)
    return column.max_length or 0


def _check_total(size: int) -> None:
    if size > max_bytes():
        raise UploadRefused(
            "UPLOAD_TOKEN_MAX_FILE_SIZE_EXCEEDED",
            f"The file would be {size} bytes; at most {max_bytes()} are accepted",
            SIZE=size,
            MAX=max_bytes(),
        )


def _check_end(token: UploadToken, end: int, final: bool) -> None:
    _check_total(end)
    declared = token.file_size
    if declared is not None and (end > declared or final and end != declared):
        raise UploadRefused(
            "UPLOAD_TOKEN_CANNOT_MATCH_EXPECTED_SIZE",
            f"Failed to match expected file size: {end} bytes, {declared} declared",
            SIZE=end,
            EXPECTED=declared,
        )


def _write(token: UploadToken, chunk: File, offset: int, final: bool, written: list[str]) -> dict[str, Any]:
    """The chunk stored; the token's new fields. Every name written goes into `written` at once,
    so a failure part-way deletes them. A final chunk only completes the manifest: `assemble`
    joins the parts later, when no client is waiting on a 10 s timeout."""
    kept = [p for p in _manifest(token) if p.offset < offset]
    if final and not kept:
        # The whole file in this request: hashed where Django streamed it, then stored as is
        # (on local storage, a rename of that temporary file). A 256 MiB request took 1.72 s
        # copied while hashing, 1.33 s this way (bench/upload.py, medians of 3).
        checksum = _sha256(chunk)
        name = _save(_final_name(token), _rewound(chunk), written)
        return {"status": Status.FULL_UPLOAD, "storage_name": name, "checksum": checksum}
    part = _save(f"{_prefix(token)}{offset:016d}-{secrets.token_hex(4)}.part", _rewound(chunk), written)
    parts = [*kept, _Part(offset, part, chunk.size)]
    manifest = _save(f"{_prefix(token)}manifest-{secrets.token_hex(8)}.json", _as_json(parts), written)
    status = Status.FULL_UPLOAD if final else Status.PARTIAL_UPLOAD
    return {"status": status, "storage_name": manifest, "checksum": ""}


def _move(token: UploadToken, now: datetime, **fields: Any) -> bool:
    """Commit a change made from `token` as read: only if no one changed it since (a conditional
    UPDATE, the same on SQLite and PostgreSQL; `storage_name` moves with every chunk)."""
    fields["updated_at"] = now
    same = Q(pk=token.pk, status=token.status, storage_name=token.storage_name)
    return UploadToken.objects.filter(same).update(**fields) == 1


def _as_read(token: UploadToken) -> bool:
    """Whether the token's stored files are still the ones `token` was read with."""
    return UploadToken.objects.filter(pk=token.pk, storage_name=token.storage_name).exists()


def _raced(token: UploadToken) -> UploadRefused:
    return UploadRefused(
        "UPLOAD_TOKEN_INVALID_STATUS_FOR_UPLOAD",
        "Another request changed this upload token at the same time; get it and resume from its size",
        ID=token.pk,
    )


def _no_space(error: BaseException) -> bool:
    return isinstance(error, OSError) and error.errno in (errno.ENOSPC, errno.EDQUOT)


def _storage_full(token: UploadToken) -> UploadRefused:
    """The storage is full (a code of ours, as for our caps). Nothing of the chunk is kept and
    the token is as it was before it, so a device resumes at its uploadedFileSize once space is
    freed."""
    return UploadRefused(
        STORAGE_FULL,
        f"The upload storage is full: this chunk was not kept. The token keeps the "
        f"{token.uploaded_file_size} bytes stored before it; resume there once space is freed",
        ID=token.pk,
        SIZE=token.uploaded_file_size,
    )


def _storage_full_to_join(token: UploadToken) -> UploadRefused:
    return UploadRefused(
        STORAGE_FULL,
        "The upload storage is full: the uploaded parts cannot be joined into one file. They are "
        "kept; add the content again once space is freed",
        ID=token.pk,
        SIZE=token.uploaded_file_size,
    )


def _invalid_status(token: UploadToken) -> UploadRefused:
    return UploadRefused(
        "UPLOAD_TOKEN_INVALID_STATUS_FOR_UPLOAD",
        "Upload token is in an invalid status for uploading a file, maybe the file was already uploaded",
        ID=token.pk,
        STATUS=token.status,
    )


# ---------------------------------------------------------------- assemble, attach


def assemble(partner: Partner, token_id: str, app_token: str, now: datetime | None = None) -> None:
    """Join a FULL_UPLOAD token's parts into its final object and store its SHA-256 (seconds for
    a large file: call it outside a transaction, before `attach`). Of two requests assembling one
    token, both may write, one commits; the other removes its copy. A token with nothing to
    join (one request, already joined, not complete) is left for `attach` to take or refuse."""
    token = _attachable(partner, token_id, app_token)
    if token.status != Status.FULL_UPLOAD or not token.storage_name.endswith(".json"):
        return
    written: list[str] = []
    moved = False
    try:
        segments = _segments(_manifest_at(token.storage_name), token.uploaded_file_size)
        name, checksum = _save_hashed(_final_name(token), segments, written)
        moved = _move(token, now or clock.now(), storage_name=name, checksum=checksum)
    except Exception as error:
        # Unless another request joined the parts first and removed them (the manifest too)
        # before or while this one read them.
        if _as_read(token):
            if _no_space(error):
                raise _storage_full_to_join(token) from error
            raise
    finally:
        if not moved:
            _delete_names(written)
    if moved:
        manifest = token.storage_name
        transaction.on_commit(lambda: _drop_superseded(manifest, name))


def attach(
    partner: Partner, token_id: str, app_token: str, entry: Entry, now: datetime | None = None
) -> UploadToken:
    """media.addContent: the token's finished file becomes the entry's (the caller saves the
    entry, in the transaction this runs in). Its parts must have been joined (`assemble`, called
    first); a device's session may use only the tokens its own app token made."""
    now = now or clock.now()
    token = _attachable(partner, token_id, app_token)
    if token.status != Status.FULL_UPLOAD or token.storage_name.endswith(".json") or not _move(
        token, now, status=Status.CLOSED, storage_name="", attached_object_type=ATTACHED_TYPE,
        attached_object_id=entry.pk,
    ):  # fmt: skip
        raise UploadRefused(
            "UPLOAD_TOKEN_INVALID_STATUS_FOR_ADD_ENTRY",
            "Upload token is in an invalid status for adding entry, maybe the a file was not uploaded "
            "or the token was used",
            ID=token_id,
        )
    entry.media_file.name = token.storage_name
    entry.file_name, entry.file_size, entry.checksum = (
        token.file_name,
        token.uploaded_file_size,
        token.checksum,
    )
    token.refresh_from_db()
    return token


def _attachable(partner: Partner, token_id: str, app_token: str) -> UploadToken:
    rows = UploadToken.objects.for_partner(partner)
    token = (rows.filter(app_token=app_token) if app_token else rows).filter(pk=token_id).first()
    if token is None:
        raise not_found(token_id)
    return token


# ---------------------------------------------------------------- cleanup


def expire_abandoned(now: datetime) -> int:
    """Tokens left unfinished, or finished and never attached, for UPLOAD_TOKEN_TIMEOUT_SECONDS
    become TIMED_OUT; their files and those of DELETED tokens are removed. Returns how many
    tokens lost their files."""
    cutoff = now - timedelta(seconds=settings.UPLOAD_TOKEN_TIMEOUT_SECONDS)
    stale = UploadToken.objects.filter(status__in=[*OPEN, Status.FULL_UPLOAD], updated_at__lt=cutoff)
    deleted = UploadToken.objects.filter(status__in=[Status.DELETED, Status.TIMED_OUT]).exclude(
        storage_name=""
    )
    removed = 0
    for token in stale:
        if _move(token, now, status=Status.TIMED_OUT):
            _discard(token)
            removed += 1
    for token in deleted:  # DELETED, or timed out, and their files not (all) removed yet
        _discard(token)
        removed += 1
    return removed


def _discard(token: UploadToken) -> None:
    """Everything under the token's upload prefix (parts, manifests, leftovers of a request that
    died) and, unless an entry took it, under its final prefix (the joined file, or what an
    assembly that died left); then the token forgets its file."""
    names = list(_listed(_prefix(token)))
    if not token.attached_object_id:
        names.extend(_listed(_final_prefix(token)))
    _delete_names(names)
    UploadToken.objects.filter(pk=token.pk, storage_name=token.storage_name).update(storage_name="")


def _drop_superseded(old_manifest: str, new_name: str) -> None:
    """The parts and manifest a committed chunk replaced (a final chunk replaces them all)."""
    old = {p.name for p in _manifest_at(old_manifest)} | ({old_manifest} if old_manifest else set())
    new = {p.name for p in _manifest_at(new_name)}
    _delete_names(sorted(old - new))


def _listed(prefix: str) -> Iterator[str]:
    store = storage()
    try:
        _dirs, files = store.listdir(prefix)
    except FileNotFoundError:
        return
    yield from (prefix + name for name in files)


def _delete_names(names: Iterable[str]) -> None:
    store = storage()
    for name in names:
        try:
            store.delete(name)
        except Exception:  # a leftover is swept by expire_abandoned; the answer must not fail
            log.warning("cannot delete %s from storage", name, exc_info=True)


# ---------------------------------------------------------------- storage layout


@dataclass(frozen=True)
class _Part:
    offset: int
    name: str
    size: int


@dataclass(frozen=True)
class _Segment:
    name: str
    length: int  # the bytes of it that belong to the file


def _prefix(token: UploadToken) -> str:
    return f"uploads/{token.partner_id}/{token.pk}/"


def _final_prefix(token: UploadToken) -> str:
    return f"recordings/{token.partner_id}/{token.pk}/"


def _final_name(token: UploadToken) -> str:
    """A name no other request writes: two that join one token's parts at once must not
    overwrite (S3) or delete (on failure) each other's file."""
    try:
        name = get_valid_filename(token.file_name)[:120]
    except SuspiciousFileOperation:  # nothing usable in it ("", "..")
        name = "upload"
    return f"{_final_prefix(token)}{secrets.token_hex(4)}-{name}"


def _manifest(token: UploadToken) -> list[_Part]:
    return _manifest_at(token.storage_name) if token.status == Status.PARTIAL_UPLOAD else []


def _manifest_at(name: str) -> list[_Part]:
    if not name.endswith(".json"):
        return []
    with storage().open(name, "rb") as file:
        return [_Part(*item) for item in json.load(file)]


def _as_json(parts: list[_Part]) -> ContentFile:
    return ContentFile(json.dumps([[p.offset, p.name, p.size] for p in parts]).encode())


def _segments(parts: list[_Part], end: int) -> list[_Segment]:
    """The stored parts up to byte `end`: each up to where the next one starts (a re-sent chunk
    starts inside an earlier one)."""
    starts = [p.offset for p in parts[1:]] + [end] if parts else []
    return [_Segment(p.name, start - p.offset) for p, start in zip(parts, starts, strict=True)]


def _rewound(chunk: File) -> File:
    chunk.seek(0)
    return chunk


def _sha256(chunk: File) -> str:
    digest = hashlib.sha256()
    for block in _rewound(chunk).chunks(COPY_BLOCK):
        digest.update(block)
    return digest.hexdigest()


def _save(name: str, content: File, written: list[str]) -> str:
    written.append(name)  # before saving: a failed save may leave the name behind
    saved = storage().save(name, content)
    written[-1] = saved
    return saved


def _save_hashed(name: str, segments: list[_Segment], written: list[str]) -> tuple[str, str]:
    stream = _Joined(segments)
    try:
        saved = _save(name, File(io.BufferedReader(stream, COPY_BLOCK), name=name), written)
    finally:
        stream.close()
    return saved, stream.digest.hexdigest()


class _Joined(io.RawIOBase):
    """The segments read one after another as one stream, hashed (SHA-256) as they are read. One
    part is open at a time: a 4 GiB file sent in 1 MiB chunks has 4096."""

    def __init__(self, segments: list[_Segment]):
        self.segments = iter(segments)
        self.part: File | None = None
        self.left = 0
        self.digest = hashlib.sha256()

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        while not self.left:
            if not self._next_part():
                return 0
        assert self.part is not None
        data = self.part.read(min(len(buffer), self.left))
        if not data:  # a part shorter than its manifest says: never join a file with a hole
            raise OSError(f"{self.part.name} ended {self.left} bytes early")
        buffer[: len(data)] = data
        self.digest.update(data)
        self.left -= len(data)
        return len(data)

    def _next_part(self) -> bool:
        self._close_part()
        segment = next(self.segments, None)
        if segment is not None:
            self.part, self.left = storage().open(segment.name, "rb"), segment.length
        return segment is not None

    def _close_part(self) -> None:
        if self.part is not None:
            self.part.close()
            self.part = None

    def close(self) -> None:
        self._close_part()
        super().close()
