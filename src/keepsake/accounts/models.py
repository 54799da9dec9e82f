"""Tables of accounts: users, their identities, sessions and one-time tokens, and the
strikes that hold an account back (moderation gives them; the purge and sign-in ask)."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime, time
from typing import Any

from sqlalchemy import (
    Boolean,
    DateTime,
    Enum,
    ForeignKey,
    Index,
    LargeBinary,
    String,
    Text,
    Time,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from keepsake.db import Base, Timestamped, enum_type
from keepsake.i18n import Language

# Named here too (`as`: an explicit re-export) for the modules that still import it from
# the table that stores it.
from keepsake.kinds import AccountStatus as AccountStatus

# How long after a hide or a suspension its person may appeal; nothing it covers is
# purged before then, so a reversal can always restore it.
APPEAL_WINDOW_DAYS = 20


class StrikeAction(enum.StrEnum):
    hide = "hide"
    suspend = "suspend"


class Role(enum.StrEnum):
    user = "user"
    moderator = "moderator"
    admin = "admin"


def _enum(cls: type[enum.StrEnum], name: str) -> Enum:
    return Enum(cls, name=name, values_callable=lambda members: [m.value for m in members])


class User(Timestamped, Base):
    __tablename__ = "users"
    __table_args__ = (
        Index("uq_users_handle_lower", func.lower(text("handle")), unique=True),
        Index("uq_users_email", "email", unique=True),
        # The purge sweep's search for accounts past their deletion grace.
        Index("ix_users_handle_key", text('(lower(handle) COLLATE "C")')),
        Index(
            "ix_users_deleting",
            "deletion_requested_at",
            postgresql_where=text("status = 'deleting'"),
        ),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    # Stored lower-cased; `handle` keeps the owner's capitalisation for display.
    email: Mapped[str] = mapped_column(String(320))
    email_verified_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    password_hash: Mapped[str | None] = mapped_column(String(200))
    handle: Mapped[str] = mapped_column(String(30))
    display_name: Mapped[str] = mapped_column(String(60))
    bio: Mapped[str] = mapped_column(String(300), server_default="")
    note: Mapped[str] = mapped_column(String(80), server_default="")
    # Storage prefix of the avatar's renditions (`avatars/{id}/{version}`); None: no avatar.
    avatar_key: Mapped[str | None] = mapped_column(String(200))
    is_private: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    # Share pages may be indexed by search engines (migration 0013).
    discoverable: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    timezone: Mapped[str] = mapped_column(String(64), server_default="UTC")
    quiet_hours_start: Mapped[time | None] = mapped_column(Time)
    quiet_hours_end: Mapped[time | None] = mapped_column(Time)
    notification_prefs: Mapped[dict[str, Any]] = mapped_column(
        JSONB, server_default=text("'{}'::jsonb")
    )
    role: Mapped[Role] = mapped_column(_enum(Role, "user_role"), server_default=Role.user.value)
    status: Mapped[AccountStatus] = mapped_column(
        _enum(AccountStatus, "account_status"), server_default=AccountStatus.active.value
    )
    deletion_requested_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # While `status` is suspended: when the suspension lifts itself (None: when a moderator
    # lifts it). Sign-in lets the person in from then on; the sweep records the lift.
    suspended_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # `ko` or `en`: the language of every text the server writes for this person.
    locale: Mapped[Language] = mapped_column(String(8), server_default="en")
    searchable: Mapped[bool] = mapped_column(Boolean, server_default=text("true"))
    # Kept by triggers (migration 0012) for people search; never written from Python.
    search_name: Mapped[str] = mapped_column(Text, server_default="")
    search_initials: Mapped[str] = mapped_column(Text, server_default="")
    # Base32 TOTP secret of the console's second factor (migration 0013); None: not enrolled.
    totp_secret: Mapped[str | None] = mapped_column(String(64))


class Identity(Timestamped, Base):
    """A sign-in provider's account (Apple, Google) linked to a user."""

    __tablename__ = "identities"
    __table_args__ = (UniqueConstraint("provider", "subject"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    provider: Mapped[str] = mapped_column(String(20))
    subject: Mapped[str] = mapped_column(String(255))
    email: Mapped[str | None] = mapped_column(String(320))


class Session(Timestamped, Base):
    """A signed-in device; its refresh tokens rotate, its access tokens name it."""

    __tablename__ = "sessions"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    user_agent: Mapped[str] = mapped_column(String(300), server_default="")
    ip: Mapped[str] = mapped_column(String(64), server_default="")
    last_used_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    revoked_reason: Mapped[str | None] = mapped_column(String(40))


class RefreshToken(Timestamped, Base):
    """Every refresh token ever issued, by hash: a used one shown again reveals theft."""

    __tablename__ = "refresh_tokens"

    token_hash: Mapped[bytes] = mapped_column(LargeBinary(32), primary_key=True)
    session_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("sessions.id", ondelete="CASCADE"), index=True
    )
    used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class OneTimeToken(Timestamped, Base):
    """Email verification and password reset tokens: single use, expiring, stored hashed."""

    __tablename__ = "one_time_tokens"

    token_hash: Mapped[bytes] = mapped_column(LargeBinary(32), primary_key=True)
    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    purpose: Mapped[str] = mapped_column(String(20))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    payload: Mapped[str] = mapped_column(Text, server_default="")


class Strike(Timestamped, Base):
    """A hide or a suspension, as its person sees it, and what became of it."""

    __tablename__ = "strikes"
    __table_args__ = (
        Index("ix_strikes_user_created", "user_id", "created_at", "id"),
        # The purge's question: does this account have a strike still open to appeal?
        Index("ix_strikes_appealable", "user_id", "appealable_until"),
        # The sweep lifting suspensions whose `until` has come.
        Index(
            "ix_strikes_lifting",
            "until",
            postgresql_where=text("action = 'suspend' AND ended_at IS NULL AND until IS NOT NULL"),
        ),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    action: Mapped[StrikeAction] = mapped_column(enum_type(StrikeAction, "strike_action"))
    memory_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("memories.id", ondelete="SET NULL")
    )
    reason: Mapped[str] = mapped_column(Text)
    until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    actor_id: Mapped[uuid.UUID | None] = mapped_column()
    appealable_until: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    # Set when the action was undone (restored, unsuspended, lifted, or reversed on appeal).
    ended_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
