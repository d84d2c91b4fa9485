"""The uploads core (calendar_app/devices/uploads.py): chunks into one file, re-sent chunks,
assembling and attaching it to an entry, expiring what was abandoned, the same flow on S3
(moto's server on loopback), and a fuzz of chunk sequences. Storage is listed after each test's
work: no file may be left over."""

from __future__ import annotations

import contextlib
import hashlib
import threading
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import boto3
import pytest
from django.core.files.base import ContentFile
from django.db import connection, transaction
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from calendar_app.devices import uploads
from calendar_app.devices.tasks import expire_upload_tokens
from calendar_app.models import Entry, UploadToken
from tests.imports import drop_servers

# Transactional: parts are deleted once a chunk's change commits (on_commit), as in production.
pytestmark = pytest.mark.django_db(transaction=True)
Status = UploadToken.Status
S3_KEYS = {"access_key": "media", "secret_key": "media-secret", "region_name": "us-east-1"}


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path) -> Path:
    settings.MEDIA_ROOT = str(tmp_path / "media")
    return tmp_path / "media"


@pytest.fixture
def alice(partner) -> uploads.Uploader:
    return uploads.Uploader(partner=partner, user_id="alice", sees_all=True)


@pytest.fixture
def camera(partner) -> uploads.Uploader:
    return uploads.Uploader(partner=partner, user_id="cam", app_token="tok-cam-1")


def chunk(data: bytes, name: str = "rec.mp4") -> ContentFile:
    return ContentFile(data, name=name)


def send(who, token, data: bytes, now, **how) -> UploadToken:
    return uploads.upload(who, token.pk, chunk(data), now, **how)


def assembled(who, token) -> UploadToken:
    """The token once media.addContent has joined its parts (`assemble`)."""
    uploads.assemble(who.partner, token.pk, who.app_token)
    token.refresh_from_db()
    return token


def content(token: UploadToken) -> bytes:
    with uploads.storage().open(token.storage_name, "rb") as file:
        return file.read()


def files_under(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())


@contextlib.contextmanager
def refused(code: str) -> Iterator[None]:
    with pytest.raises(uploads.UploadRefused) as caught:
        yield
    assert caught.value.code == code


# ---------------------------------------------------------------- chunks


def test_it_joins_chunks_and_hashes_the_file(alice, now, media_root):
    token = uploads.add(alice, now, file_name="talk.mp4")
    send(alice, token, b"a" * 10, now, final=False)
    send(alice, token, b"b" * 5, now, resume=True, final=False)
    done = assembled(alice, send(alice, token, b"c", now, resume=True))
    assert (done.status, done.uploaded_file_size, content(done)) == (
        Status.FULL_UPLOAD,
        16,
        b"a" * 10 + b"b" * 5 + b"c",
    )
    assert done.checksum == hashlib.sha256(content(done)).hexdigest()
    assert files_under(media_root) == [done.storage_name]


def test_the_final_chunk_completes_the_manifest_and_joins_nothing(alice, now, media_root):
    """The join waits for `assemble`: the final chunk answers as fast as any other."""
    token = send(alice, uploads.add(alice, now), b"a" * 10, now, final=False)
    done = send(alice, token, b"b" * 5, now, resume=True)
    assert (done.status, done.uploaded_file_size, done.checksum) == (Status.FULL_UPLOAD, 15, "")
    assert done.storage_name.endswith(".json")
    assert not [name for name in files_under(media_root) if name.startswith("recordings/")]


def test_a_file_in_one_request_is_stored_whole_with_its_checksum(alice, now, media_root):
    done = send(alice, uploads.add(alice, now, file_name="talk.mp4"), b"whole", now)
    assert (content(done), done.checksum) == (b"whole", hashlib.sha256(b"whole").hexdigest())
    assert files_under(media_root) == [done.storage_name] and done.storage_name.startswith("recordings/")


def test_a_token_without_a_name_takes_the_files(alice, now):
    token = uploads.add(alice, now)
    assert send(alice, token, b"x", now).file_name == "rec.mp4"


def test_a_failed_chunk_leaves_nothing(alice, now, settings, media_root):
    settings.UPLOAD_MAX_BYTES = 10
    token = uploads.add(alice, now)
    send(alice, token, b"a" * 8, now, final=False)
    before = files_under(media_root)
    with refused("UPLOAD_TOKEN_MAX_FILE_SIZE_EXCEEDED"):
        send(alice, token, b"b" * 3, now, resume=True)
    token.refresh_from_db()
    assert (token.uploaded_file_size, files_under(media_root)) == (8, before)


