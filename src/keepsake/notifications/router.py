"""HTTP routes of notifications."""

from __future__ import annotations

from fastapi import APIRouter, Response, status

from keepsake.accounts.deps import AUTH_ERRORS, CurrentUser
from keepsake.db import DbSession
from keepsake.deps import AppSettings, AppStorage
from keepsake.errors import responses
from keepsake.notifications import views
from keepsake.notifications.schemas import NotificationPublic, NotificationsRead
from keepsake.pagination import Page, Pagination

router = APIRouter(prefix="/v1", tags=["notifications"])


@router.get(
    "/notifications",
    summary="Your notifications, latest activity first; a memory's claps gather in one.",
    description=(
        "Ordered by `updated_at` (then `id`), newest first. While a `claps` notification is "
        "unread, new claps on that memory join it (people, `count`, `updated_at`) and move it "
        "to the top; once read, the next clap starts a new one. People you have blocked, who "
        "blocked you, or whose account is suspended are left out of `actors`, and a "
        "notification with nobody left to show is left out of the list."
    ),
    responses=responses(*AUTH_ERRORS, invalid=("invalid_cursor",)),
)
async def list_notifications(
    db: DbSession, settings: AppSettings, storage: AppStorage, user: CurrentUser, page: Pagination
) -> Page[NotificationPublic]:
    return await views.list_for(
        db, settings=settings, storage=storage, recipient_id=user.id, page=page
    )


@router.post(
    "/notifications/read",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Mark some of your notifications, or all of them, read.",
    description="Ids that are not yours, or no longer exist, are ignored: a repeat is harmless.",
    responses=responses(*AUTH_ERRORS),
)
async def mark_read(body: NotificationsRead, db: DbSession, user: CurrentUser) -> Response:
    await views.mark_read(db, recipient_id=user.id, ids=body.ids)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
