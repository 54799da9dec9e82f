"""Tables of safety: reports, the moderators' audit log, appeals, and the queue's two flood
guards (targets cleared as benign, reporters muted). The strikes an appeal answers are the
accounts' table (`accounts.models.Strike`): the purge and sign-in ask about them too."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime

from sqlalchemy import Boolean, DateTime, ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from keepsake.db import Base, Timestamped, enum_type


class TargetKind(enum.StrEnum):
    memory = "memory"
    user = "user"


class ReportReason(enum.StrEnum):
    spam = "spam"
    harassment = "harassment"
    hate = "hate"
    nudity = "nudity"
    violence = "violence"
    self_harm = "self_harm"
    impersonation = "impersonation"
    illegal = "illegal"
    other = "other"


# Reasons a moderator must see first: a person may be in danger, or the law requires it.
URGENT_REASONS = (ReportReason.self_harm, ReportReason.illegal)


class ReportStatus(enum.StrEnum):
    open = "open"
    actioned = "actioned"
    dismissed = "dismissed"


class Action(enum.StrEnum):
    dismiss = "dismiss"
    hide = "hide"
    restore = "restore"
    suspend = "suspend"
    unsuspend = "unsuspend"
    # A suspension whose `until` came: recorded with no actor.
    lift = "lift"
    mute_reporter = "mute_reporter"
    appeal_upheld = "appeal_upheld"
    appeal_reversed = "appeal_reversed"


class AppealStatus(enum.StrEnum):
    open = "open"
    upheld = "upheld"
    reversed = "reversed"


class Report(Timestamped, Base):
    __tablename__ = "reports"
    __table_args__ = (
        # One open report per reporter and target; a concurrent repeat meets this index.
        Index(
            "uq_reports_open_per_reporter",
            "reporter_id",
            "target_kind",
            "target_id",
            unique=True,
            postgresql_where=text("status = 'open'"),
        ),
        # The queue: open, queued reports grouped by target.
        Index(
            "ix_reports_queue",
            "target_kind",
            "target_id",
            "created_at",
            postgresql_where=text("status = 'open' AND queued"),
        ),
        Index("ix_reports_target", "target_kind", "target_id", "created_at"),
        Index("ix_reports_reporter_created", "reporter_id", "created_at", "id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    reporter_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    target_kind: Mapped[TargetKind] = mapped_column(enum_type(TargetKind, "report_target_kind"))
    target_id: Mapped[uuid.UUID] = mapped_column()
    # The person answerable for the target: the memory's author, or the reported account.
    target_user_id: Mapped[uuid.UUID] = mapped_column(index=True)
    reason: Mapped[ReportReason] = mapped_column(enum_type(ReportReason, "report_reason"))
    detail: Mapped[str] = mapped_column(String(1000), server_default="")
    status: Mapped[ReportStatus] = mapped_column(
        enum_type(ReportStatus, "report_status"), server_default=ReportStatus.open.value
    )
    # False for a muted reporter's report, or one on a target cleared as benign and not
    # edited since: kept and resolved with its target, never shown in the queue.
    queued: Mapped[bool] = mapped_column(Boolean, server_default=text("true"))
    resolved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class AuditEntry(Timestamped, Base):
    """One moderator action. Append-only: a trigger refuses UPDATE and DELETE (0011)."""

    __tablename__ = "audit_log"
    __table_args__ = (
        Index("ix_audit_log_created", "created_at", "id"),
        Index("ix_audit_log_target", "target_kind", "target_id", "created_at", "id"),
        Index("ix_audit_log_target_user", "target_user_id", "created_at", "id"),
        Index("ix_audit_log_actor", "actor_id", "created_at", "id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    # No foreign keys: a row may never change, not even when an account is deleted.
    actor_id: Mapped[uuid.UUID | None] = mapped_column()
    actor_handle: Mapped[str | None] = mapped_column(String(30))
    action: Mapped[Action] = mapped_column(enum_type(Action, "moderation_action"))
    target_kind: Mapped[TargetKind] = mapped_column(enum_type(TargetKind, "report_target_kind"))
    target_id: Mapped[uuid.UUID] = mapped_column()
    target_user_id: Mapped[uuid.UUID] = mapped_column()
    reason: Mapped[str] = mapped_column(Text)
    until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class Appeal(Timestamped, Base):
    __tablename__ = "appeals"
    __table_args__ = (
        Index("ix_appeals_open", "created_at", "id", postgresql_where=text("status = 'open'")),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    strike_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("strikes.id", ondelete="CASCADE"), unique=True
    )
    text: Mapped[str] = mapped_column(String(2000))
    status: Mapped[AppealStatus] = mapped_column(
        enum_type(AppealStatus, "appeal_status"), server_default=AppealStatus.open.value
    )
    decided_by: Mapped[uuid.UUID | None] = mapped_column()
    decision_reason: Mapped[str | None] = mapped_column(Text)
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class Clearance(Base):
    """A target a moderator dismissed as benign: later reports stay out of the queue until
    the target is edited (a memory's `updated_at` passes `cleared_at`)."""

    __tablename__ = "moderation_clearances"

    target_kind: Mapped[TargetKind] = mapped_column(
        enum_type(TargetKind, "report_target_kind"), primary_key=True
    )
    target_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    cleared_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class ReporterMute(Timestamped, Base):
    """A reporter whose reports are kept but never queued (a flood of bad-faith reports)."""

    __tablename__ = "reporter_mutes"

    reporter_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    muted_by: Mapped[uuid.UUID | None] = mapped_column()
