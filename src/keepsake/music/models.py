"""The music library table."""

from __future__ import annotations

import uuid

from sqlalchemy import Float, String
from sqlalchemy.orm import Mapped, mapped_column

from keepsake.db import Base, Timestamped


class MusicTrack(Timestamped, Base):
    __tablename__ = "music_tracks"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    title: Mapped[str] = mapped_column(String(200))
    artist: Mapped[str] = mapped_column(String(200))
    duration_s: Mapped[float] = mapped_column(Float)
    storage_key: Mapped[str] = mapped_column(String(300))
