"""The one privacy policy: who may see whom, and what of them.

Every read path decides here, in one of two equivalent forms:

- **In Python**, for one account already loaded: `graph.service.person` (or the
  repository's `person_by_handle`) fetches the account's public columns together with
  a `Relation` to the viewer in a single query, and `require_profile` /
  `require_lists` / `relationship` decide on that `Person`.
- **In SQL**, for lists: `visible_accounts(viewer_id, user_id=..., status=...)` is the
  WHERE clause "this row's account is active and not blocked either way with the
  viewer". Follower lists use it now; feeds and memory lists join `users` for the
  author and add the same clause, so a blocked or suspended author's memories drop
  out in the query instead of being filtered after it.

Memories (a later issue) add `can_see_memory(viewer_id, author, visibility)` here,
built on `can_see_profile` (author visible) plus the visibility rule
(`only_me` → owner; `close_friends` → owner's close-friends list; `followers` → an
active follow or the owner; `public` → everyone), and its SQL twin for feeds: the
same `visible_accounts` clause AND-ed with a visibility clause that tests
`follows` with an EXISTS on (follower_id=viewer, followee_id=author, state=active).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Literal

from sqlalchemy import ColumnElement, and_, exists, or_
from sqlalchemy.orm import InstrumentedAttribute, aliased

from keepsake.accounts.models import AccountStatus
from keepsake.errors import Forbidden, NotFound
from keepsake.graph.models import Block, FollowState

Relationship = Literal["self", "following", "requested", "none"]


class UserNotFound(NotFound):
    code = "user_not_found"


class PrivateAccount(Forbidden):
    code = "private_account"
    title = "Private account"


@dataclass(frozen=True)
class Relation:
    """What lies between the viewer and one account, from the viewer's side."""

    following: FollowState | None = None
    follows_viewer: bool = False
    blocking: bool = False
    blocked_by: bool = False
    muting: bool = False


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
        raise UserNotFound("No such user.")
    return person


def require_lists(viewer_id: uuid.UUID | None, person: Person | None) -> Person:
    """404 when the profile is invisible; 403 when it is visible but private to the viewer."""
    visible = require_profile(viewer_id, person)
    if not can_see_lists(viewer_id, visible):
        raise PrivateAccount("This account is private; follow it to see its lists.")
    return visible


def relationship(viewer_id: uuid.UUID | None, person: Person) -> Relationship:
    if viewer_id == person.id:
        return "self"
    if person.relation.following == FollowState.active:
        return "following"
    if person.relation.following == FollowState.requested:
        return "requested"
    return "none"


def not_blocked_with(
    viewer_id: uuid.UUID, user_id: InstrumentedAttribute[uuid.UUID]
) -> ColumnElement[bool]:
    """SQL: no block stands between the viewer and the row's account, in either direction."""
    block = aliased(Block)  # never correlated with a `blocks` the outer query may join
    return ~exists().where(
        or_(
            and_(block.blocker_id == viewer_id, block.blocked_id == user_id),
            and_(block.blocker_id == user_id, block.blocked_id == viewer_id),
        )
    )


def visible_accounts(
    viewer_id: uuid.UUID,
    *,
    user_id: InstrumentedAttribute[uuid.UUID],
    status: InstrumentedAttribute[AccountStatus],
) -> ColumnElement[bool]:
    """SQL twin of `can_see_profile` for rows joined to `users` (lists, feeds)."""
    return and_(status == AccountStatus.active, not_blocked_with(viewer_id, user_id))
