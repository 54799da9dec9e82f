"""The one-line note's history; the profile itself lives on `users`."""

from __future__ import annotations

import uuid

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from keepsake.db import Base, Timestamped


class NoteHistory(Timestamped, Base):
    __tablename__ = "note_history"
    __table_args__ = (Index("ix_note_history_user_created", "user_id", "created_at", "id"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    note: Mapped[str] = mapped_column(String(80))
