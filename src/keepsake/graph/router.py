"""HTTP routes of the social graph."""

from __future__ import annotations

from collections.abc import Awaitable
from dataclasses import dataclass
from typing import Annotated, Literal, Protocol, TypeVar

from fastapi import APIRouter, Depends, Response, status
from sqlalchemy.ext.asyncio import AsyncSession

from keepsake.accounts.deps import AUTH_ERRORS, CurrentUser, CurrentViewer
from keepsake.accounts.models import User
from keepsake.accounts.people import HandlePath, UserPublic
from keepsake.config import Settings
from keepsake.db import DbSession
from keepsake.deps import AppSettings, AppStorage, IdPath
from keepsake.errors import RateLimited, responses
from keepsake.graph import service
from keepsake.graph.schemas import FollowPublic, FollowRequestPublic
from keepsake.pagination import Page, PageRequest, Pagination
from keepsake.privacy import PrivateAccount, UserNotFound
from keepsake.storage.base import Storage
from keepsake.write_limits import Write, write_limit

router = APIRouter(prefix="/v1", tags=["graph"])
NO_CONTENT = status.HTTP_204_NO_CONTENT


T = TypeVar("T")
_LIST_ERRORS = responses(*AUTH_ERRORS, invalid=("invalid_cursor",))
# Undoing an edge to someone: only they may be missing (or hidden from you).
_SOMEONE_ERRORS = responses(*AUTH_ERRORS, UserNotFound)


def _done() -> Response:
    return Response(status_code=NO_CONTENT)


class OwnLister(Protocol[T]):
    """A service listing the caller's own people: blocks, mutes, close friends, requests."""

    def __call__(
        self,
        db: AsyncSession,
        *,
        settings: Settings,
        storage: Storage,
        owner: User,
        page: PageRequest,
    ) -> Awaitable[Page[T]]: ...


@dataclass(frozen=True)
class Listing:
    """What every list of people needs: who asks, which page, and what signs avatars."""

    db: AsyncSession
    settings: Settings
    storage: Storage
    user: User
    page: PageRequest

    async def own(self, lister: OwnLister[T]) -> Page[T]:
        return await lister(
            self.db, settings=self.settings, storage=self.storage, owner=self.user, page=self.page
        )

    async def of(
        self, handle: str, direction: Literal["followers", "following"]
    ) -> Page[UserPublic]:
        return await service.people(
            self.db,
            settings=self.settings,
            storage=self.storage,
            viewer=self.user,
            handle=handle,
            direction=direction,
            page=self.page,
        )


async def _listing(
    db: DbSession, settings: AppSettings, storage: AppStorage, user: CurrentUser, page: Pagination
) -> Listing:
    return Listing(db, settings, storage, user, page)


Lists = Annotated[Listing, Depends(_listing)]


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
    responses=_SOMEONE_ERRORS,
)
async def unfollow(handle: HandlePath, db: DbSession, viewer: CurrentViewer) -> Response:
    await service.unfollow(db, viewer_id=viewer.id, handle=handle)
    return _done()


@router.get(
    "/users/{handle}/followers",
    summary="Who follows this person, newest first (as their privacy allows; no counts).",
    responses=responses(*AUTH_ERRORS, UserNotFound, PrivateAccount, invalid=("invalid_cursor",)),
)
async def followers(handle: HandlePath, lists: Lists) -> Page[UserPublic]:
    return await lists.of(handle, "followers")


@router.get(
    "/users/{handle}/following",
    summary="Whom this person follows, newest first (as their privacy allows; no counts).",
    responses=responses(*AUTH_ERRORS, UserNotFound, PrivateAccount, invalid=("invalid_cursor",)),
)
async def following(handle: HandlePath, lists: Lists) -> Page[UserPublic]:
    return await lists.of(handle, "following")


@router.delete(
    "/me/followers/{handle}",
    status_code=NO_CONTENT,
    summary="Remove someone from your followers (or drop their request) without blocking.",
    responses=_SOMEONE_ERRORS,
)
async def remove_follower(handle: HandlePath, db: DbSession, user: CurrentUser) -> Response:
    await service.remove_follower(db, owner=user, handle=handle)
    return _done()


@router.get(
    "/me/follow-requests",
    summary="People waiting for you to approve their follow, newest first.",
    responses=_LIST_ERRORS,
)
async def follow_requests(lists: Lists) -> Page[FollowRequestPublic]:
    return await lists.own(service.follow_requests)


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
    responses=_SOMEONE_ERRORS,
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
    responses=_SOMEONE_ERRORS,
)
async def unmute(handle: HandlePath, db: DbSession, user: CurrentUser) -> Response:
    await service.unmute(db, viewer=user, handle=handle)
    return _done()


@router.get(
    "/me/blocks",
    summary="The people you blocked, newest first.",
    responses=_LIST_ERRORS,
)
async def blocks(lists: Lists) -> Page[UserPublic]:
    return await lists.own(service.blocked)


@router.get(
    "/me/mutes",
    summary="The people you muted, newest first.",
    responses=_LIST_ERRORS,
)
async def mutes(lists: Lists) -> Page[UserPublic]:
    return await lists.own(service.muted)


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
    responses=_SOMEONE_ERRORS,
)
async def remove_close_friend(handle: HandlePath, db: DbSession, user: CurrentUser) -> Response:
    await service.remove_close_friend(db, owner=user, handle=handle)
    return _done()


@router.get(
    "/me/close-friends",
    summary="Your close friends, newest first; only you can see this list.",
    responses=_LIST_ERRORS,
)
async def close_friends(lists: Lists) -> Page[UserPublic]:
    return await lists.own(service.close_friends)
