"""A person's sessions: the list of where they are signed in, and ending them."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from keepsake.accounts import repository
from keepsake.accounts.models import User
from keepsake.accounts.schemas import SessionPublic
from keepsake.errors import NotFound
from keepsake.i18n.catalog import _
from keepsake.pagination import Page, PageRequest, split_page


async def log_out(db: AsyncSession, *, user: User, session_id: uuid.UUID) -> None:
    await repository.revoke_sessions(db, user_id=user.id, session_id=session_id, reason="logout")


async def list_sessions(
    db: AsyncSession, *, user: User, current: uuid.UUID, page: PageRequest
) -> Page[SessionPublic]:
    rows = await repository.live_sessions(db, user.id, limit=page.limit, after=page.after)
    sessions, cursor = split_page(rows, page.limit)
    items = [
        SessionPublic(
            id=s.id,
            created_at=s.created_at,
            last_used_at=s.last_used_at,
            user_agent=s.user_agent,
            ip=s.ip,
            current=s.id == current,
        )
        for s in sessions
    ]
    return Page(items=items, next_cursor=cursor)


async def end_all_sessions(db: AsyncSession, *, user: User, reason: str) -> None:
    await repository.revoke_sessions(db, user_id=user.id, reason=reason)


async def revoke_session(db: AsyncSession, *, user: User, session_id: uuid.UUID) -> None:
    if not await repository.revoke_sessions(
        db, user_id=user.id, session_id=session_id, reason="revoked"
    ):
        raise NotFound(_("No such session."), code="session_not_found")
