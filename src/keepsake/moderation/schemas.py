"""API models of safety: reports, strikes and appeals, and the moderators' views."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from keepsake.accounts.models import StrikeAction
from keepsake.moderation.models import AppealStatus, ReportReason, ReportStatus, TargetKind
from keepsake.text import MultiLine

EXAMPLE_ID = "5f1c2d3e-0000-4a5b-9c8d-112233445566"
WHEN = "2026-12-05T09:30:00Z"


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
                {"target": {"kind": "memory", "id": EXAMPLE_ID}, "reason": "harassment"},
                {
                    "target": {"kind": "user", "id": EXAMPLE_ID},
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
                    "id": EXAMPLE_ID,
                    "target": {"kind": "memory", "id": EXAMPLE_ID},
                    "reason": "harassment",
                    "detail": "",
                    "status": "actioned",
                    "created_at": WHEN,
                    "resolved_at": WHEN,
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
                    "id": EXAMPLE_ID,
                    "text": "That was my own address, shared on purpose.",
                    "status": "reversed",
                    "decision_reason": "The address is the author's studio.",
                    "created_at": WHEN,
                    "decided_at": WHEN,
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
                    "id": EXAMPLE_ID,
                    "action": "hide",
                    "reason": "Shows a person's home address.",
                    "target": {"kind": "memory", "id": EXAMPLE_ID},
                    "until": None,
                    "created_at": WHEN,
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
