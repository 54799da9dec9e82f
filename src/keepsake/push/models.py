"""The devices pushes go to."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Index, String, UniqueConstraint, func
from sqlalchemy.orm import Mapped, mapped_column

from keepsake.db import Base, Timestamped, enum_type


class Platform(enum.StrEnum):
    ios = "ios"
    android = "android"


class Device(Timestamped, Base):
    """An app install's push token: APNs for iOS, FCM for Android."""

    __tablename__ = "devices"
    __table_args__ = (
        # A token names one install; registering it again moves it to whoever did.
        UniqueConstraint("platform", "token"),
        Index("ix_devices_user_registered", "user_id", "registered_at"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    platform: Mapped[Platform] = mapped_column(enum_type(Platform, "device_platform"))
    token: Mapped[str] = mapped_column(String(1024))
    # Apps register at every launch; the least recently seen device is the one dropped
    # when a person has more than the cap.
    registered_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )
