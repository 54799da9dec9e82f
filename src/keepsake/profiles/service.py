"""Profile rules: what the owner sees of themselves, what others see, and settings."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from keepsake import jobs
from keepsake.accounts import avatars, sessions
from keepsake.accounts.models import AccountStatus, User
from keepsake.config import Settings
from keepsake.errors import Forbidden, Invalid
from keepsake.graph import service as graph
from keepsake.i18n.catalog import _
from keepsake.media import service as uploads
from keepsake.media.models import UploadPurpose
from keepsake.pagination import Page, PageRequest, split_page
from keepsake.profiles import fields, repository
from keepsake.profiles.schemas import (
    Counts,
    DeletionPublic,
    MePublic,
    MeUpdate,
    NotePublic,
    NotificationPrefs,
    QuietHours,
    UserPublic,
)
from keepsake.ratelimit import RateLimiter
from keepsake.readdb import Reads
from keepsake.security import utcnow, verify_password
from keepsake.storage.base import Storage
from keepsake.storage_jobs import DELETE_MEDIA_TASK


class PasswordRequired(Invalid):
    code = "password_required"


class InvalidPassword(Forbidden):
    code = "invalid_password"


def _prefs(stored: dict[str, Any]) -> NotificationPrefs:
    # Stored prefs hold only known kinds; a kind added later starts switched on.
    return NotificationPrefs.model_validate(stored)


async def me_view(
    db: AsyncSession, user: User, *, settings: Settings, storage: Storage
) -> MePublic:
    followers, following, requests = await graph.counts(db, user.id)
    start, end = user.quiet_hours_start, user.quiet_hours_end
    quiet = None
    if start is not None and end is not None:
        quiet = QuietHours(start=start.strftime("%H:%M"), end=end.strftime("%H:%M"))
    return MePublic(
        id=user.id,
        handle=user.handle,
        display_name=user.display_name,
        bio=user.bio,
        note=user.note,
        avatar=await avatars.view(settings, storage, user.avatar_key),
        email=user.email,
        email_verified=user.email_verified_at is not None,
        is_private=user.is_private,
        discoverable=user.discoverable,
        timezone=user.timezone,
        quiet_hours=quiet,
        notification_prefs=_prefs(user.notification_prefs),
        locale=user.locale,
        searchable=user.searchable,
        role=user.role.value,
        created_at=user.created_at,
        counts=Counts(followers=followers, following=following, follow_requests=requests),
    )


async def _replace_avatar(
    db: AsyncSession, *, storage: Storage, user: User, upload_id: uuid.UUID | None
) -> None:
    """Make the upload the user's avatar (None: remove it); the old pictures go.

    The new pictures are stored before the request commits, so at worst a failed
    request leaves unreferenced files; the old ones and the upload are deleted by a job
    in the request's transaction, so they go only once nothing points at them.
    """
    garbage: list[str] = []
    new_key = None
    if upload_id is not None:
        claimed = await uploads.use_uploads(
            db, storage=storage, owner=user, ids=[upload_id], purpose=UploadPurpose.avatar
        )
        source_key = claimed[upload_id].storage_key
        new_key = await avatars.store(storage, user_id=user.id, source_key=source_key)
        garbage.append(source_key)
    old_key, user.avatar_key = user.avatar_key, new_key
    if garbage or old_key:
        prefix = f"{old_key}/" if old_key else None
        await jobs.defer(db, DELETE_MEDIA_TASK, keys=garbage, prefix=prefix)


async def update_me(
    db: AsyncSession, *, settings: Settings, storage: Storage, user: User, changes: MeUpdate
) -> MePublic:
    """Apply the fields sent; everything is checked before anything changes."""
    # Explicit nulls are refused by `MeUpdate` for every field but `quiet_hours`, so
    # "not None" means "sent" for the others.
    display_name = (
        fields.display_name(changes.display_name) if changes.display_name is not None else None
    )
    bio = fields.bio(changes.bio) if changes.bio is not None else None
    note = fields.note(changes.note) if changes.note is not None else None
    timezone = fields.timezone(changes.timezone) if changes.timezone is not None else None
    quiet = fields.quiet_hours(changes.quiet_hours) if changes.quiet_hours is not None else None
    # Last of the checks: the image is only read once everything else passed.
    if "avatar_upload_id" in changes.model_fields_set:
        await _replace_avatar(db, storage=storage, user=user, upload_id=changes.avatar_upload_id)

    if display_name is not None:
        user.display_name = display_name
    if bio is not None:
        user.bio = bio
    if note is not None and note != user.note:
        user.note = note
        repository.add_note(db, user_id=user.id, note=note)
    if timezone is not None:
        user.timezone = timezone
    if "quiet_hours" in changes.model_fields_set:
        user.quiet_hours_start, user.quiet_hours_end = quiet or (None, None)
    if changes.notification_prefs is not None:
        merged = _prefs(user.notification_prefs).model_copy(
            update=changes.notification_prefs.model_dump(exclude_none=True)
        )
        user.notification_prefs = merged.model_dump()
    if changes.locale is not None:
        user.locale = changes.locale
    if changes.searchable is not None:
        user.searchable = changes.searchable
    if changes.discoverable is not None:
        user.discoverable = changes.discoverable
    if changes.is_private is not None:
        if user.is_private and not changes.is_private:
            await graph.approve_all_requests(db, user.id)
        user.is_private = changes.is_private
    return await me_view(db, user, settings=settings, storage=storage)


async def profile(
    reads: Reads, *, settings: Settings, storage: Storage, viewer_id: uuid.UUID, handle: str
) -> UserPublic:
    """Anyone's public profile, yours included; 404 when hidden from the viewer. One
    statement on the read pool, outside any transaction."""
    person = await graph.person(reads, viewer_id=viewer_id, handle=handle)
    avatar = await avatars.view(settings, storage, person.avatar_key)
    return UserPublic.of(viewer_id, person, avatar)


async def note_history(db: AsyncSession, *, user: User, page: PageRequest) -> Page[NotePublic]:
    rows = await repository.notes(db, user.id, limit=page.limit, after=page.after)
    notes, cursor = split_page(rows, page.limit)
    items = [NotePublic(id=n.id, note=n.note, created_at=n.created_at) for n in notes]
    return Page(items=items, next_cursor=cursor)


async def request_deletion(
    db: AsyncSession,
    *,
    settings: Settings,
    limiter: RateLimiter,
    user: User,
    password: str | None,
) -> DeletionPublic:
    """Schedule the account's deletion and sign it out everywhere.

    The account disappears from every view at once (privacy treats `deleting` like
    gone); signing in during the grace period cancels the deletion.
    """
    if user.password_hash is not None:
        if password is None:
            raise PasswordRequired(
                _("Confirm with your password."), code=PasswordRequired.code, field="password"
            )
        # A stolen access token must not become a password oracle.
        await limiter.hit(
            f"delete:account:{user.id}",
            limit=settings.rate_limit_password_per_account,
            window=settings.rate_limit_window,
        )
        if not await verify_password(user.password_hash, password):
            raise InvalidPassword(_("The password is wrong."))
    now = utcnow()
    user.status = AccountStatus.deleting
    user.deletion_requested_at = now
    await sessions.end_all_sessions(db, user=user, reason="account_deleted")
    return DeletionPublic(deletion_requested_at=now)
