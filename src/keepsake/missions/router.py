"""HTTP routes of missions: reading them (everyone signed in) and running them (admins)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response, status

from keepsake.accounts.deps import AUTH_ERRORS, CurrentUser
from keepsake.clock import Now
from keepsake.db import DbSession
from keepsake.deps import AppSettings, AppStorage, IdPath
from keepsake.errors import responses
from keepsake.jsonbody import json_response
from keepsake.missions import service
from keepsake.missions.models import MissionStatus
from keepsake.missions.schemas import (
    EntryPublic,
    MissionCreate,
    MissionPublic,
    MissionUpdate,
    WinnersChoice,
)
from keepsake.pagination import Page, Pagination
from keepsake.roles import ROLE_ERRORS, AdminUser

router = APIRouter(prefix="/v1", tags=["missions"])

_HASHTAG = ("invalid_hashtag",)


@router.get(
    "/missions",
    response_model=Page[MissionPublic],
    summary="Missions: open, scheduled, judging and recently closed, latest start first.",
    responses=responses(*AUTH_ERRORS, invalid=("invalid_cursor",)),
)
async def list_missions(
    db: DbSession,
    user: CurrentUser,
    page: Pagination,
    now: Now,
    mission_status: Annotated[
        MissionStatus | None, Query(alias="status", description="Only missions in this status.")
    ] = None,
) -> Page[MissionPublic]:
    return await service.listed(db, viewer_id=user.id, status=mission_status, page=page, now=now)


@router.get(
    "/missions/{id}",
    response_model=MissionPublic,
    summary="One mission, with your entry in it if you have one.",
    responses=responses(*AUTH_ERRORS, service.MissionNotFound),
)
async def get_mission(
    mission_id: IdPath, db: DbSession, user: CurrentUser, now: Now
) -> MissionPublic:
    return await service.get(db, viewer_id=user.id, mission_id=mission_id, now=now)


@router.get(
    "/missions/{id}/entries",
    response_model=Page[EntryPublic],
    summary="Entries you may see, newest first (never ranked); winners flagged once closed.",
    description=(
        "Each entry is its memory as you may see it anywhere else: visibility, blocks and "
        "hidden memories apply. No counts, no ranking."
    ),
    responses=responses(*AUTH_ERRORS, service.MissionNotFound, invalid=("invalid_cursor",)),
)
async def list_entries(
    mission_id: IdPath,
    db: DbSession,
    settings: AppSettings,
    storage: AppStorage,
    user: CurrentUser,
    page: Pagination,
    now: Now,
) -> Response:
    return json_response(
        await service.entries(
            db,
            settings=settings,
            storage=storage,
            viewer_id=user.id,
            mission_id=mission_id,
            page=page,
            now=now,
        )
    )


@router.post(
    "/admin/missions",
    response_model=MissionPublic,
    status_code=status.HTTP_201_CREATED,
    summary="Create a mission (admin only).",
    description="A hashtag names one mission at a time: 409 `hashtag_in_use` on overlap.",
    responses=responses(*ROLE_ERRORS, service.HashtagInUse, invalid=_HASHTAG),
)
async def create_mission(
    body: MissionCreate, db: DbSession, admin: AdminUser, now: Now
) -> MissionPublic:
    return await service.create(db, admin_id=admin.id, body=body, now=now)


@router.patch(
    "/admin/missions/{id}",
    response_model=MissionPublic,
    summary="Change a mission: any field before it opens, later its title and description.",
    responses=responses(
        *ROLE_ERRORS,
        service.MissionNotFound,
        service.MissionStarted,
        service.HashtagInUse,
        invalid=(*_HASHTAG, "invalid_period"),
    ),
)
async def update_mission(
    mission_id: IdPath, body: MissionUpdate, db: DbSession, admin: AdminUser, now: Now
) -> MissionPublic:
    return await service.update(db, mission_id=mission_id, body=body, now=now)


@router.post(
    "/admin/missions/{id}/close",
    response_model=MissionPublic,
    summary="End an open mission now; it goes to judging (admin only).",
    responses=responses(*ROLE_ERRORS, service.MissionNotFound, service.MissionNotOpen),
)
async def close_mission(
    mission_id: IdPath, db: DbSession, admin: AdminUser, now: Now
) -> MissionPublic:
    return await service.close(db, mission_id=mission_id, now=now)


@router.post(
    "/admin/missions/{id}/winners",
    response_model=MissionPublic,
    summary="Choose the winners among the entries once; the mission closes (admin only).",
    description=(
        "During judging, at most `winners_count` memories, each an entry. Winner points "
        "are awarded once; a second call is 409 `winners_already_chosen`."
    ),
    responses=responses(
        *ROLE_ERRORS,
        service.MissionNotFound,
        service.WinnersAlreadyChosen,
        service.MissionNotJudging,
        invalid=("too_many_winners", "not_an_entry"),
    ),
)
async def choose_winners(
    mission_id: IdPath, body: WinnersChoice, db: DbSession, admin: AdminUser, now: Now
) -> MissionPublic:
    return await service.choose_winners(db, mission_id=mission_id, body=body, now=now)
