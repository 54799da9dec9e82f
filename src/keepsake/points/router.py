"""HTTP routes of points: the owner's balance, and the operator's adjustments."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, status
from fastapi.responses import JSONResponse

from keepsake.accounts.deps import AUTH_ERRORS, CurrentUser
from keepsake.db import DbSession
from keepsake.errors import responses
from keepsake.idempotency import once
from keepsake.pagination import Pagination
from keepsake.points import service
from keepsake.points.schemas import AdjustmentCreate, AdjustmentPublic, PointsPublic
from keepsake.roles import ROLE_ERRORS, AdminUser

router = APIRouter(prefix="/v1", tags=["points"])

# Points are money-like: an operator's retried click must never move them twice.
RequiredKey = Annotated[
    str,
    Header(
        alias="Idempotency-Key",
        min_length=1,
        max_length=200,
        description="Required: any unique string; a repeat returns the first result.",
    ),
]


@router.get(
    "/me/points",
    response_model=PointsPublic,
    summary="Your points balance and how it came about, newest first.",
    description="Only ever yours: no route shows anyone's points to anyone else.",
    responses=responses(*AUTH_ERRORS, invalid=("invalid_cursor",)),
)
async def my_points(db: DbSession, user: CurrentUser, page: Pagination) -> PointsPublic:
    return await service.my_points(db, user_id=user.id, page=page)


@router.post(
    "/admin/points/adjustments",
    response_model=AdjustmentPublic,
    status_code=status.HTTP_201_CREATED,
    summary="Adjust a person's balance, with a reason (admin only).",
    description=(
        "Moves points between the mission budget and the person. A balance never goes "
        "below 0: 409 `insufficient_points`. The `Idempotency-Key` header is required: a "
        "repeat with the same key returns the first result and moves nothing."
    ),
    responses=responses(
        *ROLE_ERRORS,
        service.PersonNotFound,
        service.InsufficientPoints,
        invalid=("idempotency_key_reused",),
    ),
)
async def adjust(
    body: AdjustmentCreate,
    db: DbSession,
    admin: AdminUser,
    idempotency_key: RequiredKey,
) -> JSONResponse:
    return await once(
        db,
        user_id=admin.id,
        operation="points.adjust",
        key=idempotency_key,
        body=body,
        status_code=status.HTTP_201_CREATED,
        run=lambda: service.adjust(db, admin_id=admin.id, body=body),
    )
