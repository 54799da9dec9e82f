"""Rules of the social graph: follows, follow requests, blocks, mutes, close friends, lists.

Who may see whom is decided by `keepsake.privacy`; this module applies it to every
graph read and write, so an invisible account looks exactly like a missing one.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection
from datetime import datetime
from typing import Literal

from sqlalchemy.ext.asyncio import AsyncSession

from keepsake.accounts import avatars
from keepsake.accounts.models import User
from keepsake.accounts.people import UserPublic
from keepsake.config import Settings
from keepsake.errors import Invalid, NotFound
from keepsake.graph import people_repository, repository
from keepsake.graph.models import Block, FollowState, Mute
from keepsake.graph.people_repository import Edge
from keepsake.graph.schemas import FollowPublic, FollowRequestPublic
from keepsake.i18n.catalog import _
from keepsake.notifications.models import NotificationKind
from keepsake.notifications.service import notify
from keepsake.pagination import Page, PageRequest, split_page
from keepsake.privacy import Person, UserNotFound, can_see_profile, require_lists, require_profile
from keepsake.readdb import Reads, SessionReads
from keepsake.storage.base import Storage


class CannotFollowSelf(Invalid):
    code = "cannot_follow_self"


class CannotBlockSelf(Invalid):
    code = "cannot_block_self"


class CannotMuteSelf(Invalid):
    code = "cannot_mute_self"


class CannotAddSelf(Invalid):
    code = "cannot_add_self"


class FollowRequestNotFound(NotFound):
    code = "follow_request_not_found"


async def person(db: AsyncSession | Reads, *, viewer_id: uuid.UUID, handle: str) -> Person:
    """The account behind a handle as the viewer may see it; 404 when it is not visible.
    On the caller's session, or on the read pool for reads that change nothing."""
    reads = SessionReads(db) if isinstance(db, AsyncSession) else db
    found = await people_repository.person_by_handle(reads, viewer_id, handle)
    return require_profile(viewer_id, found)


async def person_by_id(
    db: AsyncSession | Reads, *, viewer_id: uuid.UUID, user_id: uuid.UUID
) -> Person | None:
    """The account and its relation to the viewer, unjudged: the caller applies the policy.
    The caller picks the connection: its session, or the read pool for reads that change
    nothing."""
    reads = SessionReads(db) if isinstance(db, AsyncSession) else db
    return await people_repository.person_by_id(reads, viewer_id, user_id)


async def people_by_ids(
    db: AsyncSession, *, viewer_id: uuid.UUID, user_ids: Collection[uuid.UUID]
) -> dict[uuid.UUID, Person]:
    """Many accounts (say, a feed page's authors) in one query, unjudged like `person_by_id`."""
    return await people_repository.people_by_ids(db, viewer_id, user_ids)


async def _own_edge_target(db: AsyncSession, viewer: User, handle: str) -> Person:
    """For undoing the viewer's own block or mute: the target even while blocked by the viewer.

    Still 404 when the target blocked the viewer and the viewer holds no edge to undo, so
    the answer never reveals an account that hides from the viewer.
    """
    found = await people_repository.person_by_handle(SessionReads(db), viewer.id, handle)
    if found is None:
        raise UserNotFound(_("No such user."))
    if can_see_profile(viewer.id, found) or found.relation.blocking or found.relation.muting:
        return found
    raise UserNotFound(_("No such user."))


async def counts(db: AsyncSession, user_id: uuid.UUID) -> tuple[int, int, int]:
    """(followers, following, pending requests); only ever shown to the owner."""
    return await repository.counts(db, user_id)


async def approve_all_requests(db: AsyncSession, user_id: uuid.UUID) -> None:
    """A private account turning public stops gating: everyone who asked is let in."""
    await repository.approve_all(db, followee_id=user_id)


async def follow(db: AsyncSession, *, viewer_id: uuid.UUID, handle: str) -> FollowPublic:
    target = await person(db, viewer_id=viewer_id, handle=handle)
    if target.id == viewer_id:
        raise CannotFollowSelf(
            _("You cannot follow yourself."), code=CannotFollowSelf.code, field="handle"
        )
    current = target.relation.following
    wanted = FollowState.requested if target.is_private else FollowState.active
    if current == FollowState.active or current == wanted:
        state = current
    else:
        state = await repository.follow(
            db, follower_id=viewer_id, followee_id=target.id, state=wanted
        )
        # A follower, or a request to approve.
        kind = (
            NotificationKind.follow
            if state == FollowState.active
            else NotificationKind.follow_request
        )
        await notify(db, kind, recipient_id=target.id, actor_id=viewer_id)
    return FollowPublic(relationship="following" if state == FollowState.active else "requested")


async def unfollow(db: AsyncSession, *, viewer_id: uuid.UUID, handle: str) -> None:
    target = await person(db, viewer_id=viewer_id, handle=handle)
    await repository.unfollow(db, follower_id=viewer_id, followee_id=target.id)


async def remove_follower(db: AsyncSession, *, owner: User, handle: str) -> None:
    """Stop someone following you (or drop their request) without blocking them."""
    target = await person(db, viewer_id=owner.id, handle=handle)
    await repository.unfollow(db, follower_id=target.id, followee_id=owner.id)


async def _user_view(
    settings: Settings, storage: Storage, viewer_id: uuid.UUID, person: Person
) -> UserPublic:
    avatar = await avatars.view(settings, storage, person.avatar_key)
    return UserPublic.of(viewer_id, person, avatar)


async def _people(
    settings: Settings, storage: Storage, viewer_id: uuid.UUID, rows: list[Edge], limit: int
) -> Page[UserPublic]:
    edges, cursor = split_page(rows, limit)
    items = [await _user_view(settings, storage, viewer_id, e.person) for e in edges]
    return Page(items=items, next_cursor=cursor)