def test_a_chunk_that_loses_a_race_is_refused_and_removed(alice, now, media_root):
    """A competing chunk commits while this one is being stored: this one must not land."""
    token = uploads.add(alice, now)
    send(alice, token, b"0" * 4, now, final=False)

    class Racing(ContentFile):
        raced = False

        def read(self, *args):
            if not Racing.raced:
                Racing.raced = True
                send(alice, token, b"W" * 3, now, resume=True, final=False)
            return super().read(*args)

    with refused("UPLOAD_TOKEN_INVALID_STATUS_FOR_UPLOAD"):
        uploads.upload(alice, token.pk, Racing(b"L" * 5, name="l.mp4"), now, resume=True, final=False)
    done = assembled(alice, send(alice, token, b"", now, resume=True))
    assert content(done) == b"0000WWW"
    assert files_under(media_root) == [done.storage_name]


# ---------------------------------------------------------------- chunks sent again


def test_an_empty_chunk_before_the_end_drops_nothing(alice, now):
    """The official client's retry of a chunk that landed: same resumeAt, no bytes."""
    token = send(alice, uploads.add(alice, now), b"a" * 10, now, final=False)
    send(alice, token, b"b" * 5, now, resume=True, resume_at=10, final=False)
    again = send(alice, token, b"", now, resume=True, resume_at=10, final=False)
    assert again.uploaded_file_size == 15
    with refused("UPLOAD_TOKEN_CANNOT_MATCH_EXPECTED_SIZE"):
        send(alice, token, b"", now, resume=True, resume_at=10)
    done = assembled(alice, send(alice, token, b"", now, resume=True, resume_at=15))
    assert content(done) == b"a" * 10 + b"b" * 5


def test_the_final_chunk_sent_again_empty_is_answered_with_the_token(alice, now):
    token = send(alice, uploads.add(alice, now), b"a" * 10, now, final=False)
    done = send(alice, token, b"b" * 5, now, resume=True, resume_at=10)
    for resume_at in (10, -1, 15):
        again = send(alice, token, b"", now, resume=True, resume_at=resume_at)
        assert (again.status, again.uploaded_file_size, again.storage_name) == (
            Status.FULL_UPLOAD, 15, done.storage_name,
        )  # fmt: skip
    assert content(assembled(alice, done)) == b"a" * 10 + b"b" * 5


def test_the_final_chunk_sent_again_whole_is_answered_only_if_its_bytes_match(alice, now):
    token = send(alice, uploads.add(alice, now), b"a" * 10, now, final=False)
    done = send(alice, token, b"b" * 5, now, resume=True, resume_at=10)
    assert send(alice, token, b"b" * 5, now, resume=True, resume_at=10).storage_name == done.storage_name
    with refused("UPLOAD_TOKEN_INVALID_STATUS_FOR_UPLOAD"):
        send(alice, token, b"B" * 5, now, resume=True, resume_at=10)
    with refused("UPLOAD_TOKEN_INVALID_STATUS_FOR_UPLOAD"):
        send(alice, token, b"b" * 5, now, resume=True, resume_at=5)
    assert content(assembled(alice, done)) == b"a" * 10 + b"b" * 5


def test_a_file_in_one_request_sent_again_is_answered_with_the_token(alice, now):
    done = send(alice, uploads.add(alice, now), b"whole", now)
    assert send(alice, done, b"whole", now).checksum == done.checksum
    assert send(alice, done, b"", now).checksum == done.checksum
    with refused("UPLOAD_TOKEN_INVALID_STATUS_FOR_UPLOAD"):
        send(alice, done, b"other", now)


@hypothesis_settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    data=st.binary(min_size=1, max_size=3000),
    steps=st.lists(st.tuples(st.integers(1, 700), st.integers(0, 400)), max_size=12),
)
def test_any_chunk_sequence_with_resends_assembles_the_input(alice, now, data, steps):
    """Chunks of random sizes, each resent from a random point back: the file is the input."""
    token = uploads.add(alice, now)
    send(alice, token, data[:1], now, final=False)
    stored = 1
    for size, back in steps:
        start = max(0, stored - back)
        piece = data[start : start + size]
        token = send(alice, token, piece, now, resume=True, resume_at=start, final=False)
        stored = start + len(piece)
        assert token.uploaded_file_size == stored
    done = assembled(alice, send(alice, token, data[stored:], now, resume=True, resume_at=stored))
    assert content(done) == data and done.checksum == hashlib.sha256(data).hexdigest()


# ---------------------------------------------------------------- attach


