"""HTTP routes of the feeds."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path

from keepsake.accounts.deps import AUTH_ERRORS, CurrentUser
from keepsake.db import DbSession
from keepsake.deps import AppSettings, AppStorage
from keepsake.errors import responses
from keepsake.feeds import service
from keepsake.memories.hashtags import MAX_TAG_CHARS
from keepsake.memories.schemas import MemoryPublic
from keepsake.pagination import Page, Pagination

router = APIRouter(prefix="/v1", tags=["feeds"])

LIST_ERRORS = responses(*AUTH_ERRORS, invalid=("invalid_cursor",))

TagPath = Annotated[
    str,
    Path(
        min_length=1,
        # One more for a leading '#', which is ignored.
        max_length=MAX_TAG_CHARS + 1,
        description="The tag, with or without '#', in any case: `첫눈`, `Walk`, `%23walk`.",
    ),
]


@router.get(
    "/feed/home",
    summary="Your memories and those of people you follow, newest first; it ends.",
    description=(
        "Ready memories of the people you follow (approved follows) and your own, newest "
        "first, as their visibility allows; muted people are left out. There is no "
        "ranking and no filler: when `next_cursor` is null you are all caught up."
    ),
    responses=LIST_ERRORS,
)
async def home(
    db: DbSession, settings: AppSettings, storage: AppStorage, user: CurrentUser, page: Pagination
) -> Page[MemoryPublic]:
    return await service.home(db, settings=settings, storage=storage, viewer=user, page=page)


@router.get(
    "/feed/explore",
    summary="Recent public memories of public accounts, newest first.",
    description="Leaves out private accounts, people blocked either way, and muted people.",
    responses=LIST_ERRORS,
)
async def explore(
    db: DbSession, settings: AppSettings, storage: AppStorage, user: CurrentUser, page: Pagination
) -> Page[MemoryPublic]:
    return await service.explore(db, settings=settings, storage=storage, viewer=user, page=page)


@router.get(
    "/hashtags/{tag}/memories",
    summary="Recent public memories with a hashtag, newest first.",
    description="The same memories as explore, those whose caption carries the tag.",
    responses=LIST_ERRORS,
)
async def hashtag(
    tag: TagPath,
    db: DbSession,
    settings: AppSettings,
    storage: AppStorage,
    user: CurrentUser,
    page: Pagination,
) -> Page[MemoryPublic]:
    return await service.hashtag(
        db, settings=settings, storage=storage, viewer=user, tag=tag, page=page
    )
