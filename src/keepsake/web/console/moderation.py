"""The moderators' console pages: the report queue, a target with its reports and the
actions on it, appeals, the audit log.

Each page reads through `moderation.views`/`appeals` and each action calls
`moderation.service`/`appeals`, as the `/v1/admin/...` routes do, so every action
lands in the audit log the same way.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Form, Path, Query, Request
from fastapi.responses import HTMLResponse, Response

from keepsake.db import DbSession
from keepsake.deps import AppSettings, AppStorage
from keepsake.errors import Invalid
from keepsake.moderation import appeals, reports, service, views
from keepsake.moderation.models import AppealStatus, ReportStatus
from keepsake.pagination import Pagination
from keepsake.web.console.auth import ConsoleUser, check_csrf
from keepsake.web.console.forms import ConsoleRoute, Csrf, Reason, back, page

router = APIRouter(prefix="/admin", include_in_schema=False, route_class=ConsoleRoute)

QUEUE_PAGE = 50
Handle = Annotated[str, Path(pattern=r"^@?[A-Za-z0-9_.]{1,30}$")]
# Where an action on a report's target returns: that report's page.
FromReport = Annotated[uuid.UUID | None, Form()]
Status = Literal["open", "actioned", "dismissed"]


def _after(report: uuid.UUID | None) -> Response:
    return back(f"/admin/reports/{report}" if report else "/admin/reports")


def _until(value: str) -> datetime | None:
    """A `datetime-local` field's value, read in UTC (the page says so); blank is no end."""
    if not value.strip():
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise Invalid(
            "`until` must be a date and time.", code="invalid_until", field="until"
        ) from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


@router.get("/reports")
async def report_queue(
    request: Request,
    db: DbSession,
    user: ConsoleUser,
    status: Status = "open",
    cursor: Annotated[str | None, Query(max_length=300)] = None,
) -> HTMLResponse:
    found = await views.queue(db, status=ReportStatus(status), limit=QUEUE_PAGE, cursor=cursor)
    return page(request, "console/reports.html", {"user": user, "queue": found, "status": status})


@router.get("/reports/{report_id}")
async def report_case(
    request: Request,
    report_id: uuid.UUID,
    db: DbSession,
    settings: AppSettings,
    storage: AppStorage,
    user: ConsoleUser,
) -> HTMLResponse:
    case = await views.case(
        db, settings=settings, storage=storage, report_id=report_id, moderator_id=user.id
    )
    clips = case.memory.clips if case.memory else []
    media = [url for c in clips for url in (c.video_url, c.poster_url) if url]
    return page(request, "console/case.html", {"user": user, "case": case}, media=media)


@router.post("/reports/{report_id}/dismiss")
async def dismiss(
    request: Request,
    report_id: uuid.UUID,
    reason: Reason,
    db: DbSession,
    settings: AppSettings,
    user: ConsoleUser,
    csrf: Csrf = None,
) -> Response:
    check_csrf(request, settings, csrf)
    await reports.dismiss(db, actor=user, report_id=report_id, reason=reason)
    return back("/admin/reports")


@router.post("/memories/{memory_id}/{action}")
async def memory_action(
    request: Request,
    memory_id: uuid.UUID,
    action: Literal["hide", "restore"],
    reason: Reason,
    db: DbSession,
    settings: AppSettings,
    user: ConsoleUser,
    csrf: Csrf = None,
    report: FromReport = None,
) -> Response:
    check_csrf(request, settings, csrf)
    act = service.hide if action == "hide" else service.restore
    await act(db, actor=user, memory_id=memory_id, reason=reason)
    return _after(report)


@router.post("/users/{handle}/suspend")
async def suspend(
    request: Request,
    handle: Handle,
    reason: Reason,
    db: DbSession,
    settings: AppSettings,
    user: ConsoleUser,
    csrf: Csrf = None,
    until: Annotated[str, Form(max_length=40)] = "",
    report: FromReport = None,
) -> Response:
    check_csrf(request, settings, csrf)
    await service.suspend(db, actor=user, handle=handle, reason=reason, until=_until(until))
    return _after(report)


@router.post("/users/{handle}/unsuspend")
async def unsuspend(
    request: Request,
    handle: Handle,
    reason: Reason,
    db: DbSession,
    settings: AppSettings,
    user: ConsoleUser,
    csrf: Csrf = None,
    report: FromReport = None,
) -> Response:
    check_csrf(request, settings, csrf)
    await service.unsuspend(db, actor=user, handle=handle, reason=reason)
    return _after(report)


@router.get("/appeals")
async def appeal_queue(
    request: Request,
    db: DbSession,
    user: ConsoleUser,
    pages: Pagination,
    status: Literal["open", "upheld", "reversed"] = "open",
) -> HTMLResponse:
    found = await appeals.queue(db, status=AppealStatus(status), page=pages)
    return page(request, "console/appeals.html", {"user": user, "appeals": found, "status": status})


@router.post("/appeals/{appeal_id}/decide")
async def decide(
    request: Request,
    appeal_id: uuid.UUID,
    decision: Annotated[Literal["upheld", "reversed"], Form()],
    reason: Reason,
    db: DbSession,
    settings: AppSettings,
    user: ConsoleUser,
    csrf: Csrf = None,
) -> Response:
    check_csrf(request, settings, csrf)
    await appeals.decide(
        db, actor=user, appeal_id=appeal_id, reversed_=decision == "reversed", reason=reason
    )
    return back("/admin/appeals")


@router.get("/audit")
async def audit_log(
    request: Request,
    db: DbSession,
    user: ConsoleUser,
    pages: Pagination,
    target: uuid.UUID | None = None,
) -> HTMLResponse:
    found = await views.audit_log(db, target_id=target, actor_id=None, page=pages)
    return page(request, "console/audit.html", {"user": user, "log": found, "target": target})
