"""HTTP endpoints of the local storage backend: signed uploads and signed media reads."""

from __future__ import annotations

import time
from typing import Annotated

from fastapi import APIRouter, Depends, Header, Query, Request, Response, status
from fastapi.responses import FileResponse
from starlette.requests import ClientDisconnect

from keepsake.errors import NotFound, responses
from keepsake.i18n.catalog import _
from keepsake.storage.base import (
    VIEWER_PATTERN,
    ContentTypeMismatch,
    InvalidKey,
    InvalidSignature,
    MediaGate,
    MediaUrlExpired,
    ObjectNotFound,
    StorageFull,
    UploadGate,
    UploadSizeMismatch,
    UploadTooLarge,
    UploadUrlExpired,
    UploadUsed,
    disk_full,
)
from keepsake.storage.local import MEDIA_PATH, UPLOAD_PATH, LocalStorage

router = APIRouter(tags=["media"])


def _local_storage(request: Request) -> LocalStorage:
    storage = request.app.state.storage
    # With S3 configured, clients talk to S3 and these routes do not exist.
    if not isinstance(storage, LocalStorage):
        raise NotFound(_("Not found."))
    return storage


Local = Annotated[LocalStorage, Depends(_local_storage)]


def _upload_gate(request: Request) -> UploadGate:
    gate: UploadGate = request.app.state.upload_gate
    return gate


def _media_gate(request: Request) -> MediaGate:
    gate: MediaGate = request.app.state.media_gate
    return gate


@router.put(
    UPLOAD_PATH + "/{key:path}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Receive an upload's bytes through a signed URL (local storage only).",
    responses=responses(
        InvalidKey,
        UploadSizeMismatch,
        InvalidSignature,
        UploadUrlExpired,
        NotFound,
        UploadUsed,
        UploadTooLarge,
        ContentTypeMismatch,
        StorageFull,
    ),
)
async def put_upload(
    key: str,
    expires: int,
    ct: str,
    size: int,
    sig: str,
    request: Request,
    storage: Local,
    gate: Annotated[UploadGate, Depends(_upload_gate)],
    # Set by the HTTP client from the body, never by a caller: generated clients and the
    # fuzzer must not be told to send them.
    content_type: Annotated[str | None, Header(include_in_schema=False)] = None,
    content_length: Annotated[int | None, Header(include_in_schema=False)] = None,
) -> Response:
    grant = storage.verify_upload(
        key, expires=expires, content_type=ct, size_bytes=size, signature=sig
    )
    # Claiming an upload moves its bytes away (`media.service.use_uploads`); its URL must
    # not quietly start a new object that nothing reads.
    if not await gate.open(key):
        raise UploadUsed(_("This upload was already used; ask for a new upload URL."))
    try:
        await storage.receive_upload(
            grant, request.stream(), content_type=content_type, content_length=content_length
        )
    except ClientDisconnect:
        # A phone losing its connection is routine, not a server error.
        raise UploadSizeMismatch(_("The upload ended before all its bytes arrived.")) from None
    except OSError as error:
        # The partial file is gone already (receive_upload removes it on any error).
        if not disk_full(error):
            raise
        raise StorageFull(_("The server's media storage is full; try again later.")) from None
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get(
    MEDIA_PATH + "/{key:path}",
    summary="Serve a stored file through a signed, expiring URL (local storage only).",
    response_class=FileResponse,
    responses=responses(InvalidKey, InvalidSignature, MediaUrlExpired, NotFound, ObjectNotFound),
)
async def get_media(
    key: str,
    expires: int,
    sig: str,
    storage: Local,
    gate: Annotated[MediaGate, Depends(_media_gate)],
    v: Annotated[str, Query(pattern=f"^{VIEWER_PATTERN}$")] = "",
) -> FileResponse:
    storage.verify_media(key, expires=expires, viewer=v, signature=sig)
    # The signature says who the URL was made for; whether they may still see the file
    # (a block, an unfollow, a memory gone `only_me` since) is decided now. Refused
    # looks exactly like missing.
    if not await gate.allows(key, v):
        raise ObjectNotFound(_("No stored object at {key}."), params={"key": key})
    media = await storage.media_file(key)
    max_age = max(0, expires - int(time.time()))
    return FileResponse(
        media.path,
        media_type=media.content_type,
        stat_result=media.stat,
        headers={
            "Cache-Control": f"private, max-age={max_age}",
            # Uploaded bytes are served from the API's own origin: never let a browser
            # sniff them into something executable.
            "X-Content-Type-Options": "nosniff",
            "Content-Security-Policy": "sandbox",
        },
    )
