"""Tables of in-app notifications and the people behind each."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Index, Integer, String, func, text
from sqlalchemy.orm import Mapped, mapped_column

from keepsake.db import Base, Timestamped, enum_type


class NotificationKind(enum.StrEnum):
    follow = "follow"
    follow_request = "follow_request"
    follow_approved = "follow_approved"
    claps = "claps"
    memory_ready = "memory_ready"
    memory_failed = "memory_failed"
    # A moderator acted on the recipient's memory or account, or decided their appeal.
    moderation = "moderation"
    # Reports the recipient made were acted on (never saying against whom, or how).
    reports_resolved = "reports_resolved"
    mission_won = "mission_won"
    mission_closed = "mission_closed"


# Kinds with no actors shown: nobody the recipient knows acted.
MEMORY_KINDS = (
    NotificationKind.memory_ready,
    NotificationKind.memory_failed,
    NotificationKind.moderation,
    NotificationKind.reports_resolved,
)
# Kinds about a mission the recipient entered: the operator acted, and is nobody to show.
MISSION_KINDS = (NotificationKind.mission_won, NotificationKind.mission_closed)
ACTORLESS_KINDS = MEMORY_KINDS + MISSION_KINDS


class Notification(Timestamped, Base):
    __tablename__ = "notifications"
    __table_args__ = (
        # The recipient's list, latest activity first.
        Index("ix_notifications_recipient_updated", "recipient_id", "updated_at", "id"),
        # While a batch is unread, whatever shares its key joins it instead of adding a row:
        # concurrent claps on one memory meet on this index and add up atomically.
        Index(
            "uq_notifications_unread_batch",
            "recipient_id",
            "batch_key",
            unique=True,
            postgresql_where=text("read_at IS NULL"),
        ),
        # The reconciler's sweep for pushes still owed.
        Index(
            "ix_notifications_push_owed",
            "updated_at",
            postgresql_where=text("pushed_at IS NULL AND read_at IS NULL"),
        ),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    recipient_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    kind: Mapped[NotificationKind] = mapped_column(enum_type(NotificationKind, "notification_kind"))
    # What batches with what: `claps:{memory}`, `follow:{actor}`, `memory_ready:{memory}`…
    batch_key: Mapped[str] = mapped_column(String(80))
    memory_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("memories.id", ondelete="CASCADE"), index=True
    )
    mission_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("missions.id", ondelete="CASCADE")
    )
    # Claps in the batch; null for the other kinds.
    count: Mapped[int | None] = mapped_column(Integer)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    read_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # When its push went out, joined a digest that went out, or was decided against;
    # null while a push is still owed.
    pushed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class NotificationActor(Base):
    """One person behind a notification; a batch of claps gathers several."""

    __tablename__ = "notification_actors"
    __table_args__ = (Index("ix_notification_actors_actor", "actor_id"),)

    notification_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("notifications.id", ondelete="CASCADE"), primary_key=True
    )
    actor_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    # Their latest action in the batch: the list shows the most recent people first.
    acted_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
