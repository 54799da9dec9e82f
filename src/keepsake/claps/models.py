"""One row per viewer and memory: how many times they clapped for it, at most 50."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import CheckConstraint, DateTime, ForeignKey, Index, SmallInteger, func
from sqlalchemy.orm import Mapped, mapped_column

from keepsake.db import Base, Timestamped

MAX_CLAPS = 50


class Clap(Timestamped, Base):
    __tablename__ = "claps"
    __table_args__ = (
        CheckConstraint(f"count BETWEEN 1 AND {MAX_CLAPS}", name="count_range"),
        # The author's list of who clapped, most recent first.
        Index("ix_claps_memory_updated", "memory_id", "updated_at", "user_id"),
        # Deleting an account cascades to its claps, and an export lists them.
        Index("ix_claps_user", "user_id"),
    )

    memory_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("memories.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    count: Mapped[int] = mapped_column(SmallInteger)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
