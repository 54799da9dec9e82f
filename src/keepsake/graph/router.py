"""HTTP routes of the social graph."""

from __future__ import annotations

from fastapi import APIRouter, Response, status

from keepsake.accounts.deps import AUTH_ERRORS, CurrentUser, CurrentViewer
from keepsake.accounts.people import HandlePath, UserPublic
from keepsake.db import DbSession
from keepsake.deps import AppSettings, AppStorage, IdPath
from keepsake.errors import RateLimited, responses
from keepsake.graph import service
from keepsake.graph.schemas import FollowPublic, FollowRequestPublic
from keepsake.pagination import Page, Pagination
from keepsake.privacy import PrivateAccount, UserNotFound
from keepsake.write_limits import Write, write_limit

router = APIRouter(prefix="/v1", tags=["graph"])
NO_CONTENT = status.HTTP_204_NO_CONTENT


def _done() -> Response:
    return Response(status_code=NO_CONTENT)


@router.post(
    "/users/{handle}/follow",
    dependencies=[write_limit(Write.follows)],
    summary="Follow someone; a private account gets a follow request instead.",
    responses=responses(*AUTH_ERRORS, RateLimited, UserNotFound, service.CannotFollowSelf),
)
async def follow(handle: HandlePath, db: DbSession, viewer: CurrentViewer) -> FollowPublic:
    return await service.follow(db, viewer_id=viewer.id, handle=handle)


@router.delete(
    "/users/{handle}/follow",
    status_code=NO_CONTENT,
    summary="Unfollow someone, or withdraw your follow request.",
    responses=responses(*AUTH_ERRORS, UserNotFound),
)
async def unfollow(handle: HandlePath, db: DbSession, viewer: CurrentViewer) -> Response:
    await service.unfollow(db, viewer_id=viewer.id, handle=handle)
    return _done()


@router.get(
    "/users/{handle}/followers",
    summary="Who follows this person, newest first (as their privacy allows; no counts).",
    responses=responses(*AUTH_ERRORS, UserNotFound, PrivateAccount, invalid=("invalid_cursor",)),
)
async def followers(
    handle: HandlePath,
    db: DbSession,
    settings: AppSettings,
    storage: AppStorage,
    user: CurrentUser,
    page: Pagination,
) -> Page[UserPublic]:
    return await service.people(
        db,
        settings=settings,
        storage=storage,
        viewer=user,
        handle=handle,
        direction="followers",
        page=page,
    )


@router.get(
    "/users/{handle}/following",
    summary="Whom this person follows, newest first (as their privacy allows; no counts).",
    responses=responses(*AUTH_ERRORS, UserNotFound, PrivateAccount, invalid=("invalid_cursor",)),
)
async def following(
    handle: HandlePath,
    db: DbSession,
    settings: AppSettings,
    storage: AppStorage,
    user: CurrentUser,
    page: Pagination,
) -> Page[UserPublic]:
    return await service.people(
        db,
        settings=settings,
        storage=storage,
        viewer=user,
        handle=handle,
        direction="following",
        page=page,
    )


@router.delete(
    "/me/followers/{handle}",
    status_code=NO_CONTENT,
    summary="Remove someone from your followers (or drop their request) without blocking.",
    responses=responses(*AUTH_ERRORS, UserNotFound),
)
async def remove_follower(handle: HandlePath, db: DbSession, user: CurrentUser) -> Response:
    await service.remove_follower(db, owner=user, handle=handle)
    return _done()


@router.get(
    "/me/follow-requests",
    summary="People waiting for you to approve their follow, newest first.",
    responses=responses(*AUTH_ERRORS, invalid=("invalid_cursor",)),
)
async def follow_requests(
    db: DbSession, settings: AppSettings, storage: AppStorage, user: CurrentUser, page: Pagination
) -> Page[FollowRequestPublic]:
    return await service.follow_requests(
        db, settings=settings, storage=storage, owner=user, page=page
    )


@router.post(
    "/me/follow-requests/{id}/approve",
    status_code=NO_CONTENT,
    summary="Approve a follow request: they now follow you.",
    responses=responses(*AUTH_ERRORS, service.FollowRequestNotFound),
)
async def approve_request(request_id: IdPath, db: DbSession, user: CurrentUser) -> Response:
    await service.approve_request(db, owner=user, request_id=request_id)
    return _done()


