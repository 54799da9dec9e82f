"""Uploads: bytes a client sends straight to storage, then uses once."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime

from sqlalchemy import BigInteger, DateTime, ForeignKey, Index, String, text
from sqlalchemy.orm import Mapped, mapped_column

from keepsake.db import Base, Timestamped, enum_type


class UploadPurpose(enum.StrEnum):
    clip = "clip"
    avatar = "avatar"
    music = "music"


class Upload(Timestamped, Base):
    __tablename__ = "uploads"
    __table_args__ = (
        # The sweep that deletes expired, never-used uploads from storage.
        Index("ix_uploads_unused_expiry", "expires_at", postgresql_where=text("used_at IS NULL")),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    owner_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    purpose: Mapped[UploadPurpose] = mapped_column(enum_type(UploadPurpose, "upload_purpose"))
    content_type: Mapped[str] = mapped_column(String(100))
    size_bytes: Mapped[int] = mapped_column(BigInteger)
    storage_key: Mapped[str] = mapped_column(String(300), unique=True)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
