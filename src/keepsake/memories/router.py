"""HTTP routes of memories."""

from __future__ import annotations

from fastapi import APIRouter, Response, status
from fastapi.responses import JSONResponse

from keepsake.accounts.deps import AUTH_ERRORS, CurrentUser, CurrentViewer
from keepsake.accounts.people import HandlePath
from keepsake.db import DbSession
from keepsake.deps import AppReadDb, AppSettings, AppStorage, IdPath
from keepsake.errors import RateLimited, responses
from keepsake.idempotency import IdempotencyKey, once
from keepsake.jsonbody import json_response
from keepsake.media.service import UploadExpired, UploadIncomplete, UploadNotFound, UploadUsed
from keepsake.memories import creation, service
from keepsake.memories.schemas import MemoryCreate, MemoryPublic, MemoryUpdate
from keepsake.pagination import Page, Pagination
from keepsake.privacy import UserNotFound
from keepsake.write_limits import Write, write_limit

router = APIRouter(prefix="/v1", tags=["memories"])

CREATE_RULES = (
    "too_many_clips",
    "duplicate_upload",
    "caption_too_long",
    "music_track_not_found",
    "idempotency_key_reused",
)


@router.post(
    "/memories",
    dependencies=[write_limit(Write.memories)],
    status_code=status.HTTP_202_ACCEPTED,
    response_model=MemoryPublic,
    summary="Create a memory from your uploaded clips; it is `processing` until ready.",
    responses=responses(
        *AUTH_ERRORS,
        RateLimited,
        UploadNotFound,
        UploadUsed,
        UploadExpired,
        UploadIncomplete,
        invalid=CREATE_RULES,
    ),
)
async def create_memory(
    body: MemoryCreate,
    db: DbSession,
    settings: AppSettings,
    storage: AppStorage,
    user: CurrentUser,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    return await once(
        db,
        user_id=user.id,
        operation="memories.create",
        key=idempotency_key,
        body=body,
        status_code=status.HTTP_202_ACCEPTED,
        run=lambda: creation.create_memory(
            db, settings=settings, storage=storage, author=user, body=body
        ),
    )


@router.get(
    "/memories/{id}",
    summary="One memory, if you may see it.",
    response_model=MemoryPublic,
    responses=responses(*AUTH_ERRORS, service.MemoryNotFound),
)
async def get_memory(
    memory_id: IdPath,
    reads: AppReadDb,
    settings: AppSettings,
    storage: AppStorage,
    viewer: CurrentViewer,
) -> Response:
    card = await service.get_memory(
        reads, settings=settings, storage=storage, viewer_id=viewer.id, memory_id=memory_id
    )
    return json_response(card)


@router.patch(
    "/memories/{id}",
    summary="Change the caption or visibility of your memory.",
    responses=responses(*AUTH_ERRORS, service.NotAuthor, service.MemoryNotFound),
)
async def update_memory(
    memory_id: IdPath,
    body: MemoryUpdate,
    db: DbSession,
    settings: AppSettings,
    storage: AppStorage,
    user: CurrentUser,
) -> MemoryPublic:
    return await service.update_memory(
        db, settings=settings, storage=storage, viewer=user, memory_id=memory_id, body=body
    )


@router.delete(
    "/memories/{id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Delete your memory and its media.",
    responses=responses(
        *AUTH_ERRORS, service.NotAuthor, service.MemoryNotFound, service.UnderModeration
    ),
)
async def delete_memory(memory_id: IdPath, db: DbSession, user: CurrentUser) -> Response:
    await service.delete_memory(db, viewer=user, memory_id=memory_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get(
    "/users/{handle}/memories",
    summary="A person's memories that you may see, newest first.",
    # Written without its model, as the feeds' pages are (`memories.views.card`).
    response_model=Page[MemoryPublic],
    responses=responses(*AUTH_ERRORS, UserNotFound, invalid=("invalid_cursor",)),
)
async def list_memories(
    handle: HandlePath,
    reads: AppReadDb,
    settings: AppSettings,
    storage: AppStorage,
    viewer: CurrentViewer,
    page: Pagination,
) -> Response:
    shown = await service.list_for_person(
        reads, settings=settings, storage=storage, viewer_id=viewer.id, handle=handle, page=page
    )
    return json_response(shown)
