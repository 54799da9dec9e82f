"""Tables of missions and their entries."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime

from sqlalchemy import (
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from keepsake.db import Base, Timestamped, enum_type


class MissionStatus(enum.StrEnum):
    scheduled = "scheduled"
    open = "open"
    judging = "judging"
    closed = "closed"


class EntryStatus(enum.StrEnum):
    entered = "entered"
    # The memory was deleted while the mission ran.
    withdrawn = "withdrawn"
    # A moderator hid the memory.
    disqualified = "disqualified"


class Mission(Timestamped, Base):
    """A themed hashtag challenge. Its status is never stored: it follows from the clock
    (`starts_at`, `ends_at`) and from whether winners were chosen (`closed_at`)."""

    __tablename__ = "missions"
    __table_args__ = (
        CheckConstraint("ends_at > starts_at", name="period"),
        CheckConstraint("winners_count BETWEEN 1 AND 100", name="winners_count_range"),
        CheckConstraint("entry_points >= 0 AND winner_points >= 0", name="points_not_negative"),
        # The entry check on the memory-ready path: missions by tag, running at a time.
        Index("ix_missions_hashtag_starts", "hashtag", "starts_at"),
        Index("ix_missions_starts", "starts_at", "id"),
        # One tag names one mission at any moment (migration 0014 adds the exclusion
        # constraint `ex_missions_hashtag_period`: same tag, overlapping periods).
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    title: Mapped[str] = mapped_column(String(100))
    description: Mapped[str] = mapped_column(Text)
    # Stored as captions' tags are (`hashtags.normalize_tag`), without the '#'.
    hashtag: Mapped[str] = mapped_column(String(100))
    starts_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    ends_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    winners_count: Mapped[int] = mapped_column(SmallInteger)
    entry_points: Mapped[int] = mapped_column(Integer)
    winner_points: Mapped[int] = mapped_column(Integer)
    # When the winners were chosen: from then on the mission is `closed`.
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_by: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), onupdate=func.now()
    )

    def status_at(self, now: datetime) -> MissionStatus:
        if self.closed_at is not None:
            return MissionStatus.closed
        if now < self.starts_at:
            return MissionStatus.scheduled
        if now < self.ends_at:
            return MissionStatus.open
        return MissionStatus.judging


class MissionEntry(Timestamped, Base):
    """A person's one entry in a mission, and the points it holds for them."""

    __tablename__ = "mission_entries"
    __table_args__ = (
        UniqueConstraint("mission_id", "user_id"),
        # The entries list: newest memories first, on the cards' own keyset.
        Index(
            "ix_mission_entries_listed",
            "mission_id",
            "memory_created_at",
            "memory_id",
            postgresql_where=text("status = 'entered'"),
        ),
        CheckConstraint("points >= 0 AND taken_back >= 0", name="points_not_negative"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    mission_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("missions.id"))
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    # Null once the memory is deleted after the mission closed: the award stands.
    memory_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("memories.id", ondelete="SET NULL"), unique=True
    )
    memory_created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    status: Mapped[EntryStatus] = mapped_column(enum_type(EntryStatus, "mission_entry_status"))
    winner: Mapped[bool] = mapped_column(server_default="false")
    # Points this entry has given its author so far, and what was taken back from them
    # (by a withdrawal or a disqualification) that a restoration would give again.
    points: Mapped[int] = mapped_column(Integer, server_default="0")
    taken_back: Mapped[int] = mapped_column(Integer, server_default="0")
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), onupdate=func.now()
    )