@pytest.fixture
def entry(partner) -> Entry:
    return Entry.objects.create(partner=partner, name="Lecture 1", status=Entry.Status.NO_CONTENT)


def test_attach_gives_the_file_to_the_entry(camera, partner, entry, now):
    token = send(camera, uploads.add(camera, now, file_name="rec.mp4"), b"video", now)
    closed = uploads.attach(partner, token.pk, "tok-cam-1", entry, now)
    assert (closed.status, closed.attached_object_type, closed.attached_object_id) == (
        Status.CLOSED, "KalturaMediaEntry", entry.pk,
    )  # fmt: skip
    assert (entry.media_file.name, entry.file_size, entry.checksum) == (
        token.storage_name, 5, hashlib.sha256(b"video").hexdigest(),
    )  # fmt: skip


def test_attach_takes_the_assembled_file_and_its_checksum(camera, partner, entry, now, media_root):
    token = send(camera, uploads.add(camera, now, file_name="rec.mp4"), b"vid", now, final=False)
    send(camera, token, b"eo", now, resume=True)
    with refused("UPLOAD_TOKEN_INVALID_STATUS_FOR_ADD_ENTRY"):  # not joined yet
        uploads.attach(partner, token.pk, "tok-cam-1", entry, now)
    uploads.assemble(partner, token.pk, "tok-cam-1", now)
    closed = uploads.attach(partner, token.pk, "tok-cam-1", entry, now)
    assert (closed.status, entry.file_size, entry.checksum) == (
        Status.CLOSED, 5, hashlib.sha256(b"video").hexdigest(),
    )  # fmt: skip
    assert entry.media_file.read() == b"video"
    assert files_under(media_root) == [entry.media_file.name]


def test_two_requests_attaching_one_token_one_wins_and_nothing_is_corrupt(alice, partner, now, media_root):
    data = bytes(range(256)) * 4096
    token = send(alice, uploads.add(alice, now), data[:1000], now, final=False)
    send(alice, token, data[1000:], now, resume=True)
    entries = [Entry.objects.create(partner=partner, name=f"Lecture {n}") for n in (1, 2)]
    start, answers = threading.Barrier(2), []

    def add_content(entry: Entry) -> None:
        start.wait()
        try:
            uploads.assemble(partner, token.pk, "", now)
            with transaction.atomic():
                uploads.attach(partner, token.pk, "", entry, now)
                entry.save()
            answers.append("ok")
        except uploads.UploadRefused as error:
            answers.append(error.code)
        finally:
            connection.close()

    threads = [threading.Thread(target=add_content, args=(entry,)) for entry in entries]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(answers) == ["UPLOAD_TOKEN_INVALID_STATUS_FOR_ADD_ENTRY", "ok"]
    (winner,) = [e for e in Entry.objects.filter(pk__in=[e.pk for e in entries]) if e.media_file.name]
    assert (winner.media_file.read(), winner.checksum) == (data, hashlib.sha256(data).hexdigest())
    assert files_under(media_root) == [winner.media_file.name]


def test_a_token_attaches_once(camera, partner, entry, now):
    token = send(camera, uploads.add(camera, now), b"video", now)
    uploads.attach(partner, token.pk, "tok-cam-1", entry, now)
    with refused("UPLOAD_TOKEN_INVALID_STATUS_FOR_ADD_ENTRY"):
        uploads.attach(partner, token.pk, "tok-cam-1", entry, now)


def test_an_unfinished_token_does_not_attach(camera, partner, entry, now):
    token = send(camera, uploads.add(camera, now), b"vid", now, final=False)
    with refused("UPLOAD_TOKEN_INVALID_STATUS_FOR_ADD_ENTRY"):
        uploads.attach(partner, token.pk, "tok-cam-1", entry, now)


def test_another_device_or_partner_cannot_attach_the_token(camera, partner, outsider_partner, entry, now):
    token = send(camera, uploads.add(camera, now), b"video", now)
    with refused("UPLOAD_TOKEN_NOT_FOUND"):
        uploads.attach(partner, token.pk, "tok-cam-2", entry, now)
    with refused("UPLOAD_TOKEN_NOT_FOUND"):
        uploads.attach(outsider_partner, token.pk, "", entry, now)


# ---------------------------------------------------------------- expiry


