"""A recording uploaded as Kaltura's devices do: an upload token, the file in chunks, a media
entry made from the booking's template entry, and the token's file attached to it.

A chunk that fails is sent once more at the same offset: `resumeAt` makes the server write it
in place rather than append it twice (kUploadTokenMgr's resume rule)."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator

from KalturaClient import KalturaClient
from KalturaClient.exceptions import KalturaClientException, KalturaException
from KalturaClient.Plugins.Core import KalturaMediaEntry, KalturaUploadedFileTokenResource, KalturaUploadToken

from calendar_app.capture_device.recorder import Recording

log = logging.getLogger(__name__)
CHUNK_BYTES = 1024 * 1024
FAILURES = (KalturaException, KalturaClientException)


def upload(client: KalturaClient, recording: Recording, chunk_bytes: int = CHUNK_BYTES) -> str:
    """Upload `recording` and return the id of the media entry now holding it."""
    data = recording.path.read_bytes()
    name = recording.path.name
    token = client.uploadToken.add(KalturaUploadToken(fileName=name, fileSize=len(data)))
    log.info("upload token %s for %s (%d bytes)", token.id, name, len(data))
    for offset, chunk in _chunks(data, chunk_bytes):
        _send_chunk(client, token.id, name, offset, chunk, total=len(data))
    entry = client.media.add(_entry(recording))
    log.info("media entry %s from template %s", entry.id, recording.booking.template_entry_id or "(none)")
    client.media.addContent(entry.id, KalturaUploadedFileTokenResource(token=token.id))
    log.info("content of %s attached from upload token %s", entry.id, token.id)
    return entry.id


def _entry(recording: Recording) -> KalturaMediaEntry:
    # No name: the server names a recording from its booking (the partner's pattern), and the
    # template's metadata comes with it. A booking without a template sends none.
    entry = KalturaMediaEntry(mediaType=recording.media_type)
    if recording.booking.template_entry_id:
        entry.templateEntryId = recording.booking.template_entry_id
    return entry


def _chunks(data: bytes, size: int) -> Iterator[tuple[int, bytes]]:
    for offset in range(0, max(len(data), 1), size):
        yield offset, data[offset : offset + size]


def _send_chunk(client: KalturaClient, token_id: str, name: str, offset: int, chunk: bytes, total: int):
    final = offset + len(chunk) >= total
    for attempt in (1, 2):
        try:
            client.uploadToken.upload(
                token_id, _named(chunk, name), resume=offset > 0, finalChunk=final, resumeAt=offset
            )
        except FAILURES as error:
            if attempt == 2:
                raise
            log.warning("chunk at %d of %s failed (%s): sending it again", offset, name, error)
        else:
            log.info("chunk at %d of %s: %d bytes%s", offset, name, len(chunk), " (final)" if final else "")
            return


def _named(chunk: bytes, name: str) -> io.BytesIO:
    # The client names the multipart file from the object's `name`, as it does for open files.
    part = io.BytesIO(chunk)
    part.name = name
    return part
