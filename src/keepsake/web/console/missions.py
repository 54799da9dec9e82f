"""Running missions from the console (admins): create, list, close early, and judge
with the entries playing. Every action calls `missions.service`, as
`/v1/admin/missions/...` does.

Entries show as the admin may see their memories anywhere else (the service's rule):
a followers-only entry of someone the admin does not follow is not judged here.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response

from keepsake.clock import Now
from keepsake.db import DbSession
from keepsake.deps import AppSettings, AppStorage
from keepsake.missions import service
from keepsake.missions.schemas import MissionCreate, WinnersChoice
from keepsake.pagination import PageRequest, Pagination
from keepsake.web.console.auth import ConsoleAdmin, check_csrf
from keepsake.web.console.forms import ConsoleRoute, Csrf, back, page

router = APIRouter(prefix="/admin", include_in_schema=False, route_class=ConsoleRoute)

ENTRIES_PAGE = 50
Count = Annotated[int, Form(ge=0, le=1_000_000)]


def _utc(value: datetime) -> datetime:
    """A `datetime-local` field carries no offset: the page says its times are UTC."""
    return value if value.tzinfo else value.replace(tzinfo=UTC)


@router.get("/missions")
async def missions(
    request: Request, db: DbSession, user: ConsoleAdmin, pages: Pagination, now: Now
) -> HTMLResponse:
    found = await service.listed(db, viewer_id=user.id, status=None, page=pages, now=now)
    return page(request, "console/missions.html", {"user": user, "missions": found})


@router.post("/missions")
async def create(
    request: Request,
    title: Annotated[str, Form(max_length=100)],
    hashtag: Annotated[str, Form(max_length=101)],
    starts_at: Annotated[datetime, Form()],
    ends_at: Annotated[datetime, Form()],
    winners_count: Annotated[int, Form(ge=1, le=100)],
    entry_points: Count,
    winner_points: Count,
    db: DbSession,
    settings: AppSettings,
    user: ConsoleAdmin,
    now: Now,
    description: Annotated[str, Form(max_length=2000)] = "",
    csrf: Csrf = None,
) -> Response:
    check_csrf(request, settings, csrf)
    body = MissionCreate(
        title=title,
        description=description,
        hashtag=hashtag,
        starts_at=_utc(starts_at),
        ends_at=_utc(ends_at),
        winners_count=winners_count,
        entry_points=entry_points,
        winner_points=winner_points,
    )
    made = await service.create(db, admin_id=user.id, body=body, now=now)
    return back(f"/admin/missions/{made.id}")


@router.get("/missions/{mission_id}")
async def mission(
    request: Request,
    mission_id: uuid.UUID,
    db: DbSession,
    settings: AppSettings,
    storage: AppStorage,
    user: ConsoleAdmin,
    now: Now,
) -> HTMLResponse:
    shown = await service.get(db, viewer_id=user.id, mission_id=mission_id, now=now)
    entries = await service.entries(
        db,
        settings=settings,
        storage=storage,
        viewer_id=user.id,
        mission_id=mission_id,
        page=PageRequest(limit=ENTRIES_PAGE, after=None),
        now=now,
    )
    items: list[dict[str, Any]] = entries["items"]
    media = [
        url
        for item in items
        for clip in item["memory"]["clips"]
        for url in (clip["video_url"], clip["poster_url"])
        if url
    ]
    context = {"user": user, "mission": shown, "entries": items}
    return page(request, "console/mission.html", context, media=media)


@router.post("/missions/{mission_id}/close")
async def close(
    request: Request,
    mission_id: uuid.UUID,
    db: DbSession,
    settings: AppSettings,
    _: ConsoleAdmin,
    now: Now,
    csrf: Csrf = None,
) -> Response:
    check_csrf(request, settings, csrf)
    await service.close(db, mission_id=mission_id, now=now)
    return back(f"/admin/missions/{mission_id}")


@router.post("/missions/{mission_id}/winners")
async def winners(
    request: Request,
    mission_id: uuid.UUID,
    memory_ids: Annotated[list[uuid.UUID], Form(min_length=1, max_length=100)],
    db: DbSession,
    settings: AppSettings,
    _: ConsoleAdmin,
    now: Now,
    csrf: Csrf = None,
) -> Response:
    check_csrf(request, settings, csrf)
    choice = WinnersChoice(memory_ids=memory_ids)
    await service.choose_winners(db, mission_id=mission_id, body=choice, now=now)
    return back(f"/admin/missions/{mission_id}")
