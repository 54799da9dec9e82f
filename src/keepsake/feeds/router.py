"""HTTP routes of the feeds."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Response

from keepsake.accounts.deps import AUTH_ERRORS, CurrentViewer
from keepsake.deps import AppReadDb, AppSettings, AppStorage
from keepsake.errors import responses
from keepsake.feeds import service
from keepsake.jsonbody import json_response
from keepsake.memories.hashtags import MAX_TAG_CHARS
from keepsake.memories.schemas import MemoryPublic
from keepsake.pagination import Page, Pagination
from keepsake.text import SingleLine

router = APIRouter(prefix="/v1", tags=["feeds"])

# Pages are written without their model (see `memories.views.card`), which still
# describes them in the API docs.
FEED_PAGE = Page[MemoryPublic]


LIST_ERRORS = responses(*AUTH_ERRORS, invalid=("invalid_cursor",))

TagPath = Annotated[
    SingleLine,
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
    response_model=FEED_PAGE,
    responses=LIST_ERRORS,
)
async def home(
    db: AppReadDb,
    settings: AppSettings,
    storage: AppStorage,
    viewer: CurrentViewer,
    page: Pagination,
) -> Response:
    return json_response(
        await service.home(db, settings=settings, storage=storage, viewer_id=viewer.id, page=page)
    )


@router.get(
    "/feed/explore",
    summary="Recent public memories of public accounts, newest first.",
    description="Leaves out private accounts, people blocked either way, and muted people.",
    response_model=FEED_PAGE,
    responses=LIST_ERRORS,
)
async def explore(
    db: AppReadDb,
    settings: AppSettings,
    storage: AppStorage,
    viewer: CurrentViewer,
    page: Pagination,
) -> Response:
    return json_response(
        await service.explore(
            db, settings=settings, storage=storage, viewer_id=viewer.id, page=page
        )
    )


@router.get(
    "/hashtags/{tag}/memories",
    summary="Recent public memories with a hashtag, newest first.",
    description="The same memories as explore, those whose caption carries the tag.",
    response_model=FEED_PAGE,
    responses=LIST_ERRORS,
)
async def hashtag(
    tag: TagPath,
    db: AppReadDb,
    settings: AppSettings,
    storage: AppStorage,
    viewer: CurrentViewer,
    page: Pagination,
) -> Response:
    return json_response(
        await service.hashtag(
            db, settings=settings, storage=storage, viewer_id=viewer.id, tag=tag, page=page
        )
    )
