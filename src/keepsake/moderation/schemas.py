"""API models of safety: reports, strikes and appeals, and the moderators' views."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from keepsake.accounts.models import AccountStatus, Role
from keepsake.memories.models import MemoryStatus, Visibility
from keepsake.moderation.models import (
    Action,
    AppealStatus,
    ReportReason,
    ReportStatus,
    StrikeAction,
    TargetKind,
)
from keepsake.text import MultiLine

_EXAMPLE_ID = "5f1c2d3e-0000-4a5b-9c8d-112233445566"
_WHEN = "2026-12-05T09:30:00Z"


class _Input(BaseModel):
    model_config = ConfigDict(extra="forbid")


class TargetRef(_Input):
    kind: TargetKind
    id: uuid.UUID = Field(description="The memory's id, or the account's id.")


class ReportCreate(_Input):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"target": {"kind": "memory", "id": _EXAMPLE_ID}, "reason": "harassment"},
                {
                    "target": {"kind": "user", "id": _EXAMPLE_ID},
                    "reason": "other",
                    "detail": "Posts my photos as if they were theirs.",
                },
            ]
        },
    )

    target: TargetRef
    reason: ReportReason
    detail: MultiLine = Field(
        default="", max_length=1000, description="Up to 1,000 characters; required for `other`."
    )


class ReportPublic(BaseModel):
    """A report as its reporter sees it: never who was acted against, or how."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": _EXAMPLE_ID,
                    "target": {"kind": "memory", "id": _EXAMPLE_ID},
                    "reason": "harassment",
                    "detail": "",
                    "status": "actioned",
                    "created_at": _WHEN,
                    "resolved_at": _WHEN,
                }
            ]
        }
    )

    id: uuid.UUID
    target: TargetRef
    reason: ReportReason
    detail: str
    status: ReportStatus
    created_at: datetime
    resolved_at: datetime | None = None


class AppealCreate(_Input):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"text": "That was my own address, shared on purpose."}]},
    )

    text: MultiLine = Field(min_length=1, max_length=2000)


class AppealPublic(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": _EXAMPLE_ID,
                    "text": "That was my own address, shared on purpose.",
                    "status": "reversed",
                    "decision_reason": "The address is the author's studio.",
                    "created_at": _WHEN,
                    "decided_at": _WHEN,
                }
            ]
        }
    )

    id: uuid.UUID
    text: str
    status: AppealStatus
    decision_reason: str | None = None
    created_at: datetime
    decided_at: datetime | None = None


class StrikePublic(BaseModel):
    """An action taken against the caller, with what they can do about it."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": _EXAMPLE_ID,
                    "action": "hide",
                    "reason": "Shows a person's home address.",
                    "target": {"kind": "memory", "id": _EXAMPLE_ID},
                    "until": None,
                    "created_at": _WHEN,
                    "appealable_until": "2026-12-25T09:30:00Z",
                    "ended_at": None,
                    "appeal": None,
                }
            ]
        }
    )

    id: uuid.UUID
    action: StrikeAction
    reason: str
    target: TargetRef | None = Field(
        description="The memory for a hide, the account for a suspension; null when gone."
    )
    until: datetime | None = None
    created_at: datetime
    appealable_until: datetime
    ended_at: datetime | None = Field(
        default=None, description="When the action was undone or ran out."
    )
    appeal: AppealPublic | None = None


class ReasonBody(_Input):
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"reason": "Spam links in the caption."}]}
    )

    reason: MultiLine = Field(min_length=1, max_length=1000, description="Kept in the audit log.")


class SuspendBody(ReasonBody):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"reason": "Repeated harassment.", "until": "2026-12-12T00:00:00Z"}]
        },
    )

    until: datetime | None = Field(
        default=None, description="When it lifts itself; absent: until a moderator lifts it."
    )


class AppealDecision(_Input):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"decision": "reversed", "reason": "The address is the author's studio."}]
        },
    )

    decision: Literal["upheld", "reversed"]
    reason: MultiLine = Field(min_length=1, max_length=1000, description="The person sees it.")


class ActorPublic(BaseModel):
    id: uuid.UUID | None
    handle: str | None


class AuditEntryPublic(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": _EXAMPLE_ID,
                    "actor": {"id": _EXAMPLE_ID, "handle": "mod_ana"},
                    "action": "hide",
                    "target": {"kind": "memory", "id": _EXAMPLE_ID},
                    "target_user_id": _EXAMPLE_ID,
                    "reason": "Shows a person's home address.",
                    "until": None,
                    "created_at": _WHEN,
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
                    "id": _EXAMPLE_ID,
                    "target": {"kind": "memory", "id": _EXAMPLE_ID},
                    "reports_count": 12,
                    "reasons": ["harassment", "hate"],
                    "urgent": False,
                    "first_reported_at": _WHEN,
                    "last_reported_at": _WHEN,
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


class ReportCase(BaseModel):
    """A report, its target as it is, every report on it, and the target's history."""

    report: ReportSeen
    memory: MemorySeen | None = Field(description="For a memory target; null once deleted.")
    account: AccountSeen | None = Field(description="The reported account, or the author.")
    reports: list[ReportSeen]
    history: list[AuditEntryPublic] = Field(
        description="Earlier actions on the target and on its author, newest first."
    )


class AppealSeen(BaseModel):
    """An appeal with the strike it contests, as a moderator sees it."""

    id: uuid.UUID
    status: AppealStatus
    text: str
    created_at: datetime
    decided_at: datetime | None
    decision_reason: str | None
    strike: StrikePublic
    user_id: uuid.UUID
    acted_by: uuid.UUID | None = Field(description="Who took the action appealed against.")
