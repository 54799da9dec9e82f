"""Strikes as their person sees them, appeals and their decision."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from keepsake.accounts.models import Role, Strike, StrikeAction, User
from keepsake.errors import Conflict, Forbidden, NotFound
from keepsake.i18n.catalog import _
from keepsake.moderation import flows, repository
from keepsake.moderation import strike_repository as strikes
from keepsake.moderation.admin_schemas import AppealSeen
from keepsake.moderation.models import (
    Action,
    Appeal,
    AppealStatus,
    TargetKind,
)
from keepsake.moderation.reports import public
from keepsake.moderation.schemas import AppealPublic, StrikePublic, TargetRef
from keepsake.moderation.service import audit, undo_hide, undo_suspension
from keepsake.pagination import Cursor, Page, PageRequest, split_page
from keepsake.security import utcnow


class StrikeNotFound(NotFound):
    code = "strike_not_found"


class AppealNotFound(NotFound):
    code = "appeal_not_found"


class AppealExists(Conflict):
    code = "appeal_exists"


class AppealWindowClosed(Conflict):
    code = "appeal_window_closed"


class AppealDecided(Conflict):
    code = "appeal_decided"


class SameModerator(Forbidden):
    code = "same_moderator"


def appeal_public(appeal: Appeal) -> AppealPublic:
    return AppealPublic(
        id=appeal.id,
        text=appeal.text,
        status=appeal.status,
        decision_reason=appeal.decision_reason,
        created_at=appeal.created_at,
        decided_at=appeal.decided_at,
    )


def strike_public(strike: Strike, appeal: Appeal | None) -> StrikePublic:
    target = None
    if strike.action == StrikeAction.suspend:
        target = TargetRef(kind=TargetKind.user, id=strike.user_id)
    elif strike.memory_id is not None:
        target = TargetRef(kind=TargetKind.memory, id=strike.memory_id)
    return StrikePublic(
        id=strike.id,
        action=strike.action,
        reason=strike.reason,
        target=target,
        until=strike.until,
        created_at=strike.created_at,
        appealable_until=strike.appealable_until,
        ended_at=strike.ended_at,
        appeal=appeal_public(appeal) if appeal else None,
    )


async def my_strikes(
    db: AsyncSession, *, user_id: uuid.UUID, page: PageRequest
) -> Page[StrikePublic]:
    rows = await strikes.strikes_of(db, user_id, limit=page.limit, after=page.after)
    items = rows[: page.limit]
    cursor = None
    if len(rows) > page.limit:
        last = items[-1][0]
        cursor = Cursor(last.created_at, last.id).encode()
    return Page(items=[strike_public(s, a) for s, a in items], next_cursor=cursor)


async def appeal(
    db: AsyncSession, *, user_id: uuid.UUID, strike_id: uuid.UUID, text: str
) -> AppealPublic:
    strike = await strikes.strike(db, strike_id)
    if strike is None or strike.user_id != user_id:
        raise StrikeNotFound(_("No such strike."))
    now = utcnow()
    if now > strike.appealable_until:
        raise AppealWindowClosed(_("The time to appeal this decision has passed."))
    made = Appeal(id=uuid.uuid4(), strike_id=strike.id, text=text, created_at=now)
    if not await strikes.add_appeal(db, made):
        raise AppealExists(_("This decision has already been appealed."))
    found = await strikes.appeal_of(db, strike.id)
    if found is None:
        raise AppealNotFound(_("No such appeal."))
    return appeal_public(found)


def _seen(appeal: Appeal, strike: Strike) -> AppealSeen:
    return AppealSeen(
        id=appeal.id,
        status=appeal.status,
        text=appeal.text,
        created_at=appeal.created_at,
        decided_at=appeal.decided_at,
        decision_reason=appeal.decision_reason,
        strike=strike_public(strike, appeal),
        user_id=strike.user_id,
        acted_by=strike.actor_id,
    )


async def queue(db: AsyncSession, *, status: AppealStatus, page: PageRequest) -> Page[AppealSeen]:
    rows = await strikes.appeals(db, status=status, limit=page.limit, after=page.after)
    items, cursor = split_page([a for a, _ in rows], page.limit)
    contested = {a.id: s for a, s in rows}
    return Page(items=[_seen(a, contested[a.id]) for a in items], next_cursor=cursor)


async def decide(
    db: AsyncSession, *, actor: User, appeal_id: uuid.UUID, reversed_: bool, reason: str
) -> AppealSeen:
    found = await strikes.appeal(db, appeal_id, lock=True)
    if found is None:
        raise AppealNotFound(_("No such appeal."))
    if found.status != AppealStatus.open:
        raise AppealDecided(_("This appeal has already been decided."))
    strike = await strikes.strike(db, found.strike_id, lock=True)
    if strike is None:
        raise AppealNotFound(_("No such appeal."))
    if strike.user_id == actor.id or (strike.actor_id == actor.id and actor.role != Role.admin):
        raise SameModerator(_("Another moderator (or an admin) must decide this appeal."))
    found.status = AppealStatus.reversed if reversed_ else AppealStatus.upheld
    found.decided_by, found.decision_reason, found.decided_at = actor.id, reason, utcnow()
    if reversed_ and strike.ended_at is None:
        await _undo(db, strike)
    kind, target = TargetKind.user, strike.user_id
    if strike.action == StrikeAction.hide and strike.memory_id is not None:
        kind, target = TargetKind.memory, strike.memory_id
    action = Action.appeal_reversed if reversed_ else Action.appeal_upheld
    await audit(db, actor, action, kind, target, strike.user_id, reason)
    await flows.told_of_strike(db, user_id=strike.user_id, strike_id=found.id)
    return _seen(found, strike)


async def _undo(db: AsyncSession, strike: Strike) -> None:
    if strike.action == StrikeAction.hide and strike.memory_id is not None:
        memory = await repository.memory_for_update(db, strike.memory_id)
        if memory is not None:
            await undo_hide(db, memory)
    elif strike.action == StrikeAction.suspend:
        subject = await repository.user(db, strike.user_id, lock=True)
        if subject is not None:
            await undo_suspension(db, subject)
    strike.ended_at = utcnow()


async def exported(db: AsyncSession, user_id: uuid.UUID) -> dict[str, list[dict[str, object]]]:
    """The person's reports, strikes and appeals, for their data export (`safety.json`)."""

    reports = [
        public(r).model_dump(mode="json") for r in await repository.reports_made(db, user_id)
    ]
    made_against = [
        strike_public(s, a).model_dump(mode="json")
        for s, a in await strikes.all_strikes(db, user_id)
    ]
    return {"reports": reports, "strikes": made_against}
