"""HTTP endpoints of the local storage backend: signed uploads and signed media reads."""

from __future__ import annotations

import time
from typing import Annotated

from fastapi import APIRouter, Depends, Header, Request, Response, status
from fastapi.responses import FileResponse
from starlette.requests import ClientDisconnect

from keepsake.errors import NotFound, responses
from keepsake.i18n.catalog import _
from keepsake.storage.base import (
    ContentTypeMismatch,
    InvalidKey,
    InvalidSignature,
    MediaUrlExpired,
    ObjectNotFound,
    UploadSizeMismatch,
    UploadTooLarge,
    UploadUrlExpired,
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
        UploadTooLarge,
        ContentTypeMismatch,
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
    content_type: Annotated[str | None, Header()] = None,
    content_length: Annotated[int | None, Header()] = None,
) -> Response:
    grant = storage.verify_upload(
        key, expires=expires, content_type=ct, size_bytes=size, signature=sig
    )
    try:
        await storage.receive_upload(
            grant, request.stream(), content_type=content_type, content_length=content_length
        )
    except ClientDisconnect:
        # A phone losing its connection is routine, not a server error.
        raise UploadSizeMismatch(_("The upload ended before all its bytes arrived.")) from None
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get(
    MEDIA_PATH + "/{key:path}",
    summary="Serve a stored file through a signed, expiring URL (local storage only).",
    response_class=FileResponse,
    responses=responses(InvalidKey, InvalidSignature, MediaUrlExpired, NotFound, ObjectNotFound),
)
async def get_media(key: str, expires: int, sig: str, storage: Local) -> FileResponse:
    storage.verify_media(key, expires=expires, signature=sig)
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
