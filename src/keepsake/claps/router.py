"""HTTP routes of claps."""

from __future__ import annotations

from fastapi import APIRouter, status
from fastapi.responses import JSONResponse

from keepsake.accounts.deps import AUTH_ERRORS, CurrentUser, CurrentViewer
from keepsake.claps import service
from keepsake.claps.schemas import ClapCreate, ClapPublic, ClapResult
from keepsake.db import DbSession
from keepsake.deps import AppSettings, AppStorage, IdPath
from keepsake.errors import RateLimited, responses
from keepsake.idempotency import IdempotencyKey, once
from keepsake.memories.service import MemoryNotFound, NotAuthor
from keepsake.pagination import Page, Pagination
from keepsake.write_limits import Write, write_limit

router = APIRouter(prefix="/v1", tags=["claps"])


@router.post(
    "/memories/{id}/claps",
    dependencies=[write_limit(Write.claps)],
    response_model=ClapResult,
    summary="Clap for a memory you can see; your total stops at 50.",
    description=(
        "Adds `count` claps to yours for this ready memory. A request that would take you "
        "past 50 adds what still fits and answers with 50; once you are at 50 it is "
        "refused with 409 `clap_limit_reached`. The answer only ever tells you your own "
        "claps: the author cannot clap for their own memory (403 `cannot_clap_own`), so "
        "no clap answer carries a `clap_total`. A memory you may not see, or that is not "
        "ready yet, is 404 `memory_not_found`, as if it did not exist. Send an "
        "`Idempotency-Key` to make a retried request count once."
    ),
    responses=responses(
        *AUTH_ERRORS,
        RateLimited,
        service.CannotClapOwn,
        MemoryNotFound,
        service.ClapLimitReached,
        invalid=("idempotency_key_reused",),
    ),
)
async def clap(
    memory_id: IdPath,
    body: ClapCreate,
    db: DbSession,
    viewer: CurrentViewer,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    return await once(
        db,
        user_id=viewer.id,
        operation=f"claps.add:{memory_id}",
        key=idempotency_key,
        body=body,
        status_code=status.HTTP_200_OK,
        run=lambda: service.clap(db, viewer_id=viewer.id, memory_id=memory_id, body=body),
    )


@router.get(
    "/memories/{id}/claps",
    summary="Who clapped for your memory and how often, most recent first.",
    description=(
        "Only for the memory's author: another viewer who can see the memory gets 403 "
        "`not_author` (as for editing it), and one who cannot gets 404."
    ),
    responses=responses(*AUTH_ERRORS, NotAuthor, MemoryNotFound, invalid=("invalid_cursor",)),
)
async def list_claps(
    memory_id: IdPath,
    db: DbSession,
    settings: AppSettings,
    storage: AppStorage,
    user: CurrentUser,
    page: Pagination,
) -> Page[ClapPublic]:
    return await service.clappers(
        db, settings=settings, storage=storage, viewer=user, memory_id=memory_id, page=page
    )
