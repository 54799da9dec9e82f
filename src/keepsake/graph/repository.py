"""Queries of the social graph."""

from __future__ import annotations

import uuid

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from keepsake.graph.models import Follow, FollowState


async def counts(db: AsyncSession, user_id: uuid.UUID) -> tuple[int, int]:
    """(followers, following) of active follows, in one round trip."""
    active = Follow.state == FollowState.active
    followers = select(func.count()).where(Follow.followee_id == user_id, active).scalar_subquery()
    following = select(func.count()).where(Follow.follower_id == user_id, active).scalar_subquery()
    row = (await db.execute(select(followers, following))).one()
    return int(row[0]), int(row[1])
