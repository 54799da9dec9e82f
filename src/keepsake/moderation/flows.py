"""What moderation sets off in other domains: whether a reporter may see the target,
ending an account's sessions, and telling people (the person acted on, the reporters)."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from keepsake.accounts import sessions
from keepsake.accounts.models import User
from keepsake.graph import service as graph
from keepsake.i18n.catalog import _
from keepsake.memories import service as memories
from keepsake.missions.entries import disqualify_memory, requalify_memory
from keepsake.moderation.models import TargetKind
from keepsake.moderation.schemas import TargetRef
from keepsake.notifications import service as notifications
from keepsake.privacy import UserNotFound, require_profile


async def visible_owner(db: AsyncSession, *, viewer_id: uuid.UUID, target: TargetRef) -> uuid.UUID:
    """The person answerable for a target the viewer may see; 404 as any read would."""
    if target.kind == TargetKind.memory:
        author = await memories.visible_author(db, viewer_id=viewer_id, memory_id=target.id)
        if author is None:
            raise memories.MemoryNotFound(_("No such memory."))
        return author
    person = await graph.person_by_id(db, viewer_id=viewer_id, user_id=target.id)
    if person is None:
        raise UserNotFound(_("No such user."))
    return require_profile(viewer_id, person).id


async def sessions_ended(db: AsyncSession, subject: User) -> None:
    """Every session of a suspended account ends: its tokens get 401 in every process."""
    await sessions.end_all_sessions(db, user=subject, reason="suspended")


async def told_of_strike(db: AsyncSession, *, user_id: uuid.UUID, strike_id: uuid.UUID) -> None:
    await notifications.notify_moderation(db, recipient_id=user_id, subject=strike_id)


async def reporters_told(db: AsyncSession, reporter_ids: list[uuid.UUID]) -> None:
    await notifications.notify_reports_resolved(db, reporter_ids=reporter_ids)


async def memory_hidden(db: AsyncSession, memory_id: uuid.UUID) -> None:
    """Points must not reward what breaks the rules: a hidden mission entry gives them back."""
    await disqualify_memory(db, memory_id)


async def memory_restored(db: AsyncSession, memory_id: uuid.UUID) -> None:
    """The hide was undone (a restore or a reversed appeal): the entry's points return."""
    await requalify_memory(db, memory_id)
