"""The home timeline: each reader's candidate memories, written when they happen.

Migration 0015 creates it with the triggers that fill it, so no write path can miss
it: a memory that becomes ready is added for its author and each active follower, a
follow that becomes active adds the followee's newest memories, and a follow that ends
takes them out. Rows are candidates, never permissions: the home statement applies
the whole privacy policy to every row it reads (`keepsake.feeds.repository`).
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Index
from sqlalchemy.orm import Mapped, mapped_column

from keepsake.db import Base


class HomeEntry(Base):
    """Memory `memory_id` is a candidate for `owner_id`'s home, at the memory's time."""

    __tablename__ = "home_timeline"
    # A deleted memory's rows go by cascade, found through this index.
    __table_args__ = (Index("ix_home_timeline_memory", "memory_id"),)

    owner_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    # The memory's own `created_at`, so the page's keyset is the cards' keyset.
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), primary_key=True)
    memory_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("memories.id", ondelete="CASCADE"), primary_key=True
    )


class HomeWideAuthor(Base):
    """An author with too many followers to fan out to: home reads their memories."""

    __tablename__ = "home_wide_authors"

    author_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
