"""HTTP routes of search."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from keepsake.accounts.deps import AUTH_ERRORS, CurrentViewer
from keepsake.accounts.people import UserPublic
from keepsake.clock import Now
from keepsake.deps import AppReadDb, AppSettings, Limiter
from keepsake.errors import RateLimited, responses
from keepsake.jsonbody import json_response
from keepsake.pagination import DEFAULT_LIMIT, MAX_LIMIT, Page
from keepsake.search import service
from keepsake.search.schemas import HashtagList
from keepsake.text import CHECK_ONE_LINE

router = APIRouter(prefix="/v1/search", tags=["search"])

_Q = Annotated[
    str,
    Query(
        min_length=1,
        max_length=50,
        description="1–50 characters; `%` and `_` match themselves.",
        examples=["첫눈"],
    ),
    CHECK_ONE_LINE,
]
_LIMIT = Annotated[int, Query(ge=1, le=MAX_LIMIT, description="Items per page.")]


@router.get(
    "/people",
    summary="Find people by handle prefix, any part of their name, or its initial consonants.",
    response_model=Page[UserPublic],
    responses=responses(*AUTH_ERRORS, RateLimited, invalid=("invalid_query", "invalid_cursor")),
)
async def search_people(
    q: _Q,
    request: Request,
    viewer: CurrentViewer,
    limit: _LIMIT = DEFAULT_LIMIT,
    cursor: Annotated[
        str | None, Query(max_length=200, description="`next_cursor` of the previous page.")
    ] = None,
) -> Response:
    # Written without its model, as the feeds are: a hot read (see `keepsake.jsonbody`).
    # The app's services straight from `app.state`, not as the four dependencies of
    # `keepsake.deps`: FastAPI's work per dependency was a tenth of this route's CPU.
    state = request.app.state
    page = await service.people(
        state.read_db,
        settings=state.settings,
        storage=state.storage,
        limiter=state.rate_limiter,
        viewer_id=viewer.id,
        q=q,
        limit=limit,
        cursor=cursor,
    )
    return json_response(page)


@router.get(
    "/hashtags",
    summary="Find hashtags by prefix: open missions' tags first, then the most recently"
    " used; never with counts.",
    responses=responses(*AUTH_ERRORS, RateLimited, invalid=("invalid_query",)),
)
async def search_hashtags(
    q: _Q,
    db: AppReadDb,
    settings: AppSettings,
    limiter: Limiter,
    viewer: CurrentViewer,
    now: Now,
    limit: _LIMIT = DEFAULT_LIMIT,
) -> HashtagList:
    return await service.hashtags(
        db, settings=settings, limiter=limiter, viewer_id=viewer.id, q=q, limit=limit, now=now
    )