async def people(
    db: AsyncSession,
    *,
    settings: Settings,
    storage: Storage,
    viewer: User,
    handle: str,
    direction: Literal["followers", "following"],
    page: PageRequest,
) -> Page[UserPublic]:
    """A person's followers or followees, as privacy allows; never with a count."""
    owner = require_lists(
        viewer.id, await people_repository.person_by_handle(SessionReads(db), viewer.id, handle)
    )
    rows = await repository.follow_edges(
        db,
        viewer_id=viewer.id,
        user_id=owner.id,
        direction=direction,
        state=FollowState.active,
        limit=page.limit,
        after=page.after,
    )
    return await _people(settings, storage, viewer.id, rows, page.limit)


async def follow_requests(
    db: AsyncSession, *, settings: Settings, storage: Storage, owner: User, page: PageRequest
) -> Page[FollowRequestPublic]:
    rows = await repository.follow_edges(
        db,
        viewer_id=owner.id,
        user_id=owner.id,
        direction="followers",
        state=FollowState.requested,
        limit=page.limit,
        after=page.after,
    )
    edges, cursor = split_page(rows, page.limit)
    items = [
        FollowRequestPublic(
            id=edge.id,
            created_at=edge.created_at,
            user=await _user_view(settings, storage, owner.id, edge.person),
        )
        for edge in edges
    ]
    return Page(items=items, next_cursor=cursor)


async def approve_request(db: AsyncSession, *, owner: User, request_id: uuid.UUID) -> None:
    follower_id = await repository.approve(db, followee_id=owner.id, request_id=request_id)
    if follower_id is None:
        raise FollowRequestNotFound(_("No such pending follow request."))
    await notify(db, NotificationKind.follow_approved, recipient_id=follower_id, actor_id=owner.id)


async def deny_request(db: AsyncSession, *, owner: User, request_id: uuid.UUID) -> None:
    if not await repository.deny(db, followee_id=owner.id, request_id=request_id):
        raise FollowRequestNotFound(_("No such pending follow request."))


async def block(db: AsyncSession, *, viewer: User, handle: str) -> None:
    """Idempotent; ends every follow and request between the two accounts."""
    target = await _own_edge_target(db, viewer, handle)
    if target.id == viewer.id:
        raise CannotBlockSelf(
            _("You cannot block yourself."), code=CannotBlockSelf.code, field="handle"
        )
    await repository.block(db, blocker_id=viewer.id, blocked_id=target.id)


async def unblock(db: AsyncSession, *, viewer: User, handle: str) -> None:
    target = await _own_edge_target(db, viewer, handle)
    await repository.unblock(db, blocker_id=viewer.id, blocked_id=target.id)


async def mute(db: AsyncSession, *, viewer: User, handle: str) -> None:
    target = await person(db, viewer_id=viewer.id, handle=handle)
    if target.id == viewer.id:
        raise CannotMuteSelf(
            _("You cannot mute yourself."), code=CannotMuteSelf.code, field="handle"
        )
    await repository.mute(db, muter_id=viewer.id, muted_id=target.id)


async def unmute(db: AsyncSession, *, viewer: User, handle: str) -> None:
    target = await _own_edge_target(db, viewer, handle)
    await repository.unmute(db, muter_id=viewer.id, muted_id=target.id)


async def blocked(
    db: AsyncSession, *, settings: Settings, storage: Storage, owner: User, page: PageRequest
) -> Page[UserPublic]:
    """Whom you blocked: the only place they still appear to you, so you can unblock them."""
    rows = await repository.own_edges(
        db, owner_id=owner.id, table=Block, limit=page.limit, after=page.after
    )
    return await _people(settings, storage, owner.id, rows, page.limit)


async def muted(
    db: AsyncSession, *, settings: Settings, storage: Storage, owner: User, page: PageRequest
) -> Page[UserPublic]:
    rows = await repository.own_edges(
        db, owner_id=owner.id, table=Mute, limit=page.limit, after=page.after
    )
    return await _people(settings, storage, owner.id, rows, page.limit)


async def add_close_friend(db: AsyncSession, *, owner: User, handle: str) -> None:
    """Idempotent. The friend is not told, and no view of theirs ever shows it."""
    friend = await person(db, viewer_id=owner.id, handle=handle)
    if friend.id == owner.id:
        raise CannotAddSelf(
            _("You cannot add yourself to your close friends."),
            code=CannotAddSelf.code,
            field="handle",
        )
    await repository.add_close_friend(db, owner_id=owner.id, friend_id=friend.id)


async def remove_close_friend(db: AsyncSession, *, owner: User, handle: str) -> None:
    friend = await person(db, viewer_id=owner.id, handle=handle)
    await repository.remove_close_friend(db, owner_id=owner.id, friend_id=friend.id)


async def close_friends(
    db: AsyncSession, *, settings: Settings, storage: Storage, owner: User, page: PageRequest
) -> Page[UserPublic]:
    """The owner's own list; nobody else can read anyone's."""
    rows = await repository.close_friend_edges(
        db, owner_id=owner.id, limit=page.limit, after=page.after
    )
    return await _people(settings, storage, owner.id, rows, page.limit)


async def relations(db: AsyncSession, user_id: uuid.UUID) -> dict[str, list[tuple[str, datetime]]]:
    """The handles of everyone the user is linked to, by kind, with since when: their export.

    `requested`: the user asked to follow and awaits approval; `follow_requests`: others
    await the user's answer.
    """
    found: dict[str, list[tuple[str, datetime]]] = {k: [] for k in people_repository.RELATION_KINDS}
    for kind, handle, since in await people_repository.relations(db, user_id):
        found[kind].append((handle, since))
    return found
