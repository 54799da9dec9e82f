"""API models of what moderators read: the queue, a report's case, the audit log, appeals."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from keepsake.accounts.models import Role
from keepsake.examples import example_of
from keepsake.kinds import AccountStatus, MemoryStatus, Visibility
from keepsake.moderation.models import Action, AppealStatus, ReportReason
from keepsake.moderation.schemas import (
    EXAMPLE_ID,
    WHEN,
    ReportPublic,
    StrikePublic,
    TargetRef,
)


class ActorPublic(BaseModel):
    id: uuid.UUID | None
    handle: str | None


class AuditEntryPublic(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": EXAMPLE_ID,
                    "actor": {"id": EXAMPLE_ID, "handle": "mod_ana"},
                    "action": "hide",
                    "target": {"kind": "memory", "id": EXAMPLE_ID},
                    "target_user_id": EXAMPLE_ID,
                    "reason": "Shows a person's home address.",
                    "until": None,
                    "created_at": WHEN,
                }
            ]
        }
    )

    id: uuid.UUID
    actor: ActorPublic | None = Field(description="Null for a suspension that lifted itself.")
    action: Action
    target: TargetRef
    target_user_id: uuid.UUID
    reason: str
    until: datetime | None = None
    created_at: datetime


class QueueItem(BaseModel):
    """One reported target, however many reports it has."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": EXAMPLE_ID,
                    "target": {"kind": "memory", "id": EXAMPLE_ID},
                    "reports_count": 12,
                    "reasons": ["harassment", "hate"],
                    "urgent": False,
                    "first_reported_at": WHEN,
                    "last_reported_at": WHEN,
                    "oldest_age_s": 5400,
                }
            ]
        }
    )

    id: uuid.UUID = Field(description="Its oldest open report: `GET /v1/admin/reports/{id}`.")
    target: TargetRef
    reports_count: int
    reasons: list[ReportReason]
    urgent: bool = Field(description="Reported for `self_harm` or `illegal`: listed first.")
    first_reported_at: datetime
    last_reported_at: datetime
    oldest_age_s: int = Field(description="Seconds since its oldest open report.")


class ReportSeen(ReportPublic):
    """A report as a moderator sees it: with its reporter."""

    reporter_id: uuid.UUID
    reporter_handle: str
    queued: bool = Field(description="False for a muted reporter or a cleared target.")


class ClipSeen(BaseModel):
    id: uuid.UUID
    video_url: str | None
    poster_url: str | None


class MemorySeen(BaseModel):
    """A memory as a moderator sees it: hidden or not, with its media."""

    id: uuid.UUID
    author_id: uuid.UUID
    author_handle: str
    status: MemoryStatus
    caption: str
    visibility: Visibility
    created_at: datetime
    hidden_at: datetime | None
    hidden_reason: str | None
    clips: list[ClipSeen]


class AccountSeen(BaseModel):
    """An account as a moderator sees it, suspended or not."""

    id: uuid.UUID
    handle: str
    display_name: str
    bio: str
    note: str
    role: Role
    status: AccountStatus
    suspended_until: datetime | None


_SEEN = {
    **example_of(ReportPublic),
    "reporter_id": EXAMPLE_ID,
    "reporter_handle": "jun",
    "queued": True,
}


class ReportCase(BaseModel):
    """A report, its target as it is, every report on it, and the target's history."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "report": _SEEN,
                    "memory": {
                        "id": EXAMPLE_ID,
                        "author_id": EXAMPLE_ID,
                        "author_handle": "mina",
                        "status": "ready",
                        "caption": "First snow on the walk home",
                        "visibility": "followers",
                        "created_at": WHEN,
                        "hidden_at": None,
                        "hidden_reason": None,
                        "clips": [
                            {
                                "id": EXAMPLE_ID,
                                "video_url": "https://media.example.com/m/clip.mp4?sig=…",
                                "poster_url": "https://media.example.com/m/clip.jpg?sig=…",
                            }
                        ],
                    },
                    "account": {
                        "id": EXAMPLE_ID,
                        "handle": "mina",
                        "display_name": "Mina",
                        "bio": "",
                        "note": "quiet week",
                        "role": "user",
                        "status": "active",
                        "suspended_until": None,
                    },
                    "reports": [_SEEN],
                    "history": [example_of(AuditEntryPublic)],
                }
            ]
        }
    )

    report: ReportSeen
    memory: MemorySeen | None = Field(description="For a memory target; null once deleted.")
    account: AccountSeen | None = Field(description="The reported account, or the author.")
    reports: list[ReportSeen]
    history: list[AuditEntryPublic] = Field(
        description="Earlier actions on the target and on its author, newest first."
    )


class AppealSeen(BaseModel):
    """An appeal with the strike it contests, as a moderator sees it."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": EXAMPLE_ID,
                    "status": "open",
                    "text": "The address in the video is a public café, not a home.",
                    "created_at": WHEN,
                    "decided_at": None,
                    "decision_reason": None,
                    "strike": example_of(StrikePublic),
                    "user_id": EXAMPLE_ID,
                    "acted_by": EXAMPLE_ID,
                }
            ]
        }
    )

    id: uuid.UUID
    status: AppealStatus
    text: str
    created_at: datetime
    decided_at: datetime | None
    decision_reason: str | None
    strike: StrikePublic
    user_id: uuid.UUID
    acted_by: uuid.UUID | None = Field(description="Who took the action appealed against.")
