"""HTTP routes of the music library: the apps' list, and the operators' admin routes."""

from __future__ import annotations

from fastapi import APIRouter, Response, status

from keepsake.accounts.deps import AUTH_ERRORS, CurrentUser
from keepsake.db import DbSession
from keepsake.deps import AppSettings, AppStorage, IdPath
from keepsake.errors import responses
from keepsake.media.service import UploadExpired, UploadIncomplete, UploadNotFound, UploadUsed
from keepsake.music import admin, service
from keepsake.music.audio import InvalidAudio
from keepsake.music.schemas import MusicTrackCreate, MusicTrackPublic, MusicTrackUpdate
from keepsake.pagination import Page, Pagination
from keepsake.roles import ROLE_ERRORS, AdminUser

# Tags per route: the library is for the apps, the rest for operators only.
router = APIRouter(prefix="/v1")


@router.get(
    "/music",
    tags=["music"],
    summary="The music library a memory may play under its clips.",
    responses=responses(*AUTH_ERRORS, invalid=("invalid_cursor",)),
)
async def library(
    db: DbSession, settings: AppSettings, storage: AppStorage, _: CurrentUser, page: Pagination
) -> Page[MusicTrackPublic]:
    return await service.library(db, settings=settings, storage=storage, page=page)


@router.post(
    "/admin/music",
    tags=["admin"],
    status_code=status.HTTP_201_CREATED,
    summary="Add a track to the music library from your `music` upload (admins only).",
    responses=responses(
        *ROLE_ERRORS,
        UploadNotFound,
        UploadUsed,
        UploadExpired,
        UploadIncomplete,
        InvalidAudio,
    ),
)
async def add_track(
    body: MusicTrackCreate,
    db: DbSession,
    settings: AppSettings,
    storage: AppStorage,
    user: AdminUser,
) -> MusicTrackPublic:
    return await admin.add_track(db, settings=settings, storage=storage, admin=user, body=body)


@router.patch(
    "/admin/music/{id}",
    tags=["admin"],
    summary="Change a track's title or artist (admins only).",
    responses=responses(*ROLE_ERRORS, admin.MusicTrackNotFound),
)
async def update_track(
    track_id: IdPath,
    body: MusicTrackUpdate,
    db: DbSession,
    settings: AppSettings,
    storage: AppStorage,
    _: AdminUser,
) -> MusicTrackPublic:
    return await admin.update_track(
        db, settings=settings, storage=storage, track_id=track_id, body=body
    )


@router.delete(
    "/admin/music/{id}",
    tags=["admin"],
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Remove a track and its file (admins only); memories with it go on without music.",
    responses=responses(*ROLE_ERRORS, admin.MusicTrackNotFound),
)
async def delete_track(track_id: IdPath, db: DbSession, _: AdminUser) -> Response:
    await admin.delete_track(db, track_id=track_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
