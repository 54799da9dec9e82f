"""Reports: filing one, a reporter's own list, and a moderator's dismissal.

A dismissal is an action like the others in `service`: it is audited and resolves every
open report on its target in the request's one transaction.
"""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from keepsake.accounts.models import User
from keepsake.errors import Conflict, Invalid, NotFound
from keepsake.i18n.catalog import _
from keepsake.moderation import flows, repository
from keepsake.moderation.models import Action, Report, ReportReason, ReportStatus
from keepsake.moderation.schemas import ReportCreate, ReportPublic, TargetRef
from keepsake.moderation.service import audit
from keepsake.pagination import Page, PageRequest, split_page


class CannotReportSelf(Invalid):
    def __init__(self) -> None:
        super().__init__(
            _("You cannot report yourself or your own memory."),
            code="cannot_report_self",
            field="target",
        )


class ReportNotFound(NotFound):
    code = "report_not_found"


class ReportNotOpen(Conflict):
    code = "report_not_open"


def public(report: Report) -> ReportPublic:
    return ReportPublic(
        id=report.id,
        target=TargetRef(kind=report.target_kind, id=report.target_id),
        reason=report.reason,
        detail=report.detail,
        status=report.status,
        created_at=report.created_at,
        resolved_at=report.resolved_at,
    )


async def report(
    db: AsyncSession, *, reporter: User, body: ReportCreate
) -> tuple[ReportPublic, bool]:
    """(the report, whether it is new): a repeat gives back the open one."""
    if body.reason == ReportReason.other and not body.detail.strip():
        raise Invalid(
            _("Say what is wrong when the reason is `other`."),
            code="detail_required",
            field="detail",
        )
    owner = await flows.visible_owner(db, viewer_id=reporter.id, target=body.target)
    if owner == reporter.id:
        raise CannotReportSelf()
    made, created = await repository.add_report(
        db,
        reporter_id=reporter.id,
        kind=body.target.kind,
        target_id=body.target.id,
        target_user_id=owner,
        reason=body.reason,
        detail=body.detail,
    )
    return public(made), created


async def my_reports(db: AsyncSession, *, reporter: User, page: PageRequest) -> Page[ReportPublic]:
    rows = await repository.reports_by(db, reporter.id, limit=page.limit, after=page.after)
    items, cursor = split_page(rows, page.limit)
    return Page(items=[public(r) for r in items], next_cursor=cursor)


async def dismiss(
    db: AsyncSession, *, actor: User, report_id: uuid.UUID, reason: str
) -> ReportPublic:
    """Dismiss a report with every open report on its target, and clear the target."""
    found = await repository.report(db, report_id)
    if found is None:
        raise ReportNotFound(_("No such report."))
    if found.status != ReportStatus.open:
        raise ReportNotOpen(_("This report is already resolved."))
    kind, target = found.target_kind, found.target_id
    await repository.resolve(db, kind, target, ReportStatus.dismissed)
    await repository.clear(db, kind, target)
    await audit(db, actor, Action.dismiss, kind, target, found.target_user_id, reason)
    await db.refresh(found)
    return public(found)
