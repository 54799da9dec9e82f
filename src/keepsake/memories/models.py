"""Tables of memories, their clips and hashtags."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import (
    CheckConstraint,
    DateTime,
    Float,
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

# Named here too (`as`: an explicit re-export) for the modules that still import them
# from the table that stores them.
from keepsake.kinds import MemoryStatus as MemoryStatus
from keepsake.kinds import Visibility as Visibility


class Memory(Timestamped, Base):
    __tablename__ = "memories"
    __table_args__ = (
        # A person's memories, newest first (profile lists, home feed fan-in).
        Index("ix_memories_author_created", "author_id", "created_at", "id"),
        # Explore: recent public, ready memories.
        Index(
            "ix_memories_public_ready_created",
            "created_at",
            "id",
            postgresql_where=text("visibility = 'public' AND status = 'ready'"),
        ),
        # The reconciler's sweep of unfinished work.
        Index(
            "ix_memories_processing_deadline",
            "processing_deadline",
            postgresql_where=text("status = 'processing'"),
        ),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    author_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    status: Mapped[MemoryStatus] = mapped_column(enum_type(MemoryStatus, "memory_status"))
    failure_code: Mapped[str | None] = mapped_column(String(40))
    failure_detail: Mapped[str | None] = mapped_column(String(300))
    caption: Mapped[str] = mapped_column(Text, server_default="")
    visibility: Mapped[Visibility] = mapped_column(enum_type(Visibility, "memory_visibility"))
    music_track_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("music_tracks.id", ondelete="SET NULL")
    )
    duration_s: Mapped[float | None] = mapped_column(Float)
    processing_deadline: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # Processing runs started; bounded by `processing_max_attempts`.
    attempts: Mapped[int] = mapped_column(SmallInteger, server_default="0")
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), onupdate=func.now()
    )
    # Hidden by a moderator: gone for everyone but its author (`keepsake.privacy`).
    hidden_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    hidden_reason: Mapped[str | None] = mapped_column(Text)


class Clip(Base):
    __tablename__ = "clips"
    __table_args__ = (
        UniqueConstraint("memory_id", "position"),
        CheckConstraint("position BETWEEN 0 AND 9", name="position_range"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    memory_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("memories.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(SmallInteger)
    upload_id: Mapped[uuid.UUID] = mapped_column()
    source_key: Mapped[str] = mapped_column(String(300))
    source_content_type: Mapped[str] = mapped_column(String(100))
    still_seconds: Mapped[float | None] = mapped_column(Float)
    duration_s: Mapped[float | None] = mapped_column(Float)
    width: Mapped[int | None] = mapped_column(Integer)
    height: Mapped[int | None] = mapped_column(Integer)
    video_key: Mapped[str | None] = mapped_column(String(300))
    poster_key: Mapped[str | None] = mapped_column(String(300))


class MemoryHashtag(Base):
    """One row per tag of a memory, ordered for the hashtag feed's keyset."""

    __tablename__ = "memory_hashtags"
    __table_args__ = (Index("ix_memory_hashtags_tag_created", "tag", "created_at", "memory_id"),)

    memory_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("memories.id", ondelete="CASCADE"), primary_key=True
    )
    tag: Mapped[str] = mapped_column(String(100), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