def test_abandoned_uploads_expire_and_leave_no_file(alice, camera, partner, entry, now, settings, media_root):
    settings.UPLOAD_TOKEN_TIMEOUT_SECONDS = 3600
    stale = send(alice, uploads.add(alice, now), b"part", now, final=False)
    unclaimed = send(alice, uploads.add(alice, now), b"whole", now)
    attached = send(camera, uploads.add(camera, now), b"video", now)
    uploads.attach(partner, attached.pk, "tok-cam-1", entry, now)
    later = now + timedelta(hours=2)
    fresh = send(alice, uploads.add(alice, later), b"new", later, final=False)

    assert uploads.expire_abandoned(later) == 2
    statuses = {t.pk: t.status for t in UploadToken.objects.all()}
    assert (statuses[stale.pk], statuses[unclaimed.pk]) == (Status.TIMED_OUT, Status.TIMED_OUT)
    assert (statuses[attached.pk], statuses[fresh.pk]) == (Status.CLOSED, Status.PARTIAL_UPLOAD)
    fresh.refresh_from_db()
    manifest = uploads._manifest_at(fresh.storage_name)
    assert files_under(media_root) == sorted([entry.media_file.name, fresh.storage_name, manifest[0].name])


def test_a_complete_file_never_attached_expires_with_its_parts(alice, now, settings, media_root):
    settings.UPLOAD_TOKEN_TIMEOUT_SECONDS = 60
    token = send(alice, uploads.add(alice, now), b"part", now, final=False)
    send(alice, token, b"end", now, resume=True)
    media_root.joinpath(f"recordings/{token.partner_id}/{token.pk}").mkdir(parents=True)
    media_root.joinpath(f"recordings/{token.partner_id}/{token.pk}/upload").write_bytes(b"pa")  # died
    assert uploads.expire_abandoned(now + timedelta(minutes=2)) == 1
    assert files_under(media_root) == []


def test_files_a_deleted_token_left_behind_are_swept(alice, now, media_root):
    token = send(alice, uploads.add(alice, now), b"part", now, final=False)
    UploadToken.objects.filter(pk=token.pk).update(status=Status.DELETED)  # its removal never ran
    assert expire_upload_tokens.delay().get() == 1
    assert files_under(media_root) == []


def test_a_fresh_upload_does_not_expire(alice, now):
    token = send(alice, uploads.add(alice, now), b"part", now, final=False)
    assert uploads.expire_abandoned(now + timedelta(hours=23)) == 0
    token.refresh_from_db()
    assert token.status == Status.PARTIAL_UPLOAD


# ---------------------------------------------------------------- S3


@pytest.fixture(scope="module")
def s3_endpoint():
    with drop_servers.s3_server() as endpoint:
        yield endpoint


@pytest.fixture
def s3_bucket(s3_endpoint, settings) -> str:
    s3_client(s3_endpoint).create_bucket(Bucket="media")
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "storages.backends.s3.S3Storage",
            "OPTIONS": {"bucket_name": "media", "endpoint_url": s3_endpoint, **S3_KEYS},
        },
    }
    return "media"


def s3_client(endpoint: str):
    keys = {"aws_access_key_id": S3_KEYS["access_key"], "aws_secret_access_key": S3_KEYS["secret_key"]}
    return boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1", **keys)


def s3_keys(s3_endpoint: str) -> list[str]:
    listing = s3_client(s3_endpoint).list_objects_v2(Bucket="media")
    return sorted(o["Key"] for o in listing.get("Contents", []))


def test_chunks_assemble_in_s3_and_leave_only_the_file(alice, now, s3_bucket, s3_endpoint):
    token = uploads.add(alice, now, file_name="talk.mp4")
    send(alice, token, b"a" * 7, now, final=False)
    send(alice, token, b"b" * 7, now, resume=True, final=False)
    send(alice, token, b"B" * 7, now, resume=True, resume_at=7, final=False)
    done = send(alice, token, b"c", now, resume=True)
    assert not [key for key in s3_keys(s3_endpoint) if key.startswith("recordings/")]
    done = assembled(alice, done)
    assert content(done) == b"a" * 7 + b"B" * 7 + b"c"
    assert done.checksum == hashlib.sha256(content(done)).hexdigest()
    assert s3_keys(s3_endpoint) == [done.storage_name]


def test_an_abandoned_s3_upload_expires_without_leftovers(alice, now, settings, s3_bucket, s3_endpoint):
    settings.UPLOAD_TOKEN_TIMEOUT_SECONDS = 60
    token = send(alice, uploads.add(alice, now), b"part", now, final=False)
    send(alice, token, b"more", now, resume=True, final=False)
    assert uploads.expire_abandoned(now + timedelta(minutes=2)) == 1
    assert not [key for key in s3_keys(s3_endpoint) if f"/{token.pk}/" in key]
