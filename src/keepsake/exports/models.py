"""The exports table: one row per ZIP a user asked for, in the making or ready."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime

from sqlalchemy import BigInteger, DateTime, ForeignKey, Index, SmallInteger, text
from sqlalchemy.orm import Mapped, mapped_column

from keepsake.db import Base, Timestamped, enum_type


class ExportStatus(enum.StrEnum):
    pending = "pending"
    ready = "ready"
    failed = "failed"


class Export(Timestamped, Base):
    __tablename__ = "exports"
    __table_args__ = (
        # The owner's newest export, on every `GET /v1/me/export`.
        Index("ix_exports_user_created", "user_id", "created_at"),
        # One export in the making per user, even when two requests race to start one;
        # the reconciler's sweep of lost builds reads the few pending rows through it too.
        Index(
            "uq_exports_user_pending",
            "user_id",
            unique=True,
            postgresql_where=text("status = 'pending'"),
        ),
        # The sweep that removes exports (and their files) past their expiry.
        Index(
            "ix_exports_expires_at",
            "expires_at",
            postgresql_where=text("expires_at IS NOT NULL"),
        ),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    status: Mapped[ExportStatus] = mapped_column(enum_type(ExportStatus, "export_status"))
    # Build runs started; bounded by `processing_max_attempts`.
    attempts: Mapped[int] = mapped_column(SmallInteger, server_default="0")
    # While pending: past it with no job queued, the build was lost and is started again.
    deadline: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    size_bytes: Mapped[int | None] = mapped_column(BigInteger)
    # Ready or failed: the row (and the ZIP) is removed after this.
    expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
