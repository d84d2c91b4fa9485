"""uploadToken through the official client (docs/devices.md, Uploads): add, upload in one or
several chunks (resume, resumeAt, finalChunk), get, list, delete; the caps; who sees which
token. Files land in a MEDIA_ROOT of the test's own, listed to prove nothing is left behind."""

from __future__ import annotations

import hashlib
import threading
import time
from pathlib import Path

import pytest
import requests
from KalturaClient import Client
from KalturaClient.exceptions import KalturaClientException
from KalturaClient.Plugins.Core import (
    KalturaFilterPager,
    KalturaMediaEntry,
    KalturaMediaType,
    KalturaNullableBoolean,
    KalturaUploadedFileTokenResource,
    KalturaUploadToken,
    KalturaUploadTokenFilter,
    KalturaUploadTokenStatus,
)

from calendar_app.devices import uploads
from calendar_app.models import UploadToken
from tests.kaltura_api.builders import app_token, build, device_session, error_code, value
from tests.kaltura_api.conftest import start_session

pytestmark = pytest.mark.django_db(transaction=True)
Status = KalturaUploadTokenStatus


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path) -> Path:
    settings.MEDIA_ROOT = str(tmp_path / "media")
    return tmp_path / "media"


@pytest.fixture
def send(tmp_path):
    """uploadToken.upload of `data` as a file, the way a device sends one."""

    def upload(client, token_id: str, data: bytes, *args):
        path = tmp_path / "chunk.mp4"
        path.write_bytes(data)
        with path.open("rb") as file:
            return client.uploadToken.upload(token_id, file, *args)

    return upload


@pytest.fixture
def user_client(client_for, partner):
    client = client_for()
    client.setKs(start_session(client, partner, admin=False, user_id="bob"))
    return client


@pytest.fixture
def device_for(client_for, partner, admin_client):
    def device(name: str):
        client = client_for()
        token = admin_client.appToken.add(app_token(sessionUserId=name))
        client.setKs(device_session(client, partner, token).ks)
        return client

    return device


def add(client, **fields) -> KalturaUploadToken:
    return client.uploadToken.add(build(KalturaUploadToken, **fields))


def stored_file(token_id: str) -> bytes:
    """The file as media.addContent would take it: its parts joined (`assemble`)."""
    row = UploadToken.objects.get(pk=token_id)
    uploads.assemble(row.partner, row.pk, row.app_token)
    row.refresh_from_db()
    with uploads.storage().open(row.storage_name, "rb") as file:
        return file.read()


def checksum_on_the_wire(service_url: str, client, token_id: str) -> str | None:
    """`checksum`, which the official client does not know, as the server sends it."""
    return (
        requests.post(
            f"{service_url}/api_v3/service/uploadtoken/action/get",
            json={"ks": client.getKs(), "uploadTokenId": token_id, "format": 1},
            timeout=10,
        )
        .json()
        .get("checksum")
    )


def files_under(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())


# ---------------------------------------------------------------- add, upload


def test_it_adds_a_pending_token(admin_client, partner):
    token = add(admin_client, fileName="lecture.mp4", fileSize=1000)
    assert (value(token.status), token.fileName, token.fileSize, token.uploadedFileSize) == (
        Status.PENDING, "lecture.mp4", 1000.0, 0.0,
    )  # fmt: skip
    assert token.id.startswith("0_") and len(token.id) == 34 and token.partnerId == partner.pk


def test_a_file_in_one_request_is_complete_with_its_checksum(admin_client, send):
    token = add(admin_client, fileName="lecture.mp4")
    done = send(admin_client, token.id, b"recording" * 1000)
    assert (value(done.status), done.uploadedFileSize) == (Status.FULL_UPLOAD, 9000.0)
    assert stored_file(token.id) == b"recording" * 1000
    row = UploadToken.objects.get(pk=token.id)
    assert row.checksum == hashlib.sha256(b"recording" * 1000).hexdigest()