@router.post(
    "/me/follow-requests/{id}/deny",
    status_code=NO_CONTENT,
    summary="Deny a follow request; they are not told.",
    responses=responses(*AUTH_ERRORS, service.FollowRequestNotFound),
)
async def deny_request(request_id: IdPath, db: DbSession, user: CurrentUser) -> Response:
    await service.deny_request(db, owner=user, request_id=request_id)
    return _done()


@router.post(
    "/users/{handle}/block",
    dependencies=[write_limit(Write.blocks)],
    status_code=NO_CONTENT,
    summary="Block someone: follows end both ways and you become invisible to each other.",
    responses=responses(*AUTH_ERRORS, RateLimited, UserNotFound, service.CannotBlockSelf),
)
async def block(handle: HandlePath, db: DbSession, user: CurrentUser) -> Response:
    await service.block(db, viewer=user, handle=handle)
    return _done()


@router.delete(
    "/users/{handle}/block",
    status_code=NO_CONTENT,
    summary="Unblock someone (follows that the block ended are not restored).",
    responses=responses(*AUTH_ERRORS, UserNotFound),
)
async def unblock(handle: HandlePath, db: DbSession, user: CurrentUser) -> Response:
    await service.unblock(db, viewer=user, handle=handle)
    return _done()


@router.post(
    "/users/{handle}/mute",
    status_code=NO_CONTENT,
    summary="Mute someone: their memories stay out of your feeds; they are not told.",
    responses=responses(*AUTH_ERRORS, UserNotFound, service.CannotMuteSelf),
)
async def mute(handle: HandlePath, db: DbSession, user: CurrentUser) -> Response:
    await service.mute(db, viewer=user, handle=handle)
    return _done()


@router.delete(
    "/users/{handle}/mute",
    status_code=NO_CONTENT,
    summary="Unmute someone.",
    responses=responses(*AUTH_ERRORS, UserNotFound),
)
async def unmute(handle: HandlePath, db: DbSession, user: CurrentUser) -> Response:
    await service.unmute(db, viewer=user, handle=handle)
    return _done()


@router.get(
    "/me/blocks",
    summary="The people you blocked, newest first.",
    responses=responses(*AUTH_ERRORS, invalid=("invalid_cursor",)),
)
async def blocks(
    db: DbSession, settings: AppSettings, storage: AppStorage, user: CurrentUser, page: Pagination
) -> Page[UserPublic]:
    return await service.blocked(db, settings=settings, storage=storage, owner=user, page=page)


@router.get(
    "/me/mutes",
    summary="The people you muted, newest first.",
    responses=responses(*AUTH_ERRORS, invalid=("invalid_cursor",)),
)
async def mutes(
    db: DbSession, settings: AppSettings, storage: AppStorage, user: CurrentUser, page: Pagination
) -> Page[UserPublic]:
    return await service.muted(db, settings=settings, storage=storage, owner=user, page=page)


@router.put(
    "/me/close-friends/{handle}",
    status_code=NO_CONTENT,
    summary="Add someone to your close friends; they are not told.",
    responses=responses(*AUTH_ERRORS, UserNotFound, service.CannotAddSelf),
)
async def add_close_friend(handle: HandlePath, db: DbSession, user: CurrentUser) -> Response:
    await service.add_close_friend(db, owner=user, handle=handle)
    return _done()


@router.delete(
    "/me/close-friends/{handle}",
    status_code=NO_CONTENT,
    summary="Take someone off your close friends; they are not told.",
    responses=responses(*AUTH_ERRORS, UserNotFound),
)
async def remove_close_friend(handle: HandlePath, db: DbSession, user: CurrentUser) -> Response:
    await service.remove_close_friend(db, owner=user, handle=handle)
    return _done()


@router.get(
    "/me/close-friends",
    summary="Your close friends, newest first; only you can see this list.",
    responses=responses(*AUTH_ERRORS, invalid=("invalid_cursor",)),
)
async def close_friends(
    db: DbSession, settings: AppSettings, storage: AppStorage, user: CurrentUser, page: Pagination
) -> Page[UserPublic]:
    return await service.close_friends(
        db, settings=settings, storage=storage, owner=user, page=page
    )
