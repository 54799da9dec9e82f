"""Every table, imported in one place so Alembic and tests see the whole schema."""

from keepsake.accounts.models import Identity, OneTimeToken, RefreshToken, Session, Strike, User
from keepsake.claps.models import Clap
from keepsake.db import Base
from keepsake.exports.models import Export
from keepsake.feeds.models import HomeEntry, HomeWideAuthor
from keepsake.graph.models import Block, Follow, Mute
from keepsake.idempotency import IdempotencyRecord
from keepsake.media.models import Upload
from keepsake.memories.models import Clip, Memory, MemoryHashtag
from keepsake.missions.models import Mission, MissionEntry
from keepsake.moderation.models import (
    Appeal,
    AuditEntry,
    Clearance,
    Report,
    ReporterMute,
)
from keepsake.music.models import MusicTrack
from keepsake.notifications.models import Notification, NotificationActor
from keepsake.points.models import PointsAccount, PointsEntry, PointsTransfer
from keepsake.profiles.models import NoteHistory
from keepsake.push.models import Device
from keepsake.ratelimit import RateLimitCounter
from keepsake.search.models import Hashtag, UserSearchGram

metadata = Base.metadata

__all__ = [
    "Appeal",
    "AuditEntry",
    "Block",
    "Clap",
    "Clearance",
    "Clip",
    "Device",
    "Export",
    "Follow",
    "Hashtag",
    "HomeEntry",
    "HomeWideAuthor",
    "IdempotencyRecord",
    "Identity",
    "Memory",
    "MemoryHashtag",
    "Mission",
    "MissionEntry",
    "MusicTrack",
    "Mute",
    "NoteHistory",
    "Notification",
    "NotificationActor",
    "OneTimeToken",
    "PointsAccount",
    "PointsEntry",
    "PointsTransfer",
    "RateLimitCounter",
    "RefreshToken",
    "Report",
    "ReporterMute",
    "Session",
    "Strike",
    "Upload",
    "User",
    "UserSearchGram",
    "metadata",
]