def test_the_checksum_is_on_the_wire_and_the_client_ignores_it(admin_client, send, service_url):
    token = add(admin_client)
    send(admin_client, token.id, b"abc")
    assert (
        checksum_on_the_wire(service_url, admin_client, token.id)
        == "sha256:" + hashlib.sha256(b"abc").hexdigest()
    )
    assert value(admin_client.uploadToken.get(token.id).status) == Status.FULL_UPLOAD


def test_a_chunked_files_checksum_comes_with_add_content(admin_client, send, service_url):
    token = add(admin_client)
    send(admin_client, token.id, b"ab", False, False)
    send(admin_client, token.id, b"c", True, True, -1)
    assert checksum_on_the_wire(service_url, admin_client, token.id) is None
    entry = admin_client.media.add(build(KalturaMediaEntry, name="Clip", mediaType=KalturaMediaType.VIDEO))
    admin_client.media.addContent(entry.id, build(KalturaUploadedFileTokenResource, token=token.id))
    assert (
        checksum_on_the_wire(service_url, admin_client, token.id)
        == "sha256:" + hashlib.sha256(b"abc").hexdigest()
    )


def test_chunks_append_and_the_final_one_completes_the_file(admin_client, send, media_root):
    token = add(admin_client, fileName="talk.mp4")
    first = send(admin_client, token.id, b"a" * 100, False, False)
    assert (value(first.status), first.uploadedFileSize) == (Status.PARTIAL_UPLOAD, 100.0)
    send(admin_client, token.id, b"b" * 50, True, False, -1)
    done = send(admin_client, token.id, b"c" * 10, True, True, -1)
    assert (value(done.status), done.uploadedFileSize) == (Status.FULL_UPLOAD, 160.0)
    assert stored_file(token.id) == b"a" * 100 + b"b" * 50 + b"c" * 10
    assert files_under(media_root) == [UploadToken.objects.get(pk=token.id).storage_name]


def test_a_chunk_resent_at_its_offset_replaces_itself(admin_client, send):
    token = add(admin_client)
    send(admin_client, token.id, b"a" * 100, False, False)
    send(admin_client, token.id, b"b" * 50, True, False, 100)
    again = send(admin_client, token.id, b"B" * 50, True, False, 100.0)
    assert again.uploadedFileSize == 150.0
    send(admin_client, token.id, b"", True, True, 150)
    assert stored_file(token.id) == b"a" * 100 + b"B" * 50


def test_a_resend_from_inside_a_chunk_keeps_what_came_before(admin_client, send):
    token = add(admin_client)
    send(admin_client, token.id, b"a" * 100, False, False)
    send(admin_client, token.id, b"xyz", True, True, 40)
    assert stored_file(token.id) == b"a" * 40 + b"xyz"


def test_resuming_past_what_is_stored_is_refused_and_changes_nothing(admin_client, send):
    token = add(admin_client)
    send(admin_client, token.id, b"a" * 100, False, False)
    code = error_code(send, admin_client, token.id, b"b" * 10, True, False, 101)
    assert code == "UPLOAD_TOKEN_CANNOT_MATCH_EXPECTED_SIZE"
    assert admin_client.uploadToken.get(token.id).uploadedFileSize == 100.0


def test_resuming_a_token_with_nothing_stored_is_refused(admin_client, send):
    token = add(admin_client)
    assert error_code(send, admin_client, token.id, b"x", True, False, -1) == "UPLOAD_TOKEN_CANNOT_RESUME"


def test_resume_false_starts_the_file_over(admin_client, send, media_root):
    token = add(admin_client)
    send(admin_client, token.id, b"old" * 10, False, False)
    send(admin_client, token.id, b"new", False, True)
    assert stored_file(token.id) == b"new"
    assert len(files_under(media_root)) == 1


def test_a_final_size_other_than_the_declared_one_is_refused(admin_client, send, media_root):
    token = add(admin_client, fileSize=10)
    code = error_code(send, admin_client, token.id, b"12345", False, True)
    assert code == "UPLOAD_TOKEN_CANNOT_MATCH_EXPECTED_SIZE"
    assert value(admin_client.uploadToken.get(token.id).status) == Status.PENDING
    assert files_under(media_root) == []


