"""Safety rules: reports and the queue, and the moderators' actions.

Every action takes a reason, is written to the append-only audit log and resolves its
target's open reports, all in the request's one transaction. What an action sets off in
other domains (sessions, notifications) is in `flows`.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from keepsake.accounts.models import APPEAL_WINDOW_DAYS, Role, Strike, StrikeAction, User
from keepsake.errors import Conflict, Forbidden, Invalid, NotFound
from keepsake.i18n.catalog import _
from keepsake.kinds import AccountStatus
from keepsake.memories.models import Memory
from keepsake.moderation import audit_repository, flows, repository
from keepsake.moderation import strike_repository as strikes
from keepsake.moderation.models import (
    Action,
    AuditEntry,
    ReportStatus,
    TargetKind,
)
from keepsake.security import utcnow


class TargetNotFound(NotFound):
    code = "target_not_found"


class CannotModerate(Forbidden):
    code = "cannot_moderate"


class AlreadyDone(Conflict):
    code = "already_done"


def check_may_act(actor: User, subject: User) -> None:
    """Nobody acts on themselves; moderators never on admins; admins on anyone else."""
    if actor.id == subject.id:
        raise CannotModerate(_("You cannot act on your own account or memories."))
    if actor.role != Role.admin and subject.role == Role.admin:
        raise CannotModerate(_("Moderators cannot act on admins."))


async def audit(
    db: AsyncSession,
    actor: User | None,
    action: Action,
    kind: TargetKind,
    target_id: uuid.UUID,
    target_user_id: uuid.UUID,
    reason: str,
    until: datetime | None = None,
) -> AuditEntry:
    entry = AuditEntry(
        id=uuid.uuid4(),
        actor_id=actor.id if actor else None,
        actor_handle=actor.handle if actor else None,
        action=action,
        target_kind=kind,
        target_id=target_id,
        target_user_id=target_user_id,
        reason=reason,
        until=until,
    )
    await audit_repository.audit(db, entry)
    return entry


async def _strike(
    db: AsyncSession,
    actor: User,
    action: StrikeAction,
    user_id: uuid.UUID,
    reason: str,
    *,
    memory_id: uuid.UUID | None = None,
    until: datetime | None = None,
) -> Strike:
    now = utcnow()
    strike = Strike(
        id=uuid.uuid4(),
        user_id=user_id,
        action=action,
        memory_id=memory_id,
        reason=reason,
        until=until,
        actor_id=actor.id,
        created_at=now,
        appealable_until=now + timedelta(days=APPEAL_WINDOW_DAYS),
    )
    await strikes.add_strike(db, strike)
    await flows.told_of_strike(db, user_id=user_id, strike_id=strike.id)
    return strike


async def _memory_and_author(db: AsyncSession, actor: User, memory_id: uuid.UUID) -> Memory:
    memory = await repository.memory_for_update(db, memory_id)
    if memory is None:
        raise TargetNotFound(_("No such memory."))
    author = await repository.user(db, memory.author_id)
    if author is None:
        raise TargetNotFound(_("No such memory."))
    check_may_act(actor, author)
    return memory


async def hide(db: AsyncSession, *, actor: User, memory_id: uuid.UUID, reason: str) -> AuditEntry:
    memory = await _memory_and_author(db, actor, memory_id)
    if memory.hidden_at is not None:
        raise AlreadyDone(_("This memory is already hidden."))
    memory.hidden_at, memory.hidden_reason = utcnow(), reason
    await flows.memory_hidden(db, memory.id)
    entry = await audit(
        db, actor, Action.hide, TargetKind.memory, memory.id, memory.author_id, reason
    )
    await _strike(db, actor, StrikeAction.hide, memory.author_id, reason, memory_id=memory.id)
    reporters = await repository.resolve(db, TargetKind.memory, memory.id, ReportStatus.actioned)
    await flows.reporters_told(db, reporters)
    return entry


async def restore(
    db: AsyncSession, *, actor: User, memory_id: uuid.UUID, reason: str
) -> AuditEntry:
    memory = await _memory_and_author(db, actor, memory_id)
    if memory.hidden_at is None:
        raise AlreadyDone(_("This memory is not hidden."))
    await undo_hide(db, memory)
    entry = await audit(
        db, actor, Action.restore, TargetKind.memory, memory.id, memory.author_id, reason
    )
    await repository.resolve(db, TargetKind.memory, memory.id, ReportStatus.dismissed)
    return entry


async def undo_hide(db: AsyncSession, memory: Memory) -> None:
    memory.hidden_at = memory.hidden_reason = None
    await flows.memory_restored(db, memory.id)
    strike = await strikes.open_strike(
        db, user_id=memory.author_id, action=StrikeAction.hide, memory_id=memory.id
    )
    if strike is not None:
        strike.ended_at = utcnow()


async def _account(db: AsyncSession, actor: User, handle: str) -> User:
    subject = await repository.user_by_handle(db, handle.removeprefix("@"), lock=True)
    if subject is None:
        raise TargetNotFound(_("No such account."))
    check_may_act(actor, subject)
    return subject


async def suspend(
    db: AsyncSession, *, actor: User, handle: str, reason: str, until: datetime | None
) -> AuditEntry:
    if until is not None and (until.tzinfo is None or until <= utcnow()):
        raise Invalid(
            _("`until` must be a future time with its offset."), code="invalid_until", field="until"
        )
    subject = await _account(db, actor, handle)
    if subject.status == AccountStatus.suspended:
        raise AlreadyDone(_("This account is already suspended."))
    subject.status, subject.suspended_until = AccountStatus.suspended, until
    await flows.sessions_ended(db, subject)
    entry = await audit(
        db, actor, Action.suspend, TargetKind.user, subject.id, subject.id, reason, until
    )
    await _strike(db, actor, StrikeAction.suspend, subject.id, reason, until=until)
    reporters = await repository.resolve(db, TargetKind.user, subject.id, ReportStatus.actioned)
    await flows.reporters_told(db, reporters)
    return entry


async def unsuspend(
    db: AsyncSession, *, actor: User | None, handle: str, reason: str
) -> AuditEntry:
    subject = await (
        _account(db, actor, handle) if actor else repository.user_by_handle(db, handle, lock=True)
    )
    if subject is None or subject.status != AccountStatus.suspended:
        raise AlreadyDone(_("This account is not suspended."))
    await undo_suspension(db, subject)
    return await audit(db, actor, Action.unsuspend, TargetKind.user, subject.id, subject.id, reason)


async def undo_suspension(db: AsyncSession, subject: User) -> None:
    # A deletion asked for before the suspension resumes its course.
    deleting = subject.deletion_requested_at is not None
    subject.status = AccountStatus.deleting if deleting else AccountStatus.active
    subject.suspended_until = None
    strike = await strikes.open_strike(
        db, user_id=subject.id, action=StrikeAction.suspend, memory_id=None
    )
    if strike is not None:
        strike.ended_at = utcnow()


async def lift_due(db: AsyncSession, *, now: datetime, limit: int = 100) -> int:
    """End suspensions whose `until` has come; the audit log records each (no actor)."""
    due = await strikes.due_lifts(db, now=now, limit=limit)
    for strike in due:
        strike.ended_at = now
        subject = await repository.user(db, strike.user_id, lock=True)
        if subject is not None and subject.status == AccountStatus.suspended:
            subject.status = AccountStatus.active
            subject.suspended_until = None
        await audit(
            db,
            None,
            Action.lift,
            TargetKind.user,
            strike.user_id,
            strike.user_id,
            "The suspension ran its course.",
        )
    return len(due)


async def mute_reporter(db: AsyncSession, *, actor: User, handle: str, reason: str) -> AuditEntry:
    subject = await _account(db, actor, handle)
    await repository.mute_reporter(db, reporter_id=subject.id, by=actor.id)
    return await audit(
        db, actor, Action.mute_reporter, TargetKind.user, subject.id, subject.id, reason
    )
