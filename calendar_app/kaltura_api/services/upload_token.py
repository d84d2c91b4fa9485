"""uploadtoken: add, upload, get, list, delete (docs/kaltura-compatibility.md §4, docs/devices.md).

The chunk semantics, the storage and the caps are the devices' core's (devices/uploads.py).

Who may: capture devices (their role's whitelist), admin sessions, and, as in Kaltura, plain
USER sessions: a token only holds a file, within the size caps, until media.addContent (which
has its own gate) hands it to an entry. A session that is not an admin's sees only its own
tokens: a device's session those its app token made, a user's those of its user id; another
partner's tokens, or another device's, are UPLOAD_TOKEN_NOT_FOUND.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.core.files.uploadedfile import UploadedFile

from calendar_app.devices import uploads
from calendar_app.kaltura_api import listing
from calendar_app.kaltura_api.auth import Access
from calendar_app.kaltura_api.catalog import BOOL, FLOAT, STR
from calendar_app.kaltura_api.dispatch import Call, Param, action
from calendar_app.kaltura_api.listing import Column, Table
from calendar_app.kaltura_api.objects import Obj, Parsed, render
from calendar_app.kaltura_api.values import Kind, bad_value
from calendar_app.models import UploadToken

SERVICE = "uploadtoken"
# Kaltura narrows a search by file name to the tokens still in use, which keeps it cheap.
IN_USE = (UploadToken.Status.PENDING, UploadToken.Status.PARTIAL_UPLOAD, UploadToken.Status.FULL_UPLOAD)


@dataclass(frozen=True)
class Chunk(Kind):
    """The file part of a multipart request; its size is the core's to judge."""

    def parse(self, name, raw, now):
        if not isinstance(raw, UploadedFile):
            raise bad_value(name, "a text value", "an uploaded file (a multipart file part)")
        return raw


def uploader(call: Call) -> uploads.Uploader:
    assert call.session is not None
    data = call.session.data
    app_tokens = data.privilege("apptoken")
    return uploads.Uploader(
        partner=call.partner,
        user_id=data.user_id,
        app_token=app_tokens[0] if app_tokens else "",
        sees_all=data.is_admin and call.session.role is None,
    )


def render_token(token: UploadToken) -> dict:
    return render("KalturaUploadToken", token)


# READ: USER sessions write here too (the module's docstring says why).
@action(SERVICE, "add", Param("uploadToken", Obj(base="KalturaUploadToken")), access=Access.READ)
def _add(call: Call, uploadToken: Parsed | None):
    values = uploadToken.values if uploadToken else {}
    auto_finalize = values.get("auto_finalize")
    token = uploads.add(
        uploader(call),
        call.actor.now,
        file_name=values.get("file_name") or "",
        file_size=values.get("file_size"),
        auto_finalize=None if auto_finalize in (None, -1) else bool(auto_finalize),
    )
    return render_token(token)


@action(
    SERVICE,
    "upload",
    Param("uploadTokenId", STR, required=True),
    Param("fileData", Chunk(), required=True),
    Param("resume", BOOL, default=False),
    Param("finalChunk", BOOL, default=True),
    Param("resumeAt", FLOAT, default=-1.0),
    access=Access.READ,
)
def _upload(
    call: Call, uploadTokenId: str, fileData: UploadedFile, resume: bool, finalChunk: bool, resumeAt: float
):
    token = uploads.upload(
        uploader(call),
        uploadTokenId,
        fileData,
        call.actor.now,
        resume=resume,
        final=finalChunk,
        resume_at=resumeAt,
    )
    return render_token(token)


@action(SERVICE, "get", Param("uploadTokenId", STR, required=True))
def _get(call: Call, uploadTokenId: str):
    return render_token(uploads.get(uploader(call), uploadTokenId))


@action(SERVICE, "delete", Param("uploadTokenId", STR, required=True), access=Access.READ)
def _delete(call: Call, uploadTokenId: str):
    uploads.delete(uploader(call), uploadTokenId, call.actor.now)


TOKENS = Table(
    response="KalturaUploadTokenListResponse",
    columns={
        "id": Column("pk"),
        "userId": Column("user_id"),
        "status": Column("status", is_int=True),
        "fileName": Column("file_name"),
        "fileSize": Column("file_size"),
    },
    order_by={"createdAt": "created_at"},
)


@action(
    SERVICE,
    "list",
    Param("filter", Obj(base="KalturaUploadTokenFilter")),
    Param("pager", Obj(base="KalturaFilterPager")),
)
def _list(call: Call, filter: Parsed | None, pager: Parsed | None):
    rows = uploads.tokens(uploader(call))
    values = filter.values if filter else {}
    if values.get("fileNameEqual") and values.get("statusEqual") is None and not values.get("statusIn"):
        rows = rows.filter(status__in=IN_USE)
    return listing.respond(
        rows, filter, pager, TOKENS, call.partner.pk, lambda found: [render_token(t) for t in found]
    )
