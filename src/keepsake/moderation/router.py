"""Safety routes of everyone: reports, and one's own strikes and appeals.

A suspended account has no session, so its strikes and appeal routes also take the
`appeal_token` that sign-in answers `account_suspended` with (see `ME_STRIKES`).
"""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Request, Response
from fastapi.security import HTTPAuthorizationCredentials

from keepsake.accounts.deps import AUTH_ERRORS, CurrentUser, _bearer, _viewer
from keepsake.db import DbSession
from keepsake.errors import RateLimited, responses
from keepsake.memories.service import MemoryNotFound
from keepsake.moderation import appeals, reports
from keepsake.moderation.schemas import (
    AppealCreate,
    AppealPublic,
    ReportCreate,
    ReportPublic,
    StrikePublic,
)
from keepsake.pagination import Page, Pagination
from keepsake.privacy import UserNotFound
from keepsake.security import read_appeal_token
from keepsake.write_limits import Write, write_limit

router = APIRouter(prefix="/v1", tags=["safety"])

APPEAL_AUTH = (
    "Signed in, or with the `appeal_token` that signing in to a suspended account answers "
    "with (403 `account_suspended`): a one-hour token good for these two routes only."
)


async def _strike_holder(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> uuid.UUID:
    if credentials is not None:
        appellant = read_appeal_token(request.app.state.settings, credentials.credentials)
        if appellant is not None:
            return appellant
    return (await _viewer(request, credentials)).id


StrikeHolder = Annotated[uuid.UUID, Depends(_strike_holder)]


@router.post(
    "/reports",
    dependencies=[write_limit(Write.reports)],
    status_code=201,
    response_model=ReportPublic,
    responses={
        200: {
            "description": "You already had an open report on this target: that one.",
            "model": ReportPublic,
        },
        **responses(
            *AUTH_ERRORS,
            RateLimited,
            MemoryNotFound,
            UserNotFound,
            invalid=("cannot_report_self", "detail_required"),
        ),
    },
)
async def create_report(body: ReportCreate, db: DbSession, user: CurrentUser) -> Any:
    """Report a memory or a person you can see."""
    made, created = await reports.report(db, reporter=user, body=body)
    if created:
        return made
    return Response(made.model_dump_json(), status_code=200, media_type="application/json")


@router.get(
    "/me/reports",
    response_model=Page[ReportPublic],
    responses=responses(*AUTH_ERRORS, invalid=("invalid_cursor",)),
)
async def my_reports(db: DbSession, user: CurrentUser, page: Pagination) -> Page[ReportPublic]:
    """Your reports and what became of them."""
    return await reports.my_reports(db, reporter=user, page=page)


@router.get(
    "/me/strikes",
    response_model=Page[StrikePublic],
    description=APPEAL_AUTH,
    responses=responses(*AUTH_ERRORS, invalid=("invalid_cursor",)),
)
async def my_strikes(db: DbSession, holder: StrikeHolder, page: Pagination) -> Page[StrikePublic]:
    """Actions moderators took against you, and your appeals."""
    return await appeals.my_strikes(db, user_id=holder, page=page)


@router.post(
    "/me/strikes/{id}/appeal",
    dependencies=[write_limit(Write.appeals)],
    status_code=201,
    response_model=AppealPublic,
    description=APPEAL_AUTH,
    responses=responses(
        *AUTH_ERRORS,
        RateLimited,
        appeals.StrikeNotFound,
        appeals.AppealExists,
        appeals.AppealWindowClosed,
    ),
)
async def appeal(
    strike_id: Annotated[uuid.UUID, Path(alias="id", description="The strike's id.")],
    body: AppealCreate,
    db: DbSession,
    holder: StrikeHolder,
) -> AppealPublic:
    """Appeal a strike, once, within 20 days."""
    return await appeals.appeal(db, user_id=holder, strike_id=strike_id, text=body.text)
