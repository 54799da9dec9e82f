"""The one privacy policy: who may see whom, and what of them.

Every read path decides here, in one of two equivalent forms:

- **In Python**, for one account already loaded: `graph.service.person` (or
  `person_by_id` / `people_by_ids`) fetches the account's public columns together
  with a `Relation` to the viewer in a single query, and `require_profile` /
  `require_lists` / `relationship` / `can_see_memory` decide on that `Person`.
- **In SQL**, for lists and feeds: `visible_accounts(viewer_id, user_id=..., status=...)`
  is the WHERE clause "this row's account is active and not blocked either way with
  the viewer", and `memory_visible(...)` the clause "the viewer may see this memory".
  Queries join `users` for the author and add the clause, so a blocked or suspended
  author's memories drop out in the query instead of being filtered after it.

The two forms of each rule are tested against each other (`tests/graph/test_privacy.py`).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from sqlalchemy import ColumnElement, SQLColumnExpression, and_, exists, or_
from sqlalchemy.orm import aliased

from keepsake.errors import Forbidden, NotFound
from keepsake.i18n.catalog import _
from keepsake.kinds import AccountStatus, MemoryStatus, Visibility
from keepsake.relations import Block, CloseFriend, Follow, FollowState

Relationship = Literal["self", "following", "requested", "none"]

# The viewer of share pages, signed out: no account has this id, so no follow, list or
# block involves it, and every rule here (and in SQL) answers as for a stranger.
ANONYMOUS = uuid.UUID(int=0)


class UserNotFound(NotFound):
    code = "user_not_found"


class PrivateAccount(Forbidden):
    code = "private_account"
    title = _("Private account")


@dataclass(frozen=True)
class Relation:
    """What lies between the viewer and one account, from the viewer's side."""

    following: FollowState | None = None
    follows_viewer: bool = False
    blocking: bool = False
    blocked_by: bool = False
    muting: bool = False
    # The viewer is on this account's close-friends list. It only ever decides what the
    # viewer may see; no response carries it, so nobody learns whose list they are on.
    close_friend: bool = False


@dataclass(frozen=True)
class Person:
    """An account as a viewer may be shown it: public columns, status, and the relation."""

    id: uuid.UUID
    handle: str
    display_name: str
    bio: str
    note: str
    is_private: bool
    status: AccountStatus
    relation: Relation
    # Storage prefix of the avatar's pictures; views turn it into signed URLs.
    avatar_key: str | None = None
    # The owner lets search engines index their share pages.
    discoverable: bool = False


def can_see_profile(viewer_id: uuid.UUID | None, person: Person) -> bool:
    """Active accounts are visible unless a block stands between the two, either way."""
    if viewer_id == person.id:
        return True
    rel = person.relation
    return person.status == AccountStatus.active and not (rel.blocking or rel.blocked_by)


def can_see_lists(viewer_id: uuid.UUID | None, person: Person) -> bool:
    """Follower and following lists: the owner; others when public or an accepted follower."""
    if not can_see_profile(viewer_id, person):
        return False
    return (
        viewer_id == person.id
        or not person.is_private
        or person.relation.following == FollowState.active
    )


def require_profile(viewer_id: uuid.UUID | None, person: Person | None) -> Person:
    """The person, or 404: an invisible account must look exactly like a missing one."""
    if person is None or not can_see_profile(viewer_id, person):
        raise UserNotFound(_("No such user."))
    return person


def require_lists(viewer_id: uuid.UUID | None, person: Person | None) -> Person:
    """404 when the profile is invisible; 403 when it is visible but private to the viewer."""
    visible = require_profile(viewer_id, person)
    if not can_see_lists(viewer_id, visible):
        raise PrivateAccount(_("This account is private; follow it to see its lists."))
    return visible


def relationship(viewer_id: uuid.UUID | None, person: Person) -> Relationship:
    if viewer_id == person.id:
        return "self"
    if person.relation.following == FollowState.active:
        return "following"
    if person.relation.following == FollowState.requested:
        return "requested"
    return "none"


def can_see_memory(
    viewer_id: uuid.UUID | None,
    author: Person,
    *,
    visibility: Visibility,
    ready: bool,
    hidden: bool,
) -> bool:
    """The author always; anyone else only a ready memory of a visible author, by audience.

    A private account's `public` memories are for its followers: going private must
    not leave its past public memories open to everyone. A memory a moderator hid is
    its author's alone (moderators read it through the admin routes, not this policy).
    """
    if viewer_id == author.id:
        return True
    if hidden or not (ready and can_see_profile(viewer_id, author)):
        return False
    follower = author.relation.following == FollowState.active
    match visibility:
        case Visibility.only_me:
            return False
        case Visibility.close_friends:
            return author.relation.close_friend
        case Visibility.followers:
            return follower
        case Visibility.public:
            return follower or not author.is_private


# Aliases made once: building them costs more CPU than the probes they stand for, and
# being aliases they never correlate with a `blocks` or `follows` an outer query joins.
_BLOCK, _FOLLOW, _CLOSE = aliased(Block), aliased(Follow), aliased(CloseFriend)


def not_blocked_with(
    viewer_id: uuid.UUID, user_id: SQLColumnExpression[uuid.UUID]
) -> ColumnElement[bool]:
    """SQL: no block stands between the viewer and the row's account, in either direction."""
    block = _BLOCK
    return ~exists().where(
        or_(
            and_(block.blocker_id == viewer_id, block.blocked_id == user_id),
            and_(block.blocker_id == user_id, block.blocked_id == viewer_id),
        )
    )


def visible_accounts(
    viewer_id: uuid.UUID,
    *,
    user_id: SQLColumnExpression[uuid.UUID],
    status: SQLColumnExpression[AccountStatus],
) -> ColumnElement[bool]:
    """SQL twin of `can_see_profile` for rows joined to `users` (lists, feeds)."""
    return and_(status == AccountStatus.active, not_blocked_with(viewer_id, user_id))


def memory_visible(
    viewer_id: uuid.UUID,
    *,
    author_id: SQLColumnExpression[uuid.UUID],
    visibility: SQLColumnExpression[Visibility],
    status: SQLColumnExpression[MemoryStatus],
    hidden_at: SQLColumnExpression[datetime | None],
    author_status: SQLColumnExpression[AccountStatus],
    author_is_private: SQLColumnExpression[bool],
) -> ColumnElement[bool]:
    """SQL twin of `can_see_memory` for memory rows joined to their author in `users`.

    `hidden_at IS NULL` reads a column of the row already fetched: no extra probe.
    Each EXISTS is a primary-key probe on (viewer, author), so the clause costs a few
    index lookups per candidate row and leaves the feed's own index to order the scan.
    """
    follow, close = _FOLLOW, _CLOSE
    follower = exists().where(
        follow.follower_id == viewer_id,
        follow.followee_id == author_id,
        follow.state == FollowState.active,
    )
    on_list = exists().where(close.owner_id == author_id, close.friend_id == viewer_id)
    audience = or_(
        and_(visibility == Visibility.public, ~author_is_private),
        and_(visibility.in_((Visibility.followers, Visibility.public)), follower),
        and_(visibility == Visibility.close_friends, on_list),
    )
    return or_(
        author_id == viewer_id,
        and_(
            status == MemoryStatus.ready,
            hidden_at.is_(None),
            visible_accounts(viewer_id, user_id=author_id, status=author_status),
            audience,
        ),
    )
