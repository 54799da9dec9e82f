"""HTTP routes of search."""

from __future__ import annotations

import re
from collections.abc import Callable, Coroutine
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from fastapi.routing import APIRoute

from keepsake.accounts.deps import AUTH_ERRORS, CurrentViewer, viewer_of
from keepsake.accounts.people import UserPublic
from keepsake.clock import Now
from keepsake.deps import AppReadDb, AppSettings, Limiter
from keepsake.errors import RateLimited, responses
from keepsake.jsonbody import json_response
from keepsake.pagination import DEFAULT_LIMIT, MAX_LIMIT, Page
from keepsake.search import service
from keepsake.search.schemas import HashtagList
from keepsake.text import CHECK_ONE_LINE, clean

router = APIRouter(prefix="/v1/search", tags=["search"])

Q_MAX = 50
CURSOR_MAX = 200
_Q = Annotated[
    str,
    Query(
        min_length=1,
        max_length=Q_MAX,
        description="1–50 characters; `%` and `_` match themselves.",
        examples=["첫눈"],
    ),
    CHECK_ONE_LINE,
]
_LIMIT = Annotated[int, Query(ge=1, le=MAX_LIMIT, description="Items per page.")]


async def search_people(
    q: _Q,
    request: Request,
    viewer: CurrentViewer,
    limit: _LIMIT = DEFAULT_LIMIT,
    cursor: Annotated[
        str | None, Query(max_length=CURSOR_MAX, description="`next_cursor` of the previous page.")
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


# A count FastAPI reads as the same int: no sign, blank, leading zero or fraction.
_PLAIN_COUNT = re.compile(r"[1-9][0-9]{0,2}")


def plain_arguments(request: Request) -> dict[str, Any] | None:
    """`search_people`'s query parameters as FastAPI would validate them, when they are
    plainly valid; None for anything else, and FastAPI's own handler takes the request."""
    query = request.query_params
    q = query.get("q")
    cleaned = None if q is None else clean(q)
    if cleaned is None or not 1 <= len(cleaned) <= Q_MAX:
        return None
    limit = query.get("limit")
    if limit is not None and not (_PLAIN_COUNT.fullmatch(limit) and int(limit) <= MAX_LIMIT):
        return None
    cursor = query.get("cursor")
    if cursor is not None and len(cursor) > CURSOR_MAX:
        return None
    return {
        "q": cleaned,
        "limit": DEFAULT_LIMIT if limit is None else int(limit),
        "cursor": cursor,
    }


class PeopleRoute(APIRoute):
    """`GET /v1/search/people` is asked letter by letter as someone types. Resolving its
    parameters and viewer through FastAPI's dependencies was a sixth of its CPU
    (bench/search.py), so a request whose parameters are plainly valid reads them with
    `plain_arguments` and its viewer with `viewer_of`, then calls the same endpoint. Any
    other request goes through FastAPI's own handler: its errors, like the API docs, are
    FastAPI's, made from the endpoint's signature."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        resolved = super().get_route_handler()

        async def handler(request: Request) -> Response:
            arguments = plain_arguments(request)
            if arguments is None:
                return await resolved(request)
            viewer = await viewer_of(request)
            return await search_people(request=request, viewer=viewer, **arguments)

        return handler


router.add_api_route(
    "/people",
    search_people,
    methods=["GET"],
    summary="Find people by handle prefix, any part of their name, or its initial consonants.",
    response_model=Page[UserPublic],
    responses=responses(*AUTH_ERRORS, RateLimited, invalid=("invalid_query", "invalid_cursor")),
    route_class_override=PeopleRoute,
)


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