def test_auto_finalize_completes_at_the_declared_size(admin_client, send):
    token = add(admin_client, fileSize=6, autoFinalize=KalturaNullableBoolean.TRUE_VALUE)
    send(admin_client, token.id, b"abc", False, False)
    done = send(admin_client, token.id, b"def", True, False, -1)
    assert value(done.status) == Status.FULL_UPLOAD and value(done.autoFinalize) == 1
    assert stored_file(token.id) == b"abcdef"


def test_auto_finalize_needs_a_file_size(admin_client):
    code = error_code(add, admin_client, autoFinalize=KalturaNullableBoolean.TRUE_VALUE)
    assert code == "UPLOAD_TOKEN_MISSING_FILE_SIZE"


def test_a_complete_token_takes_no_more_chunks(admin_client, send):
    token = add(admin_client)
    send(admin_client, token.id, b"done")
    code = error_code(send, admin_client, token.id, b"more", True, True, -1)
    assert code == "UPLOAD_TOKEN_INVALID_STATUS_FOR_UPLOAD"


# ---------------------------------------------------------------- caps


def test_a_declared_size_over_the_cap_is_refused(admin_client, settings):
    settings.UPLOAD_MAX_BYTES = 100
    assert error_code(add, admin_client, fileSize=101) == "UPLOAD_TOKEN_MAX_FILE_SIZE_EXCEEDED"
    assert not UploadToken.objects.exists()


def test_a_file_growing_over_the_cap_is_refused_and_nothing_stored(admin_client, send, settings, media_root):
    settings.UPLOAD_MAX_BYTES = 100
    token = add(admin_client)
    send(admin_client, token.id, b"a" * 60, False, False)
    code = error_code(send, admin_client, token.id, b"b" * 41, True, True, -1)
    assert code == "UPLOAD_TOKEN_MAX_FILE_SIZE_EXCEEDED"
    assert admin_client.uploadToken.get(token.id).uploadedFileSize == 60.0
    assert len(files_under(media_root)) == 2  # the first chunk and its manifest, no more


def test_a_chunk_over_the_request_cap_is_refused_unread(admin_client, send, settings, media_root):
    settings.UPLOAD_CHUNK_MAX_BYTES = 1000
    token = add(admin_client)
    code = error_code(send, admin_client, token.id, b"x" * (2 * 1024 * 1024))
    assert code == "REQUEST_TOO_LARGE"
    assert value(admin_client.uploadToken.get(token.id).status) == Status.PENDING
    assert files_under(media_root) == []


def test_a_chunk_over_its_cap_but_within_the_framing_is_refused(admin_client, send, settings):
    settings.UPLOAD_CHUNK_MAX_BYTES = 1000
    token = add(admin_client)
    assert error_code(send, admin_client, token.id, b"x" * 1001) == "UPLOAD_TOKEN_MAX_CHUNK_SIZE_EXCEEDED"


def test_an_upload_chunk_may_be_larger_than_a_bulk_upload(admin_client, send, settings):
    settings.BULK_UPLOAD_MAX_BYTES = 1000
    token = add(admin_client)
    assert send(admin_client, token.id, b"x" * (2 * 1024 * 1024)).uploadedFileSize == 2 * 1024 * 1024


# ---------------------------------------------------------------- get, list, delete


def test_an_unknown_token_is_not_found(admin_client, send):
    assert error_code(admin_client.uploadToken.get, "0_" + "0" * 32) == "UPLOAD_TOKEN_NOT_FOUND"
    assert error_code(send, admin_client, "0_nope", b"x") == "UPLOAD_TOKEN_NOT_FOUND"


def test_a_timed_out_token_takes_no_chunk(admin_client, send):
    token = add(admin_client)
    UploadToken.objects.filter(pk=token.id).update(status=Status.TIMED_OUT)
    assert error_code(send, admin_client, token.id, b"x") == "UPLOAD_TOKEN_INVALID_STATUS_FOR_UPLOAD"


