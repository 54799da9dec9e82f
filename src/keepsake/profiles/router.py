"""HTTP routes of profiles."""

from __future__ import annotations

from fastapi import APIRouter, status

from keepsake.accounts.avatars import InvalidImage
from keepsake.accounts.deps import AUTH_ERRORS, CurrentUser, CurrentViewer
from keepsake.accounts.people import HandlePath
from keepsake.db import DbSession
from keepsake.deps import AppReadDb, AppSettings, AppStorage, Limiter
from keepsake.errors import RateLimited, responses
from keepsake.media.service import UploadExpired, UploadIncomplete, UploadNotFound, UploadUsed
from keepsake.pagination import Page, Pagination
from keepsake.privacy import UserNotFound
from keepsake.profiles import fields, service
from keepsake.profiles.schemas import (
    DeletionPublic,
    MeDelete,
    MePublic,
    MeUpdate,
    NotePublic,
    UserPublic,
)
from keepsake.write_limits import Write, write_limit

router = APIRouter(prefix="/v1", tags=["profiles"])


@router.get(
    "/me", summary="Your own profile, settings and counts.", responses=responses(*AUTH_ERRORS)
)
async def get_me(
    db: DbSession, settings: AppSettings, storage: AppStorage, user: CurrentUser
) -> MePublic:
    return await service.me_view(db, user, settings=settings, storage=storage)


@router.patch(
    "/me",
    dependencies=[write_limit(Write.profile_edits)],
    summary="Change your profile and settings; send only the fields to change.",
    responses=responses(
        *AUTH_ERRORS,
        RateLimited,
        fields.InvalidNote,
        fields.InvalidDisplayName,
        fields.InvalidBio,
        fields.InvalidTimezone,
        fields.InvalidQuietHours,
        UploadNotFound,
        UploadUsed,
        UploadExpired,
        UploadIncomplete,
        InvalidImage,
    ),
)
async def update_me(
    body: MeUpdate, db: DbSession, settings: AppSettings, storage: AppStorage, user: CurrentUser
) -> MePublic:
    return await service.update_me(db, settings=settings, storage=storage, user=user, changes=body)


@router.delete(
    "/me",
    status_code=status.HTTP_202_ACCEPTED,
    summary="Delete your account after a grace period; you are signed out everywhere.",
    responses=responses(
        *AUTH_ERRORS, service.InvalidPassword, service.PasswordRequired, RateLimited
    ),
)
async def delete_me(
    body: MeDelete, db: DbSession, user: CurrentUser, settings: AppSettings, limiter: Limiter
) -> DeletionPublic:
    return await service.request_deletion(
        db, settings=settings, limiter=limiter, user=user, password=body.password
    )


@router.get(
    "/me/notes",
    summary="Your note's history, newest first; only you can see it.",
    responses=responses(*AUTH_ERRORS, invalid=("invalid_cursor",)),
)
async def note_history(db: DbSession, user: CurrentUser, page: Pagination) -> Page[NotePublic]:
    return await service.note_history(db, user=user, page=page)


@router.get(
    "/users/{handle}",
    summary="Someone's public profile and your relationship to them; never any counts.",
    responses=responses(*AUTH_ERRORS, UserNotFound),
)
async def get_user(
    handle: HandlePath,
    reads: AppReadDb,
    settings: AppSettings,
    storage: AppStorage,
    viewer: CurrentViewer,
) -> UserPublic:
    return await service.profile(
        reads, settings=settings, storage=storage, viewer_id=viewer.id, handle=handle
    )
