"""Every table, imported in one place so Alembic and tests see the whole schema."""

from keepsake.accounts.models import Identity, OneTimeToken, RefreshToken, Session, User
from keepsake.db import Base
from keepsake.graph.models import Block, Follow, Mute
from keepsake.profiles.models import NoteHistory
from keepsake.ratelimit import RateLimitCounter

metadata = Base.metadata

__all__ = [
    "Block",
    "Follow",
    "Identity",
    "Mute",
    "NoteHistory",
    "OneTimeToken",
    "RateLimitCounter",
    "RefreshToken",
    "Session",
    "User",
    "metadata",
]