def test_it_lists_tokens_by_status_and_file_name(admin_client, send):
    done, pending = add(admin_client, fileName="a.mp4"), add(admin_client, fileName="b.mp4")
    send(admin_client, done.id, b"x")
    by_status = admin_client.uploadToken.list(build(KalturaUploadTokenFilter, statusEqual=Status.PENDING))
    assert [t.id for t in by_status.objects] == [pending.id] and by_status.totalCount == 1
    by_name = admin_client.uploadToken.list(build(KalturaUploadTokenFilter, fileNameEqual="a.mp4"))
    assert [t.id for t in by_name.objects] == [done.id]


def test_it_pages_the_list(admin_client):
    for _ in range(3):
        add(admin_client)
    page = admin_client.uploadToken.list(NotImplemented, build(KalturaFilterPager, pageSize=2, pageIndex=2))
    assert (len(page.objects), page.totalCount) == (1, 3)


def test_delete_marks_the_token_and_removes_its_files(admin_client, send, media_root):
    token = add(admin_client)
    send(admin_client, token.id, b"a" * 10, False, False)
    admin_client.uploadToken.delete(token.id)
    assert value(admin_client.uploadToken.get(token.id).status) == Status.DELETED
    assert files_under(media_root) == []


# ---------------------------------------------------------------- who sees which token


def test_another_partners_token_is_not_found(admin_client, outsider_client, send):
    token = add(admin_client)
    assert error_code(outsider_client.uploadToken.get, token.id) == "UPLOAD_TOKEN_NOT_FOUND"
    assert error_code(send, outsider_client, token.id, b"x") == "UPLOAD_TOKEN_NOT_FOUND"
    assert error_code(outsider_client.uploadToken.delete, token.id) == "UPLOAD_TOKEN_NOT_FOUND"
    assert outsider_client.uploadToken.list().totalCount == 0


def test_a_device_uploads_and_cannot_use_another_devices_token(device_for, send):
    first, second = device_for("cam-1"), device_for("cam-2")
    token = add(first, fileName="rec.mp4")
    assert value(send(first, token.id, b"video").status) == Status.FULL_UPLOAD
    assert error_code(second.uploadToken.get, token.id) == "UPLOAD_TOKEN_NOT_FOUND"
    assert error_code(send, second, add(second).id, b"x", True, True, -1) == "UPLOAD_TOKEN_CANNOT_RESUME"
    assert [t.id for t in second.uploadToken.list().objects] != [token.id]


def test_a_user_session_uploads_and_sees_only_its_own_tokens(user_client, admin_client, send):
    mine, admins = add(user_client), add(admin_client)
    assert value(send(user_client, mine.id, b"x").status) == Status.FULL_UPLOAD
    assert error_code(user_client.uploadToken.get, admins.id) == "UPLOAD_TOKEN_NOT_FOUND"
    assert [t.id for t in user_client.uploadToken.list().objects] == [mine.id]
    assert admin_client.uploadToken.get(mine.id).userId == "bob"


# ---------------------------------------------------------------- concurrency


def test_concurrent_chunks_never_corrupt_the_file(client_for, admin_client, send, tmp_path):
    """Two devices' requests racing on one token: each chunk lands whole or is refused."""
    token = add(admin_client)
    send(admin_client, token.id, b"0" * 1000, False, False)
    chunks = {name: name.encode() * (4 * 1024 * 1024) for name in "ab"}
    answers: dict[str, str] = {}
    start = threading.Barrier(2)

    def race(name: str) -> None:
        client = client_for(admin_client.getKs())
        path = tmp_path / f"{name}.bin"
        path.write_bytes(chunks[name])
        start.wait()
        with path.open("rb") as file:
            try:
                client.uploadToken.upload(token.id, file, True, False, -1)
                answers[name] = "ok"
            except Exception as error:  # the loser's refusal, kept to check its code
                answers[name] = getattr(error, "code", repr(error))

    threads = [threading.Thread(target=race, args=(name,)) for name in chunks]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert set(answers.values()) <= {"ok", "UPLOAD_TOKEN_INVALID_STATUS_FOR_UPLOAD"}
    winners = [chunks[name] for name in sorted(answers) if answers[name] == "ok"]
    send(admin_client, token.id, b"", True, True, -1)
    stored = stored_file(token.id)
    assert stored in {b"0" * 1000 + b"".join(order) for order in (winners, winners[::-1])}


