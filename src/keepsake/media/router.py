"""HTTP routes of uploads."""

from __future__ import annotations

from fastapi import APIRouter, status
from fastapi.responses import JSONResponse

from keepsake.accounts.deps import AUTH_ERRORS, CurrentUser
from keepsake.db import DbSession
from keepsake.deps import AppSettings, AppStorage
from keepsake.errors import RateLimited, responses
from keepsake.idempotency import IdempotencyKey, once
from keepsake.media import service
from keepsake.media.schemas import UploadCreate, UploadPublic
from keepsake.write_limits import Write, write_limit

router = APIRouter(prefix="/v1", tags=["media"])


@router.post(
    "/uploads",
    dependencies=[write_limit(Write.uploads)],
    status_code=status.HTTP_201_CREATED,
    response_model=UploadPublic,
    summary="Get a short-lived URL to send one file's bytes straight to storage.",
    responses=responses(
        *AUTH_ERRORS,
        RateLimited,
        service.TooManyOpenUploads,
        invalid=("unsupported_content_type", "upload_too_large", "idempotency_key_reused"),
    ),
)
async def create_upload(
    body: UploadCreate,
    db: DbSession,
    settings: AppSettings,
    storage: AppStorage,
    user: CurrentUser,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    return await once(
        db,
        user_id=user.id,
        operation="uploads.create",
        key=idempotency_key,
        body=body,
        status_code=status.HTTP_201_CREATED,
        run=lambda: service.create_upload(
            db, settings=settings, storage=storage, owner=user, body=body
        ),
    )
