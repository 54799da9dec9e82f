"""HTTP routes of profiles."""

from __future__ import annotations

from fastapi import APIRouter

from keepsake.accounts.deps import CurrentUser
from keepsake.db import DbSession
from keepsake.errors import Unauthorized, responses
from keepsake.profiles import service
from keepsake.profiles.schemas import MePublic

router = APIRouter(prefix="/v1", tags=["profiles"])


@router.get(
    "/me", summary="Your own profile, settings and counts.", responses=responses(Unauthorized)
)
async def get_me(db: DbSession, user: CurrentUser) -> MePublic:
    return await service.me_view(db, user)
