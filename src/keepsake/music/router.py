"""HTTP routes of the music library."""

from __future__ import annotations

from fastapi import APIRouter

from keepsake.accounts.deps import AUTH_ERRORS, CurrentUser
from keepsake.db import DbSession
from keepsake.deps import AppSettings, AppStorage
from keepsake.errors import responses
from keepsake.music import service
from keepsake.music.schemas import MusicTrackPublic
from keepsake.pagination import Page, Pagination

router = APIRouter(prefix="/v1", tags=["music"])


@router.get(
    "/music",
    summary="The music library a memory may play under its clips.",
    responses=responses(*AUTH_ERRORS, invalid=("invalid_cursor",)),
)
async def library(
    db: DbSession, settings: AppSettings, storage: AppStorage, _: CurrentUser, page: Pagination
) -> Page[MusicTrackPublic]:
    return await service.library(db, settings=settings, storage=storage, page=page)