# ---------------------------------------------------------------- the final chunk, and the client's retry


def final_chunk_seconds(client, send, stored_mib: int) -> float:
    """The time the final 1 MiB chunk takes to be answered after `stored_mib` MiB in 8 MiB chunks."""
    token = add(client)
    for index in range(stored_mib // 8):
        send(client, token.id, b"x" * (8 << 20), index > 0, False, -1)
    started = time.perf_counter()
    assert value(send(client, token.id, b"y" * (1 << 20), True, True, -1).status) == Status.FULL_UPLOAD
    return time.perf_counter() - started


def test_the_final_chunk_joins_nothing_and_takes_no_longer_for_a_larger_file(admin_client, send, media_root):
    small = min(final_chunk_seconds(admin_client, send, 8) for _ in range(2))
    large = min(final_chunk_seconds(admin_client, send, 64) for _ in range(2))
    assert not list(media_root.glob("recordings/**/*.*"))  # no file joined: that waits for addContent
    # Joining 64 MiB takes ~0.2 s here (~330 MiB/s); answering the final chunk takes ~30 ms.
    assert large < small + 0.1, (small, large)


@pytest.fixture
def late_first_final_answer(monkeypatch):
    """The official client as it runs, its 10 s wait for a request with a file cut to 1 s; the
    server stores the first final chunk at once but answers it after 1.5 s (a slow disk or
    network). Yields the chunks the server received, as (size, resumeAt, finalChunk)."""
    received: list[tuple[int, float, bool]] = []
    upload, open_request = uploads.upload, Client.KalturaClient.openRequestUrl

    def slow_upload(who, token_id, chunk, now, **how):
        received.append((chunk.size, how["resume_at"], how["final"]))
        token = upload(who, token_id, chunk, now, **how)
        if how["final"] and len(received) == 2:
            time.sleep(1.5)
        return token

    def short_wait(url, params, files, headers, timeout):
        return open_request(url, params, files, headers, 1 if files else timeout)

    monkeypatch.setattr(uploads, "upload", slow_upload)
    monkeypatch.setattr(Client.KalturaClient, "openRequestUrl", staticmethod(short_wait))
    return received


def upload_retrying(client, token_id: str, path: Path, *args):
    """A device's loop around the client: KalturaClient 23.10.0 wraps a timeout in
    KalturaClientException (ERROR_CONNECTION_FAILED), which its own retry decorator does not
    catch, so the device calls again, with the file object the first call read to its end."""
    with path.open("rb") as file:
        try:
            return client.uploadToken.upload(token_id, file, *args)
        except KalturaClientException as error:
            assert error.code == KalturaClientException.ERROR_CONNECTION_FAILED
            return client.uploadToken.upload(token_id, file, *args)


def test_a_retried_final_chunk_whose_answer_was_late_gets_the_complete_file(
    admin_client, send, late_first_final_answer, tmp_path
):
    token = add(admin_client, fileName="talk.mp4")
    send(admin_client, token.id, b"a" * 1000, False, False)
    (tmp_path / "last.mp4").write_bytes(b"b" * 500)
    done = upload_retrying(admin_client, token.id, tmp_path / "last.mp4", True, True, 1000)
    assert (value(done.status), done.uploadedFileSize) == (Status.FULL_UPLOAD, 1500.0)
    assert late_first_final_answer == [(1000, -1.0, False), (500, 1000.0, True), (0, 1000.0, True)]
    assert stored_file(token.id) == b"a" * 1000 + b"b" * 500


def test_an_empty_resend_never_truncates(admin_client, send):
    token = add(admin_client)
    send(admin_client, token.id, b"a" * 100, False, False)
    send(admin_client, token.id, b"b" * 50, True, False, 100)
    assert send(admin_client, token.id, b"", True, False, 100).uploadedFileSize == 150.0
    assert (
        error_code(send, admin_client, token.id, b"", True, True, 100)
        == "UPLOAD_TOKEN_CANNOT_MATCH_EXPECTED_SIZE"
    )
    send(admin_client, token.id, b"c", True, True, -1)
    assert stored_file(token.id) == b"a" * 100 + b"b" * 50 + b"c"
