"""Moderator routes: the report queue, actions on memories and accounts, appeals, the
audit log. Every one needs the moderator or admin role."""

from __future__ import annotations

import uuid
from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query

from keepsake.db import DbSession
from keepsake.deps import AppSettings, AppStorage
from keepsake.errors import responses
from keepsake.moderation import appeals, reports, service, views
from keepsake.moderation.admin_schemas import AppealSeen, AuditEntryPublic, QueueItem, ReportCase
from keepsake.moderation.models import AppealStatus, ReportStatus
from keepsake.moderation.schemas import AppealDecision, ReasonBody, ReportPublic, SuspendBody
from keepsake.pagination import MAX_LIMIT, Page, Pagination
from keepsake.roles import ROLE_ERRORS, ModeratorUser

router = APIRouter(prefix="/v1/admin", tags=["moderation"])
HandlePath = Annotated[
    str, Path(pattern=r"^@?[A-Za-z0-9_.]{1,30}$", description="A handle, with or without @.")
]
ACTION_ERRORS = (*ROLE_ERRORS, service.CannotModerate, service.AlreadyDone, service.TargetNotFound)


@router.get(
    "/reports",
    response_model=Page[QueueItem],
    responses=responses(*ROLE_ERRORS, invalid=("invalid_cursor",)),
)
async def report_queue(
    db: DbSession,
    moderator: ModeratorUser,
    status: Literal["open", "actioned", "dismissed"] = "open",
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 20,
    cursor: Annotated[str | None, Query(max_length=300)] = None,
) -> Page[QueueItem]:
    """The queue: one item per reported target, `self_harm` and `illegal` first, then oldest."""
    return await views.queue(db, status=ReportStatus(status), limit=limit, cursor=cursor)


@router.get(
    "/reports/{id}",
    response_model=ReportCase,
    responses=responses(*ROLE_ERRORS, reports.ReportNotFound),
)
async def report_case(
    report_id: Annotated[uuid.UUID, Path(alias="id")],
    db: DbSession,
    moderator: ModeratorUser,
    settings: AppSettings,
    storage: AppStorage,
) -> ReportCase:
    """A report with its target as it is (hidden or not, media included) and its history."""
    return await views.case(
        db, settings=settings, storage=storage, report_id=report_id, moderator_id=moderator.id
    )


@router.post(
    "/reports/{id}/dismiss",
    response_model=ReportPublic,
    responses=responses(*ROLE_ERRORS, reports.ReportNotFound, reports.ReportNotOpen),
)
async def dismiss(
    report_id: Annotated[uuid.UUID, Path(alias="id")],
    body: ReasonBody,
    db: DbSession,
    moderator: ModeratorUser,
) -> ReportPublic:
    """Dismiss a report with every open report on its target; later ones wait for an edit."""
    return await reports.dismiss(db, actor=moderator, report_id=report_id, reason=body.reason)


@router.post(
    "/memories/{id}/hide", response_model=AuditEntryPublic, responses=responses(*ACTION_ERRORS)
)
async def hide(
    memory_id: Annotated[uuid.UUID, Path(alias="id")],
    body: ReasonBody,
    db: DbSession,
    moderator: ModeratorUser,
) -> AuditEntryPublic:
    """Hide a memory from everyone but its author; resolves its open reports."""
    entry = await service.hide(db, actor=moderator, memory_id=memory_id, reason=body.reason)
    return views.entry_public(entry)


@router.post(
    "/memories/{id}/restore", response_model=AuditEntryPublic, responses=responses(*ACTION_ERRORS)
)
async def restore(
    memory_id: Annotated[uuid.UUID, Path(alias="id")],
    body: ReasonBody,
    db: DbSession,
    moderator: ModeratorUser,
) -> AuditEntryPublic:
    """Show a hidden memory again."""
    entry = await service.restore(db, actor=moderator, memory_id=memory_id, reason=body.reason)
    return views.entry_public(entry)


@router.post(
    "/users/{handle}/suspend",
    response_model=AuditEntryPublic,
    responses=responses(*ACTION_ERRORS, invalid=("invalid_until",)),
)
async def suspend(
    handle: HandlePath,
    body: SuspendBody,
    db: DbSession,
    moderator: ModeratorUser,
) -> AuditEntryPublic:
    """Suspend an account (until a time, or until lifted); its sessions end at once."""
    entry = await service.suspend(
        db, actor=moderator, handle=handle, reason=body.reason, until=body.until
    )
    return views.entry_public(entry)


@router.post(
    "/users/{handle}/unsuspend",
    response_model=AuditEntryPublic,
    responses=responses(*ACTION_ERRORS),
)
async def unsuspend(
    handle: HandlePath,
    body: ReasonBody,
    db: DbSession,
    moderator: ModeratorUser,
) -> AuditEntryPublic:
    """Lift an account's suspension."""
    entry = await service.unsuspend(db, actor=moderator, handle=handle, reason=body.reason)
    return views.entry_public(entry)


@router.post(
    "/users/{handle}/mute-reports",
    response_model=AuditEntryPublic,
    responses=responses(*ACTION_ERRORS),
)
async def mute_reporter(
    handle: HandlePath,
    body: ReasonBody,
    db: DbSession,
    moderator: ModeratorUser,
) -> AuditEntryPublic:
    """Keep a reporter's reports out of the queue (they are kept and resolved with targets)."""
    entry = await service.mute_reporter(db, actor=moderator, handle=handle, reason=body.reason)
    return views.entry_public(entry)


@router.get(
    "/appeals",
    response_model=Page[AppealSeen],
    responses=responses(*ROLE_ERRORS, invalid=("invalid_cursor",)),
)
async def appeal_queue(
    db: DbSession,
    moderator: ModeratorUser,
    page: Pagination,
    status: Literal["open", "upheld", "reversed"] = "open",
) -> Page[AppealSeen]:
    """Appeals, oldest first."""
    return await appeals.queue(db, status=AppealStatus(status), page=page)


@router.post(
    "/appeals/{id}/decide",
    response_model=AppealSeen,
    responses=responses(
        *ROLE_ERRORS, appeals.AppealNotFound, appeals.AppealDecided, appeals.SameModerator
    ),
)
async def decide(
    appeal_id: Annotated[uuid.UUID, Path(alias="id")],
    body: AppealDecision,
    db: DbSession,
    moderator: ModeratorUser,
) -> AppealSeen:
    """Uphold or reverse (undo) the action appealed against; the person sees the reason."""
    return await appeals.decide(
        db,
        actor=moderator,
        appeal_id=appeal_id,
        reversed_=body.decision == "reversed",
        reason=body.reason,
    )


@router.get(
    "/audit-log",
    response_model=Page[AuditEntryPublic],
    responses=responses(*ROLE_ERRORS, invalid=("invalid_cursor",)),
)
async def audit_log(
    db: DbSession,
    moderator: ModeratorUser,
    page: Pagination,
    target: Annotated[uuid.UUID | None, Query(description="A target's or author's id.")] = None,
    actor: Annotated[uuid.UUID | None, Query(description="A moderator's id.")] = None,
) -> Page[AuditEntryPublic]:
    """Every moderator action, newest first; it can only grow."""
    return await views.audit_log(db, target_id=target, actor_id=actor, page=page)
