"""Edges of the social graph: follows, blocks, mutes and close friends.

The graph domain writes them, but every read path's privacy policy decides on them, so
they sit beneath the policy and the domains (`keepsake.graph.models` names them for the
graph's own modules)."""

from __future__ import annotations

import enum
import uuid

from sqlalchemy import CheckConstraint, Enum, ForeignKey, Index
from sqlalchemy.orm import Mapped, mapped_column

from keepsake.db import Base, Timestamped


class FollowState(enum.StrEnum):
    active = "active"
    requested = "requested"


class Follow(Timestamped, Base):
    """`follower` follows `followee`; `requested` until a private followee approves."""

    __tablename__ = "follows"
    __table_args__ = (
        CheckConstraint("follower_id <> followee_id", name="not_self"),
        # Keyset lists of followers / following, newest first.
        Index("ix_follows_followee_state_created", "followee_id", "state", "created_at", "id"),
        Index("ix_follows_follower_state_created", "follower_id", "state", "created_at", "id"),
    )

    follower_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    followee_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    # The id a follow request is approved or denied by.
    id: Mapped[uuid.UUID] = mapped_column(default=uuid.uuid4, unique=True)
    state: Mapped[FollowState] = mapped_column(
        Enum(FollowState, name="follow_state", values_callable=lambda m: [x.value for x in m])
    )


class Block(Timestamped, Base):
    __tablename__ = "blocks"
    __table_args__ = (
        CheckConstraint("blocker_id <> blocked_id", name="not_self"),
        Index("ix_blocks_blocked", "blocked_id", "blocker_id"),
    )

    blocker_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    blocked_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )


class Mute(Timestamped, Base):
    __tablename__ = "mutes"
    __table_args__ = (CheckConstraint("muter_id <> muted_id", name="not_self"),)

    muter_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    muted_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )


class CloseFriend(Timestamped, Base):
    """`friend` is on `owner`'s close-friends list, which only the owner ever sees."""

    __tablename__ = "close_friends"
    __table_args__ = (
        CheckConstraint("owner_id <> friend_id", name="not_self"),
        # The owner's keyset list, newest first; the friend's id breaks ties.
        Index("ix_close_friends_owner_created", "owner_id", "created_at", "friend_id"),
    )

    owner_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    friend_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
