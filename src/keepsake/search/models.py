"""Search's own tables; migration 0012 creates them with the triggers that fill them."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Index, Text
from sqlalchemy.orm import Mapped, mapped_column

from keepsake.db import Base


class UserSearchGram(Base):
    """One- and two-character grams of an account's folded name and initial consonants.

    Ordered by gram, then the handle's sort key: a gram's postings are read in the
    order results are shown, so a page stops after `limit` matches.
    """

    __tablename__ = "user_search_grams"
    # Rewriting one account's grams finds them by account.
    __table_args__ = (Index("ix_user_search_grams_user", "user_id"),)

    gram: Mapped[str] = mapped_column(Text(collation="C"), primary_key=True)
    handle_key: Mapped[str] = mapped_column(Text(collation="C"), primary_key=True)
    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )


class Hashtag(Base):
    """Each tag a public memory used, once, with when it was last used."""

    __tablename__ = "hashtags"

    tag: Mapped[str] = mapped_column(Text(collation="C"), primary_key=True)
    last_used_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
