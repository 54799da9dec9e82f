"""What moderators read: the queue, one report's case, the audit log."""

from __future__ import annotations

import base64
import binascii
import json
import uuid
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from keepsake.config import Settings
from keepsake.errors import Invalid
from keepsake.i18n.catalog import _
from keepsake.memories.media_gate import for_moderator
from keepsake.memories.views import signed
from keepsake.moderation import audit_repository, repository
from keepsake.moderation.admin_schemas import (
    AccountSeen,
    ActorPublic,
    AuditEntryPublic,
    ClipSeen,
    MemorySeen,
    QueueItem,
    ReportCase,
    ReportSeen,
)
from keepsake.moderation.models import AuditEntry, Report, ReportStatus, TargetKind
from keepsake.moderation.reports import ReportNotFound, public
from keepsake.moderation.schemas import TargetRef
from keepsake.pagination import Page, PageRequest, split_page
from keepsake.security import utcnow
from keepsake.storage.base import Storage


def _queue_cursor(urgent: bool, at: datetime, target: uuid.UUID) -> str:
    raw = json.dumps([urgent, at.isoformat(), str(target)]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _read_queue_cursor(value: str) -> tuple[bool, datetime, uuid.UUID]:
    try:
        urgent, at, target = json.loads(base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)))
        return bool(urgent), datetime.fromisoformat(at), uuid.UUID(target)
    except (ValueError, TypeError, binascii.Error):
        raise Invalid(
            _("The cursor is not one this server gave out."), code="invalid_cursor", field="cursor"
        ) from None


async def queue(
    db: AsyncSession, *, status: ReportStatus, limit: int, cursor: str | None
) -> Page[QueueItem]:
    after = _read_queue_cursor(cursor) if cursor else None
    rows = await repository.queue(db, status=status, limit=limit, after=after)
    now = utcnow()
    items = [
        QueueItem(
            id=row.first_id,
            target=TargetRef(kind=row.target_kind, id=row.target_id),
            reports_count=row.reports_count,
            reasons=sorted(row.reasons),
            urgent=row.urgent,
            first_reported_at=row.first_at,
            last_reported_at=row.last_at,
            oldest_age_s=int((now - row.first_at).total_seconds()),
        )
        for row in rows[:limit]
    ]
    next_cursor = None
    if len(rows) > limit:
        last = rows[limit - 1]
        next_cursor = _queue_cursor(last.urgent, last.first_at, last.target_id)
    return Page(items=items, next_cursor=next_cursor)


def entry_public(entry: AuditEntry) -> AuditEntryPublic:
    actor = None
    if entry.actor_id is not None:
        actor = ActorPublic(id=entry.actor_id, handle=entry.actor_handle)
    return AuditEntryPublic(
        id=entry.id,
        actor=actor,
        action=entry.action,
        target=TargetRef(kind=entry.target_kind, id=entry.target_id),
        target_user_id=entry.target_user_id,
        reason=entry.reason,
        until=entry.until,
        created_at=entry.created_at,
    )


async def audit_log(
    db: AsyncSession,
    *,
    target_id: uuid.UUID | None,
    actor_id: uuid.UUID | None,
    page: PageRequest,
) -> Page[AuditEntryPublic]:
    rows = await audit_repository.audit_page(
        db, target_id=target_id, actor_id=actor_id, limit=page.limit, after=page.after
    )
    items, cursor = split_page(rows, page.limit)
    return Page(items=[entry_public(e) for e in items], next_cursor=cursor)


def _seen(report: Report, handles: dict[uuid.UUID, str]) -> ReportSeen:
    return ReportSeen(
        **public(report).model_dump(),
        reporter_id=report.reporter_id,
        reporter_handle=handles.get(report.reporter_id, ""),
        queued=report.queued,
    )


async def case(
    db: AsyncSession,
    *,
    settings: Settings,
    storage: Storage,
    report_id: uuid.UUID,
    moderator_id: uuid.UUID,
) -> ReportCase:
    """The target as it is — hidden or not, media included — for the moderator to judge."""
    found = await repository.report(db, report_id)
    if found is None:
        raise ReportNotFound(_("No such report."))
    reports = await repository.reports_on(db, found.target_kind, found.target_id)
    handles = await repository.handles(db, {r.reporter_id for r in reports})
    memory = None
    if found.target_kind == TargetKind.memory:
        memory = await _memory(db, settings, storage, found.target_id, moderator_id)
    subject = await repository.user(db, found.target_user_id)
    account = None
    if subject is not None:
        account = AccountSeen.model_validate(subject, from_attributes=True)
    history = await audit_repository.history(
        db, target_id=found.target_id, user_id=found.target_user_id
    )
    return ReportCase(
        report=_seen(found, handles),
        memory=memory,
        account=account,
        reports=[_seen(r, handles) for r in reports],
        history=[entry_public(e) for e in history],
    )


async def _memory(
    db: AsyncSession,
    settings: Settings,
    storage: Storage,
    memory_id: uuid.UUID,
    moderator_id: uuid.UUID,
) -> MemorySeen | None:
    memory = await repository.memory(db, memory_id)
    if memory is None:
        return None
    author = await repository.user(db, memory.author_id)
    clips = await repository.clips(db, memory.id)
    keys = [k for c in clips for k in (c.video_key, c.poster_key) if k]
    urls = await signed(settings, storage, keys, viewer=for_moderator(moderator_id))
    return MemorySeen(
        id=memory.id,
        author_id=memory.author_id,
        author_handle=author.handle if author else "",
        status=memory.status,
        caption=memory.caption,
        visibility=memory.visibility,
        created_at=memory.created_at,
        hidden_at=memory.hidden_at,
        hidden_reason=memory.hidden_reason,
        clips=[
            ClipSeen(
                id=c.id,
                video_url=urls.get(c.video_key) if c.video_key else None,
                poster_url=urls.get(c.poster_key) if c.poster_key else None,
            )
            for c in clips
        ],
    )
