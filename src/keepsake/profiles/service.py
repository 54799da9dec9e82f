"""Profile rules: what the owner sees of themselves and what others see."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from keepsake.accounts.models import User
from keepsake.graph import service as graph
from keepsake.profiles.schemas import Counts, MePublic


async def me_view(db: AsyncSession, user: User) -> MePublic:
    followers, following = await graph.counts(db, user.id)
    return MePublic(
        id=user.id,
        handle=user.handle,
        display_name=user.display_name,
        bio=user.bio,
        note=user.note,
        email=user.email,
        email_verified=user.email_verified_at is not None,
        is_private=user.is_private,
        timezone=user.timezone,
        role=user.role.value,
        created_at=user.created_at,
        counts=Counts(followers=followers, following=following),
    )
